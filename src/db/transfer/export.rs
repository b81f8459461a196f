//! CSV export: a table, a view or a read-only query, streamed row by row to
//! a file (which appears only when complete) or to any writer.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rusqlite::Statement;
use serde::Serialize;

use super::csv::CsvWriter;
use super::names::export_file_name;
use super::refusal::ExportRefusal;
use super::temp_file::TempFile;
use super::{PROGRESS_EVERY, Progress, Reporter, Stage};
use crate::db::catalog::{ObjectKind, ObjectSummary};
use crate::db::ident::{quote, validate};
use crate::db::{Backend, CancelFlag, DbError, Sqlite};

/// How an export runs.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub cancel: CancelFlag,
    /// Report progress every this many rows.
    pub progress_every: u64,
    /// Replace a file that exists at the destination (otherwise refused).
    pub replace: bool,
    /// Prefix text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
    /// carriage return first) with `'`, OWASP's "CSV injection" advice. Off by default:
    /// it changes the data.
    pub neutralize_formulas: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            cancel: CancelFlag::new(),
            progress_every: PROGRESS_EVERY,
            replace: false,
            neutralize_formulas: false,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportOutcome {
    pub rows: u64,
    pub columns: Vec<String>,
    /// The file written; `None` when the CSV went to a writer (stdout).
    pub path: Option<PathBuf>,
}

/// The default export path: `<table>.csv` in the current directory.
pub fn default_export_path(table: &str) -> PathBuf {
    PathBuf::from(export_file_name(table))
}

/// Exports every row of a table or view to a CSV file at `dest` (a folder
/// means `<table>.csv` inside it). The file appears only when the export is
/// complete: rows go to a temporary file beside it, renamed at the end, so
/// a cancelled or failed export leaves no file behind.
pub fn export_table(
    db: &dyn Backend,
    table: &str,
    dest: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let object = db.find_object(table)?;
    let dest = if dest.is_dir() {
        dest.join(export_file_name(&object.name))
    } else {
        dest.to_path_buf()
    };
    refuse_database_as_target(db.address(), &dest)?;
    if !options.replace && dest.exists() {
        return Err(DbError::FileExists { path: dest });
    }
    let mut file = TempFile::create(&dest)?;
    let mut outcome = {
        let mut out = io::BufWriter::with_capacity(1 << 16, file.file());
        db.export_csv(&object, &mut out, options, progress)?
    };
    file.persist(options.replace)?;
    outcome.path = Some(dest);
    Ok(outcome)
}

/// Writes every row of a table or view as CSV to `out` (stdout, a buffer).
pub fn export_table_to<W: Write>(
    db: &dyn Backend,
    table: &str,
    mut out: W,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let object = db.find_object(table)?;
    db.export_csv(&object, &mut out, options, progress)
}

/// SQLite: every row of `object` as CSV to `out`.
pub(crate) fn export_object(
    db: &Sqlite,
    object: &ObjectSummary,
    out: &mut dyn Write,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let (mut stmt, total) = table_statement(db, &object.name, object.kind)?;
    write_csv(db, &mut stmt, out, total, options, progress)
}

/// Exports the rows of a read-only SQL query to a CSV file at `dest`.
/// Statements that could change the database are refused.
pub fn export_query(
    db: &Sqlite,
    sql: &str,
    dest: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let mut stmt = db.conn().prepare(sql).map_err(|e| db.err(e))?;
    if !stmt.readonly() || stmt.column_count() == 0 {
        return Err(ExportRefusal::NotAQuery.into());
    }
    let dest = if dest.is_dir() {
        dest.join("query.csv")
    } else {
        dest.to_path_buf()
    };
    refuse_database_as_target(db.path(), &dest)?;
    export_statement(db, &mut stmt, &dest, None, options, progress)
}

/// Exports the rows of an already prepared statement (parameters, if any,
/// bound beforehand with `raw_bind_parameter`) to a CSV file at `dest`,
/// through a temporary file renamed at the end. `total` is the row count when
/// the caller knows it, for progress.
pub fn export_statement(
    db: &Sqlite,
    stmt: &mut Statement<'_>,
    dest: &Path,
    total: Option<u64>,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    if !options.replace && dest.exists() {
        return Err(DbError::FileExists {
            path: dest.to_path_buf(),
        });
    }
    let mut file = TempFile::create(dest)?;
    let mut outcome = {
        let out = io::BufWriter::with_capacity(1 << 16, file.file());
        write_csv(db, stmt, out, total, options, progress)?
    };
    file.persist(options.replace)?;
    outcome.path = Some(dest.to_path_buf());
    Ok(outcome)
}

/// Streams the rows of a prepared statement as CSV to `out`, header first.
/// Rows are read one at a time, never all at once.
pub fn write_csv<W: Write>(
    db: &Sqlite,
    stmt: &mut Statement<'_>,
    out: W,
    total: Option<u64>,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let write_err = csv_write_error;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut reporter = Reporter::new(progress, options.progress_every, None);
    reporter.report(Stage::Writing, 0, total, 0);
    let mut csv = CsvWriter::new(out).neutralize_formulas(options.neutralize_formulas);
    csv.header(&columns).map_err(write_err)?;

    let width = columns.len();
    let mut rows = stmt.raw_query();
    let mut written = 0u64;
    loop {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let Some(row) = rows.next().map_err(|e| db.err(e))? else {
            break;
        };
        let values = (0..width)
            .map(|i| row.get_ref(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| db.err(e))?;
        csv.row(values).map_err(write_err)?;
        written += 1;
        if reporter.due(written) {
            reporter.report(Stage::Writing, written, total, 0);
        }
    }
    csv.flush().map_err(write_err)?;
    reporter.report(Stage::Writing, written, total.or(Some(written)), 0);
    Ok(ExportOutcome {
        rows: written,
        columns,
        path: None,
    })
}

/// An export's writer failed: the reader of a pipe went away, or the disk refused.
pub(crate) fn csv_write_error(e: io::Error) -> DbError {
    match e.kind() {
        io::ErrorKind::BrokenPipe => DbError::OutputClosed,
        _ => ExportRefusal::CsvWrite {
            detail: e.to_string(),
        }
        .into(),
    }
}

fn table_statement<'db>(
    db: &'db Sqlite,
    name: &str,
    kind: ObjectKind,
) -> Result<(Statement<'db>, Option<u64>), DbError> {
    validate(name)?;
    // Counting a table is cheap next to exporting it; a view would run twice.
    let total = if kind == ObjectKind::Table {
        let sql = format!("SELECT count(*) FROM main.{}", quote(name));
        let n: i64 = db
            .conn()
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        Some(n.max(0) as u64)
    } else {
        None
    };
    let stmt = db
        .conn()
        .prepare(&format!("SELECT * FROM main.{}", quote(name)))
        .map_err(|e| db.err(e))?;
    Ok((stmt, total))
}

/// The export must not replace the database file itself (a server's database has none)
/// or one of rowsmith's own files.
fn refuse_database_as_target(database: &Path, dest: &Path) -> Result<(), DbError> {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(dest), std::fs::canonicalize(database))
        && a == b
    {
        return Err(ExportRefusal::TargetIsDatabase {
            path: dest.to_path_buf(),
        }
        .into());
    }
    // rowsmith's own files (the undo journal above all) are never export targets: a CSV
    // over the journal would lose every undo record.
    if let (Ok(dest), Some(data)) = (
        std::fs::canonicalize(dest),
        crate::paths::data_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok()),
    ) && dest.starts_with(&data)
    {
        return Err(ExportRefusal::TargetIsOwnFile { path: dest }.into());
    }
    Ok(())
}
