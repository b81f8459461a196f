//! The fill dialog (size, provider, the plan) and the fill's two progress lines: the
//! table being filled with its rows, then the tables done and the tables to come.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::spinner;
use crate::output::{cell, printable, thousands};
use crate::tui::app::{App, Level};
use crate::tui::whole::{PlanState, SizeKind, WholeDialog, WholeField, WholeRun, dialog_geometry};

pub fn dialog(frame: &mut Frame, area: Rect, app: &App, d: &WholeDialog) {
    let theme = app.theme;
    let g = dialog_geometry(area, d);
    frame.render_widget(Clear, g.rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(" Fill the whole database ", theme.title()))
        .padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(g.rect);
    frame.render_widget(block, g.rect);

    let option = app.providers.get(d.provider);
    let field = |f: WholeField, label: &str, value: Vec<Span<'static>>| -> Line<'static> {
        let focus = d.field == f && d.confirm.is_none();
        let mut spans = vec![
            Span::styled(if focus { "▶ " } else { "  " }, theme.key()),
            Span::styled(
                format!("{label:<9}"),
                if focus { theme.title() } else { theme.dim() },
            ),
        ];
        spans.extend(value);
        Line::from(spans)
    };
    let (kind, meaning, amount_label) = match d.kind {
        SizeKind::Scale => (
            "scale",
            "each table grows to this many times its rows",
            "Scale",
        ),
        SizeKind::Rows => (
            "rows",
            "each table with no parent gets this many; children follow",
            "Rows",
        ),
    };
    let n = app.providers.len();
    let editable = option.is_some_and(|p| p.model_editable);
    let mut top = vec![
        field(
            WholeField::Kind,
            "Size by",
            vec![
                Span::styled(format!("◀ {kind} ▶"), theme.accent()),
                Span::styled(format!("  {meaning}"), theme.dim()),
            ],
        ),
        field(
            WholeField::Amount,
            amount_label,
            super::field(d.amount(), 12, theme, d.field == WholeField::Amount),
        ),
        field(
            WholeField::Provider,
            "Provider",
            vec![
                Span::raw(if n > 1 { "◀ " } else { "" }),
                Span::styled(
                    option
                        .map(|p| p.name.clone())
                        .unwrap_or_else(|| "none configured".into()),
                    theme.accent(),
                ),
                Span::raw(if n > 1 { " ▶" } else { "" }),
            ],
        ),
        field(
            WholeField::Model,
            "Model",
            if editable {
                super::field(&d.model, 40, theme, d.field == WholeField::Model)
            } else {
                vec![Span::styled(d.model.text.clone(), theme.dim())]
            },
        ),
        Line::from(""),
    ];
    if let Some(e) = &d.error {
        top.push(Line::styled(e.clone(), theme.level(Level::Error)));
    }
    // The fields' lines and the blank line, then the error as wrapped (as the geometry
    // counts them).
    let fixed_top = 5 + d.error.as_deref().map_or(0, |e| {
        crate::tui::layout::wrapped_lines(e, inner.width as usize) as u16
    });

    // The plan, scrolled, in the lines left between the fields and the keys.
    let style = match d.plan {
        PlanState::Ready(_) => Style::new(),
        PlanState::Failed(_) => theme.level(Level::Error),
        PlanState::Planning | PlanState::NoSize => theme.dim(),
    };
    let mut plan: Vec<Line> = d
        .plan_rows(inner.width as usize)
        .into_iter()
        .map(|l| Line::styled(printable(&l).into_owned(), style))
        .collect();
    if d.plan == PlanState::Planning
        && let Some(first) = plan.first_mut()
    {
        first.spans.insert(
            0,
            Span::styled(format!("{} ", spinner(app)), theme.accent()),
        );
    }

    let mut bottom = vec![Line::from("")];
    if let Some(q) = &d.confirm {
        bottom.push(Line::styled(q.clone(), theme.level(Level::Warning)));
        bottom.push(Line::from(""));
        bottom.push(Line::styled(
            "y or Enter fills the database · n or Esc goes back",
            theme.dim(),
        ));
    } else {
        let scroll = if g.max_scroll > 0 {
            " · PgUp/PgDn plan"
        } else {
            ""
        };
        bottom.push(Line::styled(
            format!("Tab/↑↓ move · ←→ change{scroll} · Enter fills · Esc closes"),
            theme.dim(),
        ));
    }

    let [top_area, plan_area, bottom_area] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(fixed_top),
        ratatui::layout::Constraint::Length(g.plan_height),
        ratatui::layout::Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    frame.render_widget(
        Paragraph::new(plan).scroll((d.scroll.min(g.max_scroll), 0)),
        plan_area,
    );
    frame.render_widget(
        Paragraph::new(bottom).wrap(Wrap { trim: false }),
        bottom_area,
    );
}

/// The fill's lines in the progress area: what is being filled now, then the tables done
/// with their rows and the tables still to come.
pub fn progress_lines(app: &App, run: &WholeRun, cancel: &str, width: usize) -> Vec<Line<'static>> {
    let theme = app.theme;
    let spin = spinner(app);
    let count = run.tables.len();
    let what = match (run.completing, run.current) {
        (true, _) => "Filling the database: second pass".to_string(),
        (false, Some(i)) => {
            let t = &run.tables[i];
            format!(
                "Filling {} ({}/{count}): {}/{} rows",
                printable(&t.table),
                i + 1,
                thousands(t.added),
                thousands(t.wanted)
            )
        }
        (false, None) => format!("Filling the database (0/{count})"),
    };
    let elapsed = app.tick.saturating_sub(run.started) / 10;
    let mut parts: Vec<(String, Style)> = vec![
        (format!(" {spin} "), theme.accent()),
        (what, theme.title()),
        (format!(" · {}", run.stage), Style::new()),
        (format!(" · {}", duration(elapsed)), theme.dim()),
    ];
    let tokens = run.tokens_done + run.tokens;
    if tokens > 0 {
        parts.push((format!(" · {} tokens", thousands(tokens)), theme.dim()));
    }
    if !run.cancelling {
        parts.push((format!("  {cancel} cancels"), theme.dim()));
    }
    let mut used = 0;
    let first = Line::from(
        parts
            .into_iter()
            .enumerate()
            .filter_map(|(i, (text, style))| {
                let w = text.width();
                // The spinner and what is filled always show; the rest while it fits.
                if i < 2 || used + w <= width {
                    used += w;
                    Some(Span::styled(text, style))
                } else {
                    None
                }
            })
            .collect::<Vec<_>>(),
    );

    let (done, next) = run.done_and_to_come();
    let mut second = String::from("   ");
    if !done.is_empty() {
        let list: Vec<String> = done
            .iter()
            .map(|t| format!("{} +{}", printable(&t.table), thousands(t.added)))
            .collect();
        second.push_str(&format!("done: {}", list.join(", ")));
    }
    if !next.is_empty() {
        if !done.is_empty() {
            second.push_str("  ·  ");
        }
        let list: Vec<String> = next
            .iter()
            .map(|t| printable(&t.table).into_owned())
            .collect();
        second.push_str(&format!("to come: {}", list.join(", ")));
    }
    if done.is_empty() && next.is_empty() {
        second.push_str("one run: cancelled or failed, it is taken back whole");
    }
    vec![
        first,
        Line::styled(cell(&second, width.max(1)), theme.dim()),
    ]
}

fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{}:{:02} min", seconds / 60, seconds % 60),
        _ => format!("{}:{:02} h", seconds / 3600, (seconds / 60) % 60),
    }
}
