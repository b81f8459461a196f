//! The binary as a user runs it: table listings, and every bad input ends in
//! one clear sentence and a non-zero exit, never a panic or a new empty file.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::Path;

use common::Fixture;
use rusqlite::Connection;

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE \"order lines\" (id INTEGER PRIMARY KEY, qty INT);
CREATE VIEW big_customers AS SELECT * FROM customers WHERE id > 1;
CREATE VIRTUAL TABLE notes USING fts5(body);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
INSERT INTO customers (name) SELECT 'c' || i FROM n;
";

/// Runs rowsmith and returns (success, stdout, stderr).
fn run(fx: &Fixture, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = fx.cmd();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A failure a user can read: exactly one line, no panic or backtrace.
fn assert_one_sentence(stderr: &str, starts: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line only: {stderr}");
    assert!(stderr.starts_with(&format!("error: {starts}")), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn tables_are_listed_aligned_for_people() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let (ok, out, _) = run(&fx, &["tables", path.to_str().unwrap()], &[]);
    assert!(ok);
    let expected = [
        "TABLE           ROWS  KIND",
        "big_customers  1,233  view",
        "customers      1,234  table",
        "notes              0  virtual table",
        "order lines        0  table",
        "",
    ];
    assert_eq!(out, expected.join("\n"));
}

#[test]
fn tables_json_has_names_rows_and_kinds() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let (ok, out, _) = run(&fx, &["tables", path.to_str().unwrap(), "--json"], &[]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "big_customers", "rows": 1233, "kind": "view"},
            {"name": "customers", "rows": 1234, "kind": "table"},
            {"name": "notes", "rows": 0, "kind": "virtual"},
            {"name": "order lines", "rows": 0, "kind": "table"},
        ])
    );
}

#[test]
fn a_missing_path_is_an_error_and_is_not_created() {
    let fx = Fixture::new();
    let missing = fx.path("typo.db");
    let (ok, _, err) = run(&fx, &["tables", missing.to_str().unwrap()], &[]);
    assert!(!ok);
    assert_one_sentence(&err, "No database at ");
    assert!(err.contains("--create"));
    assert!(
        !missing.exists(),
        "a mistyped path must not become an empty database"
    );

    let (ok, out, _) = run(&fx, &["tables", missing.to_str().unwrap(), "--create"], &[]);
    assert!(ok, "--create makes a new database");
    assert!(out.starts_with("No tables in "));
    assert!(missing.exists());
}

#[test]
fn files_that_are_not_databases_are_named_as_such() {
    let fx = Fixture::new();
    let text = fx.path("notes.txt");
    std::fs::write(
        &text,
        "just some text that is long enough to have a header\n",
    )
    .unwrap();
    let (ok, _, err) = run(&fx, &["tables", text.to_str().unwrap()], &[]);
    assert!(!ok);
    assert_one_sentence(
        &err,
        &format!("'{}' is not a SQLite database.", text.display()),
    );

    let (ok, _, err) = run(&fx, &["tables", fx.dir.path().to_str().unwrap()], &[]);
    assert!(!ok);
    assert_one_sentence(
        &err,
        &format!("'{}' is a directory", fx.dir.path().display()),
    );
}

#[test]
fn a_corrupt_database_gets_a_clear_sentence() {
    let fx = Fixture::new();
    let path = fx.db("bad.db", SHOP);
    // Keep the 100-byte header, wreck the rest of the first page (the schema).
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().take(4096).skip(100) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (ok, _, err) = run(&fx, &["tables", path.to_str().unwrap()], &[]);
    assert!(!ok);
    assert_one_sentence(
        &err,
        &format!("The database '{}' is damaged", path.display()),
    );
}

#[test]
fn a_locked_database_says_so_after_the_busy_timeout() {
    let fx = Fixture::new();
    let path = fx.db("locked.db", SHOP);
    let holder = Connection::open(&path).unwrap();
    holder
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO customers (name) VALUES ('x');")
        .unwrap();
    let started = std::time::Instant::now();
    let (ok, _, err) = run(
        &fx,
        &["tables", path.to_str().unwrap()],
        &[("ROWSMITH_BUSY_TIMEOUT_MS", "300")],
    );
    assert!(!ok);
    assert_one_sentence(
        &err,
        &format!(
            "The database '{}' is locked by another program.",
            path.display()
        ),
    );
    assert!(
        started.elapsed().as_millis() >= 300,
        "it waited for the lock first"
    );
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn unknown_tables_and_views_are_refused_clearly() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let p = path.to_str().unwrap();
    let (ok, _, err) = run(&fx, &["sample", p, "nope"], &[]);
    assert!(!ok);
    assert_one_sentence(&err, &format!("There is no table 'nope' in '{p}'."));
    let (ok, _, err) = run(&fx, &["profile", p, "big_customers"], &[]);
    assert!(!ok);
    assert_one_sentence(&err, "'big_customers' is a view, not a table");
    let (ok, _, err) = run(&fx, &["undo", p, "--table", "nope"], &[]);
    assert!(!ok);
    assert_one_sentence(&err, "There is no table 'nope'");
}

/// Makes a file unwritable even for root (immutable), or says it cannot.
fn make_read_only(path: &Path) -> bool {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(path, perms).unwrap();
    if std::fs::OpenOptions::new().append(true).open(path).is_err() {
        return true;
    }
    std::process::Command::new("chattr")
        .arg("+i")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn undo_read_only(path: &Path) {
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(path)
        .status();
}

#[test]
fn writing_to_a_read_only_file_is_refused_before_anything_happens() {
    let fx = Fixture::new();
    let path = fx.db("ro.db", SHOP);
    if !make_read_only(&path) {
        eprintln!("skipped: this process can write to any file and chattr is unavailable");
        return;
    }
    let before = std::fs::read(&path).unwrap();
    let (ok, _, err) = run(&fx, &["undo", path.to_str().unwrap()], &[]);
    undo_read_only(&path);
    assert!(!ok);
    assert_one_sentence(
        &err,
        &format!(
            "Cannot write to '{}': the file (or its folder) is read-only.",
            path.display()
        ),
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn reading_commands_leave_the_file_byte_for_byte_unchanged() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let before = std::fs::read(&path).unwrap();
    let p = path.to_str().unwrap();
    for args in [
        vec!["tables", p],
        vec!["schema", p],
        vec!["sample", p, "customers", "-n", "3"],
        vec!["profile", p, "customers"],
    ] {
        let (ok, _, err) = run(&fx, &args, &[]);
        assert!(ok, "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn the_demo_database_is_built_on_first_run() {
    let fx = Fixture::new();
    let (ok, out, err) = run(&fx, &[], &[]);
    assert!(ok, "{err}");
    for table in [
        "customers",
        "products",
        "orders",
        "order_items",
        "customer_order_totals",
    ] {
        assert!(out.contains(table), "{out}");
    }
    let (ok, path, _) = run(&fx, &["demo"], &[]);
    assert!(ok);
    let conn = Connection::open(path.trim()).unwrap();
    let problems: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(problems, 0);
    let customers: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(customers, 60);
}

#[test]
fn sample_and_profile_print_json_for_scripts() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let p = path.to_str().unwrap();
    let (ok, out, _) = run(
        &fx,
        &["sample", p, "customers", "-n", "4", "--seed", "7", "--json"],
        &[],
    );
    assert!(ok);
    let sample: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sample["rows"].as_array().unwrap().len(), 4);
    assert_eq!(sample["method"], "uniform");
    let (_, again, _) = run(
        &fx,
        &["sample", p, "customers", "-n", "4", "--seed", "7", "--json"],
        &[],
    );
    assert_eq!(out, again, "the same seed draws the same rows");

    let (ok, out, _) = run(&fx, &["profile", p, "customers", "--json"], &[]);
    assert!(ok);
    let profile: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(profile["rows_read"], 1234);
    assert_eq!(profile["sampled"], false);
    assert_eq!(profile["columns"][1]["distinct_count"], 1234);
}

#[test]
fn read_only_refuses_commands_that_write() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let before = std::fs::read(&path).unwrap();
    let p = path.to_str().unwrap();
    for (args, name) in [
        (vec!["generate", p, "customers", "--read-only"], "generate"),
        (vec!["undo", p, "--read-only"], "undo"),
        (vec!["drop", p, "customers", "--yes", "--read-only"], "drop"),
    ] {
        let (ok, _, err) = run(&fx, &args, &[]);
        assert!(!ok, "{name}");
        assert_one_sentence(
            &err,
            &format!("`rowsmith {name}` writes to the database, and --read-only was given."),
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_row_count_above_the_bound_is_refused_before_anything_runs() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a');",
    );
    let before = common::bytes(&path);
    let out = fx
        .cmd()
        .args([
            "generate",
            path.to_str().unwrap(),
            "t",
            "-n",
            "99999999999",
            "--provider",
            "offline",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "99,999,999,999 rows is more than one run may add (generate.max_rows = 1,000,000)"
        ),
        "{stderr}"
    );
    assert_eq!(common::bytes(&path), before);
}

/// Issue 11, defect 11: names and values reach the terminal with their control
/// characters escaped, so a database cannot set the window title or repaint the screen.
#[test]
fn control_characters_from_the_database_never_reach_the_terminal() {
    let fx = Fixture::new();
    let path = fx.path("evil.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE \"evil\x1b]0;pwned\x07\" (id INTEGER PRIMARY KEY, \"note\x1b[31m\" TEXT);",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO \"evil\x1b]0;pwned\x07\" (\"note\x1b[31m\") VALUES (?1), (?2)",
        ["\x1b[2J\x1b[Hcleared", "bell\x07 and \u{9b}31m C1"],
    )
    .unwrap();
    drop(conn);
    let p = path.to_str().unwrap();
    let table = "evil\x1b]0;pwned\x07";
    for args in [
        vec!["tables", p],
        vec!["schema", p, table],
        vec!["sample", p, table],
        vec!["profile", p, table],
        vec!["query", p, "SELECT * FROM \"evil\x1b]0;pwned\x07\""],
        vec!["export", p, "no such table\x1b[2J"],
    ] {
        let out = fx.cmd().args(&args).output().unwrap();
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{} {stream}: {text:?}",
                args[0]
            );
        }
    }
}

/// Issue 11, defect 15: `export -o - | head -1` and `query ... | head -1` end quietly
/// and successfully, like any Unix tool whose reader stopped reading.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read;
    let fx = Fixture::new();
    let path = fx.db(
        "big.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
         INSERT INTO t (v) SELECT printf('%050d', i) FROM n;",
    );
    let p = path.to_str().unwrap();
    for args in [
        vec!["export", p, "t", "-o", "-"],
        vec![
            "query",
            p,
            "SELECT * FROM t",
            "--format",
            "csv",
            "--limit",
            "0",
        ],
        vec![
            "query",
            p,
            "SELECT * FROM t",
            "--format",
            "json",
            "--limit",
            "0",
        ],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rowsmith"))
            .args(&args)
            .env("ROWSMITH_DATA_DIR", fx.data_dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader goes away, as `head -1` does.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

/// Issue 11, defect 9: a hot rollback journal left by a crashed writer. Read commands
/// roll it back (the user allows writes); under --read-only the sentence says what
/// happened and the command that recovers it.
#[test]
fn a_crashed_writers_journal_is_explained_or_recovered() {
    let fx = Fixture::new();
    let live = fx.db(
        "live.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO t (v) SELECT 'before' FROM n;",
    );
    // Copying the file and its journal in the middle of a transaction that already
    // spilled to the file is exactly what a kill -9 at that moment leaves behind.
    let crashed = fx.path("crashed.db");
    {
        let conn = Connection::open(&live).unwrap();
        conn.execute_batch("PRAGMA cache_size = 10; BEGIN; UPDATE t SET v = 'half-done';")
            .unwrap();
        std::fs::copy(&live, &crashed).unwrap();
        let mut journal = live.as_os_str().to_owned();
        journal.push("-journal");
        let mut copy = crashed.as_os_str().to_owned();
        copy.push("-journal");
        std::fs::copy(&journal, &copy).unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
    }
    let p = crashed.to_str().unwrap();
    let out = fx
        .cmd()
        .args(["tables", p, "--read-only"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("holds an unfinished write"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Run `rowsmith tables {p}` once without --read-only"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("is read-only"),
        "not a permissions problem: {stderr}"
    );

    let out = fx
        .cmd()
        .args(["query", p, "SELECT DISTINCT v FROM t", "--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "v\nbefore\n",
        "the half-done write was rolled back"
    );
}

/// Issue 11, defect 14: --create is not silently ignored, and a missing file's sentence
/// offers it only where it can help.
#[test]
fn create_is_offered_only_where_it_helps() {
    let fx = Fixture::new();
    let missing = fx.path("nope.db");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["generate", m, "t"],
        vec!["query", m, "SELECT 1"],
        vec!["undo", m],
    ] {
        let out = fx.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("No database at"), "{args:?}: {stderr}");
        assert!(!stderr.contains("--create"), "{args:?}: {stderr}");
        let mut with = args.clone();
        with.push("--create");
        let out = fx.cmd().args(&with).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--create makes a new, empty database"),
            "{with:?}: {stderr}"
        );
        assert!(!missing.exists(), "{with:?} created a file");
    }
    let out = fx.cmd().args(["tables", m]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --create"));
}

/// Issue 11, defect 15: `export --force` can not replace rowsmith's own undo journal.
#[test]
fn export_never_replaces_rowsmiths_own_files() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a');",
    );
    let p = path.to_str().unwrap();
    // Any command that records undo creates the journal.
    let out = fx
        .cmd()
        .args(["generate", p, "t", "-n", "2", "--provider", "offline"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = fx.data_dir().join("journal.sqlite");
    let before = common::bytes(&journal);
    let out = fx
        .cmd()
        .args(["export", p, "t", "-o", journal.to_str().unwrap(), "--force"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("one of rowsmith's own files"), "{stderr}");
    assert_eq!(common::bytes(&journal), before);
    let out = fx.cmd().args(["undo", p]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 11, smaller defects: an error stands alone on stderr (the provider note comes
/// only once a run starts), and a trigger's RAISE(ROLLBACK) says "Nothing was written."
/// once.
#[test]
fn errors_stand_alone_and_say_things_once() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t (v) VALUES ('a'), ('b'), ('c');
         CREATE TRIGGER no BEFORE INSERT ON t BEGIN SELECT RAISE(ROLLBACK, 'closed for inserts'); END;",
    );
    let p = path.to_str().unwrap();
    let out = fx.cmd().args(["generate", p, "nosuch"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: There is no table 'nosuch'"),
        "{stderr}"
    );
    let out = fx
        .cmd()
        .args(["generate", p, "t", "-n", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        stderr.matches("Nothing was written.").count(),
        1,
        "{stderr}"
    );
}

/// Issue 11, defect 6: a big dry run checks every row but keeps only the rows it shows.
#[test]
fn a_big_dry_run_keeps_only_what_it_shows() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT);
         WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 50)
         INSERT INTO t (n, name) SELECT i, 'name ' || i FROM s;",
    );
    let out = fx
        .cmd()
        .args([
            "generate",
            path.to_str().unwrap(),
            "t",
            "-n",
            "12000",
            "--dry-run",
            "--provider",
            "offline",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        shown.as_array().unwrap().len(),
        rowsmith::generate::job::PREVIEW_MAX
    );
    assert!(
        stderr.contains("Showing the first 10,000 of the 12,000 rows."),
        "{stderr}"
    );
    assert!(stderr.contains("Dry run: 12,000 rows"), "{stderr}");
}
