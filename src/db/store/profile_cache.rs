//! Table profiles kept on disk between runs, in rowsmith's data directory.
//!
//! Each CLI run is a new process, so reusing a profile means a file. There is one file
//! per database and table (`profiles/<hash>.json`), holding the [`TableState`] it was
//! learned from; it is used only while the table's state is exactly that state again
//! (see `table_state` for why that makes a stale profile impossible in practice) and
//! only when it was read from at least as large a sample as the job asks for.
//!
//! A cache must never be the reason a run fails: a missing, unreadable, corrupt or
//! foreign file is a miss, and a file that cannot be written is skipped. Files are
//! written beside and renamed, so a reader sees a whole file or none. The folder keeps
//! at most [`MAX_ENTRIES`] files of at most [`MAX_ENTRY_BYTES`] each.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::db::profile::{ProfileOptions, TableProfile};
use crate::db::table_state::TableState;

/// The folder inside the data directory.
pub const CACHE_DIR: &str = "profiles";
/// Files kept; the least recently written go first.
pub const MAX_ENTRIES: usize = 64;
/// A profile bigger than this (a wide table with long top values) is not kept.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;
/// Bumped whenever the entry or the profile changes shape.
const FORMAT: u32 = 1;

/// One kept profile and what it was learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    format: u32,
    pub state: TableState,
    pub options: ProfileOptions,
    /// The seed the sample was drawn with, for seeded runs.
    pub seed: Option<u64>,
    /// The table's exact row count in that state.
    pub rows: u64,
    pub profile: TableProfile,
}

impl Entry {
    pub fn new(
        state: TableState,
        options: ProfileOptions,
        seed: Option<u64>,
        rows: u64,
        profile: TableProfile,
    ) -> Self {
        Self {
            format: FORMAT,
            state,
            options,
            seed,
            rows,
            profile,
        }
    }

    /// Whether this profile may stand in for one computed with `options` and `seed`.
    /// A seeded run must get exactly the profile it would compute (same rows read, same
    /// draw), so that a seed gives the same rows with or without the cache; an unseeded
    /// one takes any profile read from at least as many rows.
    pub fn serves(&self, options: &ProfileOptions, seed: Option<u64>) -> bool {
        if self.options.top_values != options.top_values
            || self.options.quantiles != options.quantiles
        {
            return false;
        }
        let would_sample = self.rows > options.full_scan_limit as u64;
        match (self.profile.sampled, seed) {
            // Read whole: exact, which no sample beats.
            (false, None) => true,
            (false, Some(_)) => !would_sample,
            (true, None) => would_sample && self.options.sample_size >= options.sample_size,
            (true, Some(seed)) => {
                would_sample
                    && self.options.sample_size == options.sample_size
                    && self.seed == Some(seed)
            }
        }
    }
}

/// Why an entry was not read or kept; never shown to the user (a miss is recomputed).
#[derive(Debug, thiserror::Error)]
enum CacheError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("unreadable entry: {0}")]
    Format(#[from] serde_json::Error),
    #[error("entry of {0} bytes is over the limit")]
    TooBig(usize),
    #[error("entry of another format or state")]
    Foreign,
    #[error("the profile does not read back exactly")]
    Inexact,
}

/// The profile folder of a data directory.
#[derive(Debug, Clone)]
pub struct ProfileCache {
    dir: PathBuf,
}

impl ProfileCache {
    /// The cache inside `data_dir` (created on first write).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join(CACHE_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the entry for this database and table.
    pub fn file_for(&self, state: &TableState) -> PathBuf {
        let mut key = state.path.as_os_str().as_encoded_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(state.table.as_bytes());
        self.dir
            .join(format!("{:016x}.json", xxhash_rust::xxh3::xxh3_64(&key)))
    }

    /// The entry learned from exactly `state`, if one is kept and readable.
    pub fn load(&self, state: &TableState) -> Option<Entry> {
        match self.try_load(state) {
            Ok(entry) => Some(entry),
            Err(e) => {
                tracing::debug!("profile cache: no entry for '{}': {e}", state.table);
                None
            }
        }
    }

    fn try_load(&self, state: &TableState) -> Result<Entry, CacheError> {
        let path = self.file_for(state);
        let len = std::fs::metadata(&path)?.len() as usize;
        if len > MAX_ENTRY_BYTES {
            return Err(CacheError::TooBig(len));
        }
        let entry: Entry = serde_json::from_slice(&std::fs::read(&path)?)?;
        if entry.format != FORMAT || entry.state != *state {
            return Err(CacheError::Foreign);
        }
        Ok(entry)
    }

    /// Keeps `entry` in place of the table's previous one; failures are only logged.
    pub fn store(&self, entry: &Entry) {
        if let Err(e) = self.try_store(entry) {
            tracing::debug!("profile cache: '{}' not kept: {e}", entry.state.table);
        }
    }

    fn try_store(&self, entry: &Entry) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(entry)?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(CacheError::TooBig(bytes.len()));
        }
        // Keep only what reads back as the very same profile (an infinite real, say,
        // would not), so a reused profile is never a changed one.
        if serde_json::from_slice::<Entry>(&bytes)? != *entry {
            return Err(CacheError::Inexact);
        }
        std::fs::create_dir_all(&self.dir)?;
        let path = self.file_for(&entry.state);
        // A name of this process's own, so two runs writing at once never mix their bytes.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let partial = self
            .dir
            .join(format!(".{}.{nanos}.partial", std::process::id()));
        write_private(&partial, &bytes)?;
        if let Err(e) = std::fs::rename(&partial, &path) {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
        self.prune();
        Ok(())
    }

    /// Removes the least recently written files past [`MAX_ENTRIES`] (leftover partial
    /// files of a crashed run included).
    fn prune(&self) {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, PathBuf)> = read
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file()
                    .then(|| (meta.modified().unwrap_or(UNIX_EPOCH), e.path()))
            })
            .collect();
        if files.len() <= MAX_ENTRIES {
            return;
        }
        files.sort();
        let excess = files.len() - MAX_ENTRIES;
        for (_, path) in files.into_iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes a new file only its owner can read: a profile holds each column's most common
/// values, which are the user's data.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
