//! `rowsmith import`, `export` and `drop` as a user runs them: the exact
//! lines they print, and one-sentence errors that change nothing.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Fixture, bytes, count};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Runs rowsmith in the fixture's folder and returns (success, stdout, stderr).
fn run(fx: &Fixture, args: &[&str]) -> (bool, String, String) {
    let out = fx
        .cmd()
        .current_dir(fx.dir.path())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const SHOP: &str = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);
    INSERT INTO customers (name, note) VALUES ('Ada', ''), ('Grace', NULL), ('Linus', 'a \"quoted\", line');";

#[test]
fn import_append_export_undo_and_drop_print_one_line_each() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let db = db.to_str().unwrap();
    std::fs::write(
        fx.path("people.csv"),
        "id,name,zip\n1,Ada,02134\n2,Grace,90210\n3,Linus,\n",
    )
    .unwrap();
    let (ok, out, err) = run(&fx, &["import", db, "people.csv"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Imported 3 rows into new table 'people' (3 columns: id INTEGER, name TEXT, zip TEXT).\n"
    );
    assert_eq!(err, "");

    std::fs::write(fx.path("more.csv"), "Name,ZIP\nKen,10001\nDennis,07974\n").unwrap();
    let (ok, out, err) = run(&fx, &["import", db, "more.csv", "--table", "people"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Appended 2 rows to table 'people'. New total: 5 rows.\n"
    );

    let (ok, out, err) = run(&fx, &["export", db, "customers"]);
    assert!(ok, "{err}");
    assert_eq!(out, "Exported 3 rows of 'customers' to customers.csv.\n");
    let csv = "id,name,note\n1,Ada,\"\"\n2,Grace,\n3,Linus,\"a \"\"quoted\"\", line\"\n";
    assert_eq!(
        std::fs::read_to_string(fx.path("customers.csv")).unwrap(),
        csv
    );

    let (ok, out, _) = run(&fx, &["export", db, "customers", "-o", "-"]);
    assert!(ok);
    assert_eq!(out, csv);

    std::fs::create_dir(fx.path("out")).unwrap();
    let (ok, out, _) = run(&fx, &["export", db, "people", "-o", "out/p.csv"]);
    assert!(ok);
    assert_eq!(out, "Exported 5 rows of 'people' to out/p.csv.\n");
    assert!(
        std::fs::read_to_string(fx.path("out/p.csv"))
            .unwrap()
            .ends_with("Dennis,07974\n")
    );

    let (ok, out, err) = run(&fx, &["undo", db]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Removed 2 rows from table 'people' (added ")
            && out.ends_with(" UTC by import more.csv). New total: 3 rows.\n"),
        "{out}"
    );

    // Without a terminal to ask on, drop wants --yes.
    let path = fx.path("shop.db");
    let before = bytes(&path);
    let (ok, out, err) = run(&fx, &["drop", db, "people"]);
    assert!(!ok);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "error: Refusing to delete table 'people' without confirmation: pass --yes to delete it from a script.\n"
    );
    assert_eq!(bytes(&path), before);
    let (ok, out, _) = run(&fx, &["drop", db, "people", "--yes"]);
    assert!(ok);
    assert_eq!(out, "Deleted table 'people' and its 3 rows.\n");
    let (ok, _, err) = run(&fx, &["drop", db, "people", "--yes"]);
    assert!(!ok);
    assert!(
        err.starts_with("error: There is no table 'people' in "),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_sentence_and_changes_nothing() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        &format!(
            "{SHOP} CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));"
        ),
    );
    let db = path.to_str().unwrap();
    let before = bytes(&path);
    std::fs::write(fx.path("data.csv"), "a,b\n1,2\n3,4,5\n").unwrap();
    std::fs::write(fx.path("customers.csv"), "name\nBarbara\n\"Ada\"x\n").unwrap();
    std::fs::write(fx.path("dup.csv"), "id,name\n4,Barbara\n1,Ada again\n").unwrap();
    for (args, expected) in [
        (
            vec!["import", db, "data.csv"],
            "error: data.csv line 3: expected 2 fields, found 3. Nothing was imported.\n",
        ),
        (
            vec!["import", db, "customers.csv"],
            "error: customers.csv line 3: there is text after the closing quote of a field (a quote inside a quoted \
             field must be doubled: \"\"). Nothing was imported.\n",
        ),
        (
            vec!["import", db, "dup.csv", "--table", "customers"],
            "error: dup.csv line 3: UNIQUE constraint failed: customers.id. Nothing was imported.\n",
        ),
        (
            vec!["import", db, "missing.csv"],
            "error: There is no file 'missing.csv' to import. Check the path.\n",
        ),
        (
            vec!["drop", db, "customers", "--yes"],
            "error: Cannot delete table 'customers': table 'orders' has a foreign key that points at it. Delete that \
             table first, or remove its foreign key.\n",
        ),
        (
            vec!["drop", db, "customers", "--yes", "--read-only"],
            "error: `rowsmith drop` writes to the database, and --read-only was given. Run it without --read-only \
             (or with --dry-run where it has one).\n",
        ),
        (
            vec!["export", db, "nope"],
            &format!(
                "error: There is no table 'nope' in '{db}'. Run `rowsmith tables '{db}'` to list them.\n"
            ),
        ),
    ] {
        let (ok, out, err) = run(&fx, &args);
        assert!(!ok, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err, expected, "{args:?}");
    }
    assert_eq!(bytes(&path), before);
    assert_eq!(count(&path, "customers"), 3);
    assert!(!fx.path("nope.csv").exists());
}

#[test]
fn drop_asks_on_a_terminal_and_defaults_to_no() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    for (answer, deleted) in [("\r", false), ("y\r", true)] {
        let output = in_terminal(&fx, &["drop", path.to_str().unwrap(), "customers"], answer);
        assert!(
            output.contains("Delete table 'customers' and its 3 rows? [y/N]"),
            "{output}"
        );
        if deleted {
            assert!(
                output.contains("Deleted table 'customers' and its 3 rows."),
                "{output}"
            );
        } else {
            assert!(output.contains("Nothing was deleted."), "{output}");
            assert_eq!(count(&path, "customers"), 3);
        }
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0);
}

/// Runs rowsmith in a pseudo-terminal, answers its question with `answer`,
/// and returns everything it wrote.
fn in_terminal(fx: &Fixture, args: &[&str], answer: &str) -> String {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rowsmith"));
    cmd.args(args);
    cmd.cwd(fx.dir.path());
    cmd.env("ROWSMITH_DATA_DIR", fx.data_dir());
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    let feed = output.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let start = Instant::now();
    while !output.lock().unwrap().contains("[y/N]") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no question: {}",
            output.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    writer.write_all(answer.as_bytes()).unwrap();
    writer.flush().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "rowsmith did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    // The reader stops when the terminal closes behind the child.
    let start = Instant::now();
    while !reading.is_finished() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    output.lock().unwrap().clone()
}

/// Issue 11, defect 7: one endless field cannot fill memory; past the record bound the
/// import stops with one sentence and writes nothing.
#[test]
fn an_endless_field_is_refused_at_the_record_bound() {
    let fx = Fixture::new();
    let db = fx.db("t.db", "CREATE TABLE keep (x);");
    let before = common::bytes(&db);
    let file = fx.path("endless.csv");
    let mut text = String::from("a,b\n\"");
    text.push_str(&"x".repeat(rowsmith::db::transfer::MAX_RECORD_BYTES + 1024));
    std::fs::write(&file, text).unwrap();
    let out = fx
        .cmd()
        .args(["import", db.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("has a record larger than 64 MiB"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was imported."), "{stderr}");
    assert_eq!(common::bytes(&db), before);
}

/// Issue 11, defect 10: a stream (/dev/stdin, a named pipe) is imported like a file,
/// although it can be read only once.
#[test]
fn streams_are_imported_like_files() {
    let fx = Fixture::new();
    let db = fx.db("t.db", "CREATE TABLE keep (x);");
    let out = fx
        .cmd()
        .args([
            "import",
            db.to_str().unwrap(),
            "/dev/stdin",
            "--table",
            "piped",
        ])
        .write_stdin("a,b\n1,x\n2,y\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::count(&db, "piped"), 2);

    let fifo = fx.path("rows.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here: the stdin case above covers streams
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "a,b\n3,z\n").unwrap())
    };
    let out = fx
        .cmd()
        .args([
            "import",
            db.to_str().unwrap(),
            fifo.to_str().unwrap(),
            "--table",
            "fifo",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::count(&db, "fifo"), 1);
}

/// Issue 11, smaller defect: formula injection in exported CSV can be neutralised on
/// request (text only; numbers stay numbers, the default keeps the data as it is).
#[test]
fn formulas_can_be_neutralised_on_export() {
    let fx = Fixture::new();
    let db = fx.db(
        "t.db",
        "CREATE TABLE t (v, n); INSERT INTO t VALUES ('=HYPERLINK(\"x\")', -5), ('@SUM(A1)', 1), ('plain', 2);",
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["export", db.to_str().unwrap(), "t", "-o", "-"];
        args.extend_from_slice(extra);
        String::from_utf8(fx.cmd().args(&args).output().unwrap().stdout).unwrap()
    };
    assert_eq!(
        run(&[]),
        "v,n\n\"=HYPERLINK(\"\"x\"\")\",-5\n@SUM(A1),1\nplain,2\n"
    );
    assert_eq!(
        run(&["--neutralize-formulas"]),
        "v,n\n\"'=HYPERLINK(\"\"x\"\")\",-5\n'@SUM(A1),1\nplain,2\n"
    );
}

/// The record bound is a setting: `[import] max_record_bytes`, named in the refusal.
#[test]
fn the_record_bound_is_a_setting() {
    let fx = Fixture::new();
    let db = fx.db("t.db", "CREATE TABLE keep (x);");
    let config = fx.path("config.toml");
    std::fs::write(&config, "[import]\nmax_record_bytes = 2048\n").unwrap();
    let file = fx.path("wide.csv");
    std::fs::write(&file, format!("a,b\n{},1\n", "x".repeat(3000))).unwrap();
    let out = fx
        .cmd()
        .env("ROWSMITH_CONFIG", config.to_str().unwrap())
        .args(["import", db.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("larger than 2,048 bytes (import.max_record_bytes)"),
        "{stderr}"
    );
}
