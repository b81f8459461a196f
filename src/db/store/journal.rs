//! The undo journal: which rows each rowsmith operation inserted.
//!
//! It is a SQLite file of ours in the data directory, never a table in the
//! user's database. An operation (one generation or import) owns chunks, one
//! per committed batch; each chunk lists the inserted rows' keys with a
//! fingerprint of their values, so undo can prove a row is still the one we
//! wrote before it deletes it.

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

/// SHIM until runs land in the journal: a run is its operations, one per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(pub i64);

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

    /// Starts recording an operation on `table` of the database at `database`.
    pub fn begin_operation(
        &self,
        database: &Path,
        table: &str,
        source: &str,
        columns: &[String],
    ) -> Result<OperationId, DbError> {
        let columns = serde_json::to_string(columns).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO operations (database, table_name, source, columns, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![database_key(database), table, source, columns, std::process::id()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(OperationId(self.conn.last_insert_rowid()))
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

    /// SHIM: runs are not recorded yet.
    pub fn begin_run(&self, _database: &Path, _source: &str) -> Result<RunId, DbError> {
        Ok(RunId(0))
    }

    /// SHIM: an operation of its own.
    pub fn begin_operation_in_run(
        &self,
        _run: RunId,
        database: &Path,
        table: &str,
        source: &str,
        columns: &[String],
    ) -> Result<OperationId, DbError> {
        self.begin_operation(database, table, source, columns)
    }

    /// SHIM.
    pub fn finish_run(&self, _run: RunId) -> Result<(), DbError> {
        Ok(())
    }

    /// SHIM.
    pub fn update_fingerprints(
        &self,
        _op: OperationId,
        _rows: &[RecordedRow],
    ) -> Result<(), DbError> {
        Ok(())
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
        self.conn
            .query_row(
                &format!("{OPERATION_SELECT} WHERE o.database = ?1 AND o.id = ?2"),
                params![database_key(database), id.0],
                |r| Ok((operation_row(r)?, r.get::<_, Option<String>>(7)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))
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
        stmt.query_map(params![database_key(database), table], |r| {
            Ok((operation_row(r)?, r.get::<_, Option<String>>(7)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.fail(e))
    }

    /// The recorded rows of an operation, batch by batch, with whether each batch was
    /// confirmed as committed.
    pub fn batches(&self, op: OperationId) -> Result<Vec<(bool, Vec<RecordedRow>)>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT confirmed, key_kind, rows FROM chunks WHERE operation_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.fail(e))?;
        let chunks: Vec<(bool, String, Vec<u8>)> = stmt
            .query_map([op.0], |r| {
                Ok((r.get::<_, i64>(0)? != 0, r.get(1)?, r.get(2)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for (confirmed, kind, blob) in chunks {
            let mut rows = Vec::new();
            decode_rows(&kind, &blob, &mut rows).ok_or_else(|| DbError::Journal {
                path: self.path.display().to_string(),
                detail: format!("a record of operation {} is unreadable", op.0),
            })?;
            out.push((confirmed, rows));
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
}

/// Whether process `pid` is running. Where the system has no /proc to ask, an unfinished
/// operation counts as abandoned.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && proc.join(pid.to_string()).exists()
}

/// The columns [`operation_row`] reads, then `undone_at`.
const OPERATION_SELECT: &str =
    "SELECT o.id, o.database, o.table_name, o.created_at, o.source, o.columns,
        (SELECT sum(row_count) FROM chunks c WHERE c.operation_id = o.id), o.undone_at
 FROM operations o";

fn operation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Operation> {
    let columns: String = r.get(5)?;
    Ok(Operation {
        id: OperationId(r.get(0)?),
        database: r.get(1)?,
        table: r.get(2)?,
        created_at: r.get(3)?,
        source: r.get(4)?,
        columns: serde_json::from_str(&columns).unwrap_or_default(),
        rows: r.get::<_, Option<i64>>(6)?.unwrap_or(0).max(0) as u64,
    })
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
    Ok(())
}

/// How a database is named in the journal: its canonical path, so
/// `./shop.db` and `/home/me/shop.db` are the same database.
pub fn database_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
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
