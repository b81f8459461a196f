//! A SQLite database file: opening it safely, and the one connection every SQLite
//! operation goes through.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use rand::RngCore;

use super::CancelFlag;
use super::backend::Interrupter;
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
use super::write::{BatchOutcome, BatchWriter, WriteOptions};
use super::{
    Backend, DbError, OpenOptions, catalog, formats, lineage, lookup, profile, sample, table_state,
};

/// An open SQLite database file.
pub struct Sqlite {
    conn: Connection,
    path: PathBuf,
    writable: bool,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("path", &self.path)
            .field("writable", &self.writable)
            .finish()
    }
}

/// Whether a crashed writer left a rollback journal beside the file.
fn hot_journal(path: &Path) -> bool {
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    std::fs::metadata(Path::new(&journal)).is_ok_and(|m| m.len() > 0)
}

/// Opens the file for writing once so that SQLite rolls back the crashed writer's
/// half-done transaction (it does so on the first read), then closes it again.
fn recover_hot_journal(path: &Path, busy: Duration, shown: &str) -> Result<(), DbError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| DbError::from_sqlite(e, shown))?;
    conn.busy_timeout(busy)
        .map_err(|e| DbError::from_sqlite(e, shown))?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match DbError::from_sqlite(e, shown) {
        DbError::ReadOnly { path } => DbError::CannotRollBack { path },
        other => other,
    })?;
    Ok(())
}

/// The 16 bytes every SQLite 3 database file starts with.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The one way rowsmith writes: a transaction that takes the write lock at once
/// (IMMEDIATE: the busy timeout applies, and two writers queue instead of failing half-way),
/// rolled back when dropped uncommitted, and rolled back too when COMMIT itself fails, so
/// the connection is never left inside a transaction.
pub(crate) fn write_transaction(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

impl Sqlite {
    /// Opens `path`, checking first that it exists and really is a SQLite file,
    /// so every failure is one clear sentence rather than a late SQLite error.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(DbError::IsDirectory { path: shown }),
            Ok(meta) => check_header(path, meta.len())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !options.create {
                    return Err(DbError::NotFound {
                        path: shown,
                        offer_create: options.offer_create,
                    });
                }
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                    && !parent.is_dir()
                {
                    return Err(DbError::NotFound {
                        offer_create: false,
                        path: parent.display().to_string(),
                    });
                }
            }
            Err(e) => {
                return Err(DbError::Io {
                    path: shown,
                    detail: e.to_string(),
                });
            }
        }

        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        if options.write {
            flags |= OpenFlags::SQLITE_OPEN_READ_WRITE;
            if options.create {
                flags |= OpenFlags::SQLITE_OPEN_CREATE;
            }
        } else {
            flags |= OpenFlags::SQLITE_OPEN_READ_ONLY;
        }
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| DbError::from_sqlite(e, &shown))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| DbError::from_sqlite(e, &shown))?;
        // Let SQLite judge foreign keys on every write we make.
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| DbError::from_sqlite(e, &shown))?;
        formats::register_sql_functions(&conn).map_err(|e| DbError::from_sqlite(e, &shown))?;
        // `rarray(?)` binds a list of keys as one parameter.
        rusqlite::vtab::array::load_module(&conn).map_err(|e| DbError::from_sqlite(e, &shown))?;

        // Reading the schema proves the file is a readable database now, rather
        // than failing later in the middle of some other operation.
        let read = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        });
        if let Err(e) = read {
            let error = DbError::from_sqlite(e, &shown);
            if !options.write && matches!(error, DbError::ReadOnly { .. }) && hot_journal(path) {
                drop(conn);
                if !options.recover {
                    return Err(DbError::UnfinishedWrite { path: shown });
                }
                recover_hot_journal(path, options.busy_timeout, &shown)?;
                let again = OpenOptions {
                    recover: false,
                    ..options.clone()
                };
                return Self::open(path, &again);
            }
            return Err(error);
        }

        if options.write && conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(DbError::ReadOnly { path: shown });
        }

        Ok(Self {
            conn,
            path: path.to_path_buf(),
            writable: options.write,
        })
    }

    /// A private in-memory database with rowsmith's SQL functions, for work another
    /// engine hands to SQLite (profiling a sample of its rows the way files are profiled).
    pub fn scratch() -> Result<Self, DbError> {
        let shown = "a scratch database in memory";
        let err = |e| DbError::from_sqlite(e, shown);
        let conn = Connection::open_in_memory().map_err(err)?;
        formats::register_sql_functions(&conn).map_err(err)?;
        rusqlite::vtab::array::load_module(&conn).map_err(err)?;
        Ok(Self {
            conn,
            path: PathBuf::from(":memory:"),
            writable: true,
        })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as shown to the user in messages.
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// A handle that interrupts this connection's running statement from
    /// another thread.
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// Turns a rusqlite error into a sentence that names this database.
    pub fn err(&self, e: rusqlite::Error) -> DbError {
        DbError::from_sqlite(e, &self.display_path())
    }

    /// Fails with a clear message when this handle was opened read-only.
    pub fn require_writable(&self) -> Result<(), DbError> {
        if self.writable {
            Ok(())
        } else {
            Err(DbError::ReadOnly {
                path: self.display_path(),
            })
        }
    }
}

impl Interrupter for rusqlite::InterruptHandle {
    fn interrupt(&self) {
        rusqlite::InterruptHandle::interrupt(self);
    }
}

impl Backend for Sqlite {
    fn display_name(&self) -> String {
        self.display_path()
    }

    fn address(&self) -> &Path {
        &self.path
    }

    fn dialect(&self) -> super::Dialect {
        super::Dialect::Sqlite
    }

    fn is_writable(&self) -> bool {
        self.writable
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(self.conn.get_interrupt_handle())
    }

    fn list_objects(&self) -> Result<Vec<ObjectSummary>, DbError> {
        catalog::list_objects(self)
    }

    fn table_info(&self, name: &str) -> Result<TableInfo, DbError> {
        catalog::table_info(self, name)
    }

    fn load_catalog(&self) -> Result<Vec<TableInfo>, DbError> {
        catalog::load_catalog(self)
    }

    fn row_count(&self, object: &ObjectSummary) -> Result<Option<u64>, DbError> {
        catalog::row_count(self, object)
    }

    fn count(&self, table: &TableInfo) -> Result<u64, DbError> {
        lookup::count(self, table)
    }

    fn sample_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Sample, DbError> {
        sample::sample_columns(self, table, columns, k, rng)
    }

    fn profile_table(
        &self,
        table: &TableInfo,
        options: &ProfileOptions,
        rng: &mut dyn RngCore,
    ) -> Result<TableProfile, DbError> {
        profile::profile_table(self, table, options, rng)
    }

    fn exists(&self, table: &str, columns: &[String], values: &[Value]) -> Result<bool, DbError> {
        lookup::exists(self, table, columns, values)
    }

    fn sequence_max(&self, table: &TableInfo, column: &str, prefix: Option<&str>) -> Option<i64> {
        lookup::sequence_max(self, table, column, prefix)
    }

    fn scan_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        each: &mut dyn FnMut(&[Value]),
    ) -> Result<(), DbError> {
        lookup::scan_columns(self, table, columns, each)
    }

    fn in_snapshot(&self, work: &mut dyn FnMut() -> Result<(), DbError>) -> Result<(), DbError> {
        // A deferred transaction takes SQLite's shared lock at its first read and keeps it.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        work()?;
        snapshot.commit().map_err(|e| self.err(e))
    }

    fn table_state(&self, table: &TableInfo) -> Result<Option<TableState>, DbError> {
        table_state::read(self, table)
    }

    fn write_rows(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        rows: &[Vec<Option<Value>>],
        options: &WriteOptions<'_>,
    ) -> Result<BatchOutcome, DbError> {
        BatchWriter::new(table, columns)?.write_with(self, rows, options)
    }

    fn read_fingerprints(
        &self,
        table: &TableInfo,
        columns: &[String],
        keys: &[RowKey],
    ) -> Result<Vec<(RowKey, Option<u64>)>, DbError> {
        super::write::read_fingerprints(self.conn(), table, columns, keys.iter())
            .map_err(|e| self.err(e))
    }

    fn in_write_transaction(
        &mut self,
        work: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let path = self.display_path();
        let err = |e| DbError::from_sqlite(e, &path);
        // IMMEDIATE: the write lock is held from the first read, so nothing changes
        // between what `work` checks and what it deletes.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        match work(self) {
            Ok(()) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(err(e))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn remove_rows(&mut self, removals: &[Removal<'_>]) -> Result<Vec<u64>, DbError> {
        super::undo::remove::remove_rows(self, removals)
    }

    fn insert_triggers(&self, table: &str) -> bool {
        super::undo::remove::insert_triggers(self, table)
    }

    fn read_page(
        &self,
        table: &TableInfo,
        lens: &Lens,
        anchor: &Anchor,
        limit: usize,
    ) -> Result<Page, DbError> {
        super::browse::read_page(self, table, lens, anchor, limit)
    }

    fn read_cell(
        &self,
        table: &TableInfo,
        lens: &Lens,
        key: &Key,
        column: &str,
    ) -> Result<Value, DbError> {
        super::browse::read_cell(self, table, lens, key, column)
    }

    fn export_csv(
        &self,
        object: &ObjectSummary,
        out: &mut dyn std::io::Write,
        options: &ExportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ExportOutcome, DbError> {
        super::transfer::export_object(self, object, out, options, progress)
    }

    fn preview_drop(&self, name: &str) -> Result<DropPreview, DbError> {
        super::transfer::preview_sqlite(self, name)
    }

    fn drop_table(&mut self, name: &str) -> Result<DropOutcome, DbError> {
        super::transfer::drop_sqlite(self, name)
    }

    fn fan_out(&self, link: Link<'_>) -> Result<Vec<(u64, u64)>, DbError> {
        lineage::fan_out(self, link)
    }

    fn null_share(&self, link: Link<'_>) -> Result<f64, DbError> {
        lineage::null_share(self, link)
    }

    fn parents_with_counts(
        &self,
        link: Link<'_>,
        cap: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Vec<u64>), DbError> {
        lineage::parents_with_counts(self, link, cap, rng)
    }

    fn rows_by_key(&self, table: &TableInfo, keys: &[RowKey]) -> Result<Rows, DbError> {
        lineage::rows_by_key(self, table, keys)
    }

    fn children_with_parents(
        &self,
        link: Link<'_>,
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Rows, Vec<Option<usize>>), DbError> {
        lineage::children_with_parents(self, link, k, rng)
    }

    fn families(&self, link: Link<'_>, k: usize) -> Result<(Rows, Rows, Vec<Vec<usize>>), DbError> {
        lineage::families(self, link, k)
    }

    fn set_values(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        changes: &[SetValues],
        cancel: &CancelFlag,
    ) -> Result<(), DbError> {
        super::revise::set_values(&self.conn, table, columns, changes, cancel)
    }

    fn sum_children(
        &mut self,
        link: Link<'_>,
        sum: &ChildSum,
        parents: &[RowKey],
        cancel: &CancelFlag,
    ) -> Result<(), DbError> {
        super::revise::sum_children(&self.conn, link, sum, parents, cancel)
    }

    fn copy_into(&self, into: &Path) -> Result<(), DbError> {
        self.conn
            .execute("VACUUM INTO ?1", [into.display().to_string()])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    fn apply_import(
        &mut self,
        plan: &ImportPlan,
        options: &ImportOptions<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportOutcome, DbError> {
        super::transfer::apply_sqlite(self, plan, options, progress)
    }

    fn free_table_name(&self, base: &str) -> Result<String, DbError> {
        super::transfer::free_sqlite_name(self, base)
    }

    fn into_gated_queries(self: Box<Self>) -> Result<Box<dyn GatedQueries>, DbError> {
        Ok(Box::new(super::query::sqlite::SqliteQueries::new(*self)?))
    }

    fn as_sqlite(&self) -> Option<&Sqlite> {
        Some(self)
    }

    fn as_sqlite_mut(&mut self) -> Option<&mut Sqlite> {
        Some(self)
    }
}

/// An empty file is a valid (empty) database; anything else must carry the
/// SQLite header.
fn check_header(path: &Path, len: u64) -> Result<(), DbError> {
    if len == 0 {
        return Ok(());
    }
    let shown = path.display().to_string();
    let mut header = [0u8; 16];
    let read = File::open(path)
        .and_then(|mut f| {
            let mut filled = 0;
            while filled < header.len() {
                let n = f.read(&mut header[filled..])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            Ok(filled)
        })
        .map_err(|e| DbError::Io {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
    if read < header.len() || &header != SQLITE_HEADER {
        return Err(DbError::NotSqlite { path: shown });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A COMMIT that fails (a deferred foreign key still broken) leaves the connection
    /// out of any transaction, so the next write is not silently part of this one.
    #[test]
    fn a_failed_commit_leaves_no_transaction_open() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED);",
        )?;
        let tx = write_transaction(&conn)?;
        conn.execute("INSERT INTO c VALUES (7)", [])?;
        assert!(tx.commit().is_err());
        assert!(conn.is_autocommit());
        let left: i64 = conn.query_row("SELECT count(*) FROM c", [], |r| r.get(0))?;
        assert_eq!(left, 0, "the failed transaction was rolled back");
        Ok(())
    }
}
