//! Where each part of the screen goes. Pure, so key handling (page sizes,
//! mouse hits) and drawing agree on one layout.

use ratatui::layout::{Constraint, Layout, Rect};
use unicode_width::UnicodeWidthStr;

use super::app::{App, TableEntry};

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

/// The table list is as wide as its longest line, within limits.
pub fn list_width(app: &App) -> u16 {
    list_width_of(&app.tables, app.size.0)
}

pub fn list_width_of(tables: &[TableEntry], total: u16) -> u16 {
    let widest = tables
        .iter()
        .map(|t| t.name.width() + 10)
        .max()
        .unwrap_or(16) as u16;
    // Borders, the spinner column and a gap.
    let wanted = widest + 4;
    let most = (total * 2 / 5).max(16);
    wanted.clamp(20.min(most), most)
}

/// Lines of the progress area: one per generation, transfer or query, at most 3.
pub fn progress_lines(app: &App) -> u16 {
    work_lines(app) + toast_lines(app)
}

/// Lines for work in progress: generations, a transfer, an undo, a query.
pub fn work_lines(app: &App) -> u16 {
    let n = app.jobs.len()
        + usize::from(app.transfer.is_some())
        + usize::from(app.undoing.is_some())
        + usize::from(app.checking.is_some())
        + usize::from(app.query.is_some());
    n.min(3) as u16
}

/// Lines for messages: the newest two, one line each, under the work and never over data.
pub fn toast_lines(app: &App) -> u16 {
    app.toasts.len().min(2) as u16
}

/// Rows of data the rows view shows (borders and header line left out).
pub fn grid_height(main: Rect) -> usize {
    main.height.saturating_sub(3).max(1) as usize
}

/// Lines above a result's grid (question, SQL, explanation) in `main`.
pub fn results_head(app: &App, main: Rect) -> u16 {
    app.query_head(grid_width(main) as usize).len() as u16
}

/// Rows of data the query pane shows below its SQL.
pub fn results_grid_height(app: &App) -> usize {
    let main = app.areas().main;
    main.height
        .saturating_sub(3 + results_head(app, main))
        .max(1) as usize
}

/// The screen line of a result's first data row.
pub fn results_first_line(app: &App) -> u16 {
    let main = app.areas().main;
    main.y + 2 + results_head(app, main)
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

/// Lines the text takes when word-wrapped at `width` (as ratatui wraps it).
pub fn wrapped_lines(text: &str, width: usize) -> usize {
    let mut lines = 1;
    let mut used = 0;
    for word in text.split(' ') {
        let w = word.width();
        if used == 0 {
            used = w;
        } else if used + 1 + w <= width {
            used += 1 + w;
        } else {
            lines += 1;
            used = w;
        }
        while used > width {
            lines += 1;
            used -= width;
        }
    }
    lines
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

/// One message of the log as shown: its time, a mark, the text.
pub fn log_line(toast: &super::app::Toast) -> String {
    let mark = match toast.level {
        super::app::Level::Success => "✓",
        super::app::Level::Info => "·",
        super::app::Level::Warning => "!",
        super::app::Level::Error => "✗",
    };
    format!("{} {mark} {}", toast.at, toast.text.replace('\n', " "))
}

/// The first line to show for the newest messages to end at the bottom of the box.
pub fn log_last_scroll(app: &App) -> u16 {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let width = log_box(area).width.saturating_sub(4).max(1) as usize;
    let lines: usize = app
        .log
        .iter()
        .map(|t| wrapped_lines(&log_line(t), width))
        .sum();
    (lines as u16).saturating_sub(log_height(area))
}
