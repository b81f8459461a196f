//! A page cache raised on the connection for the length of an import (the transaction
//! itself is `db::write_transaction`).

use rusqlite::Connection;

/// Raises the page cache for the length of an import, so a transaction
/// larger than SQLite's default 2 MB cache is not written out and read back
/// page by page while it runs; the old size comes back on drop.
pub(super) struct CacheBoost<'c> {
    conn: &'c Connection,
    old: Option<i64>,
}

impl<'c> CacheBoost<'c> {
    /// 64 MB, as a negative size in KiB.
    const KIB: i64 = -64 * 1024;

    pub(super) fn new(conn: &'c Connection) -> Self {
        let old: Option<i64> = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).ok();
        let raise = match old {
            // Negative sizes are KiB, positive ones pages (of 4 KiB or less, mostly).
            Some(n) if n < 0 => n > Self::KIB,
            Some(n) => n * 4 < -Self::KIB,
            None => false,
        };
        if raise && conn.pragma_update(None, "cache_size", Self::KIB).is_ok() {
            Self { conn, old }
        } else {
            Self { conn, old: None }
        }
    }
}

impl Drop for CacheBoost<'_> {
    fn drop(&mut self) {
        if let Some(old) = self.old {
            let _ = self.conn.pragma_update(None, "cache_size", old);
        }
    }
}
