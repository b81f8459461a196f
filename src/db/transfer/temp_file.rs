//! The file an export writes: under a temporary name beside its
//! destination, renamed into place only when complete.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::db::DbError;

/// A file written under a temporary name beside its destination and
/// renamed into place by [`persist`](Self::persist); dropped before that,
/// it is removed.
pub(super) struct TempFile {
    pub(super) file: File,
    temp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl TempFile {
    pub(super) fn create(dest: &Path) -> Result<Self, DbError> {
        let fail = |e: io::Error| write_failed(dest, e);
        let name = dest.file_name().ok_or_else(|| {
            DbError::Refused(format!(
                "'{}' is not a file name to export to.",
                dest.display()
            ))
        })?;
        let folder = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(DbError::Refused(format!(
                "Cannot write '{}': the folder '{}' does not exist.",
                dest.display(),
                folder.display()
            )));
        }
        for attempt in 0..100u32 {
            let temp = folder.join(format!(
                ".{}.{}-{}.rowsmith-tmp",
                name.to_string_lossy(),
                std::process::id(),
                rand::random::<u32>().wrapping_add(attempt)
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(Self {
                        file,
                        temp,
                        dest: dest.to_path_buf(),
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        Err(fail(io::Error::other("no free temporary name")))
    }

    pub(super) fn persist(mut self) -> Result<(), DbError> {
        let fail = |e: io::Error| write_failed(&self.dest, e);
        self.file.sync_all().map_err(fail)?;
        std::fs::rename(&self.temp, &self.dest).map_err(fail)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

fn write_failed(dest: &Path, e: io::Error) -> DbError {
    DbError::Refused(format!(
        "Cannot write '{}' ({e}). Nothing was exported.",
        dest.display()
    ))
}
