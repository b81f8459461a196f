//! A run (a generation that fills several tables at once) is one operation to undo: all
//! its tables in one transaction, children before parents, or nothing.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::Path;

use common::{Fixture, count, open_rw};
use rowsmith::db::journal::{Journal, OperationId, RowKey, RunId};
use rowsmith::db::undo::{self, Target, UndoBlock, UndoRefusal, preview_undo, undo_last};
use rowsmith::db::write::{BatchWriter, JournalTarget, WriteOptions, fingerprints_now};
use rowsmith::db::{CancelFlag, DbError};
use rusqlite::Connection;
use rusqlite::types::Value;

/// Customers, their orders and the orders' lines (WITHOUT ROWID, a composite key), each
/// deletion logged by a trigger so the order of deletes can be read back.
const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total REAL);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    line INTEGER NOT NULL,
    qty INTEGER,
    PRIMARY KEY (order_id, line)
) WITHOUT ROWID;
CREATE TABLE deleted (seq INTEGER PRIMARY KEY, from_table TEXT);
CREATE TRIGGER customers_out AFTER DELETE ON customers BEGIN INSERT INTO deleted (from_table) VALUES ('customers'); END;
CREATE TRIGGER orders_out AFTER DELETE ON orders BEGIN INSERT INTO deleted (from_table) VALUES ('orders'); END;
CREATE TRIGGER items_out AFTER DELETE ON order_items BEGIN INSERT INTO deleted (from_table) VALUES ('order_items'); END;
INSERT INTO customers (name) VALUES ('Ada'), ('Grace');
INSERT INTO orders (customer_id, total) VALUES (1, 9.5);
INSERT INTO order_items VALUES (1, 1, 3);
";

const SOURCE: &str = "offline generator";

fn exec(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

/// Writes `rows` into `table` as one operation of `run`, the way the generator does.
fn fill(
    path: &Path,
    journal: &Journal,
    run: RunId,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> (OperationId, Vec<RowKey>) {
    let mut db = open_rw(path);
    let info = db.table_info(table).unwrap();
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let writer = BatchWriter::new(&info, &columns).unwrap();
    let op = journal
        .begin_operation_in_run(run, path, table, SOURCE, writer.fingerprint_columns())
        .unwrap();
    let target = JournalTarget {
        journal,
        operation: op,
    };
    let out = writer
        .write_with(
            db.sqlite_mut().unwrap(),
            &rows,
            &WriteOptions {
                journal: Some(&target),
                cancel: &CancelFlag::new(),
                dry_run: false,
            },
        )
        .unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    (op, out.accepted.into_iter().map(|a| a.key).collect())
}

fn int(i: i64) -> Value {
    Value::Integer(i)
}

/// Three customers (ids 3-5), four orders (ids 2-5) and six order lines, parents first,
/// not finished yet.
fn shop_run_unfinished(path: &Path, journal: &Journal) -> (RunId, [OperationId; 3]) {
    let run = journal.begin_run(path, SOURCE).unwrap();
    let customers = (0..3)
        .map(|i| vec![Value::Text(format!("run customer {i}"))])
        .collect();
    let (c, _) = fill(path, journal, run, "customers", &["name"], customers);
    let orders = [3, 4, 5, 3]
        .iter()
        .map(|&c| vec![int(c), Value::Real(10.0 * c as f64)])
        .collect();
    let (o, _) = fill(
        path,
        journal,
        run,
        "orders",
        &["customer_id", "total"],
        orders,
    );
    let items = [(2, 1), (2, 2), (3, 1), (4, 1), (5, 1), (5, 2)]
        .iter()
        .map(|&(order, line)| vec![int(order), int(line), int(order * line)])
        .collect();
    let (i, _) = fill(
        path,
        journal,
        run,
        "order_items",
        &["order_id", "line", "qty"],
        items,
    );
    (run, [c, o, i])
}

fn shop_run(path: &Path, journal: &Journal) -> (RunId, [OperationId; 3]) {
    let made = shop_run_unfinished(path, journal);
    journal.finish_run(made.0).unwrap();
    made
}

fn counts(path: &Path) -> [i64; 3] {
    [
        count(path, "customers"),
        count(path, "orders"),
        count(path, "order_items"),
    ]
}

fn foreign_key_problems(path: &Path) -> usize {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    stmt.query_map([], |_| Ok(())).unwrap().count()
}

#[test]
fn a_run_is_undone_as_one_children_first_with_exact_counts() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let (_, ops) = shop_run(&path, &journal);
    assert_eq!(counts(&path), [5, 5, 7]);
    // The user deletes one of the run's order lines; undo counts it as already gone.
    exec(
        &path,
        "DELETE FROM order_items WHERE order_id = 5 AND line = 2",
    );

    let mut db = open_rw(&path);
    let preview = preview_undo(db.sqlite().unwrap(), &journal, None).unwrap();
    assert_eq!((preview.rows, preview.already_gone), (12, 1));
    let planned: Vec<(&str, u64)> = preview
        .run
        .as_ref()
        .unwrap()
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    assert_eq!(
        planned,
        [("order_items", 5), ("orders", 4), ("customers", 3)]
    );

    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    let run = out.run.as_ref().unwrap();
    assert_eq!(run.id, ops[0].0, "listed as its first operation");
    let done: Vec<(&str, u64, u64, u64)> = run
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.removed, t.already_gone, t.new_row_count))
        .collect();
    assert_eq!(
        done,
        [
            ("order_items", 5, 1, 1),
            ("orders", 4, 0, 1),
            ("customers", 3, 0, 2)
        ]
    );
    assert_eq!((out.removed, out.already_gone), (12, 1));
    assert_eq!(counts(&path), [2, 1, 1], "the user's own rows stay");
    assert_eq!(foreign_key_problems(&path), 0);

    // Children before parents: every line, then every order, then every customer.
    let conn = Connection::open(&path).unwrap();
    let mut log: Vec<String> = conn
        .prepare("SELECT from_table FROM deleted ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    log.dedup();
    assert_eq!(log, ["order_items", "orders", "customers"]);

    let again = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(again.starts_with("Nothing to undo"), "{again}");
}

/// Two tables referencing each other through nullable keys, and a self-reference: the
/// run inserts, then its second pass points the rows at each other and records their new
/// fingerprints (`update`), or does not.
fn cycle_run(fx: &Fixture, update: bool) -> (std::path::PathBuf, Journal, RunId) {
    let path = fx.db(
        "league.db",
        "CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
             captain_id INTEGER REFERENCES players (id));
         CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
             team_id INTEGER REFERENCES teams (id), mentor_id INTEGER REFERENCES players (id));
         INSERT INTO teams (name) VALUES ('mine');",
    );
    let journal = fx.journal();
    let run = journal.begin_run(&path, SOURCE).unwrap();
    let (teams, team_keys) = fill(
        &path,
        &journal,
        run,
        "teams",
        &["name"],
        vec![
            vec![Value::Text("red".into())],
            vec![Value::Text("blue".into())],
        ],
    );
    let (players, player_keys) = fill(
        &path,
        &journal,
        run,
        "players",
        &["name", "team_id"],
        (0..4)
            .map(|i| vec![Value::Text(format!("p{i}")), int(2 + i % 2)])
            .collect(),
    );
    // The second pass, in one transaction, as the generator does it.
    let db = open_rw(&path);
    db.sqlite().unwrap().conn()
        .execute_batch(
            "BEGIN IMMEDIATE;
             UPDATE teams SET captain_id = (SELECT min(id) FROM players p WHERE p.team_id = teams.id) WHERE id > 1;
             UPDATE players SET mentor_id = id - 1 WHERE id > 1;
             COMMIT;",
        )
        .unwrap();
    if update {
        for (op, table, keys) in [
            (teams, "teams", &team_keys),
            (players, "players", &player_keys),
        ] {
            let info = db.table_info(table).unwrap();
            let columns = BatchWriter::new(&info, &[])
                .unwrap()
                .fingerprint_columns()
                .to_vec();
            let now = fingerprints_now(db.sqlite().unwrap(), &info, &columns, keys).unwrap();
            assert_eq!(now.len(), keys.len());
            journal.update_fingerprints(op, &now).unwrap();
        }
    }
    journal.finish_run(run).unwrap();
    (path, journal, run)
}

#[test]
fn a_run_whose_rows_reference_each_other_in_a_cycle_is_undone_cleanly() {
    let fx = Fixture::new();
    let (path, journal, run) = cycle_run(&fx, true);
    let mut db = open_rw(&path);
    let fk: i64 = db
        .sqlite()
        .unwrap()
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1, "foreign keys enforced");
    let out = undo::undo(db.sqlite_mut().unwrap(), &journal, Target::Run(run)).unwrap();
    let done: Vec<(&str, u64)> = out
        .run
        .as_ref()
        .unwrap()
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.removed))
        .collect();
    assert_eq!(done, [("players", 4), ("teams", 2)]);
    assert_eq!((count(&path, "teams"), count(&path, "players")), (1, 0));
    assert_eq!(foreign_key_problems(&path), 0);
}

#[test]
fn rows_the_second_pass_updated_are_edits_unless_their_fingerprints_were_updated() {
    let fx = Fixture::new();
    let (path, journal, run) = cycle_run(&fx, false);
    let mut db = open_rw(&path);
    let err = undo::undo(db.sqlite_mut().unwrap(), &journal, Target::Run(run)).unwrap_err();
    match &err {
        DbError::UndoBlocked {
            why: UndoBlock::RowsEdited { changed, table, .. },
            ..
        } => assert_eq!((*changed, table.as_str()), (2, "teams")),
        other => panic!("{other}"),
    }
    assert_eq!((count(&path, "teams"), count(&path, "players")), (3, 4));
}

#[test]
fn a_row_outside_the_run_referencing_one_of_its_parents_refuses_it_all() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    shop_run(&path, &journal);
    // The user's own order, for a customer the run added.
    exec(
        &path,
        "INSERT INTO orders (customer_id, total) VALUES (4, 1.0)",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap_err();
    match &err {
        DbError::Undo(UndoRefusal::StillReferenced { rows, child, table }) => {
            assert_eq!(
                (*rows, child.as_str(), table.as_str()),
                (1, "orders", "customers")
            )
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        err.to_string(),
        "Cannot undo: 1 row in 'orders' now references rows rowsmith added to 'customers'. Delete or undo \
         those first. Nothing was removed."
    );
    assert_eq!(counts(&path), [5, 6, 7], "nothing removed in any table");
}

#[test]
fn an_edited_or_renamed_table_of_the_run_refuses_it_all() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let (_, ops) = shop_run(&path, &journal);
    exec(
        &path,
        "UPDATE order_items SET qty = 99 WHERE order_id = 3 AND line = 1",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap_err();
    match &err {
        DbError::UndoBlocked {
            why:
                UndoBlock::RowsEdited {
                    changed,
                    total,
                    table,
                    ..
                },
            operation,
            ..
        } => {
            assert_eq!((*changed, *total, table.as_str()), (1, 6, "order_items"));
            assert_eq!(*operation, ops[0].0, "--forget names the run's entry");
        }
        other => panic!("{other}"),
    }
    assert_eq!(counts(&path), [5, 5, 7], "nothing removed in any table");

    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    shop_run(&path, &journal);
    exec(&path, "ALTER TABLE order_items RENAME TO lines");
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Cannot undo: table 'order_items', where rowsmith added 6 rows"),
        "{err}"
    );
    assert_eq!(
        [
            count(&path, "customers"),
            count(&path, "orders"),
            count(&path, "lines")
        ],
        [5, 5, 7]
    );
}

#[test]
fn naming_any_operation_of_a_run_or_one_of_its_tables_undoes_the_whole_run() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let (_, ops) = shop_run(&path, &journal);
    let mut db = open_rw(&path);
    let out = undo::undo(
        db.sqlite_mut().unwrap(),
        &journal,
        Target::Operation(ops[1]),
    )
    .unwrap();
    assert_eq!((out.table.as_str(), out.removed), ("orders", 13));
    assert_eq!(counts(&path), [2, 1, 1]);

    let (_, ops) = shop_run(&path, &journal);
    let preview = preview_undo(db.sqlite().unwrap(), &journal, Some("customers")).unwrap();
    assert_eq!(
        (preview.table.as_str(), preview.rows),
        ("customers", 13),
        "the latest operation on 'customers' is part of the run"
    );
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, Some("customers")).unwrap();
    assert_eq!(out.removed, 13);
    assert_eq!(counts(&path), [2, 1, 1]);
    let err = undo::undo(
        db.sqlite_mut().unwrap(),
        &journal,
        Target::Operation(ops[2]),
    )
    .unwrap_err();
    assert!(
        matches!(err, DbError::Undo(UndoRefusal::AlreadyUndone { .. })),
        "{err}"
    );
}

#[test]
fn a_run_still_being_written_is_refused_until_it_is_finished() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let (run, ops) = shop_run_unfinished(&path, &journal);
    // Finishing its operations is not enough: the run may still add tables or updates.
    for op in ops {
        journal.finish_operation(op).unwrap();
    }
    let mut db = open_rw(&path);
    for target in [Target::Latest(None), Target::Run(run)] {
        let err = undo::undo(db.sqlite_mut().unwrap(), &journal, target).unwrap_err();
        match &err {
            DbError::Undo(UndoRefusal::StillWriting { pid, table }) => {
                assert_eq!((*pid, table.as_str()), (std::process::id(), "order_items"))
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(counts(&path), [5, 5, 7]);
    // What the generator does when it fails midway: finish the run, then take it back.
    journal.finish_run(run).unwrap();
    assert_eq!(
        undo::undo(db.sqlite_mut().unwrap(), &journal, Target::Run(run))
            .unwrap()
            .removed,
        13
    );
    assert_eq!(counts(&path), [2, 1, 1]);
}

#[test]
fn a_run_with_no_rows_left_is_nothing_to_undo() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    shop_run(&path, &journal);
    exec(
        &path,
        "DELETE FROM order_items WHERE order_id > 1; DELETE FROM orders WHERE id > 1;
         DELETE FROM customers WHERE id > 2;",
    );
    let mut db = open_rw(&path);
    let err = undo_last(db.sqlite_mut().unwrap(), &journal, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "Nothing to undo: none of the rows rowsmith added to 'customers', 'orders' and 'order_items' \
             in the run of "
        ),
        "{err}"
    );
}

/// Runs the binary; (success, stdout, stderr).
fn run_cli(fx: &Fixture, args: &[&str]) -> (bool, String, String) {
    let out = fx.cmd().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// One generation on 'customers' before the run, outside it.
fn single_then_run(path: &Path, journal: &Journal) -> [OperationId; 3] {
    let mut db = open_rw(path);
    let info = db.table_info("customers").unwrap();
    let writer = BatchWriter::new(&info, &["name".to_string()]).unwrap();
    let op = journal
        .begin_operation(
            path,
            "customers",
            "test generator",
            writer.fingerprint_columns(),
        )
        .unwrap();
    let target = JournalTarget {
        journal,
        operation: op,
    };
    let rows = vec![
        vec![Value::Text("alone 1".into())],
        vec![Value::Text("alone 2".into())],
    ];
    writer
        .write(
            db.sqlite_mut().unwrap(),
            &rows,
            Some(&target),
            &CancelFlag::new(),
        )
        .unwrap();
    journal.finish_operation(op).unwrap();
    shop_run(path, journal).1
}

#[test]
fn the_cli_lists_a_run_as_one_entry_and_undoes_it_in_one_sentence() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    let ops = single_then_run(&path, &journal);
    let created: String = Connection::open(fx.data_dir().join("journal.sqlite"))
        .unwrap()
        .query_row("SELECT created_at FROM runs", [], |r| r.get(0))
        .unwrap();
    drop(journal);
    let p = path.to_str().unwrap();

    let (ok, list, err) = run_cli(&fx, &["undo", p, "--list"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(
        lines[0].split_whitespace().next(),
        Some(ops[0].0.to_string().as_str())
    );
    assert!(
        lines[0].contains("13 rows  run of 3 tables: 'customers' 3, 'orders' 4, 'order_items' 6"),
        "{list}"
    );
    assert!(lines[1].contains("'customers'  test generator"), "{list}");

    let (ok, dry, err) = run_cli(&fx, &["undo", p, "--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(
        dry,
        format!(
            "Undo would remove 13 rows from 3 tables (order_items 6, orders 4, customers 3), the run of \
             {created} UTC by offline generator."
        )
    );
    let (_, dry, _) = run_cli(&fx, &["undo", p, "--table", "orders", "--dry-run"]);
    assert_eq!(
        dry,
        format!(
            "The latest rows of 'orders' came from the run of {created} UTC by offline generator, so undo \
             would take back the whole run: 13 rows from 3 tables (order_items 6, orders 4, customers 3)."
        )
    );
    let (_, json, _) = run_cli(&fx, &["undo", p, "--dry-run", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["rows"], 13);
    assert_eq!(json["run"]["id"], ops[0].0);
    assert_eq!(json["run"]["tables"][0]["table"], "order_items");
    assert_eq!(json["run"]["tables"][0]["rows"], 6);
    assert_eq!(counts(&path), [7, 5, 7], "dry runs remove nothing");

    let member = ops[1].0.to_string();
    let (ok, done, err) = run_cli(&fx, &["undo", p, "--operation", &member]);
    assert!(ok, "{err}");
    assert_eq!(
        done,
        format!(
            "Operation {member} is part of the run of {created} UTC by offline generator, so undo took back \
             the whole run: removed 13 rows from 3 tables (order_items 6, orders 4, customers 3)."
        )
    );
    assert_eq!(counts(&path), [4, 1, 1]);
    let (ok, done, _) = run_cli(&fx, &["undo", p]);
    assert!(ok);
    assert!(
        done.starts_with("Removed 2 rows from table 'customers'"),
        "the generation before the run: {done}"
    );
    assert_eq!(counts(&path), [2, 1, 1]);
}

#[test]
fn the_cli_undoes_the_latest_run_and_forgets_a_run_whole() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    shop_run(&path, &journal);
    let created: String = Connection::open(fx.data_dir().join("journal.sqlite"))
        .unwrap()
        .query_row("SELECT created_at FROM runs", [], |r| r.get(0))
        .unwrap();
    let p = path.to_str().unwrap();
    let (ok, done, err) = run_cli(&fx, &["undo", p]);
    assert!(ok, "{err}");
    assert_eq!(
        done,
        format!(
            "Undid the run of {created} UTC by offline generator: removed 13 rows from 3 tables \
             (order_items 6, orders 4, customers 3)."
        )
    );

    let ops = shop_run(&path, &journal).1;
    drop(journal);
    let member = ops[2].0.to_string();
    let (ok, out, err) = run_cli(&fx, &["undo", p, "--forget", &member]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("Cleared operation {member}, the whole run of ")),
        "{out}"
    );
    assert!(
        out.ends_with(
            "(13 rows added to 3 tables: 'customers', 'orders' and 'order_items'); no row was touched."
        ),
        "{out}"
    );
    let (_, list, _) = run_cli(&fx, &["undo", p, "--list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.lines().all(|l| l.contains("(undone ")),
        "every operation of the run was cleared: {list}"
    );
    let (ok, _, err) = run_cli(&fx, &["undo", p]);
    assert!(!ok && err.contains("Nothing to undo"), "{err}");
    assert_eq!(counts(&path), [5, 5, 7], "forgetting touches no row");
}

#[test]
fn a_run_that_failed_before_its_first_commit_has_nothing_to_take_back() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", SHOP);
    let journal = fx.journal();
    shop_run(&path, &journal);
    let run = journal.begin_run(&path, SOURCE).unwrap();
    journal
        .begin_operation_in_run(run, &path, "customers", SOURCE, &["name".to_string()])
        .unwrap();
    journal.finish_run(run).unwrap();
    let mut db = open_rw(&path);
    let err = undo::undo(db.sqlite_mut().unwrap(), &journal, Target::Run(run)).unwrap_err();
    assert!(
        matches!(err, DbError::Undo(UndoRefusal::RunAddedNothing { .. })),
        "{err}"
    );
    // It is not in the way of the run before it.
    let out = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (out.removed, out.run.map(|r| r.tables.len())),
        (13, Some(3))
    );
}
