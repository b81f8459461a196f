//! Odd data found in review: every command keeps working, with no panic.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use common::Fixture;

fn no_panic(stderr: &str) {
    assert!(
        !stderr.contains("internal error") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn non_ascii_table_names_are_listed() {
    let fx = Fixture::new();
    let path = fx.db(
        "u.db",
        "CREATE TABLE 日本語 (a); CREATE TABLE clientèle (b); INSERT INTO 日本語 VALUES (1);",
    );
    let (ok, out, err) = fx.run(&["tables", path.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("日本語") && out.contains("clientèle"), "{out}");
}

#[test]
fn extreme_keys_and_values_do_not_break_sampling_or_generation() {
    let fx = Fixture::new();
    let path = fx.db(
        "odd.db",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, v INT UNIQUE, code TEXT UNIQUE);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29)
         INSERT INTO big (v, code) SELECT 9223372036854775807 - i, 'INV-' || (9223372036854775807 - i) FROM n;
         INSERT INTO big (v, code) VALUES (-9223372036854775808, 'INV-1');
         CREATE TABLE realpk (k REAL PRIMARY KEY, v) WITHOUT ROWID;
         INSERT INTO realpk VALUES (-1e308, 'a'), (1e308, 'b');
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19) INSERT INTO realpk SELECT i, 'x' FROM n;
         CREATE TABLE nocase (k TEXT PRIMARY KEY COLLATE NOCASE, v) WITHOUT ROWID;
         INSERT INTO nocase VALUES ('a0', 1), ('B1', 2), ('c2', 3), ('D3', 4), ('e4', 5), ('F5', 6), ('g6', 7),
                                   ('H7', 8), ('i8', 9), ('J9', 10), ('k10', 11), ('L11', 12);
         CREATE TABLE badutf (id INTEGER PRIMARY KEY, s TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29)
         INSERT INTO badutf (s) SELECT CASE WHEN i % 3 = 0 THEN CAST(x'ff01fe' AS TEXT) ELSE 'ok ' || i END FROM n;
         CREATE TABLE aliases (id INTEGER PRIMARY KEY, f TEXT, s TEXT, n INTEGER, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
         INSERT INTO aliases (f, s, n, v) SELECT 'user' || i || '@example.com', 'INV-' || (1000 + i), i, 'v' FROM n;",
    );
    let p = path.to_str().unwrap();
    // `aliases` has columns named like the profile's own query aliases (f, s, n, v).
    for table in ["big", "realpk", "nocase", "badutf", "aliases"] {
        for args in [
            vec!["sample", p, table, "-n", "5"],
            vec!["profile", p, table],
            vec![
                "generate",
                p,
                table,
                "-n",
                "20",
                "--provider",
                "offline",
                "--seed",
                "1",
            ],
        ] {
            let (ok, _, err) = fx.run(&args);
            no_panic(&err);
            assert!(ok, "{args:?} failed: {err}");
        }
    }
    // Each generation added its 20 rows (or said plainly why fewer).
    for (table, before) in [
        ("big", 31),
        ("realpk", 22),
        ("nocase", 12),
        ("badutf", 30),
        ("aliases", 40),
    ] {
        assert_eq!(common::count(&path, table), before + 20, "{table}");
    }
}

#[test]
fn export_never_replaces_a_file_unless_asked() {
    let fx = Fixture::new();
    let path = fx.db(
        "e.db",
        "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('a');",
    );
    let dest = fx.path("users.csv");
    std::fs::write(&dest, "precious\n").unwrap();
    let (p, d) = (path.to_str().unwrap(), dest.to_str().unwrap());
    let (ok, _, err) = fx.run(&["export", p, "users", "-o", d]);
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "error: '{d}' exists already. Pass --force to replace it, or choose another file with -o.\n"
        )
    );
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "precious\n");
    let (ok, _, err) = fx.run(&["export", p, "users", "-o", d, "--force"]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "name\na\n");
}
