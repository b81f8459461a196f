//! Where each part of the screen goes. Pure, so key handling (page sizes,
//! mouse hits) and drawing agree on one layout.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub list: Rect,
    pub main: Rect,
    pub progress: Rect,
    pub status: Rect,
    pub hints: Rect,
}

pub fn areas(area: Rect, list_width: u16, progress_lines: u16) -> Areas {
    let [body, progress, status, hints] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(progress_lines),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [list, main] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(10)]).areas(body);
    Areas {
        list,
        main,
        progress,
        status,
        hints,
    }
}

/// The table list is as wide as its longest name (`widest_name` columns), within limits.
pub fn list_width_of(widest_name: Option<usize>, total: u16) -> u16 {
    let widest = widest_name.map_or(16, |w| w + 10) as u16;
    // Borders, the spinner column and a gap.
    let wanted = widest + 4;
    let most = (total * 2 / 5).max(16);
    wanted.clamp(20.min(most), most)
}

/// Rows of data the rows view shows (borders and header line left out).
pub fn grid_height(main: Rect) -> usize {
    main.height.saturating_sub(3).max(1) as usize
}

/// The screen line of the rows view's first data row.
pub fn grid_first_line(main: Rect) -> u16 {
    main.y + 2
}

/// Width inside the rows view's borders.
pub fn grid_width(main: Rect) -> u16 {
    main.width.saturating_sub(2)
}

/// A centered box of at most `width` x `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The preview dialog's box, as tall as its rows need.
pub fn preview_box(area: Rect, rows: usize) -> Rect {
    // Borders, header line, a blank line and the key line.
    let wanted = (rows as u16).saturating_add(5);
    centered(
        area,
        area.width.saturating_sub(4),
        wanted.min(area.height.saturating_sub(2)),
    )
}

/// Rows of data the preview grid shows.
pub fn preview_height(area: Rect, rows: usize) -> usize {
    preview_box(area, rows).height.saturating_sub(5).max(1) as usize
}

/// The undo history's box: its note, up to 12 operations, a blank line and the keys.
pub fn history_box(area: Rect, operations: usize, note: Option<&str>) -> Rect {
    let width = area.width.saturating_sub(8).clamp(area.width.min(40), 96);
    let note_lines = history_note_lines(width, note);
    let wanted = (operations.clamp(1, 12) + note_lines + 4) as u16;
    centered(area, width, wanted.min(area.height.saturating_sub(2)))
}

/// Operations the undo history shows at once.
pub fn history_height(area: Rect, operations: usize, note: Option<&str>) -> usize {
    let rect = history_box(area, operations, note);
    (rect.height as usize)
        .saturating_sub(4 + history_note_lines(rect.width, note))
        .max(1)
}

/// Lines the note takes in a box `width` wide, with the blank line after it.
fn history_note_lines(width: u16, note: Option<&str>) -> usize {
    note.map(|n| wrapped_lines(n, width.saturating_sub(4).max(1) as usize) + 1)
        .unwrap_or(0)
}

/// Lines the text takes when word-wrapped at `width`: ratatui's own count, so a box
/// sized by it fits what the paragraph draws.
pub fn wrapped_lines(text: &str, width: usize) -> usize {
    let width = u16::try_from(width).unwrap_or(u16::MAX).max(1);
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .line_count(width)
        .max(1)
}

/// A scrollable text viewer's box (a cell's whole value, a request): up to 100 columns
/// wide and as tall as the text, within the screen; and the furthest its text scrolls.
pub fn viewer_box(area: Rect, text: &str) -> (Rect, u16) {
    let width = area.width.saturating_sub(8).clamp(20, 100);
    let inner_w = width.saturating_sub(4) as usize;
    let lines: usize = text
        .lines()
        .map(|l| wrapped_lines(l, inner_w))
        .sum::<usize>()
        .max(1);
    let lines = u16::try_from(lines).unwrap_or(u16::MAX);
    let rect = centered(
        area,
        width,
        lines.saturating_add(2).min(area.height.saturating_sub(2)),
    );
    (rect, lines.saturating_sub(rect.height.saturating_sub(2)))
}

/// The message log's box: nearly the whole screen.
pub fn log_box(area: Rect) -> Rect {
    centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    )
}

/// Lines of the log the box shows at once (borders, a blank line and the keys left out).
pub fn log_height(area: Rect) -> u16 {
    log_box(area).height.saturating_sub(4).max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::widgets::Widget;

    /// Rows a paragraph actually fills when drawn `width` wide.
    fn drawn_rows(text: &str, width: u16) -> usize {
        let area = Rect::new(0, 0, width, 40);
        let mut buffer = Buffer::empty(area);
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .render(area, &mut buffer);
        (0..area.height)
            .filter(|&y| (0..width).any(|x| buffer[(x, y)].symbol() != " "))
            .count()
    }

    #[test]
    fn the_count_is_what_ratatui_draws_for_wide_and_unbreakable_text() {
        for text in [
            "OpenAI rejected the API key (HTTP 401). Check OPENAI_API_KEY.",
            "東京都渋谷区神南一丁目 の 住所 は 長い です 東京都渋谷区神南一丁目",
            "see /home/dev/a/very/long/path/without/any/spaces/in/it/at/all/data.csv now",
            "emoji 👩‍👩‍👧‍👦 family 👩‍👩‍👧‍👦 and more words after them to wrap",
        ] {
            for width in [7u16, 12, 20, 33] {
                assert_eq!(
                    wrapped_lines(text, width as usize),
                    drawn_rows(text, width),
                    "{text:?} at {width}"
                );
            }
        }
    }
}
