//! The query pane (the SQL above its result, or above the query on its way)
//! and the `:` line at the foot of the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::rows::draw_grid;
use crate::output::{cell, thousands};
use crate::tui::app::App;
use crate::tui::keys::{Action, Pane};
use crate::tui::layout;
use crate::tui::query::{HeadKind, Phase};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let focused = app.focus != Pane::List;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(title(app), theme.title()));
    if let Some(note) = foot(app, area.width.saturating_sub(4) as usize) {
        block = block.title_bottom(Span::styled(note, theme.dim()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let head = app.query_head(layout::grid_width(area) as usize);
    let lines: Vec<Line> = head
        .iter()
        .map(|(kind, text)| match kind {
            HeadKind::Question => Line::styled(text.clone(), theme.dim()),
            HeadKind::Sql => Line::styled(text.clone(), theme.accent()),
            HeadKind::Note => {
                Line::styled(text.clone(), theme.dim().add_modifier(Modifier::ITALIC))
            }
        })
        .collect();
    let head_h = (lines.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y, inner.width, head_h),
    );
    let body = Rect::new(
        inner.x,
        inner.y + head_h,
        inner.width,
        inner.height - head_h,
    );

    if let Some(q) = &app.query {
        let text = match q.phase {
            Phase::Asking => "Waiting for the model to write the SQL…",
            Phase::Running => "Running the query…",
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), body);
        return;
    }
    let Some(results) = &app.results else {
        let key = app
            .keymap
            .short(Action::Query)
            .unwrap_or_else(|| ":".into());
        frame.render_widget(
            Paragraph::new(format!("Press {key} to ask a question or run SQL.")).style(theme.dim()),
            body,
        );
        return;
    };
    draw_grid(frame, body, &results.grid, theme, focused);
    if results.grid.rows.is_empty() && body.height > 1 {
        frame.render_widget(
            Paragraph::new("No rows.").style(theme.dim()),
            Rect::new(body.x, body.y + 1, body.width, 1),
        );
    }
}

fn title(app: &App) -> String {
    if let Some(q) = &app.query {
        return match (q.phase, q.stopping) {
            (_, true) => " Query · interrupting ".into(),
            (Phase::Asking, _) => " Query · asking the model ".into(),
            (Phase::Running, _) => " Query · running ".into(),
        };
    }
    let Some(r) = &app.results else {
        return " Query ".into();
    };
    let g = &r.grid;
    let n = g.rows.len() as u64;
    let cols = if g.columns.len() > 1 {
        format!(" · col {}/{}", g.col + 1, g.columns.len())
    } else {
        String::new()
    };
    let more = if r.truncated { "+" } else { "" };
    match g.position() {
        Some(p) if n > 0 => format!(
            " Query · row {} of {}{more}{cols} ",
            thousands(p),
            thousands(n)
        ),
        _ => format!(" Query · 0 rows{cols} "),
    }
}

/// The line under a result: the cap when it cut the result (as much of the
/// sentence as fits in `room`), else its size and time.
fn foot(app: &App, room: usize) -> Option<String> {
    if app.query.is_some() {
        return None;
    }
    let r = app.results.as_ref()?;
    let n = r.grid.rows.len() as u64;
    if !r.truncated {
        return Some(format!(
            " {} {} in {} ms ",
            thousands(n),
            crate::output::rows_word(n),
            thousands(r.elapsed_ms)
        ));
    }
    let n = thousands(n);
    let key = app.keymap.short(Action::Export);
    let mut choices = Vec::new();
    if let Some(k) = &key {
        choices.push(format!(
            " Showing the first {n} rows (query.row_limit); {k} exports every row "
        ));
        choices.push(format!(" First {n} rows (row limit) · {k} exports all "));
    }
    choices.push(format!(" First {n} rows (row limit) "));
    choices.push(format!(" First {n} rows "));
    let last = choices.last().cloned();
    choices.into_iter().find(|c| c.width() <= room).or(last)
}

/// The `:` line over the status and hint bars: what Enter does on the first
/// line, the text with its cursor on the second.
pub fn line(frame: &mut Frame, area: Rect, app: &App) {
    let Some(q) = &app.query_line else {
        return;
    };
    if area.height < 2 {
        return;
    }
    let theme = app.theme;
    let keys = "Enter runs · ↑↓ history · Esc closes ";
    let what = match &app.ask {
        Ok(model) => format!(" A question for {model}, or SQL"),
        Err(_) => " SQL (no LLM is configured for questions)".to_string(),
    };
    let room = (area.width as usize).saturating_sub(keys.width() + 1);
    let what = cell(&what, room);
    let gap = (area.width as usize).saturating_sub(what.width() + keys.width());
    let top = Line::from(vec![
        Span::styled(what, theme.title()),
        Span::raw(" ".repeat(gap)),
        Span::styled(keys, theme.dim()),
    ])
    .style(theme.status());
    let window = q.edit.window((area.width as usize).saturating_sub(3));
    let bottom = Line::from(vec![
        Span::styled(":", theme.key()),
        Span::raw(" "),
        Span::raw(window.before),
        Span::styled(window.at, theme.cell()),
        Span::raw(window.after),
    ]);
    let rect = Rect::new(area.x, area.y + area.height - 2, area.width, 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(vec![top, bottom]), rect);
}
