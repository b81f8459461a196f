//! Undo removes exactly rowsmith's own rows, and refuses when that is unsafe.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::Path;

use common::{Fixture, count, open_rw};
use rowsmith::db::CancelFlag;
use rowsmith::db::journal::Journal;
use rowsmith::db::undo::{preview_undo, undo_last};
use rowsmith::db::write::{BatchWriter, JournalTarget};
use rusqlite::Connection;
use rusqlite::types::Value;

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE, total REAL);
CREATE TABLE staff (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES staff (id));
CREATE TABLE kv (k TEXT, n INT, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID;
INSERT INTO customers (name) VALUES ('Ada'), ('Grace'), ('Linus');
";

/// A table of 200 numbered rows.
const T200: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200)
INSERT INTO t (n, name) SELECT i, 'name ' || i FROM s;";

/// Inserts `rows` into `table` as one rowsmith operation of `batches` batches.
fn generate(
    path: &Path,
    journal: &Journal,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    batches: usize,
) {
    let mut db = open_rw(path);
    let info = db.table_info(table).unwrap();
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation(path, table, "test generator", writer.fingerprint_columns())
        .unwrap();
    let per = rows.len().div_ceil(batches);
    for chunk in rows.chunks(per) {
        let out = writer
            .write(
                db.sqlite_mut().unwrap(),
                chunk,
                Some(&JournalTarget {
                    journal,
                    operation: op,
                }),
                &CancelFlag::new(),
            )
            .unwrap();
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    }
    journal.finish_operation(op).unwrap();
}

fn names(n: usize, prefix: &str) -> Vec<Vec<Value>> {
    (0..n)
        .map(|i| vec![Value::Text(format!("{prefix}{i}"))])
        .collect()
}

fn exec(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

#[test]
fn undo_removes_exactly_the_last_operation_then_the_one_before() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "customers",
        &["name"],
        names(10, "first"),
        2,
    );
    generate(
        &path,
        &journal,
        "customers",
        &["name"],
        names(5, "second"),
        1,
    );
    exec(&path, "INSERT INTO customers (name) VALUES ('mine')");
    assert_eq!(count(&path, "customers"), 19);

    let mut db = open_rw(&path);
    let preview = preview_undo(db.sqlite().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (
            preview.rows,
            preview.table.as_str(),
            preview.source.as_str()
        ),
        (5, "customers", "test generator")
    );
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!((out.removed, out.new_row_count), (5, 14));
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (out.removed, out.new_row_count),
        (10, 4),
        "both batches of the first operation go together"
    );

    let conn = Connection::open(&path).unwrap();
    let left: Vec<String> = conn
        .prepare("SELECT name FROM customers ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, vec!["Ada", "Grace", "Linus", "mine"]);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("Nothing to undo"), "{err}");
}

#[test]
fn undo_refuses_while_other_rows_reference_ours() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(3, "gen"), 1);
    // The user adds an order for one of the generated customers; ON DELETE
    // CASCADE would silently delete it if undo went ahead.
    exec(
        &path,
        "INSERT INTO orders (customer_id, total) VALUES (5, 9.99)",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Cannot undo: 1 row in 'orders' now references rows rowsmith added to 'customers'. Delete or undo those first. \
         Nothing was removed."
    );
    assert_eq!(count(&path, "customers"), 6);
    assert_eq!(count(&path, "orders"), 1);
}

#[test]
fn rows_referencing_each_other_within_the_operation_go_together() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    exec(&path, "INSERT INTO staff (id, boss) VALUES (1, NULL)");
    generate(
        &path,
        &journal,
        "staff",
        &["id", "boss"],
        vec![
            vec![Value::Integer(2), Value::Integer(1)],
            vec![Value::Integer(3), Value::Integer(2)],
        ],
        1,
    );
    let mut db = open_rw(&path);
    assert_eq!(
        undo_last(db.sqlite_mut().unwrap(), &journal, Some("staff"))
            .unwrap()
            .removed,
        2
    );
    assert_eq!(count(&path, "staff"), 1);
}

#[test]
fn undo_refuses_when_our_rows_were_edited() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(4, "gen"), 1);
    exec(
        &path,
        "UPDATE customers SET name = 'edited by hand' WHERE id = 5",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Cannot undo: 1 of the 4 rows rowsmith added to 'customers'"),
        "{err}"
    );
    assert!(err.contains("Nothing was removed."), "{err}");
    assert!(
        err.contains("--list") && err.contains("--forget 1"),
        "{err}"
    );
    assert_eq!(count(&path, "customers"), 7);
}

#[test]
fn undo_never_deletes_rows_that_reused_our_rowids() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(3, "gen"), 1);
    // The user deletes our rows and adds their own, which take the same rowids.
    exec(
        &path,
        "DELETE FROM customers WHERE id > 3; INSERT INTO customers (name) VALUES ('u1'), ('u2'), ('u3');",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("Cannot undo: 3 of the 3 rows"), "{err}");
    assert_eq!(count(&path, "customers"), 6);
}

#[test]
fn undo_skips_rows_already_deleted_and_reports_them() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(5, "gen"), 1);
    exec(&path, "DELETE FROM customers WHERE id IN (4, 5)");
    let mut db = open_rw(&path);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (out.removed, out.already_gone, out.new_row_count),
        (3, 2, 3)
    );
}

#[test]
fn undo_can_target_one_table_and_without_rowid_tables() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "kv",
        &["k", "n", "v"],
        vec![
            vec![
                Value::Text("a".into()),
                Value::Integer(1),
                Value::Text("x".into()),
            ],
            vec![
                Value::Text("b".into()),
                Value::Text("2".into()),
                Value::Text("y".into()),
            ],
        ],
        1,
    );
    generate(
        &path,
        &journal,
        "customers",
        &["name"],
        names(2, "later"),
        1,
    );
    exec(&path, "INSERT INTO kv VALUES ('mine', 1, 'keep')");
    let mut db = open_rw(&path);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, Some("kv")).unwrap();
    assert_eq!(
        (out.table.as_str(), out.removed, out.new_row_count),
        ("kv", 2, 1)
    );
    assert_eq!(
        count(&path, "customers"),
        5,
        "the newer operation on another table is untouched"
    );
}

#[test]
fn the_cli_undoes_and_reports_in_one_sentence() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(2, "gen"), 1);
    let dry = fx
        .cmd()
        .args(["undo", path.to_str().unwrap(), "--dry-run"])
        .assert()
        .success();
    let dry = String::from_utf8_lossy(&dry.get_output().stdout).to_string();
    assert!(
        dry.starts_with("Undo would remove 2 rows from table 'customers' (added "),
        "{dry}"
    );
    assert_eq!(count(&path, "customers"), 5);
    let done = fx
        .cmd()
        .args(["undo", path.to_str().unwrap()])
        .assert()
        .success();
    let done = String::from_utf8_lossy(&done.get_output().stdout).to_string();
    assert!(
        done.starts_with("Removed 2 rows from table 'customers' (added "),
        "{done}"
    );
    assert!(
        done.trim_end()
            .ends_with("by test generator). New total: 3 rows."),
        "{done}"
    );
    let again = fx
        .cmd()
        .args(["undo", path.to_str().unwrap()])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&again.get_output().stderr).to_string();
    assert!(err.starts_with("error: Nothing to undo"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn undo_recognises_rows_whatever_sqlite_converted_on_the_way_in() {
    let fx = Fixture::new();
    let path = fx.db(
        "types.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, n NUMERIC, s TEXT, b BLOB, d TEXT DEFAULT 'x');
         CREATE TABLE s (id INTEGER PRIMARY KEY, i INTEGER, r REAL, a ANY) STRICT;",
    );
    let journal = fx.journal();
    let text = |s: &str| Value::Text(s.into());
    // Every storage class into every affinity, including the conversions
    // SQLite makes ("42" -> 42, 7 -> 7.0, 2.0 -> 2, 1.5 -> '1.5').
    let rows = vec![
        vec![
            Value::Integer(1),
            Value::Integer(2),
            Value::Integer(3),
            Value::Integer(4),
            Value::Integer(5),
        ],
        vec![
            text("42"),
            text("4.5"),
            text("12"),
            Value::Real(1.5),
            Value::Real(2.0),
        ],
        vec![
            Value::Real(2.0),
            Value::Real(7.25),
            Value::Real(3.5),
            text("plain"),
            Value::Blob(vec![1, 2]),
        ],
        vec![
            Value::Null,
            Value::Null,
            text("2024-01-01"),
            Value::Null,
            Value::Null,
        ],
        vec![text(" 7 "), text("x"), text("1e3"), text("0012"), text("")],
    ];
    generate(&path, &journal, "t", &["i", "r", "n", "s", "b"], rows, 2);
    let strict_rows = vec![
        vec![Value::Integer(1), Value::Integer(2), Value::Real(1.5)],
        vec![text("3"), text("4"), text("any text")],
    ];
    generate(&path, &journal, "s", &["i", "r", "a"], strict_rows, 1);
    let mut db = open_rw(&path);
    assert_eq!(
        undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap()
            .removed,
        2
    );
    assert_eq!(
        undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap()
            .removed,
        5
    );
}

// ---------------------------------------------------------------------------------------
// Undo's contract: exactly one operation, never an older one unasked, dry runs write
// nothing, running operations are refused, crash leftovers are recognised.
// ---------------------------------------------------------------------------------------

/// Defect 1: with every row of the latest operation edited, undo used to mark it undone
/// and remove an older operation's rows, in another table, with exit status 0.
#[test]
fn undo_never_skips_to_an_older_operation_when_the_latest_was_edited() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "orders",
        &["total"],
        vec![vec![Value::Real(9.5)]; 4],
        1,
    );
    generate(&path, &journal, "customers", &["name"], names(3, "gen"), 1);
    exec(
        &path,
        "UPDATE customers SET name = name || ' (edited)' WHERE id > 3",
    );
    let mut db = open_rw(&path);
    for _ in 0..2 {
        let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Cannot undo: 3 of the 3 rows"), "{err}");
    }
    assert_eq!(
        count(&path, "orders"),
        4,
        "the older operation is untouched"
    );
    assert_eq!(count(&path, "customers"), 6);
    // The user can go on: clear the record, then the older operation is the latest.
    let ops = rowsmith::db::undo::list(db.sqlite().unwrap(), &journal, None).unwrap();
    assert_eq!(ops.len(), 2);
    rowsmith::db::undo::forget(db.sqlite().unwrap(), &journal, ops[0].0.id).unwrap();
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!((out.table.as_str(), out.removed), ("orders", 4));
    assert_eq!(count(&path, "customers"), 6, "the edited rows stay");
}

/// Defect 1, the other way in: the latest operation's table was renamed.
#[test]
fn a_renamed_table_is_refused_and_older_operations_stay() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "orders",
        &["total"],
        vec![vec![Value::Real(1.0)]; 2],
        1,
    );
    generate(&path, &journal, "customers", &["name"], names(3, "gen"), 1);
    exec(&path, "ALTER TABLE customers RENAME TO clients");
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("table 'customers'") && err.contains("no longer exists"),
        "{err}"
    );
    assert_eq!(count(&path, "orders"), 2);
    // An older operation, named by its id, can still be undone.
    let ops = rowsmith::db::undo::list(db.sqlite().unwrap(), &journal, Some("orders")).unwrap();
    let out = rowsmith::db::undo::undo(
        db.sqlite_mut().unwrap(),
        &journal,
        rowsmith::db::undo::Target::Operation(ops[0].0.id),
    )
    .unwrap();
    assert_eq!(out.removed, 2);
    assert_eq!(
        count(&path, "clients"),
        6,
        "nothing of the renamed table was touched"
    );
}

/// Defect 2: a dry run must never change the journal.
#[test]
fn a_dry_run_never_writes_the_journal() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "orders",
        &["total"],
        vec![vec![Value::Real(1.0)]; 2],
        1,
    );
    generate(&path, &journal, "customers", &["name"], names(3, "gen"), 1);
    exec(&path, "DELETE FROM customers WHERE id > 3");
    let journal_file = fx.data_dir().join("journal.sqlite");
    drop(journal);
    let before = common::bytes(&journal_file);
    let out = fx
        .cmd()
        .args(["undo", path.to_str().unwrap(), "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Nothing to undo: none of the rows"),
        "{stderr}"
    );
    assert_eq!(
        common::bytes(&journal_file),
        before,
        "the journal is byte-identical"
    );
    assert_eq!(count(&path, "orders"), 2);
}

/// Defect 3: an operation whose generation is still running cannot be undone.
#[test]
fn an_operation_still_being_written_is_refused() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let mut db = open_rw(&path);
    let info = db.table_info("customers").unwrap();
    let columns = vec!["name".to_string()];
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation(
            &path,
            "customers",
            "test generator",
            writer.fingerprint_columns(),
        )
        .unwrap();
    let target = JournalTarget {
        journal: &journal,
        operation: op,
    };
    writer
        .write(
            db.sqlite_mut().unwrap(),
            &names(5, "a"),
            Some(&target),
            &CancelFlag::new(),
        )
        .unwrap();
    // This process is alive and has not finished the operation.
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Cannot undo yet: rowsmith (process"),
        "{err}"
    );
    assert_eq!(count(&path, "customers"), 8);
    journal.finish_operation(op).unwrap();
    assert_eq!(
        undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap()
            .removed,
        5
    );
}

/// Defect 4: a batch recorded but never committed (a crash in between), whose rowid the
/// user's own row takes afterwards, is not counted as an edited row of ours.
#[test]
fn a_recorded_but_uncommitted_batch_is_recognised_after_a_crash() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let mut db = open_rw(&path);
    let info = db.table_info("customers").unwrap();
    let columns = vec!["name".to_string()];
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation(
            &path,
            "customers",
            "crashed generator",
            writer.fingerprint_columns(),
        )
        .unwrap();
    // One batch committed (rowids 4..8), then the process died between recording the next
    // batch (rowids 9, 10) and its COMMIT: the record exists, the rows never did.
    let target = JournalTarget {
        journal: &journal,
        operation: op,
    };
    writer
        .write(
            db.sqlite_mut().unwrap(),
            &names(5, "gen"),
            Some(&target),
            &CancelFlag::new(),
        )
        .unwrap();
    let ghost = |id: i64| rowsmith::db::journal::RecordedRow {
        key: rowsmith::db::journal::RowKey::Rowid(id),
        fingerprint: 42,
    };
    journal.append_chunk(op, &[ghost(9), ghost(10)]).unwrap();
    drop(journal);
    let journal_file = fx.data_dir().join("journal.sqlite");
    Connection::open(&journal_file)
        .unwrap()
        .execute("UPDATE operations SET pid = 2147483000", [])
        .unwrap(); // the crashed process is gone
    let journal = fx.journal();
    // The user adds a row afterwards; it takes the freed rowid 9.
    exec(
        &path,
        "INSERT INTO customers (name) VALUES ('user row on a freed rowid')",
    );
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (out.removed, out.already_gone),
        (5, 0),
        "the real rows, and only them"
    );
    assert_eq!(count(&path, "customers"), 4, "the user's row stays");
}

/// A run killed before its first commit leaves an operation whose every batch was
/// recorded and never committed: it never happened, so it is not "the latest" that undo
/// refuses on; the generation before it is.
#[test]
fn an_operation_that_never_committed_is_not_the_latest() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(&path, &journal, "customers", &["name"], names(4, "real"), 1);
    let db = open_rw(&path);
    let info = db.table_info("customers").unwrap();
    let writer = BatchWriter::new(&info, &["name".to_string()]).unwrap();
    let op = journal
        .begin_operation(&path, "customers", "killed", writer.fingerprint_columns())
        .unwrap();
    let ghost = |id: i64| rowsmith::db::journal::RecordedRow {
        key: rowsmith::db::journal::RowKey::Rowid(id),
        fingerprint: 42,
    };
    journal.append_chunk(op, &[ghost(8), ghost(9)]).unwrap();
    drop(journal);
    Connection::open(fx.data_dir().join("journal.sqlite"))
        .unwrap()
        .execute(
            "UPDATE operations SET pid = 2147483000 WHERE id = ?1",
            [op.0],
        )
        .unwrap(); // the killed process is gone
    let journal = fx.journal();
    let mut db = open_rw(&path);
    let preview = preview_undo(db.sqlite().unwrap(), &journal, Some("customers")).unwrap();
    assert_eq!(preview.rows, 4);
    assert_eq!(preview.source, "test generator");
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, Some("customers")).unwrap();
    assert_eq!(out.removed, 4);
    assert_eq!(count(&path, "customers"), 3);
}

/// Defect 5: a BEFORE INSERT trigger with RAISE(IGNORE) drops rows silently; rowsmith
/// reported them as added and recorded duplicate rowids.
#[test]
fn rows_a_trigger_ignores_are_not_counted_or_recorded() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
         CREATE TRIGGER odd_only BEFORE INSERT ON t WHEN NEW.n % 2 = 0 BEGIN SELECT RAISE(IGNORE); END;
         WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 2 FROM s WHERE i < 59) INSERT INTO t (n) SELECT i FROM s;",
    );
    let journal = fx.journal();
    let mut db = open_rw(&path);
    let info = db.table_info("t").unwrap();
    let columns = vec!["n".to_string()];
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation(&path, "t", "test", writer.fingerprint_columns())
        .unwrap();
    let rows: Vec<Vec<Value>> = (100..130).map(|n| vec![Value::Integer(n)]).collect();
    let target = JournalTarget {
        journal: &journal,
        operation: op,
    };
    let out = writer
        .write(
            db.sqlite_mut().unwrap(),
            &rows,
            Some(&target),
            &CancelFlag::new(),
        )
        .unwrap();
    journal.finish_operation(op).unwrap();
    assert_eq!(out.accepted.len(), 15, "only the odd values went in");
    assert_eq!(out.rejected.len(), 15);
    assert!(
        out.rejected[0].reason.contains("RAISE(IGNORE)"),
        "{}",
        out.rejected[0].reason
    );
    assert_eq!(count(&path, "t"), 45);
    let recorded = journal.rows(op).unwrap();
    let mut keys: Vec<_> = recorded.iter().map(|r| format!("{:?}", r.key)).collect();
    keys.dedup();
    assert_eq!(keys.len(), 15, "one record per inserted row, no duplicates");
    assert_eq!(
        undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap()
            .removed,
        15
    );
    assert_eq!(count(&path, "t"), 30);
}

#[test]
fn the_cli_lists_operations_undoes_a_named_one_and_forgets_a_record() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    generate(
        &path,
        &journal,
        "orders",
        &["total"],
        vec![vec![Value::Real(2.0)]; 3],
        1,
    );
    generate(&path, &journal, "customers", &["name"], names(2, "gen"), 1);
    drop(journal);
    let p = path.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = fx.cmd().args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, list, _) = run(&["undo", p, "--list"]);
    assert!(ok);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].contains("'customers'") && lines[1].contains("'orders'"),
        "{list}"
    );
    let older: String = lines[1].split_whitespace().next().unwrap().to_string();
    let (ok, out, err) = run(&["undo", p, "--operation", &older]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Removed 3 rows from table 'orders'"),
        "{out}"
    );
    assert_eq!(count(&path, "customers"), 5, "the newer operation stays");
    let newer: String = lines[0].split_whitespace().next().unwrap().to_string();
    let (ok, out, _) = run(&["undo", p, "--forget", &newer]);
    assert!(
        ok && out.starts_with(&format!("Cleared operation {newer}")),
        "{out}"
    );
    assert_eq!(count(&path, "customers"), 5, "forgetting touches no row");
    let (ok, _, err) = run(&["undo", p]);
    assert!(!ok && err.contains("Nothing to undo"), "{err}");
}

/// Issue 11, smaller defect: rows an AFTER INSERT trigger wrote elsewhere stay after undo;
/// undo says so instead of implying everything was taken back.
#[test]
fn undo_says_what_insert_triggers_wrote_elsewhere_stays() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE audit (what TEXT);
         CREATE TRIGGER log AFTER INSERT ON t BEGIN INSERT INTO audit VALUES ('added ' || NEW.name); END;",
    );
    let journal = fx.journal();
    generate(&path, &journal, "t", &["name"], names(3, "gen"), 1);
    let mut db = open_rw(&path);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(out.removed, 3);
    assert!(out.note.unwrap().contains("INSERT triggers"));
    assert_eq!(count(&path, "audit"), 3, "the trigger's rows stay");
    // A table without such triggers gets no note.
    generate(&path, &journal, "audit", &["what"], names(2, "x"), 1);
    assert!(
        undo_last(db.sqlite_mut().unwrap(), &journal, None)
            .unwrap()
            .note
            .is_none()
    );
}

/// The undo contract under kill -9: a generation killed mid-way leaves whole batches and
/// an unfinished operation whose process is gone; undo takes back exactly those batches
/// (any batch recorded but not committed is recognised), and the database is as before.
#[test]
fn a_generation_killed_mid_way_is_undone_exactly() {
    let fx = Fixture::new();
    let path = fx.db("t.db", T200);
    let before = count(&path, "t");
    let mut child = spawn(
        &fx,
        &[
            "generate",
            path.to_str().unwrap(),
            "t",
            "-n",
            "1000000",
            "--provider",
            "offline",
        ],
    );
    let started = std::time::Instant::now();
    while count(&path, "t") == before && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let added = count(&path, "t") - before;
    assert!(added > 0, "some batches committed before the kill");
    let journal = fx.journal();
    let mut db = open_rw(&path);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(out.removed as i64, added);
    assert_eq!(count(&path, "t"), before);
    assert_eq!(integrity(&path), "ok");
}

/// Starts the built binary on `args` with this fixture's data directory and no keys.
fn spawn(fx: &Fixture, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("rowsmith"))
        .args(args)
        .env("ROWSMITH_DATA_DIR", fx.data_dir())
        .env("XDG_CONFIG_HOME", fx.path("config-home"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills `child` with SIGKILL while its write transaction on `db` is open (SQLite's
/// rollback journal beside the file exists only then). Says whether it caught it there.
fn kill_while_writing(mut child: std::process::Child, db: &Path) -> bool {
    let hot = db.with_file_name(format!(
        "{}-journal",
        db.file_name().unwrap().to_string_lossy()
    ));
    let started = std::time::Instant::now();
    let mut caught = false;
    while started.elapsed() < std::time::Duration::from_secs(60) {
        if hot.exists() {
            std::thread::sleep(std::time::Duration::from_millis(5));
            caught = child.try_wait().unwrap().is_none();
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.kill();
    child.wait().unwrap();
    caught
}

fn integrity(path: &Path) -> String {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn rows_csv(fx: &Fixture, name: &str, rows: usize) -> std::path::PathBuf {
    use std::io::Write;
    let path = fx.path(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "n,name").unwrap();
    for i in 0..rows {
        writeln!(out, "{i},imported {i}").unwrap();
    }
    out.flush().unwrap();
    path
}

/// kill -9 of an import, appending or creating a table: nothing of it stays, the file is
/// sound, and the import recorded-but-never-committed is not in the way of undoing the
/// generation before it.
#[test]
fn an_import_killed_mid_way_leaves_nothing_and_undo_still_takes_back_the_last_generation() {
    let fx = Fixture::new();
    let path = fx.db("t.db", T200);
    let journal = fx.journal();
    let rows: Vec<Vec<Value>> = (0..50)
        .map(|i| vec![Value::Integer(i), Value::Text(format!("ours {i}"))])
        .collect();
    generate(&path, &journal, "t", &["n", "name"], rows, 2);
    let csv = rows_csv(&fx, "big.csv", 300_000);
    let p = path.to_str().unwrap();

    let child = spawn(&fx, &["import", p, csv.to_str().unwrap(), "--table", "t"]);
    assert!(kill_while_writing(child, &path), "caught while appending");
    assert_eq!(count(&path, "t"), 250, "nothing of the import stays");
    assert_eq!(integrity(&path), "ok");

    let child = spawn(&fx, &["import", p, csv.to_str().unwrap(), "--table", "big"]);
    assert!(kill_while_writing(child, &path), "caught while creating");
    let tables: i64 = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'big'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0, "no half-made table");

    let mut db = open_rw(&path);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, Some("t")).unwrap();
    assert_eq!(
        out.removed, 50,
        "the generation, not the import that never was"
    );
    assert_eq!(count(&path, "t"), 200);
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None);
    assert!(
        out.as_ref()
            .is_err_and(|e| e.to_string().starts_with("Nothing to undo")),
        "{out:?}"
    );
}

/// kill -9 of an undo: all or nothing. Rows still there are taken back by the next undo;
/// rows gone leave a record that says so and can be cleared.
#[test]
fn an_undo_killed_mid_way_is_all_or_nothing() {
    let fx = Fixture::new();
    let path = fx.db(
        "t.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, name TEXT);
         INSERT INTO t (n, name) VALUES (1, 'mine'), (2, 'mine too');",
    );
    let journal = fx.journal();
    let rows: Vec<Vec<Value>> = (0..200_000)
        .map(|i| vec![Value::Integer(i), Value::Text(format!("ours {i}"))])
        .collect();
    generate(&path, &journal, "t", &["n", "name"], rows, 20);
    let p = path.to_str().unwrap();
    let child = spawn(&fx, &["undo", p]);
    assert!(kill_while_writing(child, &path), "caught while deleting");
    assert_eq!(integrity(&path), "ok");
    let left = count(&path, "t");
    assert!(left == 200_002 || left == 2, "all or nothing, not {left}");
    let mut db = open_rw(&path);
    match undo_last(db.sqlite_mut().unwrap(), &journal, None) {
        Ok(out) => {
            assert_eq!(left, 200_002);
            assert_eq!(out.removed, 200_000);
        }
        Err(e) => {
            // The delete committed before the kill; only the journal's mark was lost.
            assert_eq!(left, 2);
            assert!(e.to_string().starts_with("Nothing to undo"), "{e}");
        }
    }
    assert_eq!(count(&path, "t"), 2, "the user's own rows stay");
}
