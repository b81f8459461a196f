//! The query history: what was asked of each database and the SQL that ran,
//! kept in rowsmith's own data directory (`history.sqlite`), never in the
//! user's database.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

/// Entries kept per database; older ones are dropped as new ones arrive.
pub const MAX_ENTRIES_PER_DATABASE: usize = 500;

/// One remembered query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The text as typed: a question, or SQL.
    pub input: String,
    /// The SQL that ran (the same as `input` when SQL was typed).
    pub sql: String,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
}

impl HistoryEntry {
    pub fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.at_ms.max(0) as u64)
    }

    /// True when the entry began as a question rather than SQL.
    pub fn was_question(&self) -> bool {
        self.input != self.sql
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "The query history in '{path}' could not be used ({detail}). Check that the folder is writable."
)]
pub struct HistoryError {
    pub path: String,
    pub detail: String,
}

/// The history file.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    db_path TEXT NOT NULL,
    input TEXT NOT NULL,
    sql TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_db ON history (db_path, id);
";

impl History {
    /// `history.sqlite` in rowsmith's data directory.
    pub fn open_default() -> Result<Self, HistoryError> {
        let dir = crate::paths::data_dir().map_err(|e| HistoryError {
            path: "the data directory".into(),
            detail: e.to_string().trim_end_matches('.').to_string(),
        })?;
        Self::open(&dir.join("history.sqlite"))
    }

    /// Opens (creating if needed) a history file.
    pub fn open(path: &Path) -> Result<Self, HistoryError> {
        let err = |e: rusqlite::Error| HistoryError {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remembers that `input` ran as `sql` on `database`. Repeating the most
    /// recent entry only refreshes its time.
    pub fn append(&self, database: &Path, input: &str, sql: &str) -> Result<(), HistoryError> {
        let key = database_key(database);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let run = || -> rusqlite::Result<()> {
            let last: Option<(i64, String, String)> = self
                .conn
                .query_row(
                    "SELECT id, input, sql FROM history WHERE db_path = ?1 ORDER BY id DESC LIMIT 1",
                    [&key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            match last {
                Some((id, i, s)) if i == input && s == sql => {
                    self.conn.execute(
                        "UPDATE history SET at_ms = ?1 WHERE id = ?2",
                        params![now, id],
                    )?;
                }
                _ => {
                    self.conn.execute(
                        "INSERT INTO history (db_path, input, sql, at_ms) VALUES (?1, ?2, ?3, ?4)",
                        params![key, input, sql, now],
                    )?;
                    self.conn.execute(
                        "DELETE FROM history WHERE db_path = ?1 AND id NOT IN \
                         (SELECT id FROM history WHERE db_path = ?1 ORDER BY id DESC LIMIT ?2)",
                        params![key, MAX_ENTRIES_PER_DATABASE as i64],
                    )?;
                }
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    /// The most recent entries for `database`, newest first.
    pub fn recent(&self, database: &Path, limit: usize) -> Result<Vec<HistoryEntry>, HistoryError> {
        let key = database_key(database);
        let run = || -> rusqlite::Result<Vec<HistoryEntry>> {
            let mut stmt = self.conn.prepare(
                "SELECT input, sql, at_ms FROM history WHERE db_path = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            stmt.query_map(params![key, limit.min(i64::MAX as usize) as i64], |r| {
                Ok(HistoryEntry {
                    input: r.get(0)?,
                    sql: r.get(1)?,
                    at_ms: r.get(2)?,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError {
            path: self.path.display().to_string(),
            detail: e.to_string(),
        }
    }
}

/// How the history names a database: as the undo journal does (a file by its canonical
/// path, a server database by its URL without the password).
pub fn database_key(database: &Path) -> String {
    crate::db::journal::database_key(database)
}
