//! The only code that touches a database.
//!
//! [`Database`] is one open database of any engine: a box of [`Backend`], the interface
//! the job, the app and the commands call (`backend.rs`). Engines sit behind it side by
//! side:
//!
//! - SQLite files: `sqlite.rs` (opening a file safely, and the trait) over the capability
//!   modules below (`read/*`, `write`, `undo/remove`, `revise`, `transfer/*`,
//!   `query/sqlite`), which also define the types every engine shares (`TableInfo`,
//!   `Sample`, `TableProfile`, `Page`, `Rows`, …);
//! - Postgres: `postgres/`, reached by a `postgres://` URL.
//!
//! What is the same for every engine is written once against the trait: the undo planner
//! (`undo`), a table's count and profile with the profile cache (`table_stats`), the
//! import planner and export's files (`transfer`), the query session and its paging
//! (`query`). rowsmith's own files (the undo journal, the query history, kept profiles)
//! are SQLite files of its own (`store`), whatever engine the user's database is.

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

use std::path::Path;
use std::time::Duration;

pub use backend::{Backend, Dialect, Interrupter};
pub use error::DbError;
pub use sqlite::Sqlite;
pub(crate) use sqlite::write_transaction;

mod backend;
pub mod postgres;
mod sqlite;

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

/// Opens a database of one engine by its address.
pub type OpenEngine = fn(&Path, &OpenOptions) -> Result<Box<dyn Backend>, DbError>;

/// An engine reached by a URL rather than a file path. Adding one (MySQL) is its files
/// behind [`Backend`] and an entry here: the only place that names them.
pub struct ServerEngine {
    /// Whether `address` is this engine's URL (`postgres://…`).
    pub claims: fn(&str) -> bool,
    pub open: OpenEngine,
    /// How rowsmith's own files (the undo journal, the query history) name the database:
    /// never with its password.
    pub key: fn(&str) -> String,
}

const SERVER_ENGINES: &[ServerEngine] = &[ServerEngine {
    claims: postgres::is_postgres_url,
    open: postgres::open_backend,
    key: postgres::address_key,
}];

/// The server engine `path` is an address of; `None` for a SQLite file.
pub fn server_engine(path: &Path) -> Option<&'static ServerEngine> {
    let text = path.to_string_lossy();
    SERVER_ENGINES.iter().find(|e| (e.claims)(&text))
}

/// An open database of any engine: what the job, the app and the commands hold.
///
/// It derefs to the engine's [`Backend`], so `db.table_info(name)` asks whichever engine
/// is behind it; the few helpers here are built on that interface alone.
pub struct Database {
    engine: Box<dyn Backend>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.engine.display_name())
            .field("writable", &self.engine.is_writable())
            .finish()
    }
}

impl std::ops::Deref for Database {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        self.engine.as_ref()
    }
}

impl std::ops::DerefMut for Database {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.engine.as_mut()
    }
}

impl Database {
    /// Opens the database `path` names, with the engine its address calls for.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Self, DbError> {
        match server_engine(path) {
            Some(engine) => Ok(Self::from_engine((engine.open)(path, options)?)),
            None => Ok(Self::from_engine(Box::new(Sqlite::open(path, options)?))),
        }
    }

    pub fn from_engine(engine: Box<dyn Backend>) -> Self {
        Self { engine }
    }

    /// Connects again when the connection to a server was lost; nothing for a file, or
    /// while the connection is fine. When it cannot, the old handle stays and its next
    /// statement says what happened.
    pub fn revive(&mut self) -> bool {
        match self.engine.reconnect() {
            Some(Ok(engine)) => {
                self.engine = engine;
                true
            }
            _ => false,
        }
    }

    /// The database as named in sentences (never with a password).
    pub fn display_path(&self) -> String {
        self.engine.display_name()
    }

    /// Fails with a clear message when this handle was opened read-only.
    pub fn require_writable(&self) -> Result<(), DbError> {
        if self.engine.is_writable() {
            Ok(())
        } else {
            Err(DbError::ReadOnly {
                path: self.display_path(),
            })
        }
    }

    /// This connection (opened read-only) behind its engine's gate for user SQL.
    pub fn into_gated_queries(self) -> Result<Box<dyn query::GatedQueries>, DbError> {
        self.engine.into_gated_queries()
    }

    /// The SQLite engine, for code about SQLite files themselves; another engine is
    /// refused with [`DbError::NotOnThisEngine`].
    pub fn sqlite(&self) -> Result<&Sqlite, DbError> {
        let path = self.display_path();
        self.engine
            .as_sqlite()
            .ok_or(DbError::NotOnThisEngine { path })
    }

    pub fn sqlite_mut(&mut self) -> Result<&mut Sqlite, DbError> {
        let path = self.display_path();
        self.engine
            .as_sqlite_mut()
            .ok_or(DbError::NotOnThisEngine { path })
    }
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
