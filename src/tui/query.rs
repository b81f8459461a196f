//! The state of `:`: the query line with its history, a query in flight,
//! and the result being browsed. Plain data; `app` decides what keys and
//! messages do to it.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::grid::Grid;
use super::line::LineEdit;
use crate::db::query::QueryError;

/// Inputs kept in memory for Up/Down (the file keeps more).
pub const HISTORY_KEPT: usize = 500;
/// Lines of SQL shown above a result; longer SQL is cut with `…`.
pub const SQL_LINES: usize = 3;

/// The open query line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryLine {
    pub edit: LineEdit,
    /// Which history entry is shown (0 = the newest), if one is.
    pub back: Option<usize>,
    /// What was typed before walking the history, given back by Down.
    pub draft: String,
}

impl QueryLine {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            edit: LineEdit::new(text),
            back: None,
            draft: String::new(),
        }
    }

    /// Up: one entry older (skipping one that reads the same as the line
    /// now). False when there is none.
    pub fn older(&mut self, history: &[String]) -> bool {
        let mut next = self.back.map_or(0, |b| b + 1);
        while history.get(next) == Some(&self.edit.text) {
            next += 1;
        }
        let Some(entry) = history.get(next) else {
            return false;
        };
        if self.back.is_none() {
            self.draft = self.edit.text.clone();
        }
        self.back = Some(next);
        self.edit = LineEdit::new(entry.clone());
        true
    }

    /// Down: one entry newer, then what was being typed.
    pub fn newer(&mut self, history: &[String]) -> bool {
        match self.back {
            None => false,
            Some(0) => {
                self.back = None;
                self.edit = LineEdit::new(std::mem::take(&mut self.draft));
                true
            }
            Some(b) => {
                self.back = Some(b - 1);
                self.edit = LineEdit::new(history.get(b - 1).cloned().unwrap_or_default());
                true
            }
        }
    }
}

/// Adds an input to the front of the history unless it is already the newest.
pub fn remember(history: &mut Vec<String>, input: &str) {
    if history.first().map(String::as_str) == Some(input) {
        return;
    }
    history.insert(0, input.to_string());
    history.truncate(HISTORY_KEPT);
}

/// What a query in flight is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The model is writing the SQL.
    Asking,
    /// SQLite is running it.
    Running,
}

/// A query in flight (one at a time).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRun {
    pub id: u64,
    /// As typed: SQL or a question.
    pub input: String,
    /// The SQL, once known (typed, or written by the model).
    pub sql: Option<String>,
    /// The model's account of its SQL.
    pub explanation: Option<String>,
    /// It began as a question.
    pub question: bool,
    pub phase: Phase,
    /// Rows SQLite has produced so far.
    pub rows: u64,
    /// Esc was pressed; the interruption is on its way.
    pub stopping: bool,
    /// The app's tick when it started.
    pub started: u64,
}

/// The result being browsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub input: String,
    /// The SQL that ran, as the gate passed it.
    pub sql: String,
    pub explanation: Option<String>,
    pub question: bool,
    /// Every row of the result up to the row limit.
    pub grid: Grid,
    /// The result has more rows than the row limit let through.
    pub truncated: bool,
    pub elapsed_ms: u64,
}

/// The model's SQL for a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    pub sql: String,
    pub explanation: String,
}

/// Why a query gave no result, as the user is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryFail {
    /// Esc stopped it.
    Cancelled,
    /// The read-only gate refused the statement: its one sentence.
    Refused(String),
    /// Anything else: one sentence.
    Failed(String),
}

impl QueryFail {
    /// A query error as the app shows it. Text typed as SQL that SQLite
    /// cannot parse may have been meant as a question: the sentence then
    /// says how to ask one.
    pub fn from_error(e: QueryError, typed: bool) -> Self {
        match &e {
            QueryError::Cancelled => Self::Cancelled,
            QueryError::Refused(_) => Self::Refused(e.to_string()),
            QueryError::Unparsable { .. } if typed => Self::Failed(format!(
                "{e} To ask in plain language instead, start the text with '?'."
            )),
            _ => Self::Failed(e.to_string()),
        }
    }
}

/// How a line above a result is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    Question,
    Sql,
    Note,
}

/// What the query pane shows above its grid, fitted to `width`: the
/// question (when it began as one), the SQL and the model's explanation.
pub fn head_lines(
    question: bool,
    input: &str,
    sql: Option<&str>,
    explanation: Option<&str>,
    width: usize,
) -> Vec<(HeadKind, String)> {
    let mut lines = Vec::new();
    if question {
        let text = format!(
            "? {}",
            input.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        lines.push((HeadKind::Question, crate::output::cell(&text, width)));
    }
    if let Some(sql) = sql {
        for l in sql_lines(sql, width, SQL_LINES) {
            lines.push((HeadKind::Sql, l));
        }
    }
    if let Some(e) = explanation {
        lines.push((
            HeadKind::Note,
            crate::output::cell(&format!("-- {e}"), width),
        ));
    }
    lines
}

/// SQL as at most `max` lines of `width` columns: its own line breaks kept,
/// long lines broken at the width, the last line cut with `…` when more
/// remains.
pub fn sql_lines(sql: &str, width: usize, max: usize) -> Vec<String> {
    let width = width.max(4);
    let mut out: Vec<String> = Vec::new();
    let mut more = false;
    'outer: for line in sql.trim().lines() {
        let line = line.trim_end().replace('\t', "    ");
        let mut current = String::new();
        let mut used = 0;
        for c in line.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width {
                if out.len() == max {
                    more = true;
                    break 'outer;
                }
                // Break after the last word that fits; a word wider than
                // the line is broken where the line ends.
                let carry = match current.rfind(' ') {
                    Some(i) if c != ' ' && !current[..i].trim().is_empty() => {
                        let rest = current[i + 1..].to_string();
                        current.truncate(i);
                        rest
                    }
                    _ => String::new(),
                };
                out.push(std::mem::replace(&mut current, carry));
                used = current.width();
                if c == ' ' && current.is_empty() {
                    continue;
                }
            }
            current.push(c);
            used += w;
        }
        if out.len() == max {
            more = true;
            break;
        }
        out.push(current);
    }
    if more && let Some(last) = out.last_mut() {
        while last.width() + 1 > width {
            last.pop();
        }
        last.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_walks_back_and_returns_to_the_draft() {
        let history = vec!["SELECT 2".to_string(), "SELECT 1".to_string()];
        let mut line = QueryLine::new("sel");
        assert!(!line.newer(&history));
        assert!(line.older(&history));
        assert_eq!(line.edit.text, "SELECT 2");
        assert!(line.older(&history));
        assert_eq!(line.edit.text, "SELECT 1");
        assert!(!line.older(&history));
        assert!(line.newer(&history));
        assert!(line.newer(&history));
        assert_eq!(line.edit.text, "sel");
        // A line opened with the newest entry (a result's SQL) goes further back.
        let mut line = QueryLine::new("SELECT 2");
        assert!(line.older(&history));
        assert_eq!(line.edit.text, "SELECT 1");
        assert!(line.newer(&history));
        assert_eq!(line.edit.text, "SELECT 2");
        let mut h = history.clone();
        remember(&mut h, "SELECT 2");
        assert_eq!(h.len(), 2);
        remember(&mut h, "SELECT 3");
        assert_eq!(h[0], "SELECT 3");
    }

    #[test]
    fn sql_is_wrapped_and_cut() {
        assert_eq!(sql_lines("SELECT 1", 20, 3), vec!["SELECT 1"]);
        assert_eq!(
            sql_lines("SELECT a,\n  b FROM t", 20, 3),
            vec!["SELECT a,", "  b FROM t"]
        );
        assert_eq!(
            sql_lines("abcdefghij", 4, 2),
            vec!["abcd".to_string(), "efg…".to_string()]
        );
        assert_eq!(sql_lines("a\nb\nc\nd", 10, 3), vec!["a", "b", "c…"]);
        assert_eq!(
            sql_lines("SELECT name FROM customers WHERE city = 'Osaka'", 20, 3),
            vec!["SELECT name FROM", "customers WHERE city", "= 'Osaka'"]
        );
    }
}
