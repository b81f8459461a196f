//! Undo removes exactly rowsmith's own rows, and refuses when that is unsafe.

mod common;

use std::path::Path;

use common::{Fixture, count, open_rw};
use rowsmith::db::CancelFlag;
use rowsmith::db::catalog::table_info;
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
    let info = table_info(&db, table).unwrap();
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation(path, table, "test generator", writer.fingerprint_columns())
        .unwrap();
    let per = rows.len().div_ceil(batches);
    for chunk in rows.chunks(per) {
        let out = writer
            .write(
                &mut db,
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
    let preview = preview_undo(&db, &journal, None).unwrap();
    assert_eq!(
        (
            preview.rows,
            preview.table.as_str(),
            preview.source.as_str()
        ),
        (5, "customers", "test generator")
    );
    let out = undo_last(&mut db, &journal, None).unwrap();
    assert_eq!((out.removed, out.new_row_count), (5, 14));
    let out = undo_last(&mut db, &journal, None).unwrap();
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
    let err = undo_last(&mut db, &journal, None).unwrap_err().to_string();
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
    let err = undo_last(&mut db, &journal, None).unwrap_err().to_string();
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
        undo_last(&mut db, &journal, Some("staff")).unwrap().removed,
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
    let err = undo_last(&mut db, &journal, None).unwrap_err().to_string();
    assert!(
        err.starts_with("Cannot undo: 1 of the 4 rows rowsmith added to 'customers'"),
        "{err}"
    );
    assert!(err.ends_with("Nothing was removed."), "{err}");
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
    let err = undo_last(&mut db, &journal, None).unwrap_err().to_string();
    assert!(err.starts_with("Nothing to undo"), "{err}");
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
    let out = undo_last(&mut db, &journal, None).unwrap();
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
    let out = undo_last(&mut db, &journal, Some("kv")).unwrap();
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
    assert_eq!(undo_last(&mut db, &journal, None).unwrap().removed, 2);
    assert_eq!(undo_last(&mut db, &journal, None).unwrap().removed, 5);
}
