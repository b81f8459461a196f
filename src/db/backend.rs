//! The interface every database engine implements, so the generation job, the app and
//! the commands never know which one they talk to.
//!
//! An engine is a set of files behind this trait (`sqlite.rs`, `postgres/`); the only
//! place that names them all is [`super::Database::open`], which picks one by the address
//! it is given. A method takes the engine's own view of a table ([`TableInfo`]) and
//! values as [`Value`]s; what SQL it runs, and how, is its own business.

use std::path::Path;
use std::sync::Arc;

use rand::RngCore;

use super::CancelFlag;
use super::browse::{Anchor, Key, Lens, Page};
use super::catalog::{ObjectSummary, TableInfo};
use super::journal::RowKey;
use super::lineage::{Link, Rows};
use super::profile::{ProfileOptions, TableProfile};
use super::query::GatedQueries;
use super::revise::{ChildSum, SetValues};
use super::sample::Sample;
use super::table_state::TableState;
use super::transfer::{
    DropOutcome, DropPreview, ExportOptions, ExportOutcome, ImportOptions, ImportOutcome,
    ImportPlan, Progress,
};
use super::undo::Removal;
use super::value::Value;
use super::write::{BatchOutcome, WriteOptions};
use super::{DbError, Sqlite};

/// One open database of some engine.
pub trait Backend: Send {
    // Who it is.

    /// How the database is named in sentences: a path, or a URL without its password.
    fn display_name(&self) -> String;

    /// The address it was opened with, to open it again from another thread or job
    /// (for a server, a URL that may hold a password: never shown).
    fn address(&self) -> &Path;

    /// The SQL dialect its statements are written in: what a model is asked to write.
    fn dialect(&self) -> Dialect;

    /// Whether it was opened for writing.
    fn is_writable(&self) -> bool;

    /// A handle that stops this connection's running statement from another thread.
    fn interrupter(&self) -> Arc<dyn Interrupter>;

    /// A new connection to the same database when this one was lost (a server restarted,
    /// a session terminated); `None` while it is fine, as a file's always is.
    fn reconnect(&self) -> Option<Result<Box<dyn Backend>, DbError>> {
        None
    }

    // The schema.

    /// Tables, views and other relations by name, without reading any rows.
    fn list_objects(&self) -> Result<Vec<ObjectSummary>, DbError>;

    /// The full description of one object, found as the engine resolves names.
    fn table_info(&self, name: &str) -> Result<TableInfo, DbError>;

    /// Finds an object by name: exact match first, then ignoring case.
    fn find_object(&self, name: &str) -> Result<ObjectSummary, DbError> {
        let objects = self.list_objects()?;
        objects
            .iter()
            .find(|o| o.name == name)
            .or_else(|| objects.iter().find(|o| o.name.eq_ignore_ascii_case(name)))
            .cloned()
            .ok_or_else(|| DbError::UnknownTable {
                name: name.to_string(),
                path: self.display_name(),
            })
    }

    /// Every object described.
    fn load_catalog(&self) -> Result<Vec<TableInfo>, DbError> {
        self.list_objects()?
            .iter()
            .map(|o| self.table_info(&o.name))
            .collect()
    }

    /// The rows of a listed object; `None` when they cannot be counted (a virtual table
    /// whose module is missing, a foreign table whose server is away).
    fn row_count(&self, object: &ObjectSummary) -> Result<Option<u64>, DbError>;

    /// The exact number of rows of a table.
    fn count(&self, table: &TableInfo) -> Result<u64, DbError>;

    // Reading rows: samples, profiles, lookups, pages.

    /// Up to `k` distinct rows of `table` at random, reading only `columns`, without
    /// scanning the table.
    fn sample_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Sample, DbError>;

    /// Up to `k` rows of every visible column of `table`, at random.
    fn sample_rows(
        &self,
        table: &TableInfo,
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Sample, DbError> {
        let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
        self.sample_columns(table, &columns, k, rng)
    }

    /// Per-column statistics, bounded by `options` however large the table.
    fn profile_table(
        &self,
        table: &TableInfo,
        options: &ProfileOptions,
        rng: &mut dyn RngCore,
    ) -> Result<TableProfile, DbError>;

    /// Whether `table` has a row whose `columns` equal `values` (through an index when
    /// the columns are keyed, as UNIQUE and key columns are).
    fn exists(&self, table: &str, columns: &[String], values: &[Value]) -> Result<bool, DbError>;

    /// Whether each statement is a round trip to a server (so many lookups are better
    /// asked at once) rather than a call into a library in this process.
    fn remote(&self) -> bool {
        false
    }

    /// [`exists`](Self::exists) for many rows of values at once, in their order: one
    /// statement on a server, where each lookup would be a round trip.
    fn exists_many(
        &self,
        table: &str,
        columns: &[String],
        rows: &[Vec<Value>],
    ) -> Result<Vec<bool>, DbError> {
        rows.iter()
            .map(|values| self.exists(table, columns, values))
            .collect()
    }

    /// The largest number in `column`, or after a code prefix (`INV-000123`), read
    /// through its index; `None` when there is none or it cannot be read.
    fn sequence_max(&self, table: &TableInfo, column: &str, prefix: Option<&str>) -> Option<i64>;

    /// Reads `columns` of every row once, handing each row to `each`: for facts that
    /// must hold against the whole table, not a sample.
    fn scan_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        each: &mut dyn FnMut(&[Value]),
    ) -> Result<(), DbError>;

    /// Runs `work` inside one read snapshot: everything it reads through this engine sees
    /// the same state of the database.
    fn in_snapshot(&self, work: &mut dyn FnMut() -> Result<(), DbError>) -> Result<(), DbError>;

    /// What identifies the table's current contents, so facts learned from them can be
    /// kept while they last; `None` when the engine cannot vouch for that (they are then
    /// learned afresh). Call it inside [`in_snapshot`](Self::in_snapshot).
    fn table_state(&self, _table: &TableInfo) -> Result<Option<TableState>, DbError> {
        Ok(None)
    }

    /// Up to `limit` rows of `table` seen through `lens`, at `anchor`, for a grid.
    fn read_page(
        &self,
        table: &TableInfo,
        lens: &Lens,
        anchor: &Anchor,
        limit: usize,
    ) -> Result<Page, DbError>;

    /// One whole value a page cut short.
    fn read_cell(
        &self,
        table: &TableInfo,
        lens: &Lens,
        key: &Key,
        column: &str,
    ) -> Result<Value, DbError>;

    // Writing rows, and taking them back.

    /// Fails with the engine's sentence when rows cannot be added to `table` here (no
    /// privilege, no primary key to undo them by), before any row is made.
    fn check_can_insert(&self, _table: &TableInfo) -> Result<(), DbError> {
        Ok(())
    }

    /// Inserts `rows` (each aligned with `columns`; a `None` slot takes the column's
    /// default) in one transaction, letting the database judge every row: a refused row
    /// is rolled back alone with its reason, the rest go on. The accepted rows are
    /// recorded in the journal before the commit; on cancellation or any error that is
    /// not about one row nothing is written.
    fn write_rows(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        rows: &[Vec<Option<Value>>],
        options: &WriteOptions<'_>,
    ) -> Result<BatchOutcome, DbError>;

    /// Runs `work` in one write transaction, committed when it succeeds and rolled back
    /// when it fails, with this engine's guarantee that what `work` reads does not
    /// change under it.
    fn in_write_transaction(
        &mut self,
        work: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError>;

    /// The current fingerprint over `columns` of each keyed row (see the journal); `None`
    /// for a row that is gone. Inside a write transaction the rows stay as read until it
    /// ends.
    fn read_fingerprints(
        &self,
        table: &TableInfo,
        columns: &[String],
        keys: &[RowKey],
    ) -> Result<Vec<(RowKey, Option<u64>)>, DbError>;

    /// Inside a write transaction: removes exactly the rows `removals` name (given in
    /// the order they were written) children first, refusing when rows outside them
    /// still reference them. Returns how many rows of each removal are gone now.
    fn remove_rows(&mut self, removals: &[Removal<'_>]) -> Result<Vec<u64>, DbError>;

    /// Whether an INSERT trigger fires on `table` (what it wrote elsewhere is not undone).
    fn insert_triggers(&self, table: &str) -> bool;

    // Whole-database runs: parents and children.

    /// How many parents have how many children through `link`: `(children, parents)`
    /// pairs, parents without children included, fewest children first.
    fn fan_out(&self, link: Link<'_>) -> Result<Vec<(u64, u64)>, DbError>;

    /// The share of the child's rows whose key is NULL.
    fn null_share(&self, link: Link<'_>) -> Result<f64, DbError>;

    /// Parent rows (all, or `cap` at random), each with how many children point at it.
    fn parents_with_counts(
        &self,
        link: Link<'_>,
        cap: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Vec<u64>), DbError>;

    /// The rows with these keys (every visible column), in the keys' order; a key no
    /// longer there is left out.
    fn rows_by_key(&self, table: &TableInfo, keys: &[RowKey]) -> Result<Rows, DbError>;

    /// Up to `k` random child rows, each with its parent row (`None` when the key is
    /// NULL or points at nothing).
    fn children_with_parents(
        &self,
        link: Link<'_>,
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Rows, Vec<Option<usize>>), DbError>;

    /// Up to `k` parents that have children, each with its children's rows.
    fn families(&self, link: Link<'_>, k: usize) -> Result<(Rows, Rows, Vec<Vec<usize>>), DbError>;

    /// Inside a write transaction: sets `columns` of the keyed rows to new values.
    fn set_values(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        changes: &[SetValues],
        cancel: &CancelFlag,
    ) -> Result<(), DbError>;

    /// Inside a write transaction: sets each keyed parent's column to the sum over its
    /// children (rounded as the data is).
    fn sum_children(
        &mut self,
        link: Link<'_>,
        sum: &ChildSum,
        parents: &[RowKey],
        cancel: &CancelFlag,
    ) -> Result<(), DbError>;

    /// A complete copy of the database in the file `into`, for a dry run to work on; an
    /// engine that cannot make one says how to.
    fn copy_into(&self, into: &Path) -> Result<(), DbError>;

    // Import, export, delete.

    /// Carries out an import plan in one transaction (creating the table when the plan
    /// says so), recording the rows for undo; on any error nothing is imported.
    fn apply_import(
        &mut self,
        plan: &ImportPlan,
        options: &ImportOptions<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportOutcome, DbError>;

    /// `base_2`, `base_3`, …: the first name no relation of the database uses.
    fn free_table_name(&self, base: &str) -> Result<String, DbError>;

    /// Every row of a table or view as CSV (header first) to `out`, streamed.
    fn export_csv(
        &self,
        object: &ObjectSummary,
        out: &mut dyn std::io::Write,
        options: &ExportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ExportOutcome, DbError>;

    /// What deleting `name` would remove, without changing anything.
    fn preview_drop(&self, name: &str) -> Result<DropPreview, DbError>;

    /// Deletes a table or view in one transaction; refused while other tables'
    /// foreign keys point at it.
    fn drop_table(&mut self, name: &str) -> Result<DropOutcome, DbError>;

    // SQL from a user or a model.

    /// This connection, read-only, behind the engine's gate for user and model SQL.
    fn into_gated_queries(self: Box<Self>) -> Result<Box<dyn GatedQueries>, DbError>;

    // SQLite files themselves.

    /// The SQLite engine behind this handle, for code about SQLite files themselves
    /// (their tests, SQLite-only tools); other engines answer `None`.
    fn as_sqlite(&self) -> Option<&Sqlite> {
        None
    }

    fn as_sqlite_mut(&mut self) -> Option<&mut Sqlite> {
        None
    }
}

/// Stops whatever statement a connection is running; safe to call from any thread, and
/// harmless when nothing runs.
pub trait Interrupter: Send + Sync {
    fn interrupt(&self);
}

/// The SQL an engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The dialect as a person names it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}
