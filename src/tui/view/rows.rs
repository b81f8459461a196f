//! The rows view: a window of rows with a header, scrolled sideways for wide
//! tables, NULL drawn apart from text, long values cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use rusqlite::types::Value;
use unicode_width::UnicodeWidthStr;

use crate::output::{cell, thousands};
use crate::tui::app::{App, Count, Level, RowInputKind, lens_line};
use crate::tui::grid::{Grid, cell_text};
use crate::tui::keys::{Action, Pane};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let focused = app.focus != Pane::List;
    let Some(grid) = &app.grid else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused));
        let text = if app.listed && app.tables.is_empty() {
            "This database has no tables."
        } else {
            ""
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()).block(block), area);
        return;
    };
    let count = match app.entry(&grid.table).map(|t| &t.count) {
        Some(Count::Known(n)) => Some(*n),
        _ => None,
    };
    // Under a search the title counts the matches.
    let total = grid.total(count);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            title(grid, total, area.width as usize),
            theme.title(),
        ));
    if let Some(bottom) = bottom_line(app, grid) {
        block = block.title_bottom(bottom);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(err) = &grid.error {
        frame.render_widget(
            Paragraph::new(err.clone())
                .style(theme.level(Level::Error))
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    if !grid.loaded {
        frame.render_widget(Paragraph::new("Reading rows…").style(theme.dim()), inner);
        return;
    }
    if grid.rows.is_empty() && grid.searching() {
        let text = format!(
            "No row has '{}' in any column. Esc shows every row.",
            grid.lens.search.as_deref().unwrap_or_default()
        );
        frame.render_widget(Paragraph::new(text).style(theme.dim()), inner);
        return;
    }
    if grid.rows.is_empty() {
        let mut lines = vec![Line::styled("No rows yet.", theme.dim())];
        if let Some(k) = app.keymap.short(Action::Generate) {
            lines.push(Line::styled(
                format!(
                    "{k} generates {} rows from the schema alone.",
                    app.default_rows
                ),
                theme.dim(),
            ));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    draw_grid(frame, inner, grid, theme, focused);
}

/// The line being typed under the rows (a search, a row number), or else the search and
/// sort that shape them.
fn bottom_line<'a>(app: &App, grid: &Grid) -> Option<Line<'a>> {
    let theme = app.theme;
    if let Some(line) = &app.row_input {
        let label = match line.kind {
            RowInputKind::Search => " /",
            RowInputKind::GoTo => " go to row ",
        };
        let mut spans = vec![Span::styled(label, theme.key())];
        spans.extend(crate::tui::view::field(&line.input, 40, theme, true));
        spans.push(Span::raw(" "));
        return Some(Line::from(spans));
    }
    let lens = lens_line(grid)?;
    Some(Line::from(Span::styled(
        format!(" {} ", crate::output::printable(&lens)),
        theme.accent(),
    )))
}

/// A grid's header and the rows on screen, in `inner` (one line of header,
/// the rest rows): NULL styled apart, numbers to the right, the selected
/// cell marked when `focused`.
pub fn draw_grid(frame: &mut Frame, inner: Rect, grid: &Grid, theme: Theme, focused: bool) {
    let height = inner.height.saturating_sub(1).max(1) as usize;
    // A column wider than the pane is shown cut, with its mark, not clipped.
    let room = (inner.width as usize).max(1);
    let widths: Vec<usize> = grid
        .widths(height)
        .into_iter()
        .map(|w| w.min(room))
        .collect();
    let shown = shown_columns(grid, &widths, inner.width as usize);
    let mut lines = Vec::with_capacity(height + 1);
    let mut header = Vec::new();
    for &i in &shown {
        let w = widths[i];
        header.push(Span::styled(
            pad(&cell(&grid.columns[i], w), w, false),
            theme.header(),
        ));
        header.push(Span::raw(" "));
    }
    lines.push(Line::from(header));
    let end = (grid.top + height).min(grid.rows.len());
    for index in grid.top..end {
        let row = &grid.rows[index];
        let on_row = index == grid.cursor;
        let mut spans = Vec::new();
        for &i in &shown {
            let w = widths[i];
            let value = row.values.get(i).unwrap_or(&Value::Null);
            let numeric = matches!(value, Value::Integer(_) | Value::Real(_));
            let text = pad(&cell(&cell_text(value, row.cut_len(i)), w), w, numeric);
            let mut style = if matches!(value, Value::Null) {
                theme.null()
            } else if grid.is_fresh(index) {
                // Rows the last generation added stand out.
                theme.accent()
            } else {
                Style::new()
            };
            if on_row && i == grid.col && focused {
                style = theme.cell();
            }
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(" "));
        }
        let line = Line::from(spans);
        lines.push(if on_row {
            line.style(theme.selected(focused))
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The columns that fit from `left` on, always including the selected one.
fn shown_columns(grid: &Grid, widths: &[usize], room: usize) -> Vec<usize> {
    let mut left = grid.left.min(grid.col);
    let span = |l: usize| -> usize { widths[l..=grid.col].iter().map(|w| w + 1).sum() };
    while left < grid.col && span(left) > room {
        left += 1;
    }
    let mut used = 0;
    let mut out = Vec::new();
    for (i, w) in widths.iter().enumerate().skip(left) {
        if used + w > room && !out.is_empty() {
            break;
        }
        used += w + 1;
        out.push(i);
    }
    out
}

fn pad(text: &str, width: usize, right: bool) -> String {
    let gap = width.saturating_sub(text.width());
    if right {
        format!("{}{text}", " ".repeat(gap))
    } else {
        format!("{text}{}", " ".repeat(gap))
    }
}

/// "customers · row 3 of 60 · col 2/6": the position always fits; a long table name is
/// cut in the middle to make room for it.
fn title(grid: &Grid, total: Option<u64>, width: usize) -> String {
    let cols = if grid.columns.len() > 1 {
        format!(" · col {}/{}", grid.col + 1, grid.columns.len())
    } else {
        String::new()
    };
    let place = match (grid.position(), total) {
        (_, Some(0)) => " · 0 rows".to_string(),
        (Some(p), Some(t)) => format!(" · row {} of {}{cols}", thousands(p), thousands(t)),
        (Some(p), None) => format!(" · row {}{cols}", thousands(p)),
        (None, Some(t)) => format!(" · {} rows{cols}", thousands(t)),
        (None, None) => String::new(),
    };
    let fresh = match grid.fresh_from.zip(total) {
        Some((from, t)) if t >= from && grid.lens.is_plain() => {
            format!(" · {} new", thousands(t - from + 1))
        }
        _ => String::new(),
    };
    // Two corners and a space either side of the title; the name keeps 8 columns. When
    // that is too little room, the new-row count goes, then the column.
    let fits = |place: &str| width.saturating_sub(4 + place.width()) >= 8;
    let place = [
        format!("{place}{fresh}"),
        place.clone(),
        place.replace(&cols, ""),
    ]
    .into_iter()
    .find(|p| fits(p))
    .unwrap_or_else(|| place.replace(&cols, ""));
    let room = width.saturating_sub(4 + place.width()).max(8);
    format!(" {}{place} ", crate::output::cell_middle(&grid.table, room))
}
