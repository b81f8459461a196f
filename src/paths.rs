//! Where rowsmith keeps its own files.
//!
//! Everything of ours (the undo journal, the demo database, the query history,
//! the kept table profiles) lives in the per-user data directory from
//! `directories`, never in the user's database. `ROWSMITH_DATA_DIR` overrides it, which tests and
//! sandboxed CI runs rely on.

use std::path::PathBuf;

use directories::ProjectDirs;

/// Environment variable that replaces the data directory.
pub const DATA_DIR_ENV: &str = "ROWSMITH_DATA_DIR";

/// Why rowsmith's data directory cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataDirError {
    /// No home directory to put it in, and no `ROWSMITH_DATA_DIR`.
    #[error(
        "Cannot find a home directory for rowsmith's files. Set {} to a writable folder.",
        DATA_DIR_ENV
    )]
    NoHome,
    /// The folder could not be created; `detail` is the operating system's message.
    #[error(
        "Cannot create rowsmith's data folder '{}' ({detail}). Set {} to a writable folder.",
        dir.display(),
        DATA_DIR_ENV
    )]
    CannotCreate { dir: PathBuf, detail: String },
}

/// The data directory, created on first use.
pub fn data_dir() -> Result<PathBuf, DataDirError> {
    let dir = match std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => ProjectDirs::from("", "", "rowsmith")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or(DataDirError::NoHome)?,
    };
    std::fs::create_dir_all(&dir).map_err(|e| DataDirError::CannotCreate {
        dir: dir.clone(),
        detail: e.to_string(),
    })?;
    Ok(dir)
}

/// The undo journal: a SQLite file of ours.
pub fn journal_path() -> Result<PathBuf, DataDirError> {
    Ok(data_dir()?.join("journal.sqlite"))
}

/// The demo database, created from `assets/demo.sql` on first use.
pub fn demo_db_path() -> Result<PathBuf, DataDirError> {
    Ok(data_dir()?.join("demo.sqlite"))
}
