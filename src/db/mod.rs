//! The only code that touches rusqlite.
//!
//! `Database` owns one connection to the user's file and opens it with the
//! checks that keep a mistyped path from becoming a new empty database. The
//! submodules read the schema (`catalog`), choose rows at random (`sample`),
//! describe columns (`profile`), insert candidate rows (`write`) and remember
//! what was inserted so it can be taken back (`journal`, `undo`).

// Reading the user's database.
pub mod read;
pub use read::{browse, catalog, lineage, lookup, profile, sample, table_state, table_stats};
// Writing it: the batch writer, undo, import, export and delete.
pub mod revise;
pub mod transfer;
pub mod undo;
pub mod write;
// The read-only gate for SQL from a user or a model.
pub mod query;
// rowsmith's own files.
pub mod store;
pub use store::{history, journal, profile_cache};
// Helpers: identifiers, values, formats, the SQL tokenizer, CREATE TABLE text, the demo,
// errors.
pub mod demo;
mod error;
pub mod formats;
pub mod ident;
mod sql_lex;
pub mod sql_text;
pub mod value;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use error::DbError;

/// Default time a statement waits for another writer before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// How a database is opened.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Open for writing. Read-only opens can never change the file.
    pub write: bool,
    /// Create the file when it does not exist (only for `--create` and the demo).
    pub create: bool,
    /// How long to wait for a lock held by another connection.
    pub busy_timeout: Duration,
    /// The caller can create the file (`--create`): a missing file's sentence says so.
    pub offer_create: bool,
    /// A read-only open may roll back what a crashed writer left half-done (a hot
    /// journal) by opening for writing once. Off under `--read-only`.
    pub recover: bool,
}

impl OpenOptions {
    pub fn read_only() -> Self {
        Self {
            write: false,
            create: false,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            offer_create: false,
            recover: true,
        }
    }

    pub fn read_write() -> Self {
        Self {
            write: true,
            ..Self::read_only()
        }
    }

    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        if create {
            self.write = true;
        }
        self
    }

    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

/// An open SQLite database file.
pub struct Database {
    conn: Connection,
    path: PathBuf,
    writable: bool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
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

impl Database {
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

/// A cancellation flag shared between whoever runs a database operation and
/// whoever may stop it (a UI key, Ctrl-C, a failed sibling task).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
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
