//! Imports read their file more than once (to infer column types, then to insert), which
//! a pipe cannot give: `import DB <(gunzip -c data.csv.gz)`, `/dev/stdin` or a named pipe
//! are first copied to a temporary file of the same name, removed when the import ends.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::db::DbError;

/// A copy of a stream in a folder of its own; both go when this is dropped.
pub(super) struct Spooled {
    dir: PathBuf,
    pub(super) file: PathBuf,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `Some` copy when `file` is a stream (a pipe, a character device) rather than a regular
/// file; `None` for a regular file (or one that does not exist: the reader says so).
pub(super) fn spool_if_stream(file: &Path, limit: usize) -> Result<Option<Spooled>, DbError> {
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(None);
    };
    if meta.is_file() || meta.is_dir() {
        return Ok(None);
    }
    let shown = file.display().to_string();
    let io_err = |e: io::Error| DbError::Io {
        path: shown.clone(),
        detail: e.to_string(),
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("rowsmith-import-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io_err)?;
    let name = file
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "input".into());
    let spooled = Spooled {
        file: dir.join(name),
        dir,
    };
    let mut input = File::open(file).map_err(io_err)?;
    let mut out = io::BufWriter::new(File::create(&spooled.file).map_err(io_err)?);
    let mut buf = vec![0u8; 1 << 16];
    // The same bound the readers keep: a stream without a line break (/dev/zero) stops
    // here instead of filling the disk.
    let mut since_newline = 0usize;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        };
        let chunk = &buf[..n];
        since_newline = match chunk.iter().rposition(|&b| b == b'\n') {
            Some(last) => n - last - 1,
            None => since_newline + n,
        };
        if since_newline > limit {
            return Err(super::source::record_too_big(&shown, limit));
        }
        out.write_all(chunk).map_err(io_err)?;
    }
    out.flush().map_err(io_err)?;
    Ok(Some(spooled))
}
