//! What identifies one state of a table, so that facts learned from it (its row count,
//! its profile) can be kept and trusted while the table is unchanged.
//!
//! The state is: the database file's canonical path and identity (size, modification
//! time, inode), its 100-byte header, the table's name and `CREATE` statement, and its
//! largest rowid. The header does the real work. In rollback-journal mode (every mode but
//! WAL) SQLite bumps the file change counter (header bytes 24..28) on every commit that
//! changes the file, an insert, an update of one value or a schema change alike, and
//! the header also holds the schema cookie and the page count. The modification time
//! covers what the counter can miss: a file that went to WAL mode, took commits (which
//! leave the counter alone) and came back, or a file replaced by another copy.
//!
//! WAL mode gets no state at all (`None`): its commits go to the `-wal` file and leave
//! the header as it was, `PRAGMA data_version` only compares states seen by one
//! connection (each run is a new process), and the `-wal` file's size and salts can
//! repeat after a checkpoint restarts it. There, facts are learned afresh every time.
//!
//! [`read`] must run inside a read transaction that has already read the database (so
//! it holds SQLite's shared lock): no commit can then land between the state and what
//! is read beside it, and a crashed writer's half-done commit has been rolled back.

use std::io::Read;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::db::catalog::TableInfo;
use crate::db::{DbError, Sqlite};

/// Bytes of the database header.
const HEADER_BYTES: usize = 100;
/// Header bytes 18 and 19 (file format write and read versions) are 2 in WAL mode.
const WAL_VERSION: u8 = 2;

/// One state of one table; equal states mean equal contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableState {
    pub path: PathBuf,
    pub table: String,
    /// The table's `CREATE` statement as stored.
    pub sql: Option<String>,
    /// The database header, hex: change counter, schema cookie, page count.
    pub header: String,
    pub file_len: u64,
    /// Modification time in nanoseconds since 1970.
    pub modified_ns: u64,
    /// Device and inode, where the platform has them.
    pub file_id: Option<(u64, u64)>,
    /// The largest rowid, for tables that have one.
    pub max_rowid: Option<i64>,
}

/// The table's current state, or `None` when its database cannot vouch for it (WAL mode,
/// a header that cannot be read). Call it inside a read transaction (see the module).
pub fn read(db: &Sqlite, table: &TableInfo) -> Result<Option<TableState>, DbError> {
    let conn = db.conn();
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
            [&table.name],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| db.err(e))?
        .flatten();
    let Some((header, meta)) = header_and_metadata(db) else {
        return Ok(None);
    };
    if header[18] == WAL_VERSION || header[19] == WAL_VERSION {
        return Ok(None);
    }
    let max_rowid = if table.has_rowid() {
        conn.query_row(
            &format!("SELECT max(rowid) FROM main.{}", table.quoted()),
            [],
            |r| r.get::<_, Option<i64>>(0),
        )
        .map_err(|e| db.err(e))?
    } else {
        None
    };
    let Ok(path) = std::fs::canonicalize(db.path()) else {
        return Ok(None);
    };
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Ok(Some(TableState {
        path,
        table: table.name.clone(),
        sql,
        header: header.iter().map(|b| format!("{b:02x}")).collect(),
        file_len: meta.len(),
        modified_ns,
        file_id: file_id(&meta),
        max_rowid,
    }))
}

fn header_and_metadata(db: &Sqlite) -> Option<([u8; HEADER_BYTES], std::fs::Metadata)> {
    let mut file = std::fs::File::open(db.path()).ok()?;
    let mut header = [0u8; HEADER_BYTES];
    file.read_exact(&mut header).ok()?;
    Some((header, file.metadata().ok()?))
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}
