//! Toasts: results that fade, stacked at the top right of the main pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::tui::app::App;
use crate::tui::layout::wrapped_lines;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let most = area.width.saturating_sub(4).min(64) as usize;
    if most < 10 {
        return;
    }
    let mut y = area.y + 1;
    for toast in app.toasts.iter().rev() {
        let text_w = toast.text.width();
        let width = (text_w + 4).min(most);
        let inner_w = width.saturating_sub(4).max(1);
        let lines = wrapped_lines(&toast.text, inner_w);
        let height = lines as u16 + 2;
        if y + height > area.y + area.height {
            break;
        }
        let rect = Rect::new(
            area.x + area.width.saturating_sub(width as u16 + 1),
            y,
            width as u16,
            height,
        );
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.level(toast.level));
        frame.render_widget(
            Paragraph::new(toast.text.clone())
                .block(block.padding(ratatui::widgets::Padding::horizontal(1)))
                .wrap(Wrap { trim: true }),
            rect,
        );
        y += height;
    }
}
