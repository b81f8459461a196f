//! The progress area, the status bar and the hint bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::spinner;
use crate::output::{cell, thousands};
use crate::tui::app::App;
use crate::tui::keys::Action;
use crate::tui::modal::UndoTarget;
use crate::tui::query::Phase;

/// One line per generation (and one for an export, import or delete).
pub fn progress(frame: &mut Frame, area: Rect, app: &App) {
    if area.height == 0 {
        return;
    }
    let theme = app.theme;
    let spin = spinner(app).to_string();
    let cancel = app
        .keymap
        .short(Action::Cancel)
        .unwrap_or_else(|| "Esc".into());
    let mut lines = Vec::new();
    if let Some(t) = &app.transfer {
        let amount = match t.total {
            Some(total) if total > 0 => {
                format!("{}/{} rows", thousands(t.done.min(total)), thousands(total))
            }
            _ if t.done > 0 => format!("{} rows", thousands(t.done)),
            _ => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {spin} "), theme.accent()),
            Span::raw(format!("{}  ", t.label)),
            Span::raw(amount),
            Span::styled(since(app.tick, t.started), theme.dim()),
            Span::styled(format!("  {cancel} cancels"), theme.dim()),
        ]));
    }
    if let Some(c) = &app.checking {
        lines.push(Line::from(vec![
            Span::styled(format!(" {spin} "), theme.accent()),
            Span::raw(crate::output::printable(&c.label).into_owned()),
            Span::styled(since(app.tick, c.started), theme.dim()),
        ]));
    }
    if let Some(undo) = &app.undoing {
        let what = match &undo.target {
            UndoTarget::Latest(_) => "the last generation".to_string(),
            UndoTarget::Operation { id, .. } => format!("operation #{id}"),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {spin} "), theme.accent()),
            Span::raw(format!(
                "undoing {what} of '{}'",
                crate::output::printable(undo.table())
            )),
            Span::styled(since(app.tick, undo.started), theme.dim()),
            Span::styled(
                "  one transaction: it cannot be stopped half-way",
                theme.dim(),
            ),
        ]));
    }
    if let Some(run) = &app.whole {
        lines.extend(super::whole::progress_lines(
            app,
            run,
            &cancel,
            area.width as usize,
        ));
    }
    if let Some(q) = &app.query {
        let what = match (q.phase, q.stopping) {
            (_, true) => "interrupting…".to_string(),
            (Phase::Asking, _) => "waiting for the model".to_string(),
            (Phase::Running, _) if q.rows > 0 => {
                format!("{} rows so far", thousands(q.rows))
            }
            (Phase::Running, _) => "running".to_string(),
        };
        let mut spans = vec![
            Span::styled(format!(" {spin} "), theme.accent()),
            Span::styled("query", theme.title()),
            Span::raw(format!("  {what}")),
            Span::styled(since(app.tick, q.started), theme.dim()),
        ];
        if !q.stopping {
            spans.push(Span::styled(format!("  {cancel} interrupts"), theme.dim()));
        }
        lines.push(Line::from(spans));
    }
    for job in &app.jobs {
        lines.push(job_line(app, job, &spin, &cancel, area.width as usize));
    }
    lines.truncate(area.height as usize);
    frame.render_widget(Paragraph::new(lines), area);
}

/// One generation's line. What does not fit the width gives way, least useful first: the
/// model's name, the bar, the token count, the cancel hint, then the rest; the table, the
/// counts and the stage always stay.
fn job_line<'a>(
    app: &App,
    job: &crate::tui::app::Job,
    spin: &str,
    cancel: &str,
    width: usize,
) -> Line<'a> {
    let theme = app.theme;
    let what = if job.spec.preview { "preview of " } else { "" };
    // (text, style, rank): the highest rank is left out first; 0 never is.
    let mut parts: Vec<(String, Style, u8)> = vec![
        (format!(" {spin} "), theme.accent(), 0),
        (
            format!("{what}{}", crate::output::printable(&job.spec.table)),
            theme.title(),
            0,
        ),
        (
            format!("  {}", bar(job.accepted, job.spec.rows, 10)),
            Style::new(),
            6,
        ),
        (
            format!(
                " {}/{} rows · {}",
                thousands(job.accepted),
                thousands(job.spec.rows),
                job.stage
            ),
            Style::new(),
            0,
        ),
    ];
    if job.rejected > 0 {
        parts.push((
            format!(" · {} rejected", thousands(job.rejected)),
            theme.dim(),
            2,
        ));
    }
    parts.push((timing(app.tick, job), theme.dim(), 1));
    if job.retries > 0 {
        parts.push((
            format!(
                " · {} {}",
                job.retries,
                if job.retries == 1 { "retry" } else { "retries" }
            ),
            theme.level(crate::tui::app::Level::Warning),
            3,
        ));
    }
    if job.tokens > 0 {
        parts.push((
            format!(" · {} tokens", thousands(job.tokens)),
            theme.dim(),
            5,
        ));
    }
    if !job.source.is_empty() {
        parts.push((
            format!(" · {}", crate::output::printable(&job.source)),
            theme.dim(),
            7,
        ));
    }
    if let Some(sending) = &job.sending {
        parts.push((format!(" · sends {sending}"), theme.dim(), 2));
    }
    if job.id != 0 && !job.cancelling {
        parts.push((format!("  {cancel} cancels"), theme.dim(), 4));
    }
    // Most useful first, each part taken while it fits; shown in their own order.
    let mut by_rank: Vec<usize> = (0..parts.len()).collect();
    by_rank.sort_by_key(|&i| parts[i].2);
    let mut kept = vec![false; parts.len()];
    let mut used = 0;
    for i in by_rank {
        let w = parts[i].0.width();
        if parts[i].2 == 0 || used + w <= width {
            kept[i] = true;
            used += w;
        }
    }
    Line::from(
        parts
            .into_iter()
            .zip(kept)
            .filter(|(_, keep)| *keep)
            .map(|((text, style, _), _)| Span::styled(text, style))
            .collect::<Vec<_>>(),
    )
}

/// " · 12 s": how long something has run, from the app's ticks (ten a second).
fn since(tick: u64, started: u64) -> String {
    format!(" · {}", duration(tick.saturating_sub(started) / 10))
}

/// " · 12 s, about 40 s left": elapsed time from the app's ticks (ten a second while work
/// runs) and the rest at the pace so far.
fn timing(tick: u64, job: &crate::tui::app::Job) -> String {
    let elapsed = tick.saturating_sub(job.started) / 10;
    let mut out = format!(" · {}", duration(elapsed));
    if job.accepted > 0 && job.accepted < job.spec.rows && elapsed > 0 {
        let left = elapsed * (job.spec.rows - job.accepted) / job.accepted;
        out.push_str(&format!(", about {} left", duration(left.max(1))));
    }
    out
}

fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{}:{:02} min", seconds / 60, seconds % 60),
        _ => format!("{}:{:02} h", seconds / 3600, (seconds / 60) % 60),
    }
}

fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((done.min(total) as f64 / total as f64) * width as f64).round() as usize
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Database path, read-only flag, provider and model.
pub fn status(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let right = format!(" {} ", app.source);
    let ro = if app.read_only { " read-only " } else { "" };
    let room = (area.width as usize).saturating_sub(right.width() + ro.width() + 2);
    let path = format!(" {}", cell(&app.db_path, room.max(4)));
    let gap = (area.width as usize).saturating_sub(path.width() + ro.width() + right.width());
    let line = Line::from(vec![
        Span::styled(path, theme.title()),
        Span::styled(ro.to_string(), theme.level(crate::tui::app::Level::Warning)),
        Span::raw(" ".repeat(gap)),
        Span::styled(right, theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.status()), area);
}

/// Actions that write to the database (hidden under --read-only).
fn writes(action: Action) -> bool {
    matches!(
        action,
        Action::Generate
            | Action::GenerateDialog
            | Action::FillDatabase
            | Action::Undo
            | Action::Import
            | Action::Delete
    )
}

/// Keys for the focused pane, from the key map, as many as fit.
pub fn hints(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0usize;
    let pairs: Vec<(String, String)> = if app.filtering {
        vec![
            ("type".into(), "filter".into()),
            ("Enter".into(), "keep".into()),
            ("Esc".into(), "clear".into()),
        ]
    } else if let Some(line) = &app.row_input {
        let (what, enter) = match line.kind {
            crate::tui::app::RowInputKind::Search => ("text in any column", "search"),
            crate::tui::app::RowInputKind::GoTo => ("a row number", "go"),
        };
        vec![
            ("type".into(), what.into()),
            ("Enter".into(), enter.into()),
            ("Esc".into(), "close".into()),
        ]
    } else if app.modal.is_some() {
        Vec::new()
    } else {
        let mut pairs = Vec::new();
        if app.query.is_some() && app.pane() == crate::tui::keys::Pane::Results {
            let cancel = app
                .keymap
                .short(Action::Cancel)
                .unwrap_or_else(|| "Esc".into());
            pairs.push((cancel, "interrupt".to_string()));
        }
        let actions = app.keymap.hint_actions(app.pane());
        // Under --read-only the keys that write do nothing: do not offer them.
        let offered = actions
            .into_iter()
            .filter(|(a, _, _)| !(app.read_only && writes(*a)))
            .collect::<Vec<_>>();
        // Help and quit always show, at the end: the rest gives way when the bar is
        // narrow, and a "…" says that it did.
        let (last, rest): (Vec<_>, Vec<_>) = offered
            .into_iter()
            .partition(|(a, _, _)| matches!(a, Action::Help | Action::Quit));
        let last: Vec<(String, String)> = last
            .into_iter()
            .map(|(_, k, h)| (k, h.to_string()))
            .collect();
        // Room for help and quit, and for the "…" (its width plus padding).
        let reserved: usize = last
            .iter()
            .map(|(k, h)| k.width() + h.width() + 3)
            .sum::<usize>()
            + 4;
        let mut used = pairs
            .iter()
            .map(|(k, h)| k.width() + h.width() + 3)
            .sum::<usize>();
        let everything = used
            + rest
                .iter()
                .map(|(_, k, h)| k.width() + h.width() + 3)
                .sum::<usize>()
            + reserved
            - 4;
        // The "…" needs room only when something is left out.
        let reserved = if everything <= area.width as usize {
            reserved - 4
        } else {
            reserved
        };
        let mut cut = false;
        for (_, key, hint) in rest {
            let width = key.width() + hint.width() + 3;
            if cut || used + width + reserved > area.width as usize {
                cut = true;
                continue;
            }
            used += width;
            pairs.push((key, hint.to_string()));
        }
        if cut {
            pairs.push(("…".into(), String::new()));
        }
        // When keys were left out, help is where the rest are: it says so.
        let help = app.keymap.short(Action::Help);
        pairs.extend(last.into_iter().map(|(k, h)| {
            if cut && Some(&k) == help.as_ref() {
                (k, "more".to_string())
            } else {
                (k, h)
            }
        }));
        pairs
    };
    for (key, hint) in pairs {
        let width = key.width() + hint.width() + 3;
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::raw(" "));
        spans.push(Span::styled(key, theme.key()));
        // The "…" has no word after it.
        let after = if hint.is_empty() {
            " ".to_string()
        } else {
            format!(" {hint} ")
        };
        spans.push(Span::styled(after, Style::new()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
