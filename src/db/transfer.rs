//! CSV and JSON import, CSV export, and deleting tables.
//!
//! Everything here is headless: no printing, progress through a callback,
//! cancellation through a [`CancelFlag`], errors as one plain sentence. The
//! terminal app calls it from a background thread; the `import`, `export`
//! and `drop` commands call it directly.
//!
//! # The CSV dialect
//!
//! Comma-separated (a `.tsv` file, or a header with tabs or semicolons and no
//! commas, uses that separator instead), fields quoted with `"` and quotes
//! doubled inside them, one header row of column names, lines ending in
//! `\n` (`\r\n` and `\r` are read too), UTF-8 with an optional byte-order mark.
//!
//! **NULL versus empty text.** An empty field with no quotes is NULL; an empty
//! quoted field (`""`) is empty text. Export writes them that way and import
//! reads them that way, so a round trip keeps the difference (PostgreSQL's
//! `COPY ... CSV` uses the same rule). The `csv` crate cannot do this: its
//! reader does not report whether a field was quoted and its writer quotes a
//! lone empty field on its own, so both directions use the small RFC 4180
//! reader and writer below. Blobs are written as lowercase hex; reals always
//! keep a decimal point or an exponent (`3.0`, `1e16`) so they read back as
//! reals.
//!
//! # Import
//!
//! A file is read twice: once to check it and infer column types (nothing in
//! the database is touched, so a malformed file changes nothing), then again
//! inside one transaction to insert its rows. Any error, a cancellation or a
//! row SQLite refuses rolls the whole import back, the new table included.
//! The inserted rows are recorded in the undo journal so `rowsmith undo`
//! can take them back.
//!
//! A new table's column types come from its values: INTEGER when every
//! value is a plain integer, REAL when some have a decimal point or an
//! exponent, INTEGER 1/0 when every value is true or false, TEXT otherwise
//! (and for a column with no values). A leading zero (`02134`), a `+`
//! (`+14155550100`), spaces or more digits than an INTEGER holds keep a
//! column TEXT: those are codes, not numbers. JSON strings are always text.
//! Appended values are bound as written and SQLite's affinity of the
//! existing column converts them; there empty fields of number columns are
//! NULL, true/false are 1/0, hex in a column declared BLOB becomes bytes,
//! and a JSON object without a key leaves that column to its default.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, Statement, ToSql};
use serde::Serialize;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::catalog::{
    Affinity, ColumnKind, ObjectKind, TableInfo, find_object, referencing_keys, row_count,
    table_info,
};
use super::ident::{quote, quote_list, validate};
use super::journal::{ChunkId, Journal, RecordedRow, RowKey};
use super::sample::rowid_name;
use super::{CancelFlag, Database, DbError};

/// How many rows pass between two progress reports, unless told otherwise.
pub const PROGRESS_EVERY: u64 = 10_000;

/// How many rows one journal chunk holds.
const JOURNAL_CHUNK: usize = 100_000;

// ---------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------

/// What a transfer is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Import: reading the file to check it and infer column types.
    Reading,
    /// Import: inserting rows. Export: writing rows.
    Writing,
    /// Import: recording the rows for undo and committing.
    Finishing,
}

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    pub stage: Stage,
    /// Rows read (Reading) or written (Writing, Finishing) so far.
    pub rows: u64,
    /// Rows in all, when known: during Writing for an import, and for the
    /// export of a table.
    pub total_rows: Option<u64>,
    /// Bytes of the file read so far (import, Reading).
    pub bytes: u64,
    /// Size of the file (import), when known.
    pub total_bytes: Option<u64>,
}

impl Progress {
    /// How far along this stage is, from 0.0 to 1.0, when it can be known.
    pub fn fraction(&self) -> Option<f64> {
        match self.stage {
            Stage::Reading => self
                .total_bytes
                .filter(|&t| t > 0)
                .map(|t| (self.bytes as f64 / t as f64).min(1.0)),
            Stage::Writing | Stage::Finishing => self.total_rows.map(|t| {
                if t == 0 {
                    1.0
                } else {
                    (self.rows as f64 / t as f64).min(1.0)
                }
            }),
        }
    }
}

/// Calls the progress callback every `every` rows.
struct Reporter<'p> {
    callback: &'p mut dyn FnMut(Progress),
    every: u64,
    total_bytes: Option<u64>,
}

impl Reporter<'_> {
    fn due(&self, rows: u64) -> bool {
        rows.is_multiple_of(self.every)
    }

    fn report(&mut self, stage: Stage, rows: u64, total_rows: Option<u64>, bytes: u64) {
        (self.callback)(Progress {
            stage,
            rows,
            total_rows,
            bytes,
            total_bytes: self.total_bytes,
        });
    }
}

// ---------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------

/// How an export runs.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub cancel: CancelFlag,
    /// Report progress every this many rows.
    pub progress_every: u64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            cancel: CancelFlag::new(),
            progress_every: PROGRESS_EVERY,
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

/// A file name for a table's export: `<table>.csv`, with the characters
/// file systems refuse (`/ \ : * ? " < > |` and control characters)
/// replaced by `_`.
pub fn export_file_name(table: &str) -> String {
    let cleaned: String = table
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if cleaned.is_empty() {
        "export.csv".into()
    } else {
        format!("{cleaned}.csv")
    }
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
    db: &Database,
    table: &str,
    dest: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let object = find_object(db, table)?;
    let dest = if dest.is_dir() {
        dest.join(export_file_name(&object.name))
    } else {
        dest.to_path_buf()
    };
    refuse_database_as_target(db, &dest)?;
    let (mut stmt, total) = table_statement(db, &object.name, object.kind)?;
    export_statement(db, &mut stmt, &dest, total, options, progress)
}

/// Writes every row of a table or view as CSV to `out` (stdout, a buffer).
pub fn export_table_to<W: Write>(
    db: &Database,
    table: &str,
    out: W,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let object = find_object(db, table)?;
    let (mut stmt, total) = table_statement(db, &object.name, object.kind)?;
    write_csv(db, &mut stmt, out, total, options, progress)
}

/// Exports the rows of a read-only SQL query to a CSV file at `dest`.
/// Statements that could change the database are refused.
pub fn export_query(
    db: &Database,
    sql: &str,
    dest: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let mut stmt = db.conn().prepare(sql).map_err(|e| db.err(e))?;
    if !stmt.readonly() || stmt.column_count() == 0 {
        return Err(DbError::Refused(
            "Only a read-only query that returns rows (a SELECT) can be exported.".into(),
        ));
    }
    let dest = if dest.is_dir() {
        dest.join("query.csv")
    } else {
        dest.to_path_buf()
    };
    refuse_database_as_target(db, &dest)?;
    export_statement(db, &mut stmt, &dest, None, options, progress)
}

/// Exports the rows of an already prepared statement (parameters, if any,
/// bound beforehand with `raw_bind_parameter`) to a CSV file at `dest`,
/// through a temporary file renamed at the end. `total` is the row count when
/// the caller knows it, for progress.
pub fn export_statement(
    db: &Database,
    stmt: &mut Statement<'_>,
    dest: &Path,
    total: Option<u64>,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let mut file = TempFile::create(dest)?;
    let mut outcome = {
        let out = io::BufWriter::with_capacity(1 << 16, &mut file.file);
        write_csv(db, stmt, out, total, options, progress)?
    };
    file.persist()?;
    outcome.path = Some(dest.to_path_buf());
    Ok(outcome)
}

/// Streams the rows of a prepared statement as CSV to `out`, header first.
/// Rows are read one at a time, never all at once.
pub fn write_csv<W: Write>(
    db: &Database,
    stmt: &mut Statement<'_>,
    mut out: W,
    total: Option<u64>,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let write_err = |e: io::Error| DbError::Refused(format!("Cannot write the CSV ({e})."));
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut reporter = Reporter {
        callback: progress,
        every: options.progress_every.max(1),
        total_bytes: None,
    };
    reporter.report(Stage::Writing, 0, total, 0);
    let mut line: Vec<u8> = Vec::with_capacity(1024);
    for (i, name) in columns.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        // An empty column name is quoted so the header keeps its width.
        push_csv_text(&mut line, name.as_bytes());
    }
    line.push(b'\n');
    out.write_all(&line).map_err(write_err)?;

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
        line.clear();
        for i in 0..width {
            if i > 0 {
                line.push(b',');
            }
            let value = row.get_ref(i).map_err(|e| db.err(e))?;
            push_csv_value(&mut line, value);
        }
        line.push(b'\n');
        out.write_all(&line).map_err(write_err)?;
        written += 1;
        if reporter.due(written) {
            reporter.report(Stage::Writing, written, total, 0);
        }
    }
    out.flush().map_err(write_err)?;
    reporter.report(Stage::Writing, written, total.or(Some(written)), 0);
    Ok(ExportOutcome {
        rows: written,
        columns,
        path: None,
    })
}

fn table_statement<'db>(
    db: &'db Database,
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

fn refuse_database_as_target(db: &Database, dest: &Path) -> Result<(), DbError> {
    if let (Ok(a), Ok(b)) = (
        std::fs::canonicalize(dest),
        std::fs::canonicalize(db.path()),
    ) && a == b
    {
        return Err(DbError::Refused(format!(
            "'{}' is the database itself; choose another file to export to.",
            dest.display()
        )));
    }
    Ok(())
}

/// Appends one value as a CSV field.
fn push_csv_value(line: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        // NULL is the only empty field without quotes.
        ValueRef::Null => {}
        ValueRef::Integer(i) => {
            let _ = write!(line, "{i}");
        }
        ValueRef::Real(f) => push_real(line, f),
        ValueRef::Text(t) => push_csv_text(line, t),
        ValueRef::Blob(b) => {
            if b.is_empty() {
                line.extend_from_slice(b"\"\"");
            }
            for byte in b {
                line.push(HEX[(byte >> 4) as usize]);
                line.push(HEX[(byte & 0xf) as usize]);
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reals keep a decimal point or an exponent: `3.0`, `0.1`, `1e16`. Rust's
/// `{:?}` prints the shortest text that reads back as the same number.
fn push_real(line: &mut Vec<u8>, f: f64) {
    let _ = write!(line, "{f:?}");
}

/// Appends text, quoted when it is empty or holds a comma, quote or line
/// break (quotes inside are doubled).
fn push_csv_text(line: &mut Vec<u8>, text: &[u8]) {
    let needs_quotes = text.is_empty()
        || text
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        line.extend_from_slice(text);
        return;
    }
    line.push(b'"');
    for &b in text {
        if b == b'"' {
            line.push(b'"');
        }
        line.push(b);
    }
    line.push(b'"');
}

/// A file written under a temporary name beside its destination and
/// renamed into place by [`persist`](Self::persist); dropped before that,
/// it is removed.
struct TempFile {
    file: File,
    temp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl TempFile {
    fn create(dest: &Path) -> Result<Self, DbError> {
        let fail = |e: io::Error| {
            DbError::Refused(format!(
                "Cannot write '{}' ({e}). Nothing was exported.",
                dest.display()
            ))
        };
        let name = dest.file_name().ok_or_else(|| {
            DbError::Refused(format!(
                "'{}' is not a file name to export to.",
                dest.display()
            ))
        })?;
        let folder = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(DbError::Refused(format!(
                "Cannot write '{}': the folder '{}' does not exist.",
                dest.display(),
                folder.display()
            )));
        }
        for attempt in 0..100u32 {
            let temp = folder.join(format!(
                ".{}.{}-{}.rowsmith-tmp",
                name.to_string_lossy(),
                std::process::id(),
                rand::random::<u32>().wrapping_add(attempt)
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(Self {
                        file,
                        temp,
                        dest: dest.to_path_buf(),
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        Err(fail(io::Error::other("no free temporary name")))
    }

    fn persist(mut self) -> Result<(), DbError> {
        let fail = |e: io::Error| {
            DbError::Refused(format!(
                "Cannot write '{}' ({e}). Nothing was exported.",
                self.dest.display()
            ))
        };
        self.file.sync_all().map_err(fail)?;
        std::fs::rename(&self.temp, &self.dest).map_err(fail)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

// ---------------------------------------------------------------------------
// Reading files: bytes, CSV records, JSON objects
// ---------------------------------------------------------------------------

/// The formats import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Delimited text with a header row; the delimiter is `,`, `\t` or `;`.
    Csv { delimiter: u8 },
    /// One JSON array of objects.
    JsonArray,
    /// One JSON object per line.
    JsonLines,
}

impl FileFormat {
    pub fn label(self) -> &'static str {
        match self {
            FileFormat::Csv { delimiter: b'\t' } => "TSV",
            FileFormat::Csv { .. } => "CSV",
            FileFormat::JsonArray => "JSON",
            FileFormat::JsonLines => "JSON Lines",
        }
    }
}

/// A buffered byte reader with one byte of look-ahead. Read errors become
/// a sentence naming the file.
struct ByteSource<R> {
    inner: R,
    name: String,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    consumed: u64,
}

impl<R: Read> ByteSource<R> {
    fn new(inner: R, name: &str) -> Self {
        Self {
            inner,
            name: name.to_string(),
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            consumed: 0,
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, DbError> {
        if self.pos == self.len {
            self.pos = 0;
            self.len = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(DbError::Io {
                            path: self.name.clone(),
                            detail: e.to_string(),
                        });
                    }
                }
            };
            if self.len == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// Consumes the byte `peek` returned.
    #[inline]
    fn bump(&mut self) {
        if self.pos < self.len {
            self.pos += 1;
            self.consumed += 1;
        }
    }

    #[inline]
    fn next(&mut self) -> Result<Option<u8>, DbError> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }

    /// Appends the bytes before the first one `stop` accepts (or before the
    /// end of the input) to `out`, a buffer at a time.
    #[inline]
    fn take_until(&mut self, out: &mut Vec<u8>, stop: impl Fn(u8) -> bool) -> Result<(), DbError> {
        while self.peek()?.is_some() {
            let available = &self.buf[self.pos..self.len];
            let (n, found) = match available.iter().position(|&b| stop(b)) {
                Some(n) => (n, true),
                None => (available.len(), false),
            };
            out.extend_from_slice(&available[..n]);
            self.pos += n;
            self.consumed += n as u64;
            if found {
                break;
            }
        }
        Ok(())
    }

    /// Skips a UTF-8 byte-order mark at the start.
    fn skip_bom(&mut self) -> Result<(), DbError> {
        if self.peek()? == Some(0xEF)
            && self.len - self.pos >= 3
            && self.buf[self.pos..self.pos + 3] == [0xEF, 0xBB, 0xBF]
        {
            self.pos += 3;
            self.consumed += 3;
        }
        Ok(())
    }
}

/// A cell of the row being read, whatever the format.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell<'a> {
    /// A JSON object without this key.
    Missing,
    /// An unquoted empty CSV field, or JSON null.
    Null,
    /// A CSV field: its text and whether it was quoted.
    Field(&'a str, bool),
    /// A JSON string (or nested array/object as JSON text): always text.
    Str(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
}

/// Names a position in the file for error messages.
struct Place {
    /// The file name as shown to the user.
    name: String,
}

impl Place {
    fn malformed(&self, line: u64, what: &str) -> DbError {
        DbError::Refused(format!(
            "{} line {line}: {what}. Nothing was imported.",
            self.name
        ))
    }
}

struct CsvReader<R> {
    src: ByteSource<R>,
    delimiter: u8,
    /// The line the next byte is on.
    line: u64,
    /// The current record's text, fields as ranges into it.
    text: String,
    fields: Vec<(usize, usize, bool)>,
    record_line: u64,
    place: Place,
}

impl<R: Read> CsvReader<R> {
    fn new(inner: R, delimiter: u8, place: Place) -> Result<Self, DbError> {
        let mut src = ByteSource::new(inner, &place.name);
        src.skip_bom()?;
        Ok(Self {
            src,
            delimiter,
            line: 1,
            text: String::new(),
            fields: Vec::new(),
            record_line: 1,
            place,
        })
    }

    fn field(&self, i: usize) -> Cell<'_> {
        match self.fields.get(i) {
            Some(&(start, end, quoted)) => {
                let text = self.text.get(start..end).unwrap_or("");
                if text.is_empty() && !quoted {
                    Cell::Null
                } else {
                    Cell::Field(text, quoted)
                }
            }
            None => Cell::Null,
        }
    }

    fn width(&self) -> usize {
        self.fields.len()
    }

    /// A line with nothing on it.
    fn is_blank(&self) -> bool {
        matches!(self.fields.as_slice(), [(s, e, false)] if s == e)
    }

    /// Reads the next record; false at the end of the file.
    fn read_record(&mut self) -> Result<bool, DbError> {
        let mut data = std::mem::take(&mut self.text).into_bytes();
        data.clear();
        self.fields.clear();
        self.record_line = self.line;
        if self.src.peek()?.is_none() {
            self.text = String::from_utf8(data).unwrap_or_default();
            return Ok(false);
        }
        loop {
            let start = data.len();
            let quoted = self.src.peek()? == Some(b'"');
            if quoted {
                self.src.bump();
                let open_line = self.line;
                loop {
                    self.src
                        .take_until(&mut data, |b| matches!(b, b'"' | b'\n' | b'\r'))?;
                    match self.src.next()? {
                        None => {
                            return Err(self.place.malformed(
                                open_line,
                                "a quoted field starts here and is never closed",
                            ));
                        }
                        Some(b'"') => {
                            if self.src.peek()? == Some(b'"') {
                                self.src.bump();
                                data.push(b'"');
                            } else {
                                break;
                            }
                        }
                        Some(b) => {
                            if b == b'\n' || (b == b'\r' && self.src.peek()? != Some(b'\n')) {
                                self.line += 1;
                            }
                            data.push(b);
                        }
                    }
                }
                match self.src.peek()? {
                    None | Some(b'\n' | b'\r') => {}
                    Some(b) if b == self.delimiter => {}
                    Some(_) => {
                        return Err(self.place.malformed(
                            self.line,
                            "there is text after the closing quote of a field (a quote inside a quoted field must be doubled: \"\")",
                        ));
                    }
                }
            } else {
                let delimiter = self.delimiter;
                self.src
                    .take_until(&mut data, |b| b == delimiter || b == b'\n' || b == b'\r')?;
            }
            self.fields.push((start, data.len(), quoted));
            match self.src.next()? {
                Some(b'\r') => {
                    if self.src.peek()? == Some(b'\n') {
                        self.src.bump();
                    }
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.line += 1;
                    break;
                }
                Some(_) => continue, // the delimiter
                None => break,
            }
        }
        match String::from_utf8(data) {
            Ok(text) => {
                self.text = text;
                Ok(true)
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let line = self.record_line
                    + bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64;
                Err(self.place.malformed(
                    line,
                    "the text is not valid UTF-8 (save the file as UTF-8 and try again)",
                ))
            }
        }
    }
}

/// A JSON value of one row, owned.
#[derive(Debug, Clone, PartialEq)]
enum JsonCell {
    Missing,
    Null,
    Str(String),
    Int(i64),
    Real(f64),
    Bool(bool),
}

impl JsonCell {
    fn from_json(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => JsonCell::Null,
            serde_json::Value::Bool(b) => JsonCell::Bool(b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => JsonCell::Int(i),
                // Beyond i64: keep every digit as text.
                (None, Some(_), _) => JsonCell::Str(n.to_string()),
                (None, None, Some(f)) => JsonCell::Real(f),
                _ => JsonCell::Str(n.to_string()),
            },
            serde_json::Value::String(s) => JsonCell::Str(s),
            nested @ (serde_json::Value::Array(_) | serde_json::Value::Object(_)) => {
                JsonCell::Str(nested.to_string())
            }
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            JsonCell::Missing => Cell::Missing,
            JsonCell::Null => Cell::Null,
            JsonCell::Str(s) => Cell::Str(s),
            JsonCell::Int(i) => Cell::Int(*i),
            JsonCell::Real(f) => Cell::Real(*f),
            JsonCell::Bool(b) => Cell::Bool(*b),
        }
    }
}

/// A JSON object with its keys in file order.
struct OrderedObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedObject(entries))
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    Start,
    AfterValue,
    Done,
}

/// Reads objects one at a time from a JSON array or JSON Lines, each with
/// the line it starts on.
struct JsonReader<R> {
    src: ByteSource<R>,
    array: bool,
    state: JsonState,
    line: u64,
    buf: Vec<u8>,
    record_line: u64,
    /// Keys in first-seen order, and where each one goes.
    keys: Vec<String>,
    index: HashMap<String, usize>,
    /// Whether unseen keys add columns (first pass) or are an error.
    allow_new_keys: bool,
    cells: Vec<JsonCell>,
    place: Place,
}

impl<R: Read> JsonReader<R> {
    fn new(
        inner: R,
        array: bool,
        keys: Vec<String>,
        allow_new_keys: bool,
        place: Place,
    ) -> Result<Self, DbError> {
        let mut src = ByteSource::new(inner, &place.name);
        src.skip_bom()?;
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Ok(Self {
            src,
            array,
            state: JsonState::Start,
            line: 1,
            buf: Vec::new(),
            record_line: 1,
            keys,
            index,
            allow_new_keys,
            cells: Vec::new(),
            place,
        })
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        self.cells
            .get(i)
            .map(JsonCell::cell)
            .unwrap_or(Cell::Missing)
    }

    fn skip_ws(&mut self) -> Result<(), DbError> {
        while let Some(b) = self.src.peek()? {
            match b {
                b' ' | b'\t' => self.src.bump(),
                b'\n' => {
                    self.src.bump();
                    self.line += 1;
                }
                b'\r' => {
                    self.src.bump();
                    if self.src.peek()? != Some(b'\n') {
                        self.line += 1;
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Reads the next object; false at the end.
    fn read_record(&mut self) -> Result<bool, DbError> {
        if self.array {
            match self.state {
                JsonState::Done => return Ok(false),
                JsonState::Start => {
                    self.skip_ws()?;
                    if self.src.next()? != Some(b'[') {
                        return Err(self.place.malformed(
                            self.line,
                            "expected '[' to start a JSON array of objects",
                        ));
                    }
                    self.skip_ws()?;
                    if self.src.peek()? == Some(b']') {
                        self.src.bump();
                        return self.finish_array();
                    }
                }
                JsonState::AfterValue => {
                    self.skip_ws()?;
                    match self.src.next()? {
                        Some(b',') => self.skip_ws()?,
                        Some(b']') => return self.finish_array(),
                        None => {
                            return Err(self
                                .place
                                .malformed(self.line, "the JSON array is never closed with ']'"));
                        }
                        Some(_) => {
                            return Err(self.place.malformed(
                                self.line,
                                "expected ',' or ']' after an object of the JSON array",
                            ));
                        }
                    }
                }
            }
            self.state = JsonState::AfterValue;
        } else {
            self.skip_ws()?;
            if self.src.peek()?.is_none() {
                return Ok(false);
            }
        }
        self.record_line = self.line;
        self.scan_value()?;
        self.parse_object()?;
        Ok(true)
    }

    fn finish_array(&mut self) -> Result<bool, DbError> {
        self.state = JsonState::Done;
        self.skip_ws()?;
        if self.src.peek()?.is_some() {
            return Err(self.place.malformed(
                self.line,
                "there is more text after the closing ']' of the JSON array",
            ));
        }
        Ok(false)
    }

    /// Copies one JSON value's bytes into `buf`, counting lines.
    fn scan_value(&mut self) -> Result<(), DbError> {
        self.buf.clear();
        let start = self.line;
        let Some(first) = self.src.peek()? else {
            return Err(self
                .place
                .malformed(self.line, "the file ends where a JSON object was expected"));
        };
        match first {
            b'{' | b'[' => {
                let (mut depth, mut in_string, mut escaped) = (0u64, false, false);
                loop {
                    let Some(b) = self.src.next()? else {
                        return Err(self
                            .place
                            .malformed(start, "the JSON object that starts here is never closed"));
                    };
                    self.buf.push(b);
                    if b == b'\n' {
                        self.line += 1;
                    }
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                // A string, number or literal where an object should be:
                // take it whole so the error can say what it is.
                let mut in_string = false;
                let mut escaped = false;
                while let Some(b) = self.src.peek()? {
                    if !in_string && (b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'}')) {
                        break;
                    }
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                    } else if b == b'"' {
                        in_string = true;
                    }
                    self.src.bump();
                    self.buf.push(b);
                }
                Ok(())
            }
        }
    }

    fn parse_object(&mut self) -> Result<(), DbError> {
        if let Err(e) = std::str::from_utf8(&self.buf) {
            let line = self.record_line
                + self.buf[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
            return Err(self.place.malformed(
                line,
                "the text is not valid UTF-8 (save the file as UTF-8 and try again)",
            ));
        }
        let found = match self.buf.first() {
            Some(b'{') => None,
            None => Some("nothing (is there a ',' too many?)"),
            Some(b'[') => Some("an array"),
            Some(b'"') => Some("a string"),
            Some(b't' | b'f') => Some("true or false"),
            Some(b'n') => Some("null"),
            Some(b'-' | b'0'..=b'9') => Some("a number"),
            _ => Some("something that is not JSON"),
        };
        if let Some(found) = found {
            return Err(self.place.malformed(
                self.record_line,
                &format!("expected a JSON object for each row, found {found}"),
            ));
        }
        let object: OrderedObject = serde_json::from_slice(&self.buf).map_err(|e| {
            let line = self.record_line + (e.line().max(1) as u64) - 1;
            let text = e.to_string();
            let text = match text.find(" at line ") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            self.place
                .malformed(line, &format!("invalid JSON ({text})"))
        })?;
        self.cells.clear();
        self.cells.resize(self.keys.len(), JsonCell::Missing);
        for (key, value) in object.0 {
            let i = match self.index.get(&key) {
                Some(&i) => i,
                None if self.allow_new_keys => {
                    self.keys.push(key.clone());
                    self.index.insert(key, self.keys.len() - 1);
                    self.cells.push(JsonCell::Missing);
                    self.keys.len() - 1
                }
                None => {
                    return Err(self.place.malformed(
                        self.record_line,
                        &format!("the key '{key}' was not in the file when it was first read, so it changed during the import"),
                    ));
                }
            };
            self.cells[i] = JsonCell::from_json(value);
        }
        Ok(())
    }
}

/// Either reader, behind one interface.
enum RowReader {
    Csv(CsvReader<File>),
    Json(JsonReader<File>),
}

impl RowReader {
    fn read_record(&mut self) -> Result<bool, DbError> {
        match self {
            RowReader::Csv(r) => r.read_record(),
            RowReader::Json(r) => r.read_record(),
        }
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        match self {
            RowReader::Csv(r) => r.field(i),
            RowReader::Json(r) => r.cell(i),
        }
    }

    fn line(&self) -> u64 {
        match self {
            RowReader::Csv(r) => r.record_line,
            RowReader::Json(r) => r.record_line,
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            RowReader::Csv(r) => r.src.consumed,
            RowReader::Json(r) => r.src.consumed,
        }
    }
}

// ---------------------------------------------------------------------------
// Type inference
// ---------------------------------------------------------------------------

/// The type import gives a new column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InferredType {
    Integer,
    Real,
    Text,
    /// Every value was true or false: stored as INTEGER 1 or 0.
    Boolean,
}

impl InferredType {
    pub fn sql(self) -> &'static str {
        match self {
            InferredType::Integer | InferredType::Boolean => "INTEGER",
            InferredType::Real => "REAL",
            InferredType::Text => "TEXT",
        }
    }
}

/// What one column's values looked like.
#[derive(Debug, Clone, Copy, Default)]
struct ColumnStats {
    ints: u64,
    reals: u64,
    bools: u64,
    texts: u64,
}

impl ColumnStats {
    fn observe(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Missing | Cell::Null => {}
            // An empty quoted field says nothing about the type: it is
            // empty text in a text column and NULL in a number column.
            Cell::Field("", _) => {}
            Cell::Field(text, _) => match classify(text) {
                TextKind::Int => self.ints += 1,
                TextKind::Real => self.reals += 1,
                TextKind::Bool => self.bools += 1,
                TextKind::Text => self.texts += 1,
            },
            Cell::Str(_) => self.texts += 1,
            Cell::Int(_) => self.ints += 1,
            Cell::Real(_) => self.reals += 1,
            Cell::Bool(_) => self.bools += 1,
        }
    }

    fn inferred(&self) -> InferredType {
        if self.texts > 0 {
            InferredType::Text
        } else if self.bools > 0 {
            if self.ints + self.reals == 0 {
                InferredType::Boolean
            } else {
                InferredType::Text
            }
        } else if self.reals > 0 {
            InferredType::Real
        } else if self.ints > 0 {
            InferredType::Integer
        } else {
            InferredType::Text
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Int,
    Real,
    Bool,
    Text,
}

/// What a CSV field holds. Numbers must be written plainly: a leading zero
/// (`02134`), a `+` (`+14155550100`), spaces, or more digits than an
/// INTEGER holds keep a value as text, since those are codes, not numbers.
fn classify(text: &str) -> TextKind {
    if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        return TextKind::Bool;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i = 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if int_digits == 0 || (int_digits > 1 && bytes[int_start] == b'0') {
        return TextKind::Text;
    }
    if i == bytes.len() {
        return if text.parse::<i64>().is_ok() {
            TextKind::Int
        } else {
            TextKind::Text
        };
    }
    let mut decimal = false;
    if bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return TextKind::Text;
        }
        decimal = true;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return TextKind::Text;
        }
        decimal = true;
    }
    if decimal && i == bytes.len() && text.parse::<f64>().is_ok_and(f64::is_finite) {
        TextKind::Real
    } else {
        TextKind::Text
    }
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

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
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        Self {
            table: None,
            format: None,
            journal: None,
            cancel: CancelFlag::new(),
            progress_every: PROGRESS_EVERY,
        }
    }
}

/// How the values of one file column are turned into SQLite values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Convert {
    /// A new column of an inferred type.
    Inferred(InferredType),
    /// An existing INTEGER, REAL or NUMERIC column: text is bound as is and
    /// SQLite's affinity converts it; empty is NULL, true/false are 1/0.
    Numeric,
    /// An existing TEXT column: values as written.
    Text,
    /// An existing column declared BLOB: hex becomes bytes.
    Blob,
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
    convert: Convert,
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

/// A table name derived from a file name: `sales 2024.csv` -> `sales_2024`.
/// Letters, digits and `_` are kept; a name starting with a digit or with
/// SQLite's reserved `sqlite_` gets a `t_` in front.
pub fn table_name_for(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_alphanumeric() || c == '_' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_');
    if name.is_empty() {
        "imported".into()
    } else if name.starts_with(|c: char| c.is_ascii_digit()) || is_reserved(name) {
        format!("t_{name}")
    } else {
        name.to_string()
    }
}

fn is_reserved(name: &str) -> bool {
    name.len() >= 7 && name.as_bytes()[..7].eq_ignore_ascii_case(b"sqlite_")
}

/// Column names from a header: trimmed, empty ones named `column_N` (N its
/// position), repeats (compared as SQLite does, ignoring ASCII case) given
/// `_2`, `_3`, ...
fn column_names(header: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(header.len());
    let mut out = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let trimmed = raw.trim().replace('\0', "");
        let base = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.push(name.clone());
        out.push(name);
    }
    out
}

/// How a file is shown in messages: its name.
fn shown_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

fn open_file(file: &Path) -> Result<(File, u64), DbError> {
    let shown = file.display().to_string();
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_dir() => Err(DbError::Refused(format!(
            "'{shown}' is a folder; give the CSV or JSON file to import."
        ))),
        Ok(meta) => {
            let f = File::open(file).map_err(|e| DbError::Io {
                path: shown,
                detail: e.to_string(),
            })?;
            Ok((f, meta.len()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(DbError::Refused(format!(
            "There is no file '{shown}' to import. Check the path."
        ))),
        Err(e) => Err(DbError::Io {
            path: shown,
            detail: e.to_string(),
        }),
    }
}

/// Works out a file's format from its extension, then its first bytes.
pub fn detect_format(file: &Path) -> Result<FileFormat, DbError> {
    let (mut f, _) = open_file(file)?;
    let mut head = vec![0u8; 1 << 16];
    let mut filled = 0;
    while filled < head.len() {
        match f.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(DbError::Io {
                    path: file.display().to_string(),
                    detail: e.to_string(),
                });
            }
        }
    }
    head.truncate(filled);
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(&head);
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let json = match first {
        Some(b'[') => Some(FileFormat::JsonArray),
        Some(b'{') => Some(FileFormat::JsonLines),
        _ => None,
    };
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => json.ok_or_else(|| {
            DbError::Refused(format!(
                "{} does not start with '[' or '{{', so it is neither a JSON array of objects nor JSON Lines. Nothing was imported.",
                shown_name(file)
            ))
        }),
        "tsv" | "tab" => Ok(FileFormat::Csv { delimiter: b'\t' }),
        "csv" => Ok(FileFormat::Csv {
            delimiter: sniff_delimiter(body),
        }),
        _ => Ok(json.unwrap_or(FileFormat::Csv {
            delimiter: sniff_delimiter(body),
        })),
    }
}

/// The header's delimiter: a comma, unless the first line has none and has
/// tabs or semicolons.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b'\t') > 0 {
        b'\t'
    } else if count(b';') > 0 {
        b';'
    } else {
        b','
    }
}

/// The first pass: the file's columns, their statistics and its row count.
struct Scan {
    header: Vec<String>,
    stats: Vec<ColumnStats>,
    rows: u64,
}

fn open_reader(
    file: &Path,
    format: FileFormat,
    json_keys: Vec<String>,
    first_pass: bool,
) -> Result<(RowReader, Vec<String>, u64), DbError> {
    let (f, size) = open_file(file)?;
    let place = Place {
        name: shown_name(file),
    };
    match format {
        FileFormat::Csv { delimiter } => {
            let mut reader = CsvReader::new(f, delimiter, place)?;
            // The header: the first line that is not blank.
            loop {
                if !reader.read_record()? {
                    return Err(DbError::Refused(format!(
                        "{} is empty: there is no header row of column names. Nothing was imported.",
                        shown_name(file)
                    )));
                }
                if !reader.is_blank() {
                    break;
                }
            }
            let header: Vec<String> = (0..reader.width())
                .map(|i| match reader.field(i) {
                    Cell::Field(t, _) => t.to_string(),
                    _ => String::new(),
                })
                .collect();
            Ok((RowReader::Csv(reader), header, size))
        }
        FileFormat::JsonArray | FileFormat::JsonLines => {
            let reader = JsonReader::new(
                f,
                format == FileFormat::JsonArray,
                json_keys,
                first_pass,
                place,
            )?;
            Ok((RowReader::Json(reader), Vec::new(), size))
        }
    }
}

/// Reads the next data row, checking the CSV field count; false at the end.
fn next_row(reader: &mut RowReader, width: usize, place: &str) -> Result<bool, DbError> {
    loop {
        if !reader.read_record()? {
            return Ok(false);
        }
        if let RowReader::Csv(csv) = reader {
            // Blank lines are skipped, except in a one-column file where an
            // empty line is a NULL value.
            if width != 1 && csv.is_blank() {
                continue;
            }
            if csv.width() != width {
                return Err(DbError::Refused(format!(
                    "{place} line {}: expected {width} field{}, found {}. Nothing was imported.",
                    csv.record_line,
                    if width == 1 { "" } else { "s" },
                    csv.width()
                )));
            }
        }
        return Ok(true);
    }
}

fn scan_file(
    file: &Path,
    format: FileFormat,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Scan, DbError> {
    let (mut reader, header, size) = open_reader(file, format, Vec::new(), true)?;
    let mut reporter = Reporter {
        callback: progress,
        every: options.progress_every.max(1),
        total_bytes: Some(size),
    };
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

/// Reads the file once and works out what importing it would do: which
/// table, new or appended to, and each column's name and type. Nothing in
/// the database changes.
pub fn plan_import(
    db: &Database,
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
    let existing = match find_object(db, &table) {
        Ok(object) if object.kind != ObjectKind::Table => {
            return Err(DbError::NotATable {
                name: object.name,
                kind: object.kind.as_str(),
            });
        }
        Ok(object) => Some(table_info(db, &object.name)?),
        Err(DbError::UnknownTable { .. }) => None,
        Err(e) => return Err(e),
    };
    if existing.is_none() && is_reserved(&table) {
        return Err(DbError::Refused(format!(
            "Table names starting with 'sqlite_' belong to SQLite; choose another name than '{table}'."
        )));
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
                return Err(DbError::Refused(format!(
                    "{} has no rows, so there are no columns to make a table from. Nothing was imported.",
                    shown_name(file)
                )));
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
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(if unknown.len() == 1 {
            format!(
                "the file's column {} is not in the table",
                quoted_list(&unknown)
            )
        } else {
            format!(
                "the file's columns {} are not in the table",
                quoted_list(&unknown)
            )
        });
    }
    if !computed.is_empty() {
        problems.push(format!(
            "{} computed by SQLite and cannot be written",
            if computed.len() == 1 {
                format!("column {} is", quoted_list(&computed))
            } else {
                format!("columns {} are", quoted_list(&computed))
            }
        ));
    }
    if !required.is_empty() {
        problems.push(format!(
            "the file has no values for {} NOT NULL without a default",
            if required.len() == 1 {
                format!("column {}, which is", quoted_list(&required))
            } else {
                format!("columns {}, which are", quoted_list(&required))
            }
        ));
    }
    if problems.is_empty() {
        return Ok((columns, left_out));
    }
    Err(DbError::Refused(format!(
        "The columns of {shown} do not match table '{}': {}. Import it under another table name to make a new table. Nothing was imported.",
        info.name,
        problems.join(", and ")
    )))
}

fn plural_word<'w>(n: usize, one: &'w str, many: &'w str) -> &'w str {
    if n == 1 { one } else { many }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Imports a CSV or JSON file: as a new table, or appended to an existing
/// table whose columns match. One transaction: on any error, a cancellation
/// or a row SQLite refuses, nothing is imported and no table is created.
pub fn import_file(
    db: &mut Database,
    file: &Path,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    db.require_writable()?;
    let plan = plan_import(db, file, options, progress)?;
    apply_import(db, &plan, options, progress)
}

/// A value ready to bind, borrowing text from the row being read.
#[derive(Debug, Clone, PartialEq)]
enum Bound<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(Vec<u8>),
    /// The column is left out of this row's INSERT (its default applies).
    Absent,
}

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Bound::Null | Bound::Absent => ValueRef::Null,
            Bound::Int(i) => ValueRef::Integer(*i),
            Bound::Real(f) => ValueRef::Real(*f),
            Bound::Text(t) => ValueRef::Text(t.as_bytes()),
            Bound::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn bool_word(text: &str) -> Option<i64> {
    if text.eq_ignore_ascii_case("true") {
        Some(1)
    } else if text.eq_ignore_ascii_case("false") {
        Some(0)
    } else {
        None
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Turns one cell into the value bound for its column. `append` leaves
/// missing JSON keys to the column's default.
fn convert(cell: Cell<'_>, how: Convert, append: bool) -> Bound<'_> {
    match cell {
        Cell::Missing if append => Bound::Absent,
        Cell::Missing | Cell::Null => Bound::Null,
        Cell::Field(text, _) => match how {
            Convert::Text | Convert::Inferred(InferredType::Text) => Bound::Text(text),
            Convert::Blob => unhex(text).map(Bound::Blob).unwrap_or(Bound::Text(text)),
            _ if text.is_empty() => Bound::Null,
            Convert::Inferred(InferredType::Integer) => {
                text.parse().map(Bound::Int).unwrap_or(Bound::Text(text))
            }
            Convert::Inferred(InferredType::Real) => {
                text.parse().map(Bound::Real).unwrap_or(Bound::Text(text))
            }
            Convert::Inferred(InferredType::Boolean) | Convert::Numeric => {
                bool_word(text).map(Bound::Int).unwrap_or(Bound::Text(text))
            }
        },
        Cell::Str(text) => match how {
            Convert::Blob => unhex(text).map(Bound::Blob).unwrap_or(Bound::Text(text)),
            _ => Bound::Text(text),
        },
        Cell::Int(i) => match how {
            Convert::Inferred(InferredType::Real) => Bound::Real(i as f64),
            _ => Bound::Int(i),
        },
        Cell::Real(f) => Bound::Real(f),
        Cell::Bool(b) => match how {
            Convert::Text | Convert::Inferred(InferredType::Text) => {
                Bound::Text(if b { "true" } else { "false" })
            }
            _ => Bound::Int(b as i64),
        },
    }
}

/// Rolls an open transaction back unless it was committed.
struct TxGuard<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> TxGuard<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        // IMMEDIATE takes the write lock now, so the busy timeout applies.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Self { conn, open: true })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Raises the page cache for the length of an import, so a transaction
/// larger than SQLite's default 2 MB cache is not written out and read back
/// page by page while it runs; the old size comes back on drop.
struct CacheBoost<'c> {
    conn: &'c Connection,
    old: Option<i64>,
}

impl<'c> CacheBoost<'c> {
    /// 64 MB, as a negative size in KiB.
    const KIB: i64 = -64 * 1024;

    fn new(conn: &'c Connection) -> Self {
        let old: Option<i64> = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).ok();
        let raise = match old {
            // Negative sizes are KiB, positive ones pages (of 4 KiB or less, mostly).
            Some(n) if n < 0 => n > Self::KIB,
            Some(n) => n * 4 < -Self::KIB,
            None => false,
        };
        if raise && conn.pragma_update(None, "cache_size", Self::KIB).is_ok() {
            Self { conn, old }
        } else {
            Self { conn, old: None }
        }
    }
}

impl Drop for CacheBoost<'_> {
    fn drop(&mut self) {
        if let Some(old) = self.old {
            let _ = self.conn.pragma_update(None, "cache_size", old);
        }
    }
}

/// The keys of the inserted rows.
enum Keys {
    Rowid(Vec<i64>),
    Primary(Vec<RowKey>),
}

/// Carries out a plan from [`plan_import`], reading the file a second time.
pub fn apply_import(
    db: &mut Database,
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    db.require_writable()?;
    let db: &Database = db;
    let conn = db.conn();
    let err = |e: rusqlite::Error| db.err(e);
    let shown = shown_name(&plan.file);
    let json_keys: Vec<String> = match plan.format {
        FileFormat::Csv { .. } => Vec::new(),
        _ => plan.columns.iter().map(|c| c.source.clone()).collect(),
    };
    let (mut reader, header, size) = open_reader(&plan.file, plan.format, json_keys, false)?;
    if matches!(plan.format, FileFormat::Csv { .. }) && header.len() != plan.columns.len() {
        return Err(DbError::Refused(format!(
            "{shown} changed since it was read (its header now has {} columns, not {}). Nothing was imported.",
            header.len(),
            plan.columns.len()
        )));
    }
    let mut reporter = Reporter {
        callback: progress,
        every: options.progress_every.max(1),
        total_bytes: Some(size),
    };
    reporter.report(Stage::Writing, 0, Some(plan.rows), 0);

    let _cache = CacheBoost::new(conn);
    let tx = TxGuard::begin(conn).map_err(err)?;
    if plan.create {
        let columns: Vec<String> = plan
            .columns
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), c.sql_type))
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE main.{} ({})",
            quote(&plan.table),
            columns.join(", ")
        ))
        .map_err(err)?;
    }
    let info = table_info(db, &plan.table)?;
    info.require_generatable()?;
    for c in &plan.columns {
        validate(&c.name)?;
        if info
            .column(&c.name)
            .is_none_or(|col| col.kind != ColumnKind::Normal)
        {
            return Err(DbError::Refused(format!(
                "Table '{}' changed since {shown} was read (column '{}' is gone). Nothing was imported.",
                info.name, c.name
            )));
        }
    }
    let rowid = if info.has_rowid() {
        Some(rowid_name(&info).ok_or_else(|| {
            DbError::Refused(format!(
                "Table '{}' has columns named rowid, _rowid_ and oid, so rowsmith cannot address its rows.",
                info.name
            ))
        })?)
    } else {
        None
    };
    let pk: Vec<String> = info.primary_key().iter().map(|c| c.name.clone()).collect();
    let returning = if rowid.is_some() {
        String::new()
    } else {
        format!(" RETURNING {}", quote_list(pk.iter().map(String::as_str)))
    };
    let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
    let full_sql = insert_sql(&info.name, &names, &returning);
    let mut full = conn.prepare(&full_sql).map_err(err)?;
    let deferred = info.foreign_keys.iter().any(|k| k.deferred);

    let mut keys = if rowid.is_some() {
        Keys::Rowid(Vec::with_capacity(plan.rows.min(1 << 24) as usize))
    } else {
        Keys::Primary(Vec::new())
    };
    // Lines of the inserted rows, kept only to name the line of a row that
    // breaks a deferred foreign key (checked before COMMIT).
    let mut lines: Vec<u64> = Vec::new();
    let width = plan.columns.len();
    let append = !plan.create;
    let mut inserted = 0u64;
    while next_row(&mut reader, width, &shown)? {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let values: Vec<Bound<'_>> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| convert(reader.cell(i), c.convert, append))
            .collect();
        let result = if values.contains(&Bound::Absent) {
            let present: Vec<usize> = (0..width).filter(|&i| values[i] != Bound::Absent).collect();
            let cols: Vec<&str> = present.iter().map(|&i| names[i]).collect();
            conn.prepare_cached(&insert_sql(&info.name, &cols, &returning))
                .and_then(|mut stmt| {
                    insert_row(conn, &mut stmt, present.iter().map(|&i| &values[i]), &keys)
                })
        } else {
            insert_row(conn, &mut full, values.iter(), &keys)
        };
        match result {
            Ok(key) => match (&mut keys, key) {
                (Keys::Rowid(ids), RowKey::Rowid(id)) => ids.push(id),
                (Keys::Primary(all), key) => all.push(key),
                (Keys::Rowid(_), RowKey::Primary(_)) => {}
            },
            Err(e) if is_row_error(&e) => {
                return Err(DbError::Refused(format!(
                    "{shown} line {}: {}. Nothing was imported.",
                    reader.line(),
                    sqlite_message(&e)
                )));
            }
            Err(e) => return Err(err(e)),
        }
        if deferred {
            lines.push(reader.line());
        }
        inserted += 1;
        if reporter.due(inserted) {
            reporter.report(
                Stage::Writing,
                inserted,
                Some(plan.rows.max(inserted)),
                reader.bytes(),
            );
        }
    }
    drop(full);
    reporter.report(Stage::Finishing, inserted, Some(inserted), reader.bytes());
    if deferred {
        check_deferred_keys(db, &info, &keys, &lines, &shown)?;
    }

    // Record the rows for undo before COMMIT: a crash in between leaves a
    // record of rows that do not exist, which undo recognises.
    let mut chunks: Vec<ChunkId> = Vec::new();
    let journal = match options.journal {
        Some(journal) if inserted > 0 => {
            let columns: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
            let recorded = match (&keys, rowid) {
                (Keys::Rowid(ids), Some(rowid)) => {
                    rowid_fingerprints(conn, &info, rowid, &columns, ids).map_err(err)?
                }
                (Keys::Primary(all), _) => {
                    super::write::read_fingerprints(conn, &info, &columns, all.iter())
                        .map_err(err)?
                        .into_iter()
                        .filter_map(|(key, fp)| {
                            fp.map(|fingerprint| RecordedRow { key, fingerprint })
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            let op = journal.begin_operation(
                db.path(),
                &info.name,
                &format!("import {shown}"),
                &columns,
            )?;
            for chunk in recorded.chunks(JOURNAL_CHUNK) {
                match journal.append_chunk(op, chunk) {
                    Ok(id) => chunks.push(id),
                    Err(e) => {
                        forget(journal, &chunks);
                        return Err(e);
                    }
                }
            }
            Some(journal)
        }
        _ => None,
    };
    if options.cancel.is_cancelled() {
        if let Some(journal) = journal {
            forget(journal, &chunks);
        }
        return Err(DbError::Cancelled);
    }
    if let Err(e) = tx.commit() {
        if let Some(journal) = journal {
            forget(journal, &chunks);
        }
        return Err(match e {
            ref f @ rusqlite::Error::SqliteFailure(..) if is_row_error(f) => {
                DbError::Refused(format!(
                    "{shown} could not be imported: {}. Nothing was imported.",
                    sqlite_message(f)
                ))
            }
            other => err(other),
        });
    }
    let count_sql = format!("SELECT count(*) FROM main.{}", quote(&info.name));
    let new_row_count: i64 = conn.query_row(&count_sql, [], |r| r.get(0)).map_err(err)?;
    reporter.report(Stage::Finishing, inserted, Some(inserted), size);
    Ok(ImportOutcome {
        table: info.name.clone(),
        created: plan.create,
        rows: inserted,
        columns: plan.columns.clone(),
        new_row_count: new_row_count.max(0) as u64,
        format: plan.format,
    })
}

fn forget(journal: &Journal, chunks: &[ChunkId]) {
    for &chunk in chunks {
        // Best effort: a stale record is harmless, undo verifies rows first.
        let _ = journal.remove_chunk(chunk);
    }
}

/// `INSERT OR ABORT INTO main.t (columns) VALUES (?1, ...)` plus `returning`.
/// OR ABORT overrides ON CONFLICT REPLACE/IGNORE clauses in the schema,
/// which would otherwise delete existing rows or drop imported ones silently.
fn insert_sql(table: &str, columns: &[&str], returning: &str) -> String {
    if columns.is_empty() {
        return format!(
            "INSERT OR ABORT INTO main.{} DEFAULT VALUES{returning}",
            quote(table)
        );
    }
    format!(
        "INSERT OR ABORT INTO main.{} ({}) VALUES ({}){returning}",
        quote(table),
        quote_list(columns.iter().copied()),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn insert_row<'v>(
    conn: &Connection,
    stmt: &mut Statement<'_>,
    values: impl Iterator<Item = &'v Bound<'v>>,
    keys: &Keys,
) -> rusqlite::Result<RowKey> {
    for (i, v) in values.enumerate() {
        stmt.raw_bind_parameter(i + 1, v)?;
    }
    match keys {
        Keys::Rowid(_) => {
            stmt.raw_execute()?;
            Ok(RowKey::Rowid(conn.last_insert_rowid()))
        }
        Keys::Primary(_) => {
            let width = stmt.column_count();
            let mut rows = stmt.raw_query();
            match rows.next()? {
                Some(row) => Ok(RowKey::Primary(
                    (0..width)
                        .map(|i| super::value::value_at(row, i))
                        .collect::<rusqlite::Result<_>>()?,
                )),
                None => Err(rusqlite::Error::QueryReturnedNoRows),
            }
        }
    }
}

/// Fingerprints of the inserted rows of a rowid table, read back in one
/// range scan (values as stored, after affinity, defaults and triggers).
fn rowid_fingerprints(
    conn: &Connection,
    info: &TableInfo,
    rowid: &str,
    columns: &[String],
    ids: &[i64],
) -> rusqlite::Result<Vec<RecordedRow>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let (Some(&lo), Some(&hi)) = (sorted.first(), sorted.last()) else {
        return Ok(Vec::new());
    };
    let select = quote_list(columns.iter().map(String::as_str));
    let sql = format!(
        "SELECT {rowid}, {select} FROM main.{} WHERE {rowid} BETWEEN ?1 AND ?2 ORDER BY {rowid}",
        quote(&info.name)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([lo, hi])?;
    let mut out = Vec::with_capacity(sorted.len());
    let mut next = sorted.iter().peekable();
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        while next.next_if(|&&k| k < id).is_some() {}
        if next.next_if_eq(&&id).is_none() {
            continue;
        }
        buf.clear();
        for i in 0..columns.len() {
            encode_value(&mut buf, row.get_ref(i + 1)?);
        }
        out.push(RecordedRow {
            key: RowKey::Rowid(id),
            fingerprint: xxhash_rust::xxh3::xxh3_64(&buf),
        });
    }
    Ok(out)
}

/// One value in the byte encoding of [`super::value::encode_row`], read
/// straight from SQLite without allocating: the fingerprints must be the
/// ones undo computes (a unit test holds the two together).
fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend(i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend(f.to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(3);
            out.extend((t.len() as u64).to_le_bytes());
            out.extend(t);
        }
        ValueRef::Blob(b) => {
            out.push(4);
            out.extend((b.len() as u64).to_le_bytes());
            out.extend(b);
        }
    }
}

/// Deferred foreign keys are only checked at COMMIT, which names no row;
/// check them first so the error can name the line.
fn check_deferred_keys(
    db: &Database,
    info: &TableInfo,
    keys: &Keys,
    lines: &[u64],
    shown: &str,
) -> Result<(), DbError> {
    let conn = db.conn();
    let mut stmt = conn
        .prepare("SELECT rowid, \"parent\" FROM pragma_foreign_key_check(?1)")
        .map_err(|e| db.err(e))?;
    let violations: Vec<(Option<i64>, String)> = stmt
        .query_map([&info.name], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| db.err(e))?;
    if violations.is_empty() {
        return Ok(());
    }
    let line_of: HashMap<i64, u64> = match keys {
        Keys::Rowid(ids) => ids.iter().copied().zip(lines.iter().copied()).collect(),
        Keys::Primary(_) => HashMap::new(),
    };
    for (rowid, parent) in &violations {
        if let Some(line) = rowid.and_then(|id| line_of.get(&id)) {
            return Err(DbError::Refused(format!(
                "{shown} line {line}: FOREIGN KEY constraint failed (no matching row in '{parent}'). Nothing was imported."
            )));
        }
    }
    Ok(())
}

/// Errors that concern one row, not the database or the connection.
fn is_row_error(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig)
    )
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqliteFailure(f, None) => f.to_string(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------

/// What deleting a table would remove, for the confirmation dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropPreview {
    pub name: String,
    pub kind: ObjectKind,
    /// Rows it holds (`None` for a virtual table whose module is missing).
    pub rows: Option<u64>,
    /// Other tables whose foreign keys point at it; non-empty means
    /// [`drop_table`] will refuse.
    pub referenced_by: Vec<String>,
}

/// What a drop removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropOutcome {
    pub name: String,
    pub kind: ObjectKind,
    pub rows: Option<u64>,
}

/// Says what deleting `name` would remove, without changing anything.
pub fn preview_drop(db: &Database, name: &str) -> Result<DropPreview, DbError> {
    let object = find_object(db, name)?;
    let rows = row_count(db, &object)?;
    let referenced_by = if object.kind == ObjectKind::View {
        Vec::new()
    } else {
        referencing_tables(db, &object.name)?
    };
    Ok(DropPreview {
        name: object.name,
        kind: object.kind,
        rows,
        referenced_by,
    })
}

/// Tables other than `table` with a foreign key pointing at it.
fn referencing_tables(db: &Database, table: &str) -> Result<Vec<String>, DbError> {
    let mut names: Vec<String> = referencing_keys(db, table)?
        .into_iter()
        .map(|(child, _)| child)
        .filter(|child| !child.eq_ignore_ascii_case(table))
        .collect();
    names.dedup();
    Ok(names)
}

/// Deletes a table (with its rows, indexes and triggers) or a view. Refuses
/// when other tables have foreign keys pointing at it.
pub fn drop_table(db: &mut Database, name: &str) -> Result<DropOutcome, DbError> {
    db.require_writable()?;
    let db: &Database = db;
    let tx = TxGuard::begin(db.conn()).map_err(|e| db.err(e))?;
    let preview = preview_drop(db, name)?;
    if !preview.referenced_by.is_empty() {
        let n = preview.referenced_by.len();
        return Err(DbError::Refused(format!(
            "Cannot delete table '{}': {} {} {} foreign {} that {} at it. Delete {} first, or remove {} foreign {}.",
            preview.name,
            plural_word(n, "table", "tables"),
            and_list(&preview.referenced_by),
            plural_word(n, "has a", "have"),
            plural_word(n, "key", "keys"),
            plural_word(n, "points", "point"),
            plural_word(n, "that table", "those tables"),
            plural_word(n, "its", "their"),
            plural_word(n, "key", "keys"),
        )));
    }
    let what = if preview.kind == ObjectKind::View {
        "VIEW"
    } else {
        "TABLE"
    };
    db.conn()
        .execute_batch(&format!("DROP {what} main.{}", quote(&preview.name)))
        .map_err(|e| db.err(e))?;
    tx.commit().map_err(|e| db.err(e))?;
    Ok(DropOutcome {
        name: preview.name,
        kind: preview.kind,
        rows: preview.rows,
    })
}

/// `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`.
fn and_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    type Records = Vec<(u64, Vec<(String, bool)>)>;

    fn csv_records(text: &str) -> Result<Records, DbError> {
        let mut reader = CsvReader::new(
            text.as_bytes(),
            b',',
            Place {
                name: "t.csv".into(),
            },
        )?;
        let mut out = Vec::new();
        while reader.read_record()? {
            let fields = reader
                .fields
                .iter()
                .map(|&(s, e, q)| (reader.text[s..e].to_string(), q))
                .collect();
            out.push((reader.record_line, fields));
        }
        Ok(out)
    }

    fn f(text: &str, quoted: bool) -> (String, bool) {
        (text.to_string(), quoted)
    }

    #[test]
    fn csv_reader_keeps_quotes_lines_and_empties_apart() {
        let records = csv_records("a,b\r\n\"x,\"\"y\"\"\",\n\"multi\nline\",\"\"\nlast,1").unwrap();
        assert_eq!(
            records,
            vec![
                (1, vec![f("a", false), f("b", false)]),
                (2, vec![f("x,\"y\"", true), f("", false)]),
                (3, vec![f("multi\nline", true), f("", true)]),
                (5, vec![f("last", false), f("1", false)]),
            ]
        );
    }

    #[test]
    fn csv_reader_names_the_line_of_errors() {
        let e = csv_records("a,b\n1,2\n\"open,3\n4,5\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv line 3: a quoted field starts here and is never closed. Nothing was imported."
        );
        let e = csv_records("a\n\"x\"y\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv line 2: there is text after the closing quote"),
            "{e}"
        );
        let mut bytes = b"a\nok\n\"two\nlines \xff\"\n".to_vec();
        bytes.extend_from_slice(b"z\n");
        let mut reader = CsvReader::new(
            &bytes[..],
            b',',
            Place {
                name: "t.csv".into(),
            },
        )
        .unwrap();
        assert!(reader.read_record().unwrap());
        assert!(reader.read_record().unwrap());
        let e = reader.read_record().unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv line 4: the text is not valid UTF-8 (save the file as UTF-8 and try again). Nothing was imported."
        );
    }

    #[test]
    fn classify_keeps_codes_as_text() {
        for (text, kind) in [
            ("0", TextKind::Int),
            ("-17", TextKind::Int),
            ("42", TextKind::Int),
            ("02134", TextKind::Text),
            ("+14155550100", TextKind::Text),
            ("555-0100", TextKind::Text),
            ("12345678901234567890", TextKind::Text),
            ("3.25", TextKind::Real),
            ("-0.5", TextKind::Real),
            ("1e16", TextKind::Real),
            ("2.5E-3", TextKind::Real),
            ("1.", TextKind::Text),
            (".5", TextKind::Text),
            ("00.5", TextKind::Text),
            ("TRUE", TextKind::Bool),
            ("false", TextKind::Bool),
            (" 1", TextKind::Text),
            ("NaN", TextKind::Text),
            ("inf", TextKind::Text),
        ] {
            assert_eq!(classify(text), kind, "{text}");
        }
    }

    #[test]
    fn csv_writer_quotes_only_what_needs_it() {
        let mut line = Vec::new();
        for (i, v) in [
            ValueRef::Null,
            ValueRef::Text(b""),
            ValueRef::Text(b"a,b"),
            ValueRef::Text(b"say \"hi\""),
            ValueRef::Integer(-3),
            ValueRef::Real(3.0),
            ValueRef::Real(1e16),
            ValueRef::Real(0.1),
            ValueRef::Blob(&[0, 255, 16]),
            ValueRef::Text("日本".as_bytes()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                line.push(b',');
            }
            push_csv_value(&mut line, v);
        }
        assert_eq!(
            String::from_utf8(line).unwrap(),
            ",\"\",\"a,b\",\"say \"\"hi\"\"\",-3,3.0,1e16,0.1,00ff10,日本"
        );
    }

    #[test]
    fn fingerprints_match_the_ones_undo_computes() {
        let values = [
            Value::Null,
            Value::Integer(-7),
            Value::Real(2.5),
            Value::Text("O'Brien 日本".into()),
            Value::Blob(vec![0, 255]),
            Value::Text(String::new()),
        ];
        let mut buf = Vec::new();
        for v in &values {
            encode_value(&mut buf, ValueRef::from(v));
        }
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(&buf),
            crate::db::value::fingerprint(&values)
        );
    }

    #[test]
    fn names_are_cleaned_and_deduplicated() {
        let header: Vec<String> = ["id", " Name ", "", "name", "NAME", "id"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            column_names(&header),
            ["id", "Name", "column_3", "name_2", "NAME_3", "id_2"]
        );
        assert_eq!(
            table_name_for(Path::new("/x/sales 2024 (final).csv")),
            "sales_2024_final"
        );
        assert_eq!(table_name_for(Path::new("2024.csv")), "t_2024");
        assert_eq!(
            table_name_for(Path::new("sqlite_stuff.json")),
            "t_sqlite_stuff"
        );
        assert_eq!(table_name_for(Path::new("...csv")), "imported");
        assert_eq!(export_file_name("a/b:c"), "a_b_c.csv");
        assert_eq!(export_file_name(".."), "export.csv");
    }

    #[test]
    fn json_reader_streams_objects_with_their_lines() {
        let text =
            "[\n {\"a\": 1, \"b\": \"x\"},\n {\"b\": null,\n  \"c\": [1, {\"d\": \"}\"}]}\n]\n";
        let mut r = JsonReader::new(
            text.as_bytes(),
            true,
            Vec::new(),
            true,
            Place {
                name: "t.json".into(),
            },
        )
        .unwrap();
        assert!(r.read_record().unwrap());
        assert_eq!(r.record_line, 2);
        assert_eq!(r.cell(0), Cell::Int(1));
        assert!(r.read_record().unwrap());
        assert_eq!(r.record_line, 3);
        assert_eq!(r.keys, ["a", "b", "c"]);
        assert_eq!(r.cell(0), Cell::Missing);
        assert_eq!(r.cell(1), Cell::Null);
        assert_eq!(r.cell(2), Cell::Str("[1,{\"d\":\"}\"}]"));
        assert!(!r.read_record().unwrap());

        let bad = "{\"a\": 1}\n{\"a\": 2,}\n";
        let mut r = JsonReader::new(
            bad.as_bytes(),
            false,
            Vec::new(),
            true,
            Place {
                name: "t.jsonl".into(),
            },
        )
        .unwrap();
        assert!(r.read_record().unwrap());
        let e = r.read_record().unwrap_err().to_string();
        assert!(
            e.starts_with("t.jsonl line 2: invalid JSON (trailing comma"),
            "{e}"
        );
    }
}
