//! The bundled demo database: customers, products, orders and order items
//! with real constraints, built from `assets/demo.sql`.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::DbError;

/// The demo's schema and data, compiled into the binary.
pub const DEMO_SQL: &str = include_str!("../../assets/demo.sql");

/// Returns the demo database's path, building it first if it does not exist.
pub fn ensure_demo() -> Result<PathBuf, DbError> {
    let path = crate::paths::demo_db_path().map_err(DbError::DataDir)?;
    if !path.exists() {
        create_demo(&path)?;
    }
    Ok(path)
}

/// Builds the demo at `path`, replacing what is there. The file is built under
/// a temporary name and renamed, so a crash never leaves half a demo.
pub fn create_demo(path: &Path) -> Result<(), DbError> {
    let tmp = path.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let shown = path.display().to_string();
    let build = || -> rusqlite::Result<()> {
        let conn = Connection::open(&tmp)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.execute_batch(DEMO_SQL)?;
        Ok(())
    };
    if let Err(e) = build() {
        let _ = std::fs::remove_file(&tmp);
        return Err(DbError::from_sqlite(e, &shown));
    }
    std::fs::rename(&tmp, path).map_err(|e| DbError::Io {
        path: shown,
        detail: e.to_string(),
    })
}
