//! Planning an import: reading the file once to check it and infer its
//! columns, and matching them to the table it creates or appends to.
//! [`apply_import`] then carries the plan out.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::convert::Convert;
use super::infer::{ColumnStats, InferredType};
use super::names::{column_names, is_reserved, table_name_for};
use super::reader::{FileFormat, RowReader, detect_format, next_row, open_reader, shown_name};
use super::refusal::ImportRefusal;
use super::{PROGRESS_EVERY, Progress, Reporter, Stage, apply_import};
use crate::db::catalog::{Affinity, ColumnKind, ObjectKind, TableInfo};
use crate::db::ident::validate;
use crate::db::journal::Journal;
use crate::db::{Backend, CancelFlag, DbError, Sqlite};

/// How an import runs.
#[derive(Clone)]
pub struct ImportOptions<'a> {
    /// The table to create or append to; by default derived from the file name.
    pub table: Option<String>,
    /// The format; by default detected from the extension and the content.
    pub format: Option<FileFormat>,
    /// Where the inserted rows are recorded for undo.
    pub journal: Option<&'a Journal>,
    pub cancel: CancelFlag,
    /// Report progress every this many rows.
    pub progress_every: u64,
    /// The most bytes one record may hold (`import.max_record_bytes`).
    pub max_record_bytes: usize,
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        Self {
            table: None,
            format: None,
            journal: None,
            cancel: CancelFlag::new(),
            progress_every: PROGRESS_EVERY,
            max_record_bytes: super::MAX_RECORD_BYTES,
        }
    }
}

/// One column of the file and where it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedColumn {
    /// The name in the file's header, or the JSON key.
    pub source: String,
    /// The table column it fills.
    pub name: String,
    /// The column's type: inferred (INTEGER, REAL, TEXT) for a new table,
    /// as declared for an existing one.
    pub sql_type: String,
    /// The type inferred from the file's values.
    pub inferred: InferredType,
    #[serde(skip)]
    pub(super) convert: Convert,
}

/// What an import will do, worked out by reading the file once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportPlan {
    pub file: PathBuf,
    pub format: FileFormat,
    pub table: String,
    /// True when the import creates the table; false when it appends.
    pub create: bool,
    pub rows: u64,
    pub columns: Vec<PlannedColumn>,
    /// Columns of an existing table the file does not fill (they take their
    /// default, or NULL).
    pub left_out: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportOutcome {
    pub table: String,
    /// True when the table was created by this import.
    pub created: bool,
    /// Rows inserted.
    pub rows: u64,
    pub columns: Vec<PlannedColumn>,
    /// The table's row count afterwards.
    pub new_row_count: u64,
    pub format: FileFormat,
}

/// Imports a CSV or JSON file: as a new table, or appended to an existing
/// table whose columns match. One transaction: on any error, a cancellation
/// or a row SQLite refuses, nothing is imported and no table is created.
pub fn import_file(
    db: &mut dyn Backend,
    file: &Path,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    require_writable(db)?;
    // A pipe can be read only once; the import reads twice, so it reads a copy.
    let spooled = super::spool::spool_if_stream(file, options.max_record_bytes)?;
    let file = spooled.as_ref().map_or(file, |s| s.file.as_path());
    let plan = plan_import(&*db, file, options, progress)?;
    apply_import(db, &plan, options, progress)
}

fn require_writable(db: &dyn Backend) -> Result<(), DbError> {
    if db.is_writable() {
        Ok(())
    } else {
        Err(DbError::ReadOnly {
            path: db.display_name(),
        })
    }
}

/// What [`import_unless_appending`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportStep {
    Imported(ImportOutcome),
    /// The file's table exists and its columns fit: nothing was imported, so
    /// the caller can ask whether to append, or to make the table `free_name`.
    WouldAppend {
        plan: ImportPlan,
        free_name: String,
    },
}

/// Imports like [`import_file`] when that makes a new table. When it would
/// append to an existing table, nothing changes: the plan comes back with a
/// free name for a new table, so an app can ask first instead of appending
/// silently. (A pipe is read once: asking about one leaves nothing to import.)
pub fn import_unless_appending(
    db: &mut dyn Backend,
    file: &Path,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportStep, DbError> {
    require_writable(db)?;
    let spooled = super::spool::spool_if_stream(file, options.max_record_bytes)?;
    let read = spooled.as_ref().map_or(file, |s| s.file.as_path());
    let plan = plan_import(&*db, read, options, progress)?;
    if !plan.create {
        let free_name = free_table_name(&*db, &plan.table)?;
        return Ok(ImportStep::WouldAppend { plan, free_name });
    }
    apply_import(db, &plan, options, progress).map(ImportStep::Imported)
}

/// `base_2`, `base_3`, ...: the first name no relation of the database uses.
pub fn free_table_name(db: &dyn Backend, base: &str) -> Result<String, DbError> {
    db.free_table_name(base)
}

/// SQLite: the first name no table, view, index or trigger of the main schema uses
/// (SQLite compares names without ASCII case).
pub(crate) fn free_sqlite_name(db: &Sqlite, base: &str) -> Result<String, DbError> {
    let mut stmt = db
        .conn()
        .prepare("SELECT 1 FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE")
        .map_err(|e| db.err(e))?;
    for n in 2..=u32::MAX {
        let name = format!("{base}_{n}");
        if !stmt.exists([&name]).map_err(|e| db.err(e))? {
            return Ok(name);
        }
    }
    Err(ImportRefusal::NamesTaken {
        base: base.to_string(),
    }
    .into())
}

/// Reads the file once and works out what importing it would do: which
/// table, new or appended to, and each column's name and type. Nothing in
/// the database changes.
pub fn plan_import(
    db: &dyn Backend,
    file: &Path,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportPlan, DbError> {
    let format = match options.format {
        Some(f) => f,
        None => detect_format(file)?,
    };
    let table = match &options.table {
        Some(t) => t.clone(),
        None => table_name_for(file),
    };
    validate(&table)?;
    let existing = match db.find_object(&table) {
        Ok(object) if object.kind != ObjectKind::Table => {
            return Err(DbError::NotATable {
                name: object.name,
                kind: object.kind.as_str(),
            });
        }
        Ok(object) => Some(db.table_info(&object.name)?),
        Err(DbError::UnknownTable { .. }) => None,
        Err(e) => return Err(e),
    };
    if existing.is_none() && is_reserved(&table) {
        return Err(ImportRefusal::ReservedName { table }.into());
    }
    let scan = scan_file(file, format, options, progress)?;
    let names = column_names(&scan.header);
    let mut plan = ImportPlan {
        file: file.to_path_buf(),
        format,
        table: table.clone(),
        create: existing.is_none(),
        rows: scan.rows,
        columns: Vec::new(),
        left_out: Vec::new(),
    };
    match existing {
        None => {
            if names.is_empty() {
                return Err(ImportRefusal::NoColumns {
                    file: shown_name(file),
                }
                .into());
            }
            plan.columns = scan
                .header
                .iter()
                .zip(&names)
                .zip(&scan.stats)
                .map(|((source, name), stats)| {
                    let inferred = stats.inferred();
                    PlannedColumn {
                        source: source.clone(),
                        name: name.clone(),
                        sql_type: inferred.sql().into(),
                        inferred,
                        convert: Convert::Inferred(inferred),
                    }
                })
                .collect();
        }
        Some(info) => {
            plan.table = info.name.clone();
            let (columns, left_out) = match_columns(&info, &scan, &names, &shown_name(file))?;
            plan.columns = columns;
            plan.left_out = left_out;
        }
    }
    Ok(plan)
}

/// The first pass: the file's columns, their statistics and its row count.
struct Scan {
    header: Vec<String>,
    stats: Vec<ColumnStats>,
    rows: u64,
}

fn scan_file(
    file: &Path,
    format: FileFormat,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Scan, DbError> {
    let (mut reader, header, size) =
        open_reader(file, format, Vec::new(), true, options.max_record_bytes)?;
    let mut reporter = Reporter::new(progress, options.progress_every, Some(size));
    reporter.report(Stage::Reading, 0, None, 0);
    let place = shown_name(file);
    let width = header.len();
    let mut stats = vec![ColumnStats::default(); width];
    let mut rows = 0u64;
    while next_row(&mut reader, width, &place)? {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        if let RowReader::Json(json) = &reader {
            stats.resize(json.keys.len(), ColumnStats::default());
        }
        for (i, s) in stats.iter_mut().enumerate() {
            s.observe(reader.cell(i));
        }
        rows += 1;
        if reporter.due(rows) {
            reporter.report(Stage::Reading, rows, None, reader.bytes());
        }
    }
    reporter.report(Stage::Reading, rows, Some(rows), reader.bytes());
    let header = match reader {
        RowReader::Csv(_) => header,
        RowReader::Json(json) => json.keys,
    };
    Ok(Scan {
        header,
        stats,
        rows,
    })
}

/// Matches the file's columns to an existing table's, ignoring ASCII case.
fn match_columns(
    info: &TableInfo,
    scan: &Scan,
    names: &[String],
    shown: &str,
) -> Result<(Vec<PlannedColumn>, Vec<String>), DbError> {
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    let mut computed = Vec::new();
    for ((source, name), stats) in scan.header.iter().zip(names).zip(&scan.stats) {
        match info.column(name) {
            Some(c) if c.kind != ColumnKind::Normal => computed.push(c.name.clone()),
            Some(c) => {
                let inferred = stats.inferred();
                let convert = match c.affinity {
                    Affinity::Integer | Affinity::Real | Affinity::Numeric => Convert::Numeric,
                    Affinity::Text => Convert::Text,
                    Affinity::Blob if c.decl_type.to_ascii_uppercase().contains("BLOB") => {
                        Convert::Blob
                    }
                    // An untyped column takes what the values look like.
                    Affinity::Blob => Convert::Inferred(inferred),
                };
                columns.push(PlannedColumn {
                    source: source.clone(),
                    name: c.name.clone(),
                    sql_type: c.decl_type.clone(),
                    inferred,
                    convert,
                });
            }
            None => unknown.push(name.clone()),
        }
    }
    let mut required = Vec::new();
    let mut left_out = Vec::new();
    for c in info.columns.iter().filter(|c| c.kind == ColumnKind::Normal) {
        if columns.iter().any(|p| p.name == c.name) {
            continue;
        }
        if c.not_null && c.default.is_none() && !c.rowid_alias {
            required.push(c.name.clone());
        } else {
            left_out.push(c.name.clone());
        }
    }
    if unknown.is_empty() && computed.is_empty() && required.is_empty() {
        return Ok((columns, left_out));
    }
    Err(ImportRefusal::ColumnsMismatch {
        file: shown.to_string(),
        table: info.name.clone(),
        unknown,
        computed,
        required,
    }
    .into())
}
