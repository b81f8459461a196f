//! Messages: the newest two, one line each, below the work in progress and above the
//! status bar, so they never cover data. A message too long for its line is cut and
//! points to the log, where every message stays.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::output::cell;
use crate::tui::app::{App, Level};
use crate::tui::keys::Action;

/// Draws the messages in the lines of `area` (the progress area) after the work lines.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let (skip, lines) = (app.work_lines(), app.toast_lines());
    if lines == 0 || area.height < skip + lines || area.width < 10 {
        return;
    }
    let theme = app.theme;
    let log = app.keymap.short(Action::Log).unwrap_or_else(|| "L".into());
    let back = app
        .keymap
        .short(Action::Back)
        .unwrap_or_else(|| "Esc".into());
    let newest: Vec<_> = app.toasts.iter().rev().take(lines as usize).collect();
    let text: Vec<Line> = newest
        .iter()
        .enumerate()
        .map(|(i, toast)| {
            let mark = match toast.level {
                Level::Success => "✓",
                Level::Info => "·",
                Level::Warning => "!",
                Level::Error => "✗",
            };
            // The newest says how to dismiss it or read it whole.
            let tail = if i == 0 {
                format!("  {back} dismiss · {log} log")
            } else {
                String::new()
            };
            let room = (area.width as usize).saturating_sub(4 + tail.width());
            let flat = toast.text.replace('\n', " ");
            Line::from(vec![
                Span::styled(format!(" {mark} "), theme.level(toast.level)),
                Span::styled(cell(&flat, room), theme.level(toast.level)),
                Span::styled(tail, theme.dim()),
            ])
        })
        .collect();
    let rect = Rect::new(area.x, area.y + skip, area.width, lines);
    frame.render_widget(Paragraph::new(text), rect);
}
