//! Recording the rows an import inserted in the undo journal, with the
//! fingerprints undo checks before it deletes them.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::db::catalog::TableInfo;
use crate::db::ident::{quote, quote_list};
use crate::db::journal::{ChunkId, Journal, RecordedRow, RowKey};
use crate::db::{DbError, Sqlite};

/// How many rows one journal chunk holds.
const JOURNAL_CHUNK: usize = 100_000;

/// The keys of the inserted rows.
pub(super) enum Keys {
    Rowid(Vec<i64>),
    Primary(Vec<RowKey>),
}

/// Records the inserted rows of `info` (their keys, and fingerprints read
/// back from the table) in `journal` as one operation, and returns the
/// chunks written. On an error the chunks already written are removed.
pub(super) fn record_rows(
    db: &Sqlite,
    journal: &Journal,
    info: &TableInfo,
    keys: &Keys,
    rowid: Option<&str>,
    shown: &str,
) -> Result<Vec<ChunkId>, DbError> {
    let conn = db.conn();
    let err = |e: rusqlite::Error| db.err(e);
    let mut chunks: Vec<ChunkId> = Vec::new();
    let columns: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
    let recorded = match (keys, rowid) {
        (Keys::Rowid(ids), Some(rowid)) => {
            rowid_fingerprints(conn, info, rowid, &columns, ids).map_err(err)?
        }
        (Keys::Primary(all), _) => {
            crate::db::write::read_fingerprints(conn, info, &columns, all.iter())
                .map_err(err)?
                .into_iter()
                .filter_map(|(key, fp)| fp.map(|fingerprint| RecordedRow { key, fingerprint }))
                .collect()
        }
        _ => Vec::new(),
    };
    let op =
        journal.begin_operation(db.path(), &info.name, &format!("import {shown}"), &columns)?;
    for chunk in recorded.chunks(JOURNAL_CHUNK) {
        match journal.append_chunk(op, chunk) {
            Ok(id) => chunks.push(id),
            Err(e) => {
                forget(journal, &chunks);
                return Err(e);
            }
        }
    }
    // Every row is recorded: nothing more will join this operation.
    journal.finish_operation(op)?;
    Ok(chunks)
}

/// Removes recorded chunks again (the import did not commit).
pub(super) fn forget(journal: &Journal, chunks: &[ChunkId]) {
    for &chunk in chunks {
        // Best effort: a stale record is harmless, undo verifies rows first.
        let _ = journal.remove_chunk(chunk);
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

/// One value in the byte encoding of [`crate::db::value::encode_row`], read
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

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

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
}
