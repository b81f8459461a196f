//! CSV and JSON import, CSV export, and deleting tables.
//!
//! Everything here is headless: no printing, progress through a callback,
//! cancellation through a [`CancelFlag`](super::CancelFlag), errors as one plain sentence. The
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
//! reader and writer in `csv.rs`. Blobs are written as lowercase hex; reals always
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
//!
//! # Layout
//!
//! - `source`: the buffered byte reader, cells and error places the readers share
//! - `csv`: the CSV reader and writer (quoting, line numbers, NULL vs empty text)
//! - `json`: the JSON array / JSON Lines reader
//! - `reader`: file formats and opening an import file as rows
//! - `infer`: column type inference
//! - `names`: table, column and export file names
//! - `import`: planning an import ([`plan_import`], [`import_file`])
//! - `convert`: turning cells into the values bound for a column
//! - `apply`: carrying out a plan in one transaction ([`apply_import`])
//! - `record`: recording imported rows in the undo journal
//! - `tx`: the transaction and page-cache guards
//! - `export`: CSV export ([`export_table`], [`write_csv`], ...)
//! - `temp_file`: the file an export writes before it is renamed into place
//! - `drop`: deleting tables ([`preview_drop`], [`drop_table`])
//! - `refusal`: why an import, export or drop was refused ([`ImportRefusal`], ...)

use serde::Serialize;

mod apply;
mod cache_boost;
mod convert;
mod csv;
mod drop;
mod export;
mod import;
mod infer;
mod json;
mod names;
mod plan_rows;
mod reader;
mod record;
mod refusal;
mod source;
mod spool;
mod temp_file;
pub(crate) use temp_file::TempFile;

pub use apply::apply_import;
pub(crate) use apply::apply_sqlite;
pub use csv::CsvWriter;
pub use drop::{DropOutcome, DropPreview, drop_table, preview_drop};
pub(crate) use drop::{drop_sqlite, preview_sqlite};
pub use export::{
    ExportOptions, ExportOutcome, default_export_path, export_query, export_statement,
    export_table, export_table_to, write_csv,
};
pub(crate) use export::{csv_write_error, export_object};
pub(crate) use import::free_sqlite_name;
pub use import::{
    ImportOptions, ImportOutcome, ImportPlan, ImportStep, PlannedColumn, free_table_name,
    import_file, import_unless_appending, plan_import,
};
pub use infer::InferredType;
pub use names::{export_file_name, table_name_for};
pub(crate) use plan_rows::PlanRows;
pub use reader::{FileFormat, detect_format};
pub use refusal::{DropRefusal, ExportRefusal, ImportRefusal, JsonFound, LineProblem};
pub use source::MAX_RECORD_BYTES;

/// How many rows pass between two progress reports, unless told otherwise.
pub const PROGRESS_EVERY: u64 = 10_000;

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
pub(crate) struct Reporter<'p> {
    callback: &'p mut dyn FnMut(Progress),
    every: u64,
    total_bytes: Option<u64>,
}

impl<'p> Reporter<'p> {
    /// `every` of 0 is taken as 1.
    pub(crate) fn new(
        callback: &'p mut dyn FnMut(Progress),
        every: u64,
        total_bytes: Option<u64>,
    ) -> Self {
        Self {
            callback,
            every: every.max(1),
            total_bytes,
        }
    }

    pub(crate) fn due(&self, rows: u64) -> bool {
        rows.is_multiple_of(self.every)
    }

    pub(crate) fn report(&mut self, stage: Stage, rows: u64, total_rows: Option<u64>, bytes: u64) {
        (self.callback)(Progress {
            stage,
            rows,
            total_rows,
            bytes,
            total_bytes: self.total_bytes,
        });
    }
}
