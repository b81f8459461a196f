//! The `?` overlay, written from the key map in effect.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::tui::app::App;
use crate::tui::layout::centered;

/// Keys inside dialogs, fixed (not remappable).
const DIALOG_KEYS: &[(&str, &str)] = &[
    (
        "y / n",
        "Answer a confirmation (Enter takes the highlighted button)",
    ),
    (
        "Tab ↑↓ ←→",
        "Move between fields of the generate and fill dialogs; ←→ change a choice",
    ),
    ("a / Enter", "Preview: insert the rows that are kept"),
    ("x / Space", "Preview: drop or keep the selected row"),
    ("r", "Preview: generate a new set of rows"),
    ("Ctrl-U / Ctrl-W", "Clear a text field / delete a word"),
    (
        "Enter",
        "Query line: run SQL as typed; anything else asks the model",
    ),
    (
        "↑ / ↓",
        "Query line: earlier and later queries of this database",
    ),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, scroll: u16) {
    let theme = app.theme;
    let entries = app.keymap.help();
    let key_w = entries
        .iter()
        .map(|(k, _, _)| k.width())
        .chain(DIALOG_KEYS.iter().map(|(k, _)| k.width()))
        .max()
        .unwrap_or(8)
        + 2;
    let mut lines = vec![Line::styled("Keys", theme.header())];
    for (keys, description, place) in &entries {
        let place = if place.is_empty() {
            String::new()
        } else {
            format!("  ({place})")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<key_w$}"), theme.key()),
            Span::raw(description.to_string()),
            Span::styled(place, theme.dim()),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled("In dialogs", theme.header()));
    for (keys, description) in DIALOG_KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<key_w$}"), theme.key()),
            Span::raw(description.to_string()),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        "Keys can be changed under [tui.keys] in the config file. Esc closes this help.",
        theme.dim(),
    ));
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(40) as u16 + 4;
    let rect = centered(area, width, lines.len() as u16 + 2);
    let max_scroll = (lines.len() as u16).saturating_sub(rect.height.saturating_sub(2));
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(" Help ", theme.title()));
    if max_scroll > 0 {
        block = block.title_bottom(Span::styled(" ↑↓ scroll · Esc closes ", theme.dim()));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(max_scroll), 0))
            .block(block),
        rect,
    );
}
