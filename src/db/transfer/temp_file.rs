//! The file an export writes: under a temporary name beside its destination, moved into
//! place only when complete; dropped before that, it is removed. One scheme for every
//! export (tables, queries, the app's and the CLI's).
//!
//! `tempfile` creates the hidden name race-free and persists it without clobbering: a file
//! that appeared at the destination meanwhile is never replaced unless the user said so.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::db::DbError;

/// A file written under a temporary name beside its destination.
pub(crate) struct TempFile {
    inner: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl TempFile {
    pub(crate) fn create(dest: &Path) -> Result<Self, DbError> {
        let name = dest
            .file_name()
            .ok_or_else(|| write_failed(dest, "that is not a file name"))?;
        let folder = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(write_failed(
                dest,
                format!("the folder '{}' does not exist", folder.display()),
            ));
        }
        let inner = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".rowsmith-tmp")
            .tempfile_in(&folder)
            .map_err(|e| write_failed(dest, e))?;
        Ok(Self {
            inner,
            dest: dest.to_path_buf(),
        })
    }

    pub(crate) fn file(&mut self) -> &mut File {
        self.inner.as_file_mut()
    }

    /// Moves the finished file into place. `replace`: the user said an existing file may
    /// go; otherwise one that exists (even one that appeared while writing) is kept and
    /// the export fails with [`DbError::FileExists`].
    pub(crate) fn persist(self, replace: bool) -> Result<(), DbError> {
        let dest = self.dest;
        self.inner
            .as_file()
            .sync_all()
            .map_err(|e| write_failed(&dest, e))?;
        let kept = if replace {
            self.inner.persist(&dest)
        } else {
            self.inner.persist_noclobber(&dest)
        };
        match kept {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                Err(DbError::FileExists { path: dest })
            }
            Err(e) => Err(write_failed(&dest, e.error)),
        }
    }
}

fn write_failed(dest: &Path, detail: impl std::fmt::Display) -> DbError {
    DbError::WriteFailed {
        path: dest.display().to_string(),
        detail: detail.to_string(),
    }
}
