//! Shared helpers for the integration tests: real SQLite files in temporary
//! directories, and the real binary with its own data directory.
#![allow(dead_code)]

pub mod model;
pub mod pg;
pub mod services;

use std::path::{Path, PathBuf};

use rowsmith::db::{Database, OpenOptions};
use rusqlite::Connection;
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Creates `name` from SQL and returns its path.
    pub fn db(&self, name: &str, sql: &str) -> PathBuf {
        let path = self.path(name);
        let conn = Connection::open(&path).expect("create db");
        conn.execute_batch(sql).expect("schema");
        path
    }

    /// A data directory of our own, so tests never touch the real one.
    pub fn data_dir(&self) -> PathBuf {
        let dir = self.path("rowsmith-data");
        std::fs::create_dir_all(&dir).expect("data dir");
        dir
    }

    pub fn journal(&self) -> rowsmith::db::journal::Journal {
        rowsmith::db::journal::Journal::open(&self.data_dir().join("journal.sqlite"))
            .expect("journal")
    }

    /// Runs the binary with `args`: whether it succeeded, its stdout and its stderr.
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.cmd().args(args).output().expect("run rowsmith");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The rowsmith binary with this fixture's data directory.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("rowsmith").expect("binary");
        cmd.env("ROWSMITH_DATA_DIR", self.data_dir());
        // No user config file and no keys from the machine running the tests.
        cmd.env("XDG_CONFIG_HOME", self.path("config-home"));
        for var in [
            "ROWSMITH_CONFIG",
            "ROWSMITH_PROVIDER",
            "ROWSMITH_MODEL",
            "ROWSMITH_BASE_URL",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

pub fn open_rw(path: &Path) -> Database {
    Database::open(path, &OpenOptions::read_write()).expect("open")
}

pub fn open_ro(path: &Path) -> Database {
    Database::open(path, &OpenOptions::read_only()).expect("open")
}

pub fn count(path: &Path, table: &str) -> i64 {
    let conn = Connection::open(path).expect("open");
    conn.query_row(
        &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\"")),
        [],
        |r| r.get(0),
    )
    .expect("count")
}

/// Every byte of the file, to prove it did not change.
pub fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read db")
}

pub fn seeded(seed: u64) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    rand::rngs::StdRng::seed_from_u64(seed)
}
