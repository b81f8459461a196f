//! The app's own measures of the screen: how wide the table list is, how many lines the
//! work and the messages take, where a result's rows start. `layout` does the geometry
//! from these numbers and knows nothing of the app.

use super::*;
use crate::tui::layout::{grid_width, log_box, log_height, wrapped_lines};
use crate::tui::message::log_line;

impl App {
    /// The widest table name, in columns.
    pub fn widest_name(&self) -> Option<usize> {
        use unicode_width::UnicodeWidthStr;
        self.tables.iter().map(|t| t.name.width()).max()
    }

    /// The table list is as wide as its longest line, within limits.
    pub fn list_width(&self) -> u16 {
        layout::list_width_of(self.widest_name(), self.size.0)
    }

    /// Lines of the progress area: the work, then the messages.
    pub fn progress_lines(&self) -> u16 {
        self.work_lines() + self.toast_lines()
    }

    /// Lines for work in progress: generations, a whole-database fill (two lines), a
    /// transfer, an undo, a query; at most 3.
    pub fn work_lines(&self) -> u16 {
        let n = self.jobs.len()
            + 2 * usize::from(self.whole.is_some())
            + usize::from(self.transfer.is_some())
            + usize::from(self.undoing.is_some())
            + usize::from(self.checking.is_some())
            + usize::from(self.query.is_some());
        n.min(3) as u16
    }

    /// Lines for messages: the newest two, one line each, under the work and never over data.
    pub fn toast_lines(&self) -> u16 {
        self.toasts.len().min(2) as u16
    }

    /// Lines above a result's grid (question, SQL, explanation) in `main`.
    pub fn results_head(&self, main: Rect) -> u16 {
        self.query_head(grid_width(main) as usize).len() as u16
    }

    /// Rows of data the query pane shows below its SQL.
    pub fn results_grid_height(&self) -> usize {
        let main = self.areas().main;
        main.height
            .saturating_sub(3 + self.results_head(main))
            .max(1) as usize
    }

    /// The screen line of a result's first data row.
    pub fn results_first_line(&self) -> u16 {
        let main = self.areas().main;
        main.y + 2 + self.results_head(main)
    }

    /// The first line to show for the newest messages to end at the bottom of the log.
    pub fn log_last_scroll(&self) -> u16 {
        let area = Rect::new(0, 0, self.size.0, self.size.1);
        let width = log_box(area).width.saturating_sub(4).max(1) as usize;
        let lines: usize = self
            .log
            .iter()
            .map(|t| wrapped_lines(&log_line(t), width))
            .sum();
        (lines as u16).saturating_sub(log_height(area))
    }
}
