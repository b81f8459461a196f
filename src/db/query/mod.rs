//! Read-only execution of SQL typed by a user or written by a model.
//!
//! A statement runs only when SQLite itself says it cannot write, checked in
//! four independent ways:
//!
//! 1. the text must hold exactly one statement (anything after it may only be
//!    whitespace, comments or semicolons);
//! 2. an authorizer, installed for the whole life of the connection, denies
//!    every write, ATTACH/DETACH, transactions and savepoints, temporary
//!    objects, PRAGMAs other than a short list of reads, and dangerous
//!    functions such as `load_extension`; it also judges the statements SQLite
//!    prepares internally while running (for example behind `pragma_*`
//!    table-valued functions);
//! 3. the prepared statement must be read-only (`sqlite3_stmt_readonly`);
//! 4. the connection itself is opened read-only, with `PRAGMA query_only=ON`
//!    and no room to attach another database.
//!
//! Results are read a page at a time (`fetch`), capped at a row limit with
//! `truncated` reported; `export_csv` streams the full result. A
//! [`QueryControl`] shared with another thread shows progress and stops a
//! long query.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::types::{Value, ValueRef};
use serde::Serialize;

use super::value::{owned, to_json};
use super::{Backend, CancelFlag, Database, DbError, OpenOptions};

mod gate;
pub mod sqlite;
mod statements;

pub use gate::{Refusal, RefusalKind, lead_phrase, single_statement};
pub use statements::{SQL_KEYWORDS, first_keyword, split_statements};

/// Rows returned by one run unless the caller asks for another limit.
pub const DEFAULT_ROW_LIMIT: usize = 1000;

/// Everything that can stop a query, each one plain sentence.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("Nothing to run: the query is empty.")]
    Empty,

    #[error("{0}")]
    Refused(Refusal),

    #[error("{engine} could not run the query: {detail}.")]
    Invalid {
        engine: &'static str,
        detail: String,
    },

    /// The engine could not parse the text at all (a syntax error, or it ended early):
    /// typed text may have been a question that begins with a SQL word.
    #[error("{engine} could not run the query: {detail}.")]
    Unparsable {
        engine: &'static str,
        detail: String,
    },

    #[error("The query was stopped before it finished; the database was not changed.")]
    Cancelled,

    #[error("Cannot write the export to '{path}': {detail}.")]
    Export { path: String, detail: String },

    /// The export's file exists and replacing was not asked for.
    #[error(
        "Cannot write the export to '{path}': a file of that name exists already; choose another name or delete it first."
    )]
    FileExists { path: String },

    #[error(transparent)]
    Db(#[from] DbError),
}

impl QueryError {
    /// The refusal, when the gate refused the statement.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            _ => None,
        }
    }
}

/// Progress counters and a stop switch for one run, shared between the
/// thread that runs the query and whoever watches or stops it (the UI's
/// `Esc`, Ctrl-C). Cloning shares the same counters.
#[derive(Debug, Clone, Default)]
pub struct QueryControl {
    cancel: CancelFlag,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    /// Progress callbacks so far (one per `PROGRESS_STEPS` VM steps).
    ticks: AtomicU64,
    /// Rows stepped through, skipped ones included.
    rows: AtomicU64,
}

/// A snapshot of a run's progress, for a spinner or a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct QueryProgress {
    /// Rows SQLite has produced so far (rows skipped to reach a page count).
    pub rows: u64,
    /// Thousands of virtual-machine steps so far: grows while SQLite works
    /// even when no row has come out yet.
    pub work: u64,
}

impl QueryControl {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses an existing cancellation flag (for example one Ctrl-C also sets).
    pub fn with_cancel(cancel: CancelFlag) -> Self {
        Self {
            cancel,
            counters: Arc::default(),
        }
    }

    /// Stops the run at its next progress check (within about a millisecond).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    pub fn cancel_flag(&self) -> &CancelFlag {
        &self.cancel
    }

    /// One more unit of work done (a progress callback, a page fetched).
    pub(crate) fn tick(&self) {
        self.counters.ticks.fetch_add(1, Ordering::Relaxed);
    }

    /// One more row produced.
    pub(crate) fn count_row(&self) {
        self.counters.rows.fetch_add(1, Ordering::Relaxed);
    }

    pub fn progress(&self) -> QueryProgress {
        QueryProgress {
            rows: self.counters.rows.load(Ordering::Relaxed),
            work: self.counters.ticks.load(Ordering::Relaxed),
        }
    }
}

/// One page of a query's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryResult {
    /// The statement that ran (surrounding semicolons and blank text removed).
    pub sql: String,
    pub columns: Vec<String>,
    #[serde(serialize_with = "serialize_rows")]
    pub rows: Vec<Vec<Value>>,
    /// Index of the first row of `rows` in the whole result.
    pub offset: usize,
    /// True when the result has more rows after this page.
    pub truncated: bool,
    #[serde(rename = "elapsed_ms", serialize_with = "serialize_ms")]
    pub elapsed: Duration,
}

fn serialize_rows<S: serde::Serializer>(rows: &[Vec<Value>], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(rows.len()))?;
    for row in rows {
        let json: Vec<serde_json::Value> = row.iter().map(to_json).collect();
        seq.serialize_element(&json)?;
    }
    seq.end()
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl QueryResult {
    /// Rows `start..start + len` of this page (fewer at the end).
    pub fn page(&self, start: usize, len: usize) -> &[Vec<Value>] {
        let start = start.min(self.rows.len());
        let end = start.saturating_add(len).min(self.rows.len());
        &self.rows[start..end]
    }

    /// The rows as a JSON array of objects keyed by column name (see
    /// [`json_keys`]), keys in column order.
    pub fn to_json_text(&self) -> String {
        let keys = json_keys(&self.columns);
        let objects: Vec<String> = self.rows.iter().map(|row| row_json(&keys, row)).collect();
        format!("[{}]", objects.join(","))
    }
}

/// Object keys for a result's columns: the column names, with repeated names
/// made unique (`id`, `id_2`) so no value is lost.
pub fn json_keys(columns: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(columns.len());
    for name in columns {
        let mut key = name.clone();
        let mut n = 1;
        while keys.contains(&key) {
            n += 1;
            key = format!("{name}_{n}");
        }
        keys.push(key);
    }
    keys
}

/// One row as a JSON object under `keys`, keys in column order.
pub fn row_json(keys: &[String], row: &[Value]) -> String {
    let fields: Vec<String> = keys
        .iter()
        .zip(row)
        .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), to_json(v)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A statement that passed the gate, prepared but not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The one statement, without surrounding semicolons and blank text.
    pub sql: String,
    pub columns: Vec<String>,
}

/// A read-only session for user and model SQL on any engine. Open one per database and
/// keep it on the thread that runs queries (it is `Send`, not `Sync`).
pub struct QuerySession {
    engine: Box<dyn GatedQueries>,
    row_limit: usize,
    /// `query.max_cell_bytes`: bytes of one value a held result copies.
    max_cell_bytes: usize,
}

/// Where rows of a query go: called with the column names and one row, it returns
/// `false` to stop.
pub type RowSink<'a> = dyn FnMut(&[String], &[Value]) -> Result<bool, QueryError> + 'a;

/// What an engine gives the gate: a connection that can only read, a check of one
/// statement, and its rows.
pub trait GatedQueries: Send {
    /// The database, for reading the schema and sampling example values.
    fn database(&self) -> &dyn Backend;

    /// Passes one statement through the engine's gate without running it; returns its
    /// column names.
    fn check(&self, single: &str) -> Result<Vec<String>, QueryError>;

    /// Runs one statement through the gate, handing each row to `each` (which returns
    /// `false` to stop), texts and blobs cut to `max_cell` bytes when given. Returns the
    /// column names, also when there were no rows.
    fn stream(
        &self,
        single: &str,
        control: &QueryControl,
        max_cell: Option<usize>,
        each: &mut RowSink<'_>,
    ) -> Result<Vec<String>, QueryError>;

    /// Whether `path` is the database's own file (an export must never replace it).
    fn is_database_file(&self, _path: &Path) -> bool {
        false
    }

    /// Whether its connection to a server was lost (it must be opened again).
    fn lost(&self) -> bool {
        false
    }
}

/// The default of `query.max_cell_bytes`: the most bytes of one text or blob value a
/// result held in memory copies (the app's
/// result view, `rowsmith query`'s table): enough to read any cell, and a bound when a
/// query makes `randomblob(1e9)`. Streamed output (`--format csv|json`, exports) has none.
pub const MAX_HELD_CELL_BYTES: usize = 1024 * 1024;

/// A value for a result held in memory: a text cut to `max` bytes with its full size
/// said, a blob over `max` as the placeholder the views show for blobs.
pub(crate) fn held_ref(value: ValueRef<'_>, max: usize) -> Value {
    match value {
        ValueRef::Text(bytes) if bytes.len() > max => Value::Text(format!(
            "{}… ({} bytes in all)",
            String::from_utf8_lossy(&bytes[..max]).trim_end_matches('\u{fffd}'),
            crate::output::thousands(bytes.len() as u64)
        )),
        ValueRef::Blob(bytes) if bytes.len() > max => Value::Text(format!(
            "<{} bytes>",
            crate::output::thousands(bytes.len() as u64)
        )),
        other => owned(other),
    }
}

/// [`held_ref`] for an owned value.
pub(crate) fn held_value(value: Value, max: usize) -> Value {
    match &value {
        Value::Text(t) if t.len() > max => held_ref(ValueRef::from(&value), max),
        Value::Blob(b) if b.len() > max => held_ref(ValueRef::from(&value), max),
        _ => value,
    }
}

impl std::fmt::Debug for QuerySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySession")
            .field("db", &self.engine.database().display_name())
            .field("row_limit", &self.row_limit)
            .finish()
    }
}

impl QuerySession {
    /// Opens the database `path` names read-only, behind its engine's gate.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, DbError> {
        let db = Database::open(path, &OpenOptions::read_only().busy_timeout(busy_timeout))?;
        Ok(Self {
            engine: db.into_gated_queries()?,
            row_limit: DEFAULT_ROW_LIMIT,
            max_cell_bytes: MAX_HELD_CELL_BYTES,
        })
    }

    /// Sets how many bytes of one value a held result copies (`query.max_cell_bytes`).
    pub fn with_max_cell_bytes(mut self, bytes: usize) -> Self {
        self.max_cell_bytes = bytes.max(64);
        self
    }

    /// Sets how many rows [`run`](Self::run) returns (at least 1).
    pub fn with_row_limit(mut self, limit: usize) -> Self {
        self.set_row_limit(limit);
        self
    }

    pub fn set_row_limit(&mut self, limit: usize) {
        self.row_limit = limit.max(1);
    }

    pub fn row_limit(&self) -> usize {
        self.row_limit
    }

    /// The read-only database, for reading the schema and sampling example
    /// values (those reads pass the same gate).
    pub fn database(&self) -> &dyn Backend {
        self.engine.database()
    }

    /// Whether the connection to a server was lost: open a new session.
    pub fn is_lost(&self) -> bool {
        self.engine.lost()
    }

    /// Passes `sql` through the gate without running it.
    pub fn check(&self, sql: &str) -> Result<Checked, QueryError> {
        let single = single_statement(sql)?;
        Ok(Checked {
            sql: single.to_string(),
            columns: self.engine.check(single)?,
        })
    }

    /// Runs `sql` and returns its first rows, up to the row limit.
    pub fn run(&self, sql: &str, control: &QueryControl) -> Result<QueryResult, QueryError> {
        self.fetch(sql, 0, self.row_limit, control)
    }

    /// Runs `sql` and returns rows `offset..offset + limit` (`limit` at most
    /// the row limit), with `truncated` telling whether more follow. Each call
    /// runs the statement again, so nothing stays open between pages and
    /// writers elsewhere are never blocked.
    pub fn fetch(
        &self,
        sql: &str,
        offset: usize,
        limit: usize,
        control: &QueryControl,
    ) -> Result<QueryResult, QueryError> {
        let limit = limit.min(self.row_limit);
        let started = Instant::now();
        let mut rows = Vec::with_capacity(limit.min(1024));
        let mut seen = 0usize;
        let mut truncated = false;
        let (sql, columns) = self.stream(sql, control, Some(self.max_cell_bytes), |_, row| {
            seen += 1;
            if seen <= offset {
                return Ok(true);
            }
            if rows.len() >= limit {
                truncated = true;
                return Ok(false);
            }
            rows.push(row.to_vec());
            Ok(true)
        })?;
        Ok(QueryResult {
            sql,
            columns,
            rows,
            offset,
            truncated,
            elapsed: started.elapsed(),
        })
    }

    /// Runs `sql` and hands every row to `each` with the column names; `each`
    /// returns `false` to stop early. No row limit applies. Returns the
    /// statement that ran and its column names (also when there were no rows).
    pub fn for_each_row(
        &self,
        sql: &str,
        control: &QueryControl,
        each: impl FnMut(&[String], &[Value]) -> Result<bool, QueryError>,
    ) -> Result<(String, Vec<String>), QueryError> {
        self.stream(sql, control, None, each)
    }

    /// Writes the full result of `sql` (no row limit) as CSV with a header
    /// row, and returns the number of data rows written.
    pub fn export_csv<W: Write>(
        &self,
        sql: &str,
        out: W,
        control: &QueryControl,
    ) -> Result<u64, QueryError> {
        let mut writer = super::transfer::CsvWriter::new(out);
        let export_err = |e: std::io::Error| QueryError::Export {
            path: "the output".into(),
            detail: e.to_string(),
        };
        let mut written = 0u64;
        let mut failed: Option<std::io::Error> = None;
        let (_, columns) = self.stream(sql, control, None, |columns, row| {
            let result = if written == 0 {
                writer.header(columns)
            } else {
                Ok(())
            }
            .and_then(|()| writer.row(row.iter().map(ValueRef::from)));
            match result {
                Ok(()) => {
                    written += 1;
                    Ok(true)
                }
                Err(e) => {
                    failed = Some(e);
                    Ok(false)
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(export_err(e));
        }
        if written == 0 {
            writer.header(&columns).map_err(export_err)?;
        }
        writer.flush().map_err(export_err)?;
        Ok(written)
    }

    /// Exports the full result of `sql` to a CSV file. The file appears only
    /// when the export is complete (written beside it, then renamed); a
    /// cancelled or failed export leaves nothing behind. Refuses to write
    /// over the database itself or its journal files, and over rowsmith's own
    /// files; replaces another file only when `replace` says so.
    pub fn export_csv_file(
        &self,
        sql: &str,
        path: &Path,
        control: &QueryControl,
        replace: bool,
    ) -> Result<u64, QueryError> {
        let shown = path.display().to_string();
        if self.engine.is_database_file(path) {
            return Err(QueryError::Export {
                path: shown,
                detail: "that is the database itself; choose another file name".into(),
            });
        }
        if is_own_file(path) {
            return Err(QueryError::Export {
                path: shown,
                detail: "that is one of rowsmith's own files (its data directory holds the undo journal and the query history); choose another file name".into(),
            });
        }
        if path.exists() && !replace {
            return Err(QueryError::FileExists { path: shown });
        }
        // A refused or broken statement never touches the file system.
        self.check(sql)?;
        // The one temp-file scheme of every export: a hidden name beside the file, moved
        // into place when complete, never over a file that appeared meanwhile.
        let as_export_error = |e: DbError| match e {
            DbError::FileExists { .. } => QueryError::FileExists {
                path: shown.clone(),
            },
            DbError::WriteFailed { detail, .. } => QueryError::Export {
                path: shown.clone(),
                detail,
            },
            other => QueryError::Export {
                path: shown.clone(),
                detail: other.to_string(),
            },
        };
        let mut file = super::transfer::TempFile::create(path).map_err(as_export_error)?;
        let result = self
            .export_csv(sql, std::io::BufWriter::new(file.file()), control)
            .and_then(|n| file.persist(replace).map(|()| n).map_err(as_export_error));
        result.map_err(|e| match e {
            QueryError::Export { detail, .. } => QueryError::Export {
                path: shown.clone(),
                detail,
            },
            other => other,
        })
    }

    fn stream(
        &self,
        sql: &str,
        control: &QueryControl,
        max_cell: Option<usize>,
        mut each: impl FnMut(&[String], &[Value]) -> Result<bool, QueryError>,
    ) -> Result<(String, Vec<String>), QueryError> {
        let single = single_statement(sql)?;
        if control.is_cancelled() {
            return Err(QueryError::Cancelled);
        }
        let columns = self.engine.stream(single, control, max_cell, &mut each)?;
        Ok((single.to_string(), columns))
    }
}

/// Whether `path` lies in rowsmith's data directory (the undo journal, the query history).
fn is_own_file(path: &Path) -> bool {
    match (
        std::fs::canonicalize(path),
        crate::paths::data_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok()),
    ) {
        (Ok(path), Some(data)) => path.starts_with(data),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::gate::*;
    use super::statements::*;
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(split_statements("SELECT 1"), vec!["SELECT 1"]);
        assert_eq!(
            split_statements(" ;; SELECT 1 ; -- done\n"),
            vec!["SELECT 1"]
        );
        assert_eq!(
            split_statements("SELECT ';' AS \"a;b\", [c;d] FROM t /* ; */"),
            vec!["SELECT ';' AS \"a;b\", [c;d] FROM t /* ; */"]
        );
        assert_eq!(
            split_statements("SELECT 1; DROP TABLE t"),
            vec!["SELECT 1", "DROP TABLE t"]
        );
        assert_eq!(
            split_statements("SELECT 'it''s;'; --x\n/* y */ DELETE FROM t"),
            vec!["SELECT 'it''s;'", "--x\n/* y */ DELETE FROM t"]
        );
        assert!(split_statements(" -- only a comment\n /* and another */ ;").is_empty());
    }

    #[test]
    fn names_statements_in_the_users_words() {
        assert_eq!(
            first_keyword("  -- hi\n/* x */ select 1").as_deref(),
            Some("SELECT")
        );
        assert_eq!(first_keyword("'text'"), None);
        assert_eq!(
            lead_phrase("create temp table x(a)").as_deref(),
            Some("CREATE TEMP TABLE")
        );
        assert_eq!(
            lead_phrase("VACUUM main INTO 'x'").as_deref(),
            Some("VACUUM INTO")
        );
        assert_eq!(
            lead_phrase("PRAGMA main.Journal_Mode = wal").as_deref(),
            Some("PRAGMA journal_mode")
        );
        assert_eq!(
            lead_phrase("insert or replace into t values (1)").as_deref(),
            Some("INSERT OR REPLACE")
        );
    }

    #[test]
    fn refusal_messages_are_one_plain_sentence() {
        let r = Refusal {
            kind: RefusalKind::Write,
            what: "INSERT".into(),
        };
        assert_eq!(
            r.to_string(),
            "Refused: this statement would change the database (INSERT). Only read-only queries run here."
        );
        assert_eq!(
            json_keys(&["id".into(), "id".into(), "x".into()]),
            vec!["id", "id_2", "x"]
        );
    }
}
