//! Profiles (and row counts) kept between runs: reused while the table is unchanged,
//! never after a change, never for a job that wants a bigger sample; a damaged cache is
//! recomputed silently; the folder stays bounded. Real SQLite files, real cache files.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::{Path, PathBuf};

use common::{Fixture, open_rw};
use rowsmith::db::profile::ProfileOptions;
use rowsmith::db::profile_cache::{CACHE_DIR, MAX_ENTRIES, ProfileCache};
use rowsmith::db::table_stats::{StatsRequest, TableStats, table_stats};
use rusqlite::Connection;

/// `events` with `rows` rows of mixed columns.
fn events(fx: &Fixture, name: &str, rows: u64) -> PathBuf {
    fx.db(
        name,
        &format!(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, category TEXT NOT NULL,
                                  user_id INTEGER NOT NULL, amount REAL NOT NULL, note TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO events (created_at, category, user_id, amount, note)
             SELECT datetime('2025-01-01', '+' || i || ' minutes'),
                    CASE i % 3 WHEN 0 THEN 'view' WHEN 1 THEN 'click' ELSE 'purchase' END,
                    1 + i % 97, round(i * 0.37, 2),
                    CASE WHEN i % 4 = 0 THEN NULL ELSE 'note ' || i END
             FROM n;"
        ),
    )
}

/// What a generation of `job_rows` rows learns about `table`, through the cache in `data`.
fn stats(path: &Path, data: &Path, table: &str, job_rows: u64, seed: Option<u64>) -> TableStats {
    let db = open_rw(path);
    let info = db.table_info(table).unwrap();
    let cache = ProfileCache::new(data);
    table_stats(
        db.sqlite().unwrap(),
        &info,
        &StatsRequest {
            options: ProfileOptions::for_job(job_rows),
            seed,
            cache: Some(&cache),
        },
    )
    .unwrap()
}

fn change(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

fn cache_files(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data.join(CACHE_DIR))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn reused_while_the_table_is_unchanged() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 500);
    let data = fx.data_dir();
    let before = common::bytes(&path);

    let first = stats(&path, &data, "events", 10, None);
    assert!(!first.reused);
    assert_eq!(first.rows, 500);
    let files = cache_files(&data);
    assert_eq!(files.len(), 1, "one file per table, no partial files left");
    assert!(files[0].extension().is_some_and(|e| e == "json"));

    let second = stats(&path, &data, "events", 10, None);
    assert!(second.reused, "read back from the cache file");
    assert_eq!(second.rows, 500);
    assert_eq!(second.profile, first.profile);
    assert_eq!(
        common::bytes(&path),
        before,
        "nothing is written to the database"
    );
}

#[test]
fn not_reused_after_an_insert_an_update_or_a_schema_change() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 500);
    let data = fx.data_dir();
    let amount_max = |s: &TableStats| {
        let p = s.profile.as_ref().unwrap();
        let c = p.columns.iter().find(|c| c.name == "amount").unwrap();
        c.numeric.as_ref().unwrap().max
    };
    assert!(!stats(&path, &data, "events", 10, None).reused);
    assert!(stats(&path, &data, "events", 10, None).reused);

    change(
        &path,
        "INSERT INTO events (created_at, category, user_id, amount) VALUES ('2025-02-01 00:00:00', 'view', 1, 1.5)",
    );
    let after_insert = stats(&path, &data, "events", 10, None);
    assert!(!after_insert.reused);
    assert_eq!(after_insert.rows, 501);
    assert!(stats(&path, &data, "events", 10, None).reused);

    // One value: the row count, the largest rowid and the schema stay the same.
    change(&path, "UPDATE events SET amount = 99999.5 WHERE id = 7");
    let after_update = stats(&path, &data, "events", 10, None);
    assert!(!after_update.reused);
    assert_eq!(amount_max(&after_update), 99999.5);
    assert!(stats(&path, &data, "events", 10, None).reused);

    change(&path, "ALTER TABLE events ADD COLUMN source TEXT");
    let after_schema = stats(&path, &data, "events", 10, None);
    assert!(!after_schema.reused);
    let p = after_schema.profile.unwrap();
    assert!(p.columns.iter().any(|c| c.name == "source"));

    // A change to another table changes the file, and the state with it.
    change(
        &path,
        "CREATE TABLE other (x); INSERT INTO other VALUES (1)",
    );
    assert!(!stats(&path, &data, "events", 10, None).reused);
}

#[test]
fn a_schema_changed_since_the_catalog_was_read_is_not_kept() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 200);
    let data = fx.data_dir();
    let db = open_rw(&path);
    let stale = db.table_info("events").unwrap();
    change(&path, "ALTER TABLE events ADD COLUMN source TEXT");
    let cache = ProfileCache::new(&data);
    let request = StatsRequest {
        options: ProfileOptions::for_job(10),
        seed: None,
        cache: Some(&cache),
    };
    assert!(
        !table_stats(db.sqlite().unwrap(), &stale, &request)
            .unwrap()
            .reused
    );
    assert!(
        cache_files(&data).is_empty(),
        "a profile without 'source' is not kept"
    );
    let fresh = db.table_info("events").unwrap();
    assert!(
        !table_stats(db.sqlite().unwrap(), &fresh, &request)
            .unwrap()
            .reused
    );
    assert!(
        table_stats(db.sqlite().unwrap(), &fresh, &request)
            .unwrap()
            .reused
    );
}

#[cfg(unix)]
#[test]
fn kept_profiles_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 50);
    let data = fx.data_dir();
    stats(&path, &data, "events", 10, None);
    let file = cache_files(&data).pop().unwrap();
    let mode = std::fs::metadata(file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_small_jobs_profile_does_not_serve_a_bigger_job() {
    let fx = Fixture::new();
    // More rows than a 10-row job reads, fewer than a big job reads whole.
    let path = events(&fx, "a.db", 3_000);
    let data = fx.data_dir();

    let small = stats(&path, &data, "events", 10, None);
    assert!(!small.reused);
    let p = small.profile.unwrap();
    assert!(p.sampled);
    assert_eq!(p.rows_read, 2_000);

    let big = stats(&path, &data, "events", 1_000_000, None);
    assert!(
        !big.reused,
        "a 2,000-row sample is too small for a million rows"
    );
    let p = big.profile.unwrap();
    assert_eq!((p.sampled, p.rows_read), (false, 3_000));

    // The whole-table profile serves the small job too.
    let again = stats(&path, &data, "events", 10, None);
    assert!(again.reused);
    assert!(!again.profile.unwrap().sampled);

    // A seeded small job wants exactly its own 2,000-row sample.
    assert!(!stats(&path, &data, "events", 10, Some(5)).reused);
}

#[test]
fn a_seed_gets_the_same_profile_with_or_without_the_cache() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 3_000);
    let data = fx.data_dir();
    let cold = stats(&path, &data, "events", 10, Some(42));
    assert!(cold.profile.as_ref().unwrap().sampled);
    let warm = stats(&path, &data, "events", 10, Some(42));
    assert!(warm.reused);
    assert_eq!(warm.profile, cold.profile);

    std::fs::remove_dir_all(data.join(CACHE_DIR)).unwrap();
    let recomputed = stats(&path, &data, "events", 10, Some(42));
    assert!(!recomputed.reused);
    assert_eq!(
        recomputed.profile, cold.profile,
        "the seed alone fixes the sample"
    );

    assert!(!stats(&path, &data, "events", 10, Some(43)).reused);
    // An unseeded run takes any profile of the right size.
    assert!(stats(&path, &data, "events", 10, None).reused);
}

#[test]
fn a_damaged_cache_file_is_recomputed_silently() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 200);
    let data = fx.data_dir();
    let first = stats(&path, &data, "events", 10, None);
    let file = cache_files(&data).pop().unwrap();

    for damage in [&b"{\"format\": 1, \"state\""[..], b"", b"\xff\xfe not json"] {
        std::fs::write(&file, damage).unwrap();
        let again = stats(&path, &data, "events", 10, None);
        assert!(!again.reused);
        assert_eq!(
            again.profile, first.profile,
            "a whole-table profile is exact"
        );
        assert!(
            stats(&path, &data, "events", 10, None).reused,
            "rewritten whole"
        );
    }

    // A file the cache cannot read at all.
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let again = stats(&path, &data, "events", 10, None);
    assert!(!again.reused);
    assert_eq!(again.rows, 200);
}

#[test]
fn wal_databases_learn_afresh_every_time() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 200);
    change(&path, "PRAGMA journal_mode = WAL");
    let data = fx.data_dir();
    assert!(!stats(&path, &data, "events", 10, None).reused);
    assert!(!stats(&path, &data, "events", 10, None).reused);
    assert!(cache_files(&data).is_empty());
}

#[test]
fn the_cache_folder_stays_bounded() {
    let fx = Fixture::new();
    let tables = MAX_ENTRIES + 6;
    let sql: String = (0..tables)
        .map(|i| format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t{i} (v) VALUES ('x{i}');"))
        .collect();
    let path = fx.db("many.db", &sql);
    let data = fx.data_dir();
    for i in 0..tables {
        stats(&path, &data, &format!("t{i}"), 10, None);
    }
    assert_eq!(cache_files(&data).len(), MAX_ENTRIES);
    // The most recent ones are kept.
    assert!(stats(&path, &data, &format!("t{}", tables - 1), 10, None).reused);
}

/// `generate --dry-run --json`, parsed.
fn dry_run(fx: &Fixture, path: &Path, args: &[&str]) -> serde_json::Value {
    let out = fx
        .cmd()
        .args([
            "generate",
            path.to_str().unwrap(),
            "events",
            "--provider",
            "offline",
        ])
        .args(["--dry-run", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_command_reads_the_kept_profile_until_the_table_changes() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 300);
    assert_eq!(dry_run(&fx, &path, &["-n", "10"])["new_row_count"], 300);
    let file = cache_files(&fx.data_dir()).pop().expect("a kept profile");

    // Mark the kept count: a run that shows it has read the file.
    let mut entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    entry["rows"] = 777.into();
    std::fs::write(&file, serde_json::to_vec(&entry).unwrap()).unwrap();
    assert_eq!(dry_run(&fx, &path, &["-n", "10"])["new_row_count"], 777);

    // A real run counts its new total itself, cache or not.
    let out = fx
        .cmd()
        .args(["generate", path.to_str().unwrap(), "events", "-n", "5"])
        .args(["--provider", "offline"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Generated 5 rows for table 'events'. New total: 305 rows."
    );
    // Its insert made the kept profile stale.
    assert_eq!(dry_run(&fx, &path, &["-n", "10"])["new_row_count"], 305);
}

#[test]
fn a_seeded_dry_run_gives_the_same_rows_cold_and_warm() {
    let fx = Fixture::new();
    let path = events(&fx, "a.db", 3_000);
    let args = ["-n", "10", "--seed", "9"];
    let cold = dry_run(&fx, &path, &args);
    assert!(!cache_files(&fx.data_dir()).is_empty());
    let warm = dry_run(&fx, &path, &args);
    assert_eq!(cold["preview"], warm["preview"]);
    assert_eq!(cold["preview"].as_array().unwrap().len(), 10);
}
