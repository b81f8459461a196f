//! The rows view's state: a window of a few hundred rows around the cursor,
//! topped up a chunk at a time as the cursor nears either edge.
//!
//! Pure: moving returns the page to read next (if any); pages arrive later as
//! messages. Only `MAX_ROWS` rows are held however large the table is.

use rusqlite::types::Value;
use unicode_width::UnicodeWidthStr;

use crate::db::browse::{Anchor, Key, Lens, Page, PageRow};

/// Rows read per request.
pub const CHUNK: usize = 200;
/// Rows held at most; a chunk is dropped at the far edge beyond this.
pub const MAX_ROWS: usize = 3 * CHUNK;
/// Read the next chunk when the cursor is this close to the edge.
const MARGIN: usize = CHUNK / 2;
/// Widest a column gets; longer values are cut with `…`.
pub const MAX_COL_WIDTH: usize = 40;

/// A value as one line of a cell: NULL as the word (styled apart by the
/// view), line breaks shown as `\n`, blobs as their size.
pub fn cell_text(value: &Value, cut: Option<usize>) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Blob(b) => format!("<{} bytes>", cut.unwrap_or(b.len())),
        Value::Text(s) => {
            let flat = crate::output::cell(s, MAX_COL_WIDTH * 4);
            if cut.is_some() && !flat.ends_with('…') {
                format!("{flat}…")
            } else {
                flat
            }
        }
        other => crate::db::value::display(other),
    }
}

/// What a requested page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Replace the window; put the cursor on the first row (or the last, for `End`),
    /// or keep it at `offset` rows from the top when reloading.
    Replace { cursor: Cursor },
    /// Add rows after the window.
    Append,
    /// Add rows before the window.
    Prepend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    First,
    Last,
    /// This many rows into the page (kept when reloading in place).
    At(usize),
}

/// A page to read for the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub view: u64,
    pub table: String,
    /// The rows and order the grid shows (a search, a sort).
    pub lens: Lens,
    pub anchor: Anchor,
    pub limit: usize,
    pub purpose: Purpose,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub table: String,
    /// Identifies requests of this grid; pages of an older view are ignored.
    pub view: u64,
    pub columns: Vec<String>,
    pub rows: Vec<PageRow>,
    pub at_start: bool,
    pub at_end: bool,
    /// Position in the table of `rows[0]` (0-based), when known.
    pub base: Option<u64>,
    pub cursor: usize,
    pub top: usize,
    pub col: usize,
    pub left: usize,
    /// A request is on its way; no other is sent meanwhile.
    pub loading: bool,
    /// The first page has arrived.
    pub loaded: bool,
    pub error: Option<String>,
    /// 1-based position of the first row the last generation added: from there on, rows
    /// are marked as new.
    pub fresh_from: Option<u64>,
    /// A search and a sort over the rows (`/` and `o` in the rows pane).
    pub lens: Lens,
    /// How many rows the search lets through, once counted.
    pub matches: Option<u64>,
}

impl Grid {
    pub fn new(table: &str, view: u64) -> Self {
        Self {
            table: table.to_string(),
            view,
            columns: Vec::new(),
            rows: Vec::new(),
            at_start: true,
            at_end: true,
            base: None,
            cursor: 0,
            top: 0,
            col: 0,
            left: 0,
            loading: false,
            loaded: false,
            error: None,
            fresh_from: None,
            lens: Lens::default(),
            matches: None,
        }
    }

    /// A grid that holds every row it will ever show (a query result):
    /// moving never asks for a page.
    pub fn loaded(table: &str, view: u64, columns: Vec<String>, rows: Vec<Vec<Value>>) -> Self {
        let mut grid = Self::new(table, view);
        grid.columns = columns;
        grid.rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, values)| PageRow {
                key: Key::Offset(i as u64),
                values,
                cut: Vec::new(),
            })
            .collect();
        grid.base = Some(0);
        grid.loaded = true;
        grid
    }

    fn request(&mut self, anchor: Anchor, purpose: Purpose) -> PageRequest {
        self.loading = true;
        PageRequest {
            view: self.view,
            table: self.table.clone(),
            lens: self.lens.clone(),
            anchor,
            limit: CHUNK,
            purpose,
        }
    }

    /// Reads the window from the start.
    pub fn open(&mut self) -> PageRequest {
        self.request(
            Anchor::Start,
            Purpose::Replace {
                cursor: Cursor::First,
            },
        )
    }

    /// Reads the window again where it is, keeping the cursor's row.
    pub fn reload(&mut self) -> PageRequest {
        let Some(first) = self.rows.first() else {
            return self.open();
        };
        let anchor = Anchor::At(first.key.clone());
        let cursor = Cursor::At(self.cursor);
        self.request(anchor, Purpose::Replace { cursor })
    }

    /// Reads the last page again, cursor on the last row (after rows were added there).
    pub fn show_end(&mut self) -> PageRequest {
        self.request(
            Anchor::End,
            Purpose::Replace {
                cursor: Cursor::Last,
            },
        )
    }

    /// Shows the rows through another lens, from its first row; the column stays.
    pub fn relens(&mut self, lens: Lens) -> PageRequest {
        self.lens = lens;
        self.matches = None;
        self.rows.clear();
        self.base = None;
        self.loaded = false;
        self.error = None;
        // A late page of the old order must not land in the new one.
        self.loading = false;
        self.open()
    }

    /// Reads the rows from 1-based row `row` of the lens's order on, cursor on it.
    pub fn go_to(&mut self, row: u64) -> PageRequest {
        self.request(
            Anchor::Position(row.saturating_sub(1)),
            Purpose::Replace {
                cursor: Cursor::First,
            },
        )
    }

    /// Whether a search narrows the rows.
    pub fn searching(&self) -> bool {
        self.lens.search.as_deref().is_some_and(|s| !s.is_empty())
    }

    /// How many rows the grid can show: the search's matches, or the table's count.
    pub fn total(&self, table_count: Option<u64>) -> Option<u64> {
        if self.searching() {
            self.matches
        } else {
            table_count
        }
    }

    /// Whether row `index` of the window is one the last generation added (in the
    /// table's own order: a search or a sort moves new rows elsewhere).
    pub fn is_fresh(&self, index: usize) -> bool {
        if !self.lens.is_plain() {
            return false;
        }
        match (self.fresh_from, self.base) {
            (Some(from), Some(base)) => base + index as u64 + 1 >= from,
            _ => false,
        }
    }

    pub fn jump_start(&mut self) -> Option<PageRequest> {
        if self.at_start && self.base == Some(0) {
            self.cursor = 0;
            self.top = 0;
            return None;
        }
        Some(self.open())
    }

    pub fn jump_end(&mut self, height: usize) -> Option<PageRequest> {
        if self.at_end {
            self.cursor = self.rows.len().saturating_sub(1);
            self.follow(height);
            return None;
        }
        Some(self.request(
            Anchor::End,
            Purpose::Replace {
                cursor: Cursor::Last,
            },
        ))
    }

    /// Moves the cursor by `delta` rows; returns a page to read when it nears
    /// an edge of the window that is not an edge of the table.
    pub fn move_by(&mut self, delta: isize, height: usize) -> Option<PageRequest> {
        if self.rows.is_empty() {
            return None;
        }
        let last = self.rows.len() - 1;
        self.cursor = (self.cursor as isize + delta).clamp(0, last as isize) as usize;
        self.follow(height);
        self.top_up()
    }

    /// Moves the top line without moving past the cursor (mouse wheel).
    pub fn scroll(&mut self, delta: isize, height: usize) -> Option<PageRequest> {
        self.move_by(delta, height)
    }

    /// Selects the row shown on line `line` of the viewport (a click).
    pub fn click(&mut self, line: usize, height: usize) -> Option<PageRequest> {
        let target = self.top + line;
        if target < self.rows.len() {
            self.cursor = target;
            self.follow(height);
        }
        self.top_up()
    }

    fn top_up(&mut self) -> Option<PageRequest> {
        if self.loading {
            return None;
        }
        if !self.at_end && self.cursor + MARGIN >= self.rows.len() {
            let key = self.rows.last()?.key.clone();
            return Some(self.request(Anchor::After(key), Purpose::Append));
        }
        if !self.at_start && self.cursor < MARGIN {
            let key = self.rows.first()?.key.clone();
            return Some(self.request(Anchor::Before(key), Purpose::Prepend));
        }
        None
    }

    /// Keeps the cursor on screen.
    pub fn follow(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + height {
            self.top = self.cursor + 1 - height;
        }
        let max_top = self.rows.len().saturating_sub(height);
        if self.top > max_top {
            self.top = max_top;
        }
    }

    pub fn move_col(&mut self, delta: isize) {
        if self.columns.is_empty() {
            return;
        }
        let last = self.columns.len() - 1;
        self.col = (self.col as isize + delta).clamp(0, last as isize) as usize;
        if self.col < self.left {
            self.left = self.col;
        }
    }

    /// Takes in a page; `total` is the table's row count when known.
    /// Returns a follow-up request when the window still needs topping up.
    pub fn apply(
        &mut self,
        purpose: Purpose,
        page: Page,
        total: Option<u64>,
        height: usize,
    ) -> Option<PageRequest> {
        self.loading = false;
        self.loaded = true;
        self.error = None;
        if page.matches.is_some() {
            self.matches = page.matches;
        }
        let total = self.total(total);
        if self.columns != page.columns {
            self.col = self.col.min(page.columns.len().saturating_sub(1));
            self.left = self.left.min(self.col);
            self.columns = page.columns;
        }
        match purpose {
            Purpose::Replace { cursor } => {
                let n = page.rows.len();
                self.base = if let Some(position) = page.position {
                    Some(position)
                } else if page.at_start {
                    Some(0)
                } else if page.at_end {
                    total.map(|t| t.saturating_sub(n as u64))
                } else {
                    // Reloading in place keeps the position it had.
                    self.base
                };
                self.rows = page.rows;
                self.at_start = page.at_start;
                self.at_end = page.at_end;
                let keep_top = self.cursor.saturating_sub(self.top);
                self.cursor = match cursor {
                    Cursor::First => 0,
                    Cursor::Last => n.saturating_sub(1),
                    // The cursor as it is now: keys pressed while the page
                    // was on its way still count.
                    Cursor::At(_) => self.cursor.min(n.saturating_sub(1)),
                };
                self.top = match cursor {
                    Cursor::At(_) => self.cursor.saturating_sub(keep_top),
                    _ => 0,
                };
                if cursor == Cursor::Last {
                    self.top = n.saturating_sub(height.max(1));
                }
            }
            Purpose::Append => {
                self.at_end = page.at_end;
                self.rows.extend(page.rows);
                if self.rows.len() > MAX_ROWS {
                    let drop = self.rows.len() - MAX_ROWS;
                    self.rows.drain(..drop);
                    self.cursor = self.cursor.saturating_sub(drop);
                    self.top = self.top.saturating_sub(drop);
                    self.base = self.base.map(|b| b + drop as u64);
                    self.at_start = false;
                }
            }
            Purpose::Prepend => {
                let added = page.rows.len();
                self.at_start = page.at_start;
                let mut rows = page.rows;
                rows.append(&mut self.rows);
                self.rows = rows;
                self.cursor += added;
                self.top += added;
                self.base = if page.at_start {
                    Some(0)
                } else {
                    self.base.map(|b| b.saturating_sub(added as u64))
                };
                if self.rows.len() > MAX_ROWS {
                    self.rows.truncate(MAX_ROWS);
                    self.at_end = false;
                }
            }
        }
        self.follow(height);
        self.top_up()
    }

    pub fn fail(&mut self, message: String) {
        self.loading = false;
        self.loaded = true;
        self.error = Some(message);
    }

    /// Display widths of the columns over the rows on screen.
    pub fn widths(&self, height: usize) -> Vec<usize> {
        let end = (self.top + height.max(1)).min(self.rows.len());
        let shown = self.rows.get(self.top..end).unwrap_or(&[]);
        self.columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let values = shown
                    .iter()
                    .filter_map(|r| r.values.get(i).map(|v| cell_text(v, r.cut_len(i)).width()));
                values
                    .chain(std::iter::once(name.width()))
                    .max()
                    .unwrap_or(1)
                    .clamp(1, MAX_COL_WIDTH)
            })
            .collect()
    }

    /// Scrolls sideways just enough that the selected column fits in `width`.
    pub fn fit(&mut self, width: usize, height: usize) {
        if self.col < self.left {
            self.left = self.col;
        }
        let widths = self.widths(height);
        let span = |left: usize, col: usize| -> usize {
            widths
                .get(left..=col)
                .map(|w| w.iter().map(|w| w + 1).sum::<usize>())
                .unwrap_or(0)
        };
        while self.left < self.col && span(self.left, self.col) > width {
            self.left += 1;
        }
    }

    pub fn current(&self) -> Option<&PageRow> {
        self.rows.get(self.cursor)
    }

    /// 1-based position of the cursor in the table, when known.
    pub fn position(&self) -> Option<u64> {
        self.base.map(|b| b + self.cursor as u64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(from: i64, n: usize, at_start: bool, at_end: bool) -> Page {
        Page {
            columns: vec!["id".into()],
            rows: (0..n as i64)
                .map(|i| PageRow {
                    key: Key::Rowid(from + i),
                    values: vec![Value::Integer(from + i)],
                    cut: Vec::new(),
                })
                .collect(),
            at_start,
            at_end,
            position: None,
            matches: None,
        }
    }

    #[test]
    fn walks_a_large_table_holding_a_bounded_window() {
        let mut g = Grid::new("t", 1);
        let first = g.open();
        assert_eq!(first.anchor, Anchor::Start);
        let follow = g.apply(
            first.purpose,
            page(1, CHUNK, true, false),
            Some(5_000_000),
            20,
        );
        assert!(follow.is_none());
        assert_eq!(g.position(), Some(1));
        let mut next_id = 1 + CHUNK as i64;
        for _ in 0..20 {
            if let Some(req) = g.move_by(40, 20) {
                assert_eq!(req.purpose, Purpose::Append);
                let _ = g.apply(req.purpose, page(next_id, CHUNK, false, false), None, 20);
                next_id += CHUNK as i64;
            }
            assert!(g.rows.len() <= MAX_ROWS);
        }
        assert_eq!(g.position(), Some(801));
        assert_eq!(g.current().map(|r| r.key.clone()), Some(Key::Rowid(801)));
        let end = g.jump_end(20).expect("end is not loaded");
        let _ = g.apply(
            end.purpose,
            page(4_999_801, CHUNK, false, true),
            Some(5_000_000),
            20,
        );
        assert_eq!(g.position(), Some(5_000_000));
        assert_eq!(g.top, CHUNK - 20);
        let back = g
            .move_by(-150, 20)
            .expect("prepend near the start of the window");
        assert_eq!(back.anchor, Anchor::Before(Key::Rowid(4_999_801)));
        let _ = g.apply(back.purpose, page(4_999_601, CHUNK, false, false), None, 20);
        assert_eq!(g.position(), Some(5_000_000 - 150));
    }

    #[test]
    fn reload_keeps_the_cursor_row() {
        let mut g = Grid::new("t", 1);
        let r = g.open();
        let _ = g.apply(r.purpose, page(1, 50, true, true), Some(50), 10);
        let _ = g.move_by(12, 10);
        let again = g.reload();
        assert_eq!(again.anchor, Anchor::At(Key::Rowid(1)));
        let _ = g.apply(again.purpose, page(1, 60, true, true), Some(60), 10);
        assert_eq!(g.cursor, 12);
        assert_eq!(g.top, 3);
    }
}
