//! Dialog boxes drawn over the screen: error popup, confirmations, path
//! prompts, the generate dialog, the preview grid, the cell viewer and the undo
//! history.

use crate::config::Privacy;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use serde_json::Value as Json;
use unicode_width::UnicodeWidthStr;

use super::help;
use crate::db::journal::Operation;
use crate::generate::job::rows_word;
use crate::output::{cell, printable, thousands};
use crate::tui::app::{App, Level};
use crate::tui::keys::Action;
use crate::tui::layout::wrapped_lines;
use crate::tui::layout::{
    centered, history_box, history_height, preview_box, preview_height, viewer_box,
};
use crate::tui::modal::{
    CellView, Confirm, GenDialog, GenField, History, Modal, Preview, Prompt, Question,
};
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, modal: &Modal) {
    match modal {
        Modal::Help { scroll } => help::draw(frame, area, app, *scroll),
        Modal::Error { title, message } => error(frame, area, app.theme, title, message),
        Modal::Confirm(c) => confirm(frame, area, app.theme, c),
        Modal::Prompt(p) => prompt(frame, area, app.theme, p),
        Modal::Generate(d) => generate(frame, area, app, d),
        Modal::Preview(p) => preview(frame, area, app.theme, p),
        Modal::Cell(c) => cell_view(
            frame,
            area,
            app.theme,
            c,
            "Reading the whole value…",
            "↑↓ scroll · any other key closes",
        ),
        Modal::Request(r) => cell_view(
            frame,
            area,
            app.theme,
            &r.view,
            "Reading the table and building the request…",
            "↑↓ scroll · y copy · Esc back to the dialog",
        ),
        Modal::History(h) => history(frame, area, app.theme, h),
        Modal::Whole(d) => super::whole::dialog(frame, area, app, d),
        Modal::Log { scroll } => log(frame, area, app, *scroll),
    }
}

fn boxed<'a>(theme: Theme, title: &str, style: Style) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Span::styled(format!(" {title} "), theme.title()))
        .padding(ratatui::widgets::Padding::horizontal(1))
}

/// A box sized for `lines` of text wrapped at most 64 columns wide.
fn text_box(area: Rect, title: &str, texts: &[String], extra: u16) -> (Rect, u16) {
    let widest = texts
        .iter()
        .map(|t| t.width())
        .chain(std::iter::once(title.width() + 4))
        .max()
        .unwrap_or(20);
    let inner_w = widest
        .clamp(24, 64)
        .min(area.width.saturating_sub(6) as usize)
        .max(10);
    let lines: usize = texts.iter().map(|t| wrapped_lines(t, inner_w)).sum();
    let rect = centered(area, inner_w as u16 + 4, lines as u16 + 2 + extra);
    (rect, inner_w as u16)
}

fn error(frame: &mut Frame, area: Rect, theme: Theme, title: &str, message: &str) {
    let texts = vec![message.to_string()];
    let (rect, _) = text_box(area, title, &texts, 2);
    frame.render_widget(Clear, rect);
    let lines = vec![
        Line::from(message.to_string()),
        Line::from(""),
        Line::styled("Enter or Esc closes", theme.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(boxed(
            theme,
            title,
            theme.level(Level::Error),
        )),
        rect,
    );
}

fn buttons(theme: Theme, yes: &str, on_yes: bool) -> Line<'static> {
    let on = |b: bool| {
        if b {
            theme.selected(true)
        } else {
            Style::new()
        }
    };
    Line::from(vec![
        Span::styled(format!("[ {yes} (y) ]"), on(on_yes)),
        Span::raw("   "),
        Span::styled("[ Cancel (n) ]".to_string(), on(!on_yes)),
    ])
}

fn confirm(frame: &mut Frame, area: Rect, theme: Theme, c: &Confirm) {
    let mut texts = c.lines.clone();
    texts.push(format!("[ {} (y) ]   [ Cancel (n) ]", c.yes));
    let (rect, _) = text_box(area, &c.title, &texts, 1);
    frame.render_widget(Clear, rect);
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    lines.push(buttons(theme, &c.yes, c.on_yes));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(boxed(
            theme,
            &c.title,
            theme.level(Level::Warning),
        )),
        rect,
    );
}

/// Candidate lines shown under a prompt's input at most.
const CANDIDATE_LINES: usize = 4;

fn prompt(frame: &mut Frame, area: Rect, theme: Theme, p: &Prompt) {
    let width = area.width.saturating_sub(8).clamp(30, 72);
    let inner = (width as usize).saturating_sub(4).max(1);
    let room = (width as usize).saturating_sub(6);
    let mut lines = vec![
        Line::styled(format!("{}:", p.label), theme.dim()),
        Line::from(super::field(&p.input, room, theme, true)),
    ];
    for packed in pack(&p.candidates, inner, CANDIDATE_LINES) {
        lines.push(Line::styled(packed, theme.accent()));
    }
    if let Some(note) = &p.note {
        lines.push(Line::from(""));
        lines.push(Line::styled(note.clone(), theme.dim()));
    }
    if let Some(error) = &p.error {
        lines.push(Line::from(""));
        lines.push(Line::styled(error.clone(), theme.level(Level::Error)));
    }
    lines.push(Line::from(""));
    match &p.question {
        None => lines.push(Line::styled(
            "Enter confirms · Tab completes · Esc cancels",
            theme.dim(),
        )),
        Some(Question::Overwrite { path }) => {
            lines.push(Line::styled(
                format!(
                    "'{}' exists: overwrite? (y/n)",
                    printable(&path.display().to_string())
                ),
                theme.level(Level::Warning),
            ));
            lines.push(Line::styled(
                "y replaces it · n or Enter keeps it and goes back",
                theme.dim(),
            ));
        }
        Some(Question::Append {
            table,
            columns,
            new_table,
            ..
        }) => {
            lines.push(Line::styled(
                format!(
                    "Append {columns} columns' rows to the existing table '{}', or import as a new table '{}'?",
                    printable(table),
                    printable(new_table)
                ),
                theme.level(Level::Warning),
            ));
            lines.push(Line::styled(
                format!(
                    "Enter or n: new table '{}' · a: append · Esc: back",
                    printable(new_table)
                ),
                theme.dim(),
            ));
        }
    }
    let height: usize = lines
        .iter()
        .map(|l| wrapped_lines(&l.to_string(), inner))
        .sum();
    let rect = centered(area, width, height as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(boxed(theme, &p.title, theme.border(true))),
        rect,
    );
}

/// Names side by side, two spaces apart, in at most `max_lines` lines of
/// `room` columns; what does not fit is counted: "… 12 more".
fn pack(names: &[String], room: usize, max_lines: usize) -> Vec<String> {
    let width = |line: &[&str]| -> usize { line.iter().map(|n| n.width() + 2).sum() };
    let mut lines: Vec<Vec<&str>> = Vec::new();
    let mut shown = 0;
    for name in names {
        let full = lines
            .last()
            .is_none_or(|l| !l.is_empty() && width(l) + name.width() > room);
        if full {
            if lines.len() == max_lines {
                break;
            }
            lines.push(Vec::new());
        }
        if let Some(line) = lines.last_mut() {
            line.push(name);
        }
        shown += 1;
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.join("  ")).collect();
    if shown < names.len()
        && let Some(last) = lines.last_mut()
    {
        // Make room on the last line for the count.
        loop {
            let more = format!("… {} more", names.len() - shown);
            if last.is_empty() || width(last) + more.width() <= room {
                let mut line = last.join("  ");
                if !line.is_empty() {
                    line.push_str("  ");
                }
                line.push_str(&more);
                if let Some(slot) = out.last_mut() {
                    *slot = line;
                }
                break;
            }
            last.pop();
            shown -= 1;
        }
    }
    out
}

fn generate(frame: &mut Frame, area: Rect, app: &App, d: &GenDialog) {
    let theme = app.theme;
    // Fields, a blank line, the key lines, and the error when there is one.
    let rect = centered(area, 64.min(area.width), 10 + u16::from(d.error.is_some()));
    frame.render_widget(Clear, rect);
    let option = app.providers.get(d.provider);
    let provider = option
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "none configured".into());
    let editable = option.is_some_and(|p| p.model_editable);
    let field = |f: GenField, label: &str, value: Vec<Span<'static>>| -> Line<'static> {
        let focus = d.field == f;
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
    let input = |edit: &crate::tui::modal::Input, focus: bool| -> Vec<Span<'static>> {
        super::field(edit, 40, theme, focus)
    };
    let n = app.providers.len();
    let mut lines = vec![
        field(
            GenField::Rows,
            "Rows",
            input(&d.rows, d.field == GenField::Rows),
        ),
        field(
            GenField::Provider,
            "Provider",
            vec![
                Span::raw(if n > 1 { "◀ " } else { "" }),
                Span::styled(provider, theme.accent()),
                Span::raw(if n > 1 { " ▶" } else { "" }),
            ],
        ),
        field(
            GenField::Model,
            "Model",
            if editable {
                input(&d.model, d.field == GenField::Model)
            } else {
                vec![Span::styled(d.model.text.clone(), theme.dim())]
            },
        ),
        field(
            GenField::Privacy,
            "Privacy",
            vec![Span::styled(privacy_choice(d, option), theme.accent())],
        ),
        field(
            GenField::Preview,
            "Preview",
            vec![Span::raw(if d.preview {
                "[x] show the rows before writing them"
            } else {
                "[ ] write the rows at once"
            })],
        ),
        Line::from(""),
    ];
    if let Some(e) = &d.error {
        lines.push(Line::styled(e.clone(), theme.level(Level::Error)));
    }
    lines.push(Line::styled(
        "Tab/↑↓ move · ←→ change · Enter generates · Esc closes",
        theme.dim(),
    ));
    if let Some(key) = app.keymap.short(Action::ShowPrompt) {
        lines.push(Line::styled(
            format!("{key} shows the model's request · sends nothing"),
            theme.dim(),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(boxed(
                theme,
                &format!("Generate rows for '{}'", d.table),
                theme.border(true),
            )),
        rect,
    );
}

/// The dialog's privacy line: the choice and, for the default, what it means here.
fn privacy_choice(d: &GenDialog, option: Option<&crate::tui::modal::ProviderOption>) -> String {
    let Some(default) = option.and_then(|o| o.privacy) else {
        return "nothing is sent (offline)".into();
    };
    let what = |p: Privacy| match p {
        Privacy::Mask => "mask: made-up names, emails, phones",
        Privacy::Samples => "samples: real rows as they are",
        Privacy::Schema => "schema: no rows at all",
    };
    match d.privacy {
        None => format!("◀ default ({}) ▶", what(default)),
        Some(p) => format!("◀ {} ▶", what(p)),
    }
}

fn json_cell(v: Option<&Json>) -> (String, bool) {
    match v {
        None | Some(Json::Null) => ("NULL".into(), true),
        Some(Json::String(s)) => (s.clone(), false),
        Some(Json::Object(o)) if o.contains_key("blob_hex") => {
            let len = o
                .get("blob_hex")
                .and_then(Json::as_str)
                .map(|h| h.len() / 2)
                .unwrap_or(0);
            (format!("<{len} bytes>"), false)
        }
        Some(other) => (other.to_string(), false),
    }
}

fn preview(frame: &mut Frame, area: Rect, theme: Theme, p: &Preview) {
    let rect = preview_box(area, p.len());
    frame.render_widget(Clear, rect);
    let kept = p.dropped.iter().filter(|d| !**d).count();
    let mut title = format!(
        "Preview · {} · {kept} of {} rows kept",
        p.spec.table,
        p.rows.len()
    );
    if !p.rejected.is_empty() {
        title.push_str(&format!(" · {} turned away by the gate", p.rejected.len()));
    }
    let block = boxed(theme, &title, theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let height = preview_height(area, p.len());
    let widths: Vec<usize> = p
        .columns
        .iter()
        .map(|c| {
            p.rows
                .iter()
                .map(|r| cell(&json_cell(r.get(c)).0, 30).width())
                .chain(std::iter::once(c.width()))
                .max()
                .unwrap_or(4)
                .min(30)
        })
        .collect();
    let room = inner.width as usize;
    let mut lines = Vec::new();
    let mut header = vec![Span::raw("    ")];
    let mut used = 4;
    let mut shown = Vec::new();
    for (i, w) in widths.iter().enumerate().skip(p.left) {
        if used + w > room && !shown.is_empty() {
            break;
        }
        used += w + 1;
        shown.push(i);
        header.push(Span::styled(
            format!("{:<w$} ", cell(&p.columns[i], *w)),
            theme.header(),
        ));
    }
    lines.push(Line::from(header));
    let end = (p.top + height).min(p.len());
    for index in p.top..end {
        if let Some((row, reason)) = index
            .checked_sub(p.rows.len())
            .and_then(|i| p.rejected.get(i))
        {
            let mut spans = vec![Span::styled(" ✗  ", theme.level(Level::Error))];
            spans.push(Span::styled(
                format!("{reason}  "),
                theme.level(Level::Error),
            ));
            for &i in &shown {
                let (text, _) = json_cell(row.get(&p.columns[i]));
                spans.push(Span::styled(
                    format!("{:<w$} ", cell(&text, widths[i]), w = widths[i]),
                    theme.dim(),
                ));
            }
            let line = Line::from(spans);
            lines.push(if index == p.cursor {
                line.style(theme.selected(true))
            } else {
                line
            });
            continue;
        }
        let row = &p.rows[index];
        let dropped = p.dropped.get(index).copied().unwrap_or(false);
        let mut spans = vec![Span::styled(
            if dropped { " ✗  " } else { " ✓  " },
            if dropped {
                theme.level(Level::Error)
            } else {
                theme.level(Level::Success)
            },
        )];
        for &i in &shown {
            let w = widths[i];
            let (text, null) = json_cell(row.get(&p.columns[i]));
            let mut style = if null { theme.null() } else { Style::new() };
            if dropped {
                style = style.add_modifier(Modifier::CROSSED_OUT | Modifier::DIM);
            }
            spans.push(Span::styled(format!("{:<w$} ", cell(&text, w)), style));
        }
        let line = Line::from(spans);
        lines.push(if index == p.cursor {
            line.style(theme.selected(true))
        } else {
            line
        });
    }
    while lines.len() < height + 1 {
        lines.push(Line::from(""));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("a", theme.key()),
        Span::raw(" accept  "),
        Span::styled("x", theme.key()),
        Span::raw(" drop  "),
        Span::styled("r", theme.key()),
        Span::raw(" regenerate  "),
        Span::styled("←→", theme.key()),
        Span::raw(" columns  "),
        Span::styled("Esc", theme.key()),
        Span::raw(" discard"),
    ]));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Scrollable text in a box: a cell's whole value, or the request a generation would send.
/// `waiting` stands in while the text is on its way; `keys`, on the bottom border, stay in
/// sight however long the text.
fn cell_view(frame: &mut Frame, area: Rect, theme: Theme, c: &CellView, waiting: &str, keys: &str) {
    let text = c.text.clone().unwrap_or_else(|| waiting.into());
    let (rect, last) = viewer_box(area, &text);
    frame.render_widget(Clear, rect);
    let mut body: Vec<Line> = text.lines().map(|l| Line::from(l.to_string())).collect();
    if text.is_empty() {
        body.push(Line::styled("(empty text)", theme.dim()));
    }
    let block = boxed(theme, &c.title, theme.border(true))
        .title_bottom(Span::styled(format!(" {keys} "), theme.dim()));
    frame.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((c.scroll.min(last), 0))
            .block(block),
        rect,
    );
}

/// rowsmith's operations on this database, newest first, one line each.
fn history(frame: &mut Frame, area: Rect, theme: Theme, h: &History) {
    let rect = history_box(area, h.operations.len(), h.note.as_deref());
    frame.render_widget(Clear, rect);
    let n = h.operations.len();
    let title = format!(
        "Undo history · {n} operation{}",
        crate::output::plural(n as u64, "", "s")
    );
    let block = boxed(theme, &title, theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let room = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(note) = &h.note {
        lines.push(Line::styled(
            printable(note).into_owned(),
            theme.level(Level::Warning),
        ));
        lines.push(Line::from(""));
    }
    let id_w = h
        .operations
        .iter()
        .map(|(op, _)| op.id.0.to_string().len())
        .max()
        .unwrap_or(1);
    // A run is one entry: how many tables it filled, and which, after its source.
    let label = |op: &Operation| match &op.run {
        Some(run) => format!(
            "{} {}",
            run.tables.len(),
            crate::output::plural(run.tables.len() as u64, "table", "tables")
        ),
        None => op.table.clone(),
    };
    let table_w = h
        .operations
        .iter()
        .map(|(op, _)| cell(&label(op), 20).width())
        .max()
        .unwrap_or(5);
    let height = history_height(area, n, h.note.as_deref());
    let mut list: Vec<Line> = Vec::new();
    for (index, (op, undone)) in h.operations.iter().enumerate().skip(h.top).take(height) {
        let rows = format!("{} {}", thousands(op.rows), rows_word(op.rows));
        let what = match (undone, &op.run) {
            (Some(when), _) => format!("undone or cleared {when}"),
            (None, Some(run)) => {
                let names: Vec<&str> = run.tables.iter().map(|(t, _)| t.as_str()).collect();
                format!("{} · {}", op.source, names.join(", "))
            }
            (None, None) => op.source.clone(),
        };
        let text = format!(
            " {:>id_w$}  {}  {:<table_w$}  {rows:>10}  {what}",
            op.id.0,
            op.created_at,
            cell(&label(op), table_w)
        );
        let style = if undone.is_some() {
            theme.dim()
        } else {
            Style::new()
        };
        let line = Line::styled(cell(&text, room), style);
        list.push(if index == h.cursor {
            line.style(theme.selected(true))
        } else {
            line
        });
    }
    while list.len() < height {
        list.push(Line::from(""));
    }
    lines.extend(list);
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("Enter", theme.key()),
        Span::raw(" undo  "),
        Span::styled("f", theme.key()),
        Span::raw(" clear record  "),
        Span::styled("↑↓", theme.key()),
        Span::raw(" move  "),
        Span::styled("Esc", theme.key()),
        Span::raw(" close"),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Every message since the app started, oldest first, opened on the newest.
fn log(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = app.theme;
    let rect = crate::tui::layout::log_box(area);
    frame.render_widget(Clear, rect);
    let title = format!("Messages · {} (times in UTC)", app.log.len());
    let block = boxed(theme, &title, theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let height = crate::tui::layout::log_height(area);
    let scroll = scroll.min(app.log_last_scroll());
    let lines: Vec<Line> = if app.log.is_empty() {
        vec![Line::styled("No messages yet.", theme.dim())]
    } else {
        app.log
            .iter()
            .map(|t| Line::styled(crate::tui::message::log_line(t), theme.level(t.level)))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        Rect::new(inner.x, inner.y, inner.width, height.min(inner.height)),
    );
    let mut keys = vec![
        Span::styled("↑↓", theme.key()),
        Span::raw(" scroll  "),
        Span::styled("y", theme.key()),
        Span::raw(" copy all  "),
        Span::styled("Esc", theme.key()),
        Span::raw(" close"),
    ];
    if let Some(file) = &app.log_file {
        keys.push(Span::styled(format!("  · details: {file}"), theme.dim()));
    }
    let keys = Line::from(keys);
    if inner.height > 1 {
        frame.render_widget(
            Paragraph::new(keys),
            Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::pack;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("file{i:02}.csv")).collect()
    }

    #[test]
    fn packs_names_side_by_side() {
        assert_eq!(
            pack(&names(3), 40, 4),
            ["file01.csv  file02.csv  file03.csv"]
        );
        assert_eq!(
            pack(&names(3), 24, 4),
            ["file01.csv  file02.csv", "file03.csv"]
        );
        assert!(pack(&[], 40, 4).is_empty());
    }

    #[test]
    fn counts_what_does_not_fit() {
        let lines = pack(&names(20), 24, 2);
        assert_eq!(lines, ["file01.csv  file02.csv", "file03.csv  … 17 more"]);
        assert!(
            lines
                .iter()
                .all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= 24)
        );
    }
}
