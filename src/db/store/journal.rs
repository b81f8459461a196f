//! The undo journal: which rows each rowsmith operation inserted.
//!
//! It is a SQLite file of ours in the data directory, never a table in the
//! user's database. An operation (one generation or import) owns chunks, one
//! per committed batch; each chunk lists the inserted rows' keys with a
//! fingerprint of their values, so undo can prove a row is still the one we
//! wrote before it deletes it.
//!
//! A run groups operations on several tables of one database (a whole-database
//! generation): undo takes them back together, as one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::db::DbError;
use crate::db::value::{from_json, to_json};

/// How the rows of one table are addressed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKey {
    Rowid(i64),
    /// Primary-key values of a WITHOUT ROWID table, in key order.
    #[serde(serialize_with = "serialize_values")]
    Primary(Vec<Value>),
}

fn serialize_values<S: serde::Serializer>(values: &[Value], s: S) -> Result<S::Ok, S::Error> {
    values.iter().map(to_json).collect::<Vec<_>>().serialize(s)
}

/// One recorded row: its key and the fingerprint of its values.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRow {
    pub key: RowKey,
    pub fingerprint: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkId(pub i64);

/// A run: operations on several tables that undo takes back together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(pub i64);

/// The run an operation is part of, as the undo history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: RunId,
    /// The id `undo --list` shows the run under, and the one to name it by: its first
    /// operation's (any of its operations' ids names the whole run).
    pub listed_as: OperationId,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    pub source: String,
    /// Each table the run recorded rows for, with how many, in the order it filled them.
    pub tables: Vec<(String, u64)>,
}

impl Run {
    /// Every row the run recorded, all tables together.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// What an operation was, as shown when undoing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub id: OperationId,
    pub database: String,
    pub table: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    /// What produced the rows, e.g. `offline` or `OpenAI gpt-6.1-terra`.
    pub source: String,
    /// The columns the fingerprints cover, in order.
    pub columns: Vec<String>,
    pub rows: u64,
    /// The run the operation is part of, if any: undo takes the whole run back.
    pub run: Option<Run>,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS operations (
    id INTEGER PRIMARY KEY,
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    source TEXT NOT NULL,
    columns TEXT NOT NULL,
    undone_at TEXT
);
CREATE INDEX IF NOT EXISTS operations_by_target ON operations (database, table_name, id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    row_count INTEGER NOT NULL,
    -- 'rowid': 16 bytes per row (rowid, fingerprint; little-endian).
    -- 'primary': JSON [[key values], fingerprint] per row.
    key_kind TEXT NOT NULL CHECK (key_kind IN ('rowid', 'primary')),
    rows BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_operation ON chunks (operation_id);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    database TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    source TEXT NOT NULL,
    pid INTEGER,
    finished_at TEXT
);
";

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let fail = |e: rusqlite::Error| DbError::Journal {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(BUSY_WAIT).map_err(fail)?;
        set_up(&conn).map_err(fail)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens the journal in rowsmith's data directory.
    pub fn open_default() -> Result<Self, DbError> {
        let path = crate::paths::journal_path().map_err(DbError::DataDir)?;
        Self::open(&path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, e: rusqlite::Error) -> DbError {
        DbError::Journal {
            path: self.path.display().to_string(),
            detail: e.to_string(),
        }
    }

    /// A journal error that is about what the caller asked, not about SQLite.
    fn refuse(&self, detail: String) -> DbError {
        DbError::Journal {
            path: self.path.display().to_string(),
            detail,
        }
    }

    /// Starts recording an operation on `table` of the database at `database`.
    pub fn begin_operation(
        &self,
        database: &Path,
        table: &str,
        source: &str,
        columns: &[String],
    ) -> Result<OperationId, DbError> {
        self.insert_operation(database, table, source, columns, None)
    }

    fn insert_operation(
        &self,
        database: &Path,
        table: &str,
        source: &str,
        columns: &[String],
        run: Option<RunId>,
    ) -> Result<OperationId, DbError> {
        let columns = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO operations (database, table_name, source, columns, pid, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    database_key(database),
                    table,
                    source,
                    columns,
                    std::process::id(),
                    run.map(|r| r.0)
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(OperationId(self.conn.last_insert_rowid()))
    }

    /// Starts a run: operations on several tables that undo takes back together.
    pub fn begin_run(&self, database: &Path, source: &str) -> Result<RunId, DbError> {
        self.conn
            .execute(
                "INSERT INTO runs (database, source, pid) VALUES (?1, ?2, ?3)",
                params![database_key(database), source, std::process::id()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(RunId(self.conn.last_insert_rowid()))
    }

    /// Like [`begin_operation`](Self::begin_operation), as part of `run`. The run must be
    /// on record for the same database and not finished.
    pub fn begin_operation_in_run(
        &self,
        run: RunId,
        database: &Path,
        table: &str,
        source: &str,
        columns: &[String],
    ) -> Result<OperationId, DbError> {
        let found: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT database, finished_at FROM runs WHERE id = ?1",
                [run.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        match found {
            None => Err(self.refuse(format!("run {} is not on record", run.0))),
            Some((_, Some(_))) => Err(self.refuse(format!(
                "run {} is finished and takes no more operations",
                run.0
            ))),
            Some((db, None)) if db != database_key(database) => Err(self.refuse(format!(
                "run {} is on another database than '{}'",
                run.0,
                database.display()
            ))),
            Some(_) => self.insert_operation(database, table, source, columns, Some(run)),
        }
    }

    /// The run takes no more operations or updates; undo may take it back. Its operations
    /// are finished with it.
    pub fn finish_run(&self, run: RunId) -> Result<(), DbError> {
        let fail = |e| self.fail(e);
        let tx = crate::db::write_transaction(&self.conn).map_err(fail)?;
        tx.execute(
            "UPDATE runs SET finished_at = datetime('now') WHERE id = ?1 AND finished_at IS NULL",
            [run.0],
        )
        .map_err(fail)?;
        tx.execute(
            "UPDATE operations SET finished_at = datetime('now') WHERE run_id = ?1 AND finished_at IS NULL",
            [run.0],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// The process still writing a run, if any: not finished, and its process is alive.
    pub fn run_writer(&self, run: RunId) -> Result<Option<u32>, DbError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT finished_at, pid FROM runs WHERE id = ?1",
                [run.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some((None, Some(pid))) = row else {
            return Ok(None);
        };
        Ok(u32::try_from(pid).ok().filter(|p| process_alive(*p)))
    }

    /// Replaces the recorded fingerprints of these rows of `op` (matched by key): the run
    /// updated them after inserting them (its second pass), and undo compares the rows
    /// with these from now on. A key not recorded in `op` is an error, and then nothing
    /// is replaced. An operation of a finished run takes no more updates.
    pub fn update_fingerprints(
        &self,
        op: OperationId,
        rows: &[RecordedRow],
    ) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let fail = |e| self.fail(e);
        let tx = crate::db::write_transaction(&self.conn).map_err(fail)?;
        let state: Option<(Option<i64>, Option<String>)> = tx
            .query_row(
                "SELECT o.run_id, r.finished_at FROM operations o LEFT JOIN runs r ON r.id = o.run_id WHERE o.id = ?1",
                [op.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(fail)?;
        match state {
            None => return Err(self.refuse(format!("operation {} is not on record", op.0))),
            Some((Some(run), Some(_))) => {
                return Err(self.refuse(format!("run {run} is finished and takes no more updates")));
            }
            Some(_) => {}
        }
        let mut chunks = self.read_chunks(op)?;
        let mut at = std::collections::HashMap::new();
        for (c, (_, _, recorded)) in chunks.iter().enumerate() {
            for (r, row) in recorded.iter().enumerate() {
                at.insert(key_identity(&row.key), (c, r));
            }
        }
        let mut changed = vec![false; chunks.len()];
        for row in rows {
            let Some(&(c, r)) = at.get(&key_identity(&row.key)) else {
                return Err(self.refuse(format!(
                    "a row updated by operation {} ({:?}) is not one it recorded",
                    op.0, row.key
                )));
            };
            chunks[c].2[r].fingerprint = row.fingerprint;
            changed[c] = true;
        }
        for ((id, _, recorded), changed) in chunks.iter().zip(changed) {
            if changed {
                let (kind, blob) = encode_rows(recorded);
                tx.execute(
                    "UPDATE chunks SET key_kind = ?1, rows = ?2 WHERE id = ?3",
                    params![kind, blob, id],
                )
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Records one batch of inserted rows. Written before the user's
    /// transaction commits, so a crash in between leaves a record of rows that
    /// do not exist, which undo recognises, and never rows without a record.
    pub fn append_chunk(&self, op: OperationId, rows: &[RecordedRow]) -> Result<ChunkId, DbError> {
        let (kind, blob) = encode_rows(rows);
        self.conn
            .execute(
                "INSERT INTO chunks (operation_id, row_count, key_kind, rows, confirmed) VALUES (?1, ?2, ?3, ?4, 0)",
                params![op.0, rows.len() as i64, kind, blob],
            )
            .map_err(|e| self.fail(e))?;
        Ok(ChunkId(self.conn.last_insert_rowid()))
    }

    /// Marks an operation as complete: no more batches will be added to it.
    pub fn finish_operation(&self, op: OperationId) -> Result<(), DbError> {
        self.conn
            .execute(
                "UPDATE operations SET finished_at = datetime('now') WHERE id = ?1 AND finished_at IS NULL",
                [op.0],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// The process still adding batches to an operation, if any: not finished, and its
    /// process is alive (where the system can tell; Linux's /proc).
    pub fn writer_of(&self, op: OperationId) -> Result<Option<u32>, DbError> {
        let row: Option<(Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT finished_at, pid FROM operations WHERE id = ?1",
                [op.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some((None, Some(pid))) = row else {
            return Ok(None);
        };
        let pid = u32::try_from(pid).ok();
        Ok(pid.filter(|p| process_alive(*p)))
    }

    /// Forgets an operation: undo will not look at it again. Its rows are not touched.
    pub fn forget_operation(&self, op: OperationId) -> Result<(), DbError> {
        self.mark_undone(op)
    }

    /// Marks a chunk's batch as committed in the user's database. A chunk never confirmed
    /// is what a crash between recording and committing leaves: its rows may never have
    /// existed, and their rowids may since belong to someone else's rows.
    pub fn confirm_chunk(&self, chunk: ChunkId) -> Result<(), DbError> {
        self.conn
            .execute("UPDATE chunks SET confirmed = 1 WHERE id = ?1", [chunk.0])
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// The operation with this id, if it is on record for `database`, with the time it was
    /// undone (or cleared), if it was.
    pub fn operation(
        &self,
        database: &Path,
        id: OperationId,
    ) -> Result<Option<(Operation, Option<String>)>, DbError> {
        let found = self
            .conn
            .query_row(
                &format!("{OPERATION_SELECT} WHERE o.database = ?1 AND o.id = ?2"),
                params![database_key(database), id.0],
                operation_row,
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(self.with_runs(found.into_iter().collect())?.pop())
    }

    /// Every operation on record for `database` (and `table`), newest first, with whether
    /// it was undone.
    pub fn list(
        &self,
        database: &Path,
        table: Option<&str>,
    ) -> Result<Vec<(Operation, Option<String>)>, DbError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{OPERATION_SELECT} WHERE o.database = ?1 AND (?2 IS NULL OR o.table_name = ?2)
                   AND EXISTS (SELECT 1 FROM chunks c WHERE c.operation_id = o.id)
                 ORDER BY o.id DESC"
            ))
            .map_err(|e| self.fail(e))?;
        let found = stmt
            .query_map(params![database_key(database), table], operation_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))?;
        self.with_runs(found)
    }

    /// Every operation of `run` on `database`, in the order the run began them, with the
    /// time each was undone (or cleared).
    pub fn run_operations(
        &self,
        database: &Path,
        run: RunId,
    ) -> Result<Vec<(Operation, Option<String>)>, DbError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{OPERATION_SELECT} WHERE o.database = ?1 AND o.run_id = ?2 ORDER BY o.id"
            ))
            .map_err(|e| self.fail(e))?;
        let found = stmt
            .query_map(params![database_key(database), run.0], operation_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))?;
        self.with_runs(found)
    }

    /// The run with this id, as the history shows it.
    pub fn run(&self, run: RunId) -> Result<Option<Run>, DbError> {
        let head: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT created_at, source FROM runs WHERE id = ?1",
                [run.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some((created_at, source)) = head else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.id, o.table_name,
                        (SELECT coalesce(sum(row_count), 0) FROM chunks c WHERE c.operation_id = o.id)
                 FROM operations o WHERE o.run_id = ?1 ORDER BY o.id",
            )
            .map_err(|e| self.fail(e))?;
        let members: Vec<(i64, String, i64)> = stmt
            .query_map([run.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))?;
        let listed_as = members
            .iter()
            .find(|(_, _, n)| *n > 0)
            .or(members.first())
            .map_or(0, |(id, _, _)| *id);
        let mut tables: Vec<(String, u64)> = Vec::new();
        for (_, table, n) in members.into_iter().filter(|(_, _, n)| *n > 0) {
            let n = n.max(0) as u64;
            match tables
                .iter_mut()
                .find(|(t, _)| t.eq_ignore_ascii_case(&table))
            {
                Some((_, total)) => *total += n,
                None => tables.push((table, n)),
            }
        }
        Ok(Some(Run {
            id: run,
            listed_as: OperationId(listed_as),
            created_at,
            source,
            tables,
        }))
    }

    /// Fills in the run of each operation read by [`operation_row`].
    fn with_runs(
        &self,
        found: Vec<(Operation, Option<String>, Option<RunId>)>,
    ) -> Result<Vec<(Operation, Option<String>)>, DbError> {
        let mut runs: std::collections::HashMap<RunId, Option<Run>> = Default::default();
        let mut out = Vec::with_capacity(found.len());
        for (mut op, undone, run) in found {
            if let Some(run) = run {
                let found = match runs.entry(run) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(self.run(run)?),
                };
                op.run = found.clone();
            }
            out.push((op, undone));
        }
        Ok(out)
    }

    /// The recorded rows of an operation, batch by batch, with whether each batch was
    /// confirmed as committed.
    pub fn batches(&self, op: OperationId) -> Result<Vec<(bool, Vec<RecordedRow>)>, DbError> {
        Ok(self
            .read_chunks(op)?
            .into_iter()
            .map(|(_, confirmed, rows)| (confirmed, rows))
            .collect())
    }

    /// Each chunk of an operation, decoded: its id, whether it was confirmed, its rows.
    fn read_chunks(&self, op: OperationId) -> Result<Vec<(i64, bool, Vec<RecordedRow>)>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, confirmed, key_kind, rows FROM chunks WHERE operation_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.fail(e))?;
        let chunks: Vec<(i64, bool, String, Vec<u8>)> = stmt
            .query_map([op.0], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?, r.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for (id, confirmed, kind, blob) in chunks {
            let mut rows = Vec::new();
            decode_rows(&kind, &blob, &mut rows).ok_or_else(|| {
                self.refuse(format!("a record of operation {} is unreadable", op.0))
            })?;
            out.push((id, confirmed, rows));
        }
        Ok(out)
    }

    /// Forgets a chunk whose batch did not commit.
    pub fn remove_chunk(&self, chunk: ChunkId) -> Result<(), DbError> {
        self.conn
            .execute("DELETE FROM chunks WHERE id = ?1", [chunk.0])
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Every row recorded for an operation, all batches together.
    pub fn rows(&self, op: OperationId) -> Result<Vec<RecordedRow>, DbError> {
        Ok(self
            .batches(op)?
            .into_iter()
            .flat_map(|(_, rows)| rows)
            .collect())
    }

    /// Marks an operation as undone (or cleared): undo no longer considers it.
    pub fn mark_undone(&self, op: OperationId) -> Result<(), DbError> {
        self.conn
            .execute(
                "UPDATE operations SET undone_at = datetime('now') WHERE id = ?1",
                [op.0],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Marks every operation of a run as undone (or cleared): undo no longer considers it.
    pub fn mark_run_undone(&self, run: RunId) -> Result<(), DbError> {
        self.conn
            .execute(
                "UPDATE operations SET undone_at = datetime('now') WHERE run_id = ?1 AND undone_at IS NULL",
                [run.0],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

/// Whether process `pid` is running. Where the system has no /proc to ask, an unfinished
/// operation counts as abandoned.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && proc.join(pid.to_string()).exists()
}

/// The columns [`operation_row`] reads.
const OPERATION_SELECT: &str =
    "SELECT o.id, o.database, o.table_name, o.created_at, o.source, o.columns,
        (SELECT sum(row_count) FROM chunks c WHERE c.operation_id = o.id), o.undone_at, o.run_id
 FROM operations o";

/// An operation (its run still to fill in), when it was undone, and its run.
fn operation_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(Operation, Option<String>, Option<RunId>)> {
    let columns: String = r.get(5)?;
    let operation = Operation {
        id: OperationId(r.get(0)?),
        database: r.get(1)?,
        table: r.get(2)?,
        created_at: r.get(3)?,
        source: r.get(4)?,
        columns: serde_json::from_str(&columns).unwrap_or_default(),
        rows: r.get::<_, Option<i64>>(6)?.unwrap_or(0).max(0) as u64,
        run: None,
    };
    Ok((operation, r.get(7)?, r.get::<_, Option<i64>>(8)?.map(RunId)))
}

/// How long a journal statement waits for another rowsmith process.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// WAL mode, the schema and its migration. Two processes creating the journal at the same
/// moment can find it locked in ways SQLite's busy handler does not wait out (switching to
/// WAL needs the file to itself): such a first open is tried again until `BUSY_WAIT`.
fn set_up(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let attempt = (|| {
            // WAL lets several rowsmith processes record batches side by side.
            conn.pragma_update(None, "journal_mode", "wal")?;
            conn.pragma_update(None, "foreign_keys", true)?;
            conn.execute_batch(SCHEMA)?;
            migrate(conn)
        })();
        match attempt {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < BUSY_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Brings a journal written by an older rowsmith up to date. Chunks recorded before
/// confirmation existed count as confirmed: their batches committed or were removed.
/// Operations recorded before runs existed belong to none.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // Under the write lock: two processes opening an old journal at once must not both
    // add the same column.
    let tx = crate::db::write_transaction(conn)?;
    add_missing_columns(conn)?;
    tx.commit()
}

fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    let has = |table: &str, column: &str| -> rusqlite::Result<bool> {
        conn.prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))?
        .exists([column])
    };
    if !has("chunks", "confirmed")? {
        conn.execute_batch("ALTER TABLE chunks ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1")?;
    }
    if !has("operations", "finished_at")? {
        conn.execute_batch(
            "ALTER TABLE operations ADD COLUMN finished_at TEXT;
             ALTER TABLE operations ADD COLUMN pid INTEGER;",
        )?;
    }
    if !has("operations", "run_id")? {
        conn.execute_batch(
            "ALTER TABLE operations ADD COLUMN run_id INTEGER REFERENCES runs (id)",
        )?;
    }
    conn.execute_batch("CREATE INDEX IF NOT EXISTS operations_by_run ON operations (run_id)")
}

/// How a database is named in the journal: its canonical path, so
/// `./shop.db` and `/home/me/shop.db` are the same database.
pub fn database_key(path: &Path) -> String {
    if let Some(engine) = crate::db::server_engine(path) {
        return (engine.key)(&path.to_string_lossy());
    }
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// A key as bytes that are equal exactly when the keys are (`Value` has no `Hash`).
fn key_identity(key: &RowKey) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |tag: u8, bytes: &[u8]| {
        out.push(tag);
        out.extend((bytes.len() as u64).to_le_bytes());
        out.extend(bytes);
    };
    match key {
        RowKey::Rowid(id) => put(0, &id.to_le_bytes()),
        RowKey::Primary(values) => {
            for value in values {
                match value {
                    Value::Null => put(1, &[]),
                    Value::Integer(i) => put(2, &i.to_le_bytes()),
                    Value::Real(f) => put(3, &f.to_bits().to_le_bytes()),
                    Value::Text(s) => put(4, s.as_bytes()),
                    Value::Blob(b) => put(5, b),
                }
            }
        }
    }
    out
}

fn encode_rows(rows: &[RecordedRow]) -> (&'static str, Vec<u8>) {
    if rows.iter().all(|r| matches!(r.key, RowKey::Rowid(_))) {
        let mut blob = Vec::with_capacity(rows.len() * 16);
        for r in rows {
            if let RowKey::Rowid(id) = r.key {
                blob.extend(id.to_le_bytes());
                blob.extend(r.fingerprint.to_le_bytes());
            }
        }
        return ("rowid", blob);
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let key: Vec<serde_json::Value> = match &r.key {
                RowKey::Rowid(id) => vec![(*id).into()],
                RowKey::Primary(values) => values.iter().map(to_json).collect(),
            };
            serde_json::json!([key, r.fingerprint])
        })
        .collect();
    ("primary", serde_json::to_vec(&json).unwrap_or_default())
}

fn decode_rows(kind: &str, blob: &[u8], out: &mut Vec<RecordedRow>) -> Option<()> {
    match kind {
        "rowid" => {
            if !blob.len().is_multiple_of(16) {
                return None;
            }
            for pair in blob.chunks_exact(16) {
                let id = i64::from_le_bytes(pair[..8].try_into().ok()?);
                let fingerprint = u64::from_le_bytes(pair[8..].try_into().ok()?);
                out.push(RecordedRow {
                    key: RowKey::Rowid(id),
                    fingerprint,
                });
            }
            Some(())
        }
        "primary" => {
            let json: Vec<(Vec<serde_json::Value>, u64)> = serde_json::from_slice(blob).ok()?;
            for (key, fingerprint) in json {
                let values = key.iter().map(from_json).collect::<Option<Vec<_>>>()?;
                out.push(RecordedRow {
                    key: RowKey::Primary(values),
                    fingerprint,
                });
            }
            Some(())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    #[test]
    fn chunks_round_trip_both_key_kinds() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = Journal::open(&dir.path().join("j.sqlite"))?;
        let db = dir.path().join("x.db");
        let op = journal.begin_operation(&db, "t", "test", &["a".into()])?;
        let rowids = vec![
            RecordedRow {
                key: RowKey::Rowid(7),
                fingerprint: 1,
            },
            RecordedRow {
                key: RowKey::Rowid(-3),
                fingerprint: u64::MAX,
            },
        ];
        let keyed = vec![RecordedRow {
            key: RowKey::Primary(vec![
                Value::Text("a".into()),
                Value::Integer(2),
                Value::Real(0.5),
            ]),
            fingerprint: 42,
        }];
        journal.append_chunk(op, &rowids)?;
        journal.append_chunk(op, &keyed)?;
        let all = journal.rows(op)?;
        assert_eq!(all, [rowids, keyed].concat());
        let listed = journal.list(&db, Some("t"))?;
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].0.id, listed[0].0.rows, &listed[0].1),
            (op, 3, &None)
        );
        journal.mark_undone(op)?;
        assert!(journal.list(&db, None)?[0].1.is_some(), "marked undone");
        Ok(())
    }

    #[test]
    fn many_processes_can_open_a_new_journal_at_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("journal.sqlite");
        let opened: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Journal::open(&path).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .collect()
        });
        assert!(opened.iter().all(|ok| *ok), "{opened:?}");
        Ok(())
    }

    fn rowid(id: i64, fingerprint: u64) -> RecordedRow {
        RecordedRow {
            key: RowKey::Rowid(id),
            fingerprint,
        }
    }

    #[test]
    fn a_run_groups_its_operations_and_lists_its_tables_in_order() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = Journal::open(&dir.path().join("j.sqlite"))?;
        let db = dir.path().join("x.db");
        let run = journal.begin_run(&db, "offline")?;
        let parents = journal.begin_operation_in_run(run, &db, "parents", "offline", &[])?;
        let empty = journal.begin_operation_in_run(run, &db, "nothing", "offline", &[])?;
        let children = journal.begin_operation_in_run(run, &db, "children", "offline", &[])?;
        let alone = journal.begin_operation(&db, "other", "offline", &[])?;
        journal.append_chunk(parents, &[rowid(1, 1), rowid(2, 2)])?;
        journal.append_chunk(children, &[rowid(1, 3)])?;
        journal.append_chunk(alone, &[rowid(9, 9)])?;
        assert_eq!(journal.run_writer(run)?, Some(std::process::id()));
        journal.finish_run(run)?;
        assert_eq!(journal.run_writer(run)?, None);
        assert_eq!(journal.writer_of(children)?, None, "finished with the run");

        let listed = journal.list(&db, None)?;
        let of = |op: OperationId| listed.iter().find(|(o, _)| o.id == op).map(|(o, _)| o);
        let found = of(children).and_then(|o| o.run.clone()).ok_or("no run")?;
        assert_eq!(found.id, run);
        assert_eq!(found.listed_as, parents);
        assert_eq!(
            found.tables,
            vec![("parents".to_string(), 2), ("children".to_string(), 1)]
        );
        assert_eq!(found.rows(), 3);
        assert!(of(alone).is_some_and(|o| o.run.is_none()));
        let members: Vec<OperationId> = journal
            .run_operations(&db, run)?
            .into_iter()
            .map(|(o, _)| o.id)
            .collect();
        assert_eq!(members, vec![parents, empty, children]);

        journal.mark_run_undone(run)?;
        assert!(
            journal
                .run_operations(&db, run)?
                .iter()
                .all(|(_, u)| u.is_some())
        );
        assert!(
            journal
                .operation(&db, alone)?
                .is_some_and(|(_, u)| u.is_none())
        );
        Ok(())
    }

    #[test]
    fn a_finished_run_takes_no_more_operations_or_updates() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = Journal::open(&dir.path().join("j.sqlite"))?;
        let db = dir.path().join("x.db");
        let run = journal.begin_run(&db, "offline")?;
        let op = journal.begin_operation_in_run(run, &db, "t", "offline", &[])?;
        journal.append_chunk(op, &[rowid(1, 1)])?;
        assert!(
            journal
                .begin_operation_in_run(run, &dir.path().join("y.db"), "t", "offline", &[])
                .is_err(),
            "another database"
        );
        assert!(
            journal
                .begin_operation_in_run(RunId(99), &db, "t", "offline", &[])
                .is_err(),
            "no such run"
        );
        journal.finish_run(run)?;
        assert!(
            journal
                .begin_operation_in_run(run, &db, "t", "offline", &[])
                .is_err()
        );
        assert!(journal.update_fingerprints(op, &[rowid(1, 5)]).is_err());
        assert_eq!(journal.rows(op)?, vec![rowid(1, 1)], "nothing replaced");
        Ok(())
    }

    #[test]
    fn update_fingerprints_replaces_by_key_across_batches_or_nothing() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = Journal::open(&dir.path().join("j.sqlite"))?;
        let db = dir.path().join("x.db");
        let run = journal.begin_run(&db, "offline")?;
        let op = journal.begin_operation_in_run(run, &db, "t", "offline", &[])?;
        let keyed = |k: &str, n: i64, fingerprint: u64| RecordedRow {
            key: RowKey::Primary(vec![Value::Text(k.into()), Value::Integer(n)]),
            fingerprint,
        };
        journal.append_chunk(op, &[rowid(1, 10), rowid(2, 20)])?;
        journal.append_chunk(op, &[keyed("a", 1, 30)])?;
        journal.update_fingerprints(op, &[keyed("a", 1, 31), rowid(2, 21)])?;
        assert_eq!(
            journal.rows(op)?,
            vec![rowid(1, 10), rowid(2, 21), keyed("a", 1, 31)]
        );
        // The same key with another type is another key: an error, and nothing replaced.
        let wrong = RecordedRow {
            key: RowKey::Primary(vec![Value::Text("a".into()), Value::Real(1.0)]),
            fingerprint: 0,
        };
        assert!(
            journal
                .update_fingerprints(op, &[rowid(1, 11), wrong])
                .is_err()
        );
        assert_eq!(journal.rows(op)?[0], rowid(1, 10));
        assert!(journal.update_fingerprints(op, &[rowid(3, 0)]).is_err());
        Ok(())
    }

    #[test]
    fn a_journal_from_before_runs_is_brought_up_to_date() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("j.sqlite");
        // The schema as rowsmith wrote it before runs existed.
        Connection::open(&path)?.execute_batch(
            "CREATE TABLE operations (id INTEGER PRIMARY KEY, database TEXT NOT NULL,
                 table_name TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (datetime('now')),
                 source TEXT NOT NULL, columns TEXT NOT NULL, undone_at TEXT,
                 finished_at TEXT, pid INTEGER);
             CREATE TABLE chunks (id INTEGER PRIMARY KEY, operation_id INTEGER NOT NULL
                 REFERENCES operations (id) ON DELETE CASCADE, row_count INTEGER NOT NULL,
                 key_kind TEXT NOT NULL, rows BLOB NOT NULL, confirmed INTEGER NOT NULL DEFAULT 1);
             INSERT INTO operations (database, table_name, source, columns, finished_at)
                 VALUES ('x.db', 't', 'old', '[]', datetime('now'));
             INSERT INTO chunks (operation_id, row_count, key_kind, rows)
                 VALUES (1, 0, 'rowid', x'');",
        )?;
        let journal = Journal::open(&path)?;
        let listed = journal.list(Path::new("x.db"), None)?;
        assert_eq!(listed.len(), 1);
        assert!(listed[0].0.run.is_none());
        let run = journal.begin_run(Path::new("x.db"), "new")?;
        journal.begin_operation_in_run(run, Path::new("x.db"), "t", "new", &[])?;
        Ok(())
    }

    #[test]
    fn operations_without_rows_are_not_undo_targets() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = Journal::open(&dir.path().join("j.sqlite"))?;
        let db = dir.path().join("x.db");
        let op = journal.begin_operation(&db, "t", "test", &[])?;
        let chunk = journal.append_chunk(
            op,
            &[RecordedRow {
                key: RowKey::Rowid(1),
                fingerprint: 0,
            }],
        )?;
        journal.remove_chunk(chunk)?;
        assert!(journal.list(&db, None)?.is_empty());
        Ok(())
    }
}
