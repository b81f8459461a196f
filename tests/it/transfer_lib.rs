//! Import, export and drop through the library, on real files in temp dirs.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::Path;

use common::{Fixture, bytes, count, open_ro, open_rw};
use rowsmith::db::transfer::{
    ExportOptions, FileFormat, ImportOptions, ImportStep, InferredType, Progress, Stage,
    detect_format, drop_table, export_query, export_table, export_table_to, free_table_name,
    import_file, import_unless_appending, plan_import, preview_drop,
};
use rowsmith::db::undo::undo_last;
use rowsmith::db::{CancelFlag, DbError};
use rusqlite::Connection;
use rusqlite::types::Value;

fn rows(path: &Path, sql: &str) -> Vec<Vec<Value>> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// (name, declared type) of each column.
fn columns(path: &Path, table: &str) -> Vec<(String, String)> {
    rows(
        path,
        &format!("SELECT name, type FROM pragma_table_info('{table}')"),
    )
    .into_iter()
    .map(|r| match (&r[0], &r[1]) {
        (Value::Text(n), Value::Text(t)) => (n.clone(), t.clone()),
        other => panic!("{other:?}"),
    })
    .collect()
}

fn import(
    path: &Path,
    file: &Path,
    table: Option<&str>,
) -> Result<rowsmith::db::transfer::ImportOutcome, DbError> {
    let mut db = open_rw(path);
    let options = ImportOptions {
        table: table.map(String::from),
        ..ImportOptions::default()
    };
    import_file(db.sqlite_mut().unwrap(), file, &options, &mut |_| {})
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

const ODD: &str = "
CREATE TABLE odd (id INTEGER PRIMARY KEY, label TEXT, zip TEXT, amount REAL, qty INTEGER, data BLOB);
INSERT INTO odd (label, zip, amount, qty, data) VALUES
  ('plain', '02134', 3.0, 7, x'00ff10'),
  ('', '90210', -0.5, NULL, NULL),
  (NULL, NULL, 1e20, -3, x''),
  ('comma, \"quote\" and
newline', '00501', 0.1, 0, NULL),
  ('日本語 ünïcödé 🎉', '10001', 2.5e-7, 9223372036854775807, NULL);
";

#[test]
fn export_then_import_keeps_values_nulls_and_empty_text() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", ODD);
    let csv = fx.path("odd.csv");
    let out = export_table(
        open_ro(&path).sqlite().unwrap(),
        "odd",
        &csv,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out.rows, 5);
    assert_eq!(out.columns, ["id", "label", "zip", "amount", "qty", "data"]);
    let written = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        written,
        "id,label,zip,amount,qty,data\n\
         1,plain,02134,3.0,7,00ff10\n\
         2,\"\",90210,-0.5,,\n\
         3,,,1e20,-3,\"\"\n\
         4,\"comma, \"\"quote\"\" and\nnewline\",00501,0.1,0,\n\
         5,日本語 ünïcödé 🎉,10001,2.5e-7,9223372036854775807,\n"
    );

    let outcome = import(&path, &csv, Some("copy")).unwrap();
    assert!(outcome.created);
    assert_eq!(outcome.rows, 5);
    assert_eq!(
        columns(&path, "copy"),
        [
            ("id".into(), "INTEGER".into()),
            ("label".into(), "TEXT".into()),
            ("zip".into(), "TEXT".into()),
            ("amount".into(), "REAL".into()),
            ("qty".into(), "INTEGER".into()),
            // Hex reads back as text: a new table cannot tell it from text.
            ("data".into(), "TEXT".into()),
        ]
    );
    let original = rows(
        &path,
        "SELECT id, label, zip, amount, qty FROM odd ORDER BY id",
    );
    let copied = rows(
        &path,
        "SELECT id, label, zip, amount, qty FROM copy ORDER BY id",
    );
    assert_eq!(copied, original);
    // NULL stayed NULL and empty text stayed empty text.
    assert_eq!(
        rows(
            &path,
            "SELECT typeof(label), typeof(zip) FROM copy WHERE id IN (2, 3) ORDER BY id"
        ),
        [
            vec![text("text"), text("text")],
            vec![text("null"), text("null")]
        ]
    );

    // Appending the same export to a table declared BLOB turns hex back into bytes.
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE odd2 (id INTEGER PRIMARY KEY, label TEXT, zip TEXT, amount REAL, qty INTEGER, data BLOB)")
        .unwrap();
    let outcome = import(&path, &csv, Some("odd2")).unwrap();
    assert!(!outcome.created);
    assert_eq!(
        rows(&path, "SELECT * FROM odd2 ORDER BY id"),
        rows(&path, "SELECT * FROM odd ORDER BY id")
    );
}

#[test]
fn types_are_inferred_and_codes_stay_text() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", "");
    let file = fx.path("people.csv");
    std::fs::write(
        &file,
        "id,zip,phone,price,active,empty,mixed,big, \n\
         1,02134,+14155550100,3,true,,1,12345678901234567890,x\n\
         2,90210,555-0100,2.5,FALSE,,two,1,y\n\
         3,,4155550100,,true,,3,2,z\n",
    )
    .unwrap();
    let outcome = import(&path, &file, None).unwrap();
    assert_eq!(outcome.table, "people");
    let types: Vec<(String, InferredType)> = outcome
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.inferred))
        .collect();
    assert_eq!(
        types,
        [
            ("id".into(), InferredType::Integer),
            ("zip".into(), InferredType::Text),
            ("phone".into(), InferredType::Text),
            ("price".into(), InferredType::Real),
            ("active".into(), InferredType::Boolean),
            ("empty".into(), InferredType::Text),
            ("mixed".into(), InferredType::Text),
            ("big".into(), InferredType::Text),
            ("column_9".into(), InferredType::Text),
        ]
    );
    assert_eq!(
        rows(
            &path,
            "SELECT zip, phone, price, active, empty, typeof(price) FROM people ORDER BY id"
        ),
        [
            vec![
                text("02134"),
                text("+14155550100"),
                Value::Real(3.0),
                Value::Integer(1),
                Value::Null,
                text("real")
            ],
            vec![
                text("90210"),
                text("555-0100"),
                Value::Real(2.5),
                Value::Integer(0),
                Value::Null,
                text("real")
            ],
            vec![
                Value::Null,
                text("4155550100"),
                Value::Null,
                Value::Integer(1),
                Value::Null,
                text("null")
            ],
        ]
    );
}

#[test]
fn quoted_fields_crlf_bom_and_unicode_are_read() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", "");
    let file = fx.path("notes.csv");
    let mut content = b"\xEF\xBB\xBFtitle,body,\"na,me\"\r\n".to_vec();
    content.extend_from_slice("\"a, b\",\"He said \"\"hi\"\"\r\nthen left\",ß\r\n".as_bytes());
    content.extend_from_slice("plain,\"\",\r\n\r\n".as_bytes());
    content.extend_from_slice("\"😀\",\"x\"\"\",\"\"".as_bytes());
    std::fs::write(&file, content).unwrap();
    let outcome = import(&path, &file, None).unwrap();
    assert_eq!(outcome.rows, 3);
    assert_eq!(
        columns(&path, "notes")
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        ["title", "body", "na,me"]
    );
    assert_eq!(
        rows(&path, "SELECT * FROM notes ORDER BY rowid"),
        [
            vec![text("a, b"), text("He said \"hi\"\r\nthen left"), text("ß")],
            vec![text("plain"), text(""), Value::Null],
            vec![text("😀"), text("x\""), text("")],
        ]
    );
}

#[test]
fn json_arrays_and_json_lines_become_tables() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", "");
    let array = fx.path("events.json");
    std::fs::write(
        &array,
        r#"[
  {"name": "launch", "at": "2024-01-02", "count": 3, "ok": true, "meta": {"b": 1, "a": [1, 2]}},
  {"count": 4.5, "name": "", "ok": false, "zip": "02134"},
  {"name": null, "ok": true}
]"#,
    )
    .unwrap();
    assert_eq!(detect_format(&array).unwrap(), FileFormat::JsonArray);
    let outcome = import(&path, &array, None).unwrap();
    assert_eq!(outcome.rows, 3);
    assert_eq!(
        columns(&path, "events"),
        [
            ("name".into(), "TEXT".into()),
            ("at".into(), "TEXT".into()),
            ("count".into(), "REAL".into()),
            ("ok".into(), "INTEGER".into()),
            ("meta".into(), "TEXT".into()),
            ("zip".into(), "TEXT".into()),
        ]
    );
    assert_eq!(
        rows(&path, "SELECT * FROM events ORDER BY rowid"),
        [
            vec![
                text("launch"),
                text("2024-01-02"),
                Value::Real(3.0),
                Value::Integer(1),
                text(r#"{"b":1,"a":[1,2]}"#),
                Value::Null
            ],
            vec![
                text(""),
                Value::Null,
                Value::Real(4.5),
                Value::Integer(0),
                Value::Null,
                text("02134")
            ],
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Integer(1),
                Value::Null,
                Value::Null
            ],
        ]
    );

    let lines = fx.path("log.jsonl");
    std::fs::write(
        &lines,
        "{\"level\": \"info\", \"n\": 1}\n\n{\"level\": \"warn\", \"n\": 2}\n",
    )
    .unwrap();
    assert_eq!(detect_format(&lines).unwrap(), FileFormat::JsonLines);
    let outcome = import(&path, &lines, None).unwrap();
    assert_eq!((outcome.table.as_str(), outcome.rows), ("log", 2));
    assert_eq!(
        columns(&path, "log"),
        [
            ("level".into(), "TEXT".into()),
            ("n".into(), "INTEGER".into())
        ]
    );
}

const PEOPLE: &str = "
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    country TEXT NOT NULL DEFAULT 'NZ',
    age INTEGER
);
INSERT INTO people (name, email) VALUES ('Ada', 'ada@x.org'), ('Grace', 'grace@x.org');
";

#[test]
fn append_matches_columns_ignoring_case_and_fills_defaults() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let file = fx.path("more.csv");
    std::fs::write(&file, "NAME,Email,age\nLinus,linus@x.org,54\nKen,,true\n").unwrap();
    let outcome = import(&path, &file, Some("People")).unwrap();
    assert!(!outcome.created);
    assert_eq!(
        (outcome.table.as_str(), outcome.rows, outcome.new_row_count),
        ("people", 2, 4)
    );
    assert_eq!(
        rows(
            &path,
            "SELECT name, email, country, age FROM people WHERE id > 2 ORDER BY id"
        ),
        [
            vec![
                text("Linus"),
                text("linus@x.org"),
                text("NZ"),
                Value::Integer(54)
            ],
            vec![text("Ken"), Value::Null, text("NZ"), Value::Integer(1)],
        ]
    );

    // JSON rows without a key take that column's default.
    let json = fx.path("people.jsonl");
    std::fs::write(
        &json,
        "{\"name\": \"Barbara\", \"country\": \"US\"}\n{\"name\": \"Edsger\"}\n",
    )
    .unwrap();
    let outcome = import(&path, &json, None).unwrap();
    assert_eq!(
        (outcome.table.as_str(), outcome.rows, outcome.new_row_count),
        ("people", 2, 6)
    );
    assert_eq!(
        rows(
            &path,
            "SELECT name, country FROM people WHERE id > 4 ORDER BY id"
        ),
        [
            vec![text("Barbara"), text("US")],
            vec![text("Edsger"), text("NZ")]
        ]
    );
}

#[test]
fn append_refuses_mismatched_columns_and_changes_nothing() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let before = bytes(&path);
    let file = fx.path("people.csv");
    std::fs::write(&file, "email,city,zip\nx@y.z,Paris,75001\n").unwrap();
    let e = import(&path, &file, None).unwrap_err().to_string();
    assert_eq!(
        e,
        "The columns of people.csv do not match table 'people': the file's columns 'city', 'zip' are not in the \
         table, and the file has no values for column 'name', which is NOT NULL without a default. Import it under \
         another table name to make a new table. Nothing was imported."
    );
    assert_eq!(bytes(&path), before);
}

fn assert_refused_unchanged(
    fx: &Fixture,
    db: &Path,
    name: &str,
    content: &[u8],
    table: Option<&str>,
    expected: &str,
) {
    let file = fx.path(name);
    std::fs::write(&file, content).unwrap();
    let before = bytes(db);
    let e = import(db, &file, table).unwrap_err().to_string();
    assert_eq!(e, expected, "{name}");
    assert_eq!(bytes(db), before, "{name} changed the database");
}

#[test]
fn malformed_files_name_the_line_and_change_nothing() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    assert_refused_unchanged(
        &fx,
        &path,
        "data.csv",
        b"a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n",
        None,
        "data.csv line 3: expected 5 fields, found 4. Nothing was imported.",
    );
    // Appending, too: the file is checked before the database is touched.
    assert_refused_unchanged(
        &fx,
        &path,
        "people2.csv",
        b"name,email\nA,a@x\n\"B,b@x\nC,c@x\n",
        Some("people"),
        "people2.csv line 3: a quoted field starts here and is never closed. Nothing was imported.",
    );
    assert_refused_unchanged(
        &fx,
        &path,
        "latin1.csv",
        b"name\nok\nJos\xe9\n",
        None,
        "latin1.csv line 3: the text is not valid UTF-8 (save the file as UTF-8 and try again). Nothing was imported.",
    );
    assert_refused_unchanged(
        &fx,
        &path,
        "bad.json",
        b"[\n  {\"a\": 1},\n  {\"a\": 2,\n   \"b\": }\n]\n",
        None,
        "bad.json line 4: invalid JSON (expected value). Nothing was imported.",
    );
    assert_refused_unchanged(
        &fx,
        &path,
        "bad.jsonl",
        b"{\"a\": 1}\n{\"a\": 2}\n[3]\n",
        None,
        "bad.jsonl line 3: expected a JSON object for each row, found an array. Nothing was imported.",
    );
    assert_refused_unchanged(
        &fx,
        &path,
        "open.json",
        b"[{\"a\": 1},\n{\"a\": 2}\n",
        None,
        "open.json line 3: the JSON array is never closed with ']'. Nothing was imported.",
    );
    assert_refused_unchanged(
        &fx,
        &path,
        "empty.csv",
        b"",
        None,
        "empty.csv is empty: there is no header row of column names. Nothing was imported.",
    );
    assert_eq!(
        rows(
            &path,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
        ),
        [vec![Value::Integer(1)]]
    );
}

#[test]
fn a_constraint_failure_mid_append_imports_nothing() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let journal = fx.journal();
    let before = bytes(&path);
    let file = fx.path("more.csv");
    std::fs::write(
        &file,
        "name,email\nLinus,linus@x.org\nKen,ken@x.org\nImpostor,ada@x.org\nDennis,d@x.org\n",
    )
    .unwrap();
    let mut db = open_rw(&path);
    let options = ImportOptions {
        table: Some("people".into()),
        journal: Some(&journal),
        ..ImportOptions::default()
    };
    let e = import_file(db.sqlite_mut().unwrap(), &file, &options, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "more.csv line 4: UNIQUE constraint failed: people.email. Nothing was imported."
    );
    drop(db);
    assert_eq!(count(&path, "people"), 2);
    assert_eq!(bytes(&path), before);
    // Nothing to undo: the failed import left no record.
    assert!(journal.list(&path, None).unwrap().is_empty());

    // NOT NULL on a new row of a JSON file names its line too.
    let json = fx.path("people.json");
    std::fs::write(&json, "[\n{\"name\": \"A\"},\n{\"name\": null}\n]").unwrap();
    let e = import(&path, &json, None).unwrap_err().to_string();
    assert_eq!(
        e,
        "people.json line 3: NOT NULL constraint failed: people.name. Nothing was imported."
    );
    assert_eq!(bytes(&path), before);
}

#[test]
fn a_deferred_foreign_key_failure_names_its_line() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         INSERT INTO parent VALUES (1), (2);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
    );
    let before = bytes(&path);
    let file = fx.path("child.csv");
    std::fs::write(&file, "parent_id\n1\n2\n7\n1\n").unwrap();
    let e = import(&path, &file, None).unwrap_err().to_string();
    assert_eq!(
        e,
        "child.csv line 4: FOREIGN KEY constraint failed (no matching row in 'parent'). Nothing was imported."
    );
    assert_eq!(bytes(&path), before);
}

#[test]
fn cancelling_an_import_leaves_no_table() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let before = bytes(&path);
    let file = fx.path("many.csv");
    let mut content = String::from("n,label\n");
    for i in 0..100 {
        content.push_str(&format!("{i},row {i}\n"));
    }
    std::fs::write(&file, content).unwrap();
    for stage in [Stage::Reading, Stage::Writing] {
        let cancel = CancelFlag::new();
        let options = ImportOptions {
            cancel: cancel.clone(),
            progress_every: 10,
            ..ImportOptions::default()
        };
        let mut db = open_rw(&path);
        let result = import_file(
            db.sqlite_mut().unwrap(),
            &file,
            &options,
            &mut |p: Progress| {
                if p.stage == stage && p.rows >= 20 {
                    cancel.cancel();
                }
            },
        );
        assert!(matches!(result, Err(DbError::Cancelled)), "{result:?}");
        drop(db);
        assert_eq!(bytes(&path), before);
    }
}

#[test]
fn export_reports_progress_and_cancelling_leaves_no_file() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        "CREATE TABLE n (i INTEGER);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 250) INSERT INTO n SELECT x FROM c;",
    );
    let db = open_ro(&path);
    let out_dir = fx.path("out");
    std::fs::create_dir(&out_dir).unwrap();

    let mut seen = Vec::new();
    let options = ExportOptions {
        progress_every: 100,
        ..ExportOptions::default()
    };
    // A folder as the destination means <table>.csv inside it.
    let outcome = export_table(db.sqlite().unwrap(), "N", &out_dir, &options, &mut |p| {
        seen.push((p.rows, p.total_rows))
    })
    .unwrap();
    assert_eq!(
        outcome.path.as_deref(),
        Some(out_dir.join("n.csv").as_path())
    );
    assert_eq!(
        seen,
        [
            (0, Some(250)),
            (100, Some(250)),
            (200, Some(250)),
            (250, Some(250))
        ]
    );
    std::fs::remove_file(out_dir.join("n.csv")).unwrap();

    let cancel = CancelFlag::new();
    let options = ExportOptions {
        cancel: cancel.clone(),
        progress_every: 50,
        replace: false,
        neutralize_formulas: false,
    };
    let dest = out_dir.join("n.csv");
    let result = export_table(db.sqlite().unwrap(), "n", &dest, &options, &mut |p| {
        if p.rows >= 100 {
            cancel.cancel();
        }
    });
    assert!(matches!(result, Err(DbError::Cancelled)), "{result:?}");
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "no file and no temporary file"
    );

    // A failed export leaves an existing file as it was.
    std::fs::write(&dest, "keep me").unwrap();
    let cancel = CancelFlag::new();
    cancel.cancel();
    let options = ExportOptions {
        cancel,
        ..ExportOptions::default()
    };
    assert!(export_table(db.sqlite().unwrap(), "n", &dest, &options, &mut |_| {}).is_err());
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
}

#[test]
fn queries_export_and_writes_are_refused() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let db = open_ro(&path);
    let dest = fx.path("q.csv");
    let outcome = export_query(
        db.sqlite().unwrap(),
        "SELECT name, length(name) AS len, NULL AS none_here FROM people ORDER BY name",
        &dest,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(outcome.rows, 2);
    assert_eq!(
        std::fs::read_to_string(&dest).unwrap(),
        "name,len,none_here\nAda,3,\nGrace,5,\n"
    );
    let e = export_query(
        db.sqlite().unwrap(),
        "DELETE FROM people RETURNING *",
        &dest,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "Only a read-only query that returns rows (a SELECT) can be exported."
    );
    let e = export_table(
        db.sqlite().unwrap(),
        "people",
        &path,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with("is the database itself; choose another file to export to."),
        "{e}"
    );

    let mut buf = Vec::new();
    export_table_to(
        db.sqlite().unwrap(),
        "people",
        &mut buf,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        "id,name,email,country,age\n1,Ada,ada@x.org,NZ,\n2,Grace,grace@x.org,NZ,\n"
    );
}

#[test]
fn drop_refuses_referenced_tables_and_deletes_others() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES customers (id));
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));
         CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers (id));
         CREATE VIEW v AS SELECT * FROM customers;
         INSERT INTO customers (boss) VALUES (NULL), (1), (1);
         INSERT INTO orders (customer_id) VALUES (1);",
    );
    let mut db = open_rw(&path);
    let preview = preview_drop(db.sqlite().unwrap(), "customers").unwrap();
    assert_eq!(preview.rows, Some(3));
    assert_eq!(preview.referenced_by, ["invoices", "orders"]);
    let e = drop_table(db.sqlite_mut().unwrap(), "customers")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Cannot delete table 'customers': tables 'invoices' and 'orders' have foreign keys that point at it. Delete \
         those tables first, or remove their foreign keys."
    );
    assert_eq!(count(&path, "customers"), 3);

    let out = drop_table(db.sqlite_mut().unwrap(), "orders").unwrap();
    assert_eq!((out.name.as_str(), out.rows), ("orders", Some(1)));
    let e = drop_table(db.sqlite_mut().unwrap(), "customers")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Cannot delete table 'customers': table 'invoices' has a foreign key that points at it. Delete that table \
         first, or remove its foreign key."
    );
    drop_table(db.sqlite_mut().unwrap(), "invoices").unwrap();
    drop_table(db.sqlite_mut().unwrap(), "V").unwrap();
    // A self-reference does not stop it.
    let out = drop_table(db.sqlite_mut().unwrap(), "customers").unwrap();
    assert_eq!(out.rows, Some(3));
    assert!(matches!(
        drop_table(db.sqlite_mut().unwrap(), "customers"),
        Err(DbError::UnknownTable { .. })
    ));
    assert_eq!(
        rows(&path, "SELECT count(*) FROM sqlite_schema"),
        [vec![Value::Integer(0)]]
    );
}

#[test]
fn undo_takes_back_an_appended_import_and_a_new_table_import() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let journal = fx.journal();
    let file = fx.path("more.csv");
    std::fs::write(&file, "name,email\nLinus,linus@x.org\nKen,ken@x.org\n").unwrap();
    let mut db = open_rw(&path);
    let options = ImportOptions {
        table: Some("people".into()),
        journal: Some(&journal),
        ..ImportOptions::default()
    };
    import_file(db.sqlite_mut().unwrap(), &file, &options, &mut |_| {}).unwrap();
    assert_eq!(count(&path, "people"), 4);
    let options = ImportOptions {
        table: Some("fresh".into()),
        ..options
    };
    import_file(db.sqlite_mut().unwrap(), &file, &options, &mut |_| {}).unwrap();

    let undone = undo_last(db.sqlite_mut().unwrap(), &journal, Some("people")).unwrap();
    assert_eq!((undone.removed, undone.new_row_count), (2, 2));
    assert_eq!(undone.source, "import more.csv");
    assert_eq!(
        rows(&path, "SELECT name FROM people ORDER BY id"),
        [vec![text("Ada")], vec![text("Grace")]]
    );
    let undone = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(
        (undone.table.as_str(), undone.removed, undone.new_row_count),
        ("fresh", 2, 0)
    );
}

#[test]
fn without_rowid_tables_append_and_undo() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        "CREATE TABLE kv (k TEXT, n INT, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID; INSERT INTO kv VALUES ('a', 1, 'x');",
    );
    let journal = fx.journal();
    let file = fx.path("kv.json");
    std::fs::write(
        &file,
        r#"[{"k": "b", "n": 2, "v": "y"}, {"k": "c", "n": 3}]"#,
    )
    .unwrap();
    let mut db = open_rw(&path);
    let options = ImportOptions {
        journal: Some(&journal),
        ..ImportOptions::default()
    };
    let outcome = import_file(db.sqlite_mut().unwrap(), &file, &options, &mut |_| {}).unwrap();
    assert_eq!((outcome.rows, outcome.new_row_count), (2, 3));
    let undone = undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!((undone.removed, undone.new_row_count), (2, 1));
}

#[test]
fn plan_says_what_will_happen_without_writing() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let before = bytes(&path);
    let file = fx.path("people.tsv");
    std::fs::write(&file, "name\temail\nA\ta@x\n").unwrap();
    let db = open_ro(&path);
    let plan = plan_import(
        db.sqlite().unwrap(),
        &file,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(plan.format, FileFormat::Csv { delimiter: b'\t' });
    assert!(!plan.create);
    assert_eq!(plan.rows, 1);
    assert_eq!(plan.left_out, ["id", "country", "age"]);
    drop(db);
    assert_eq!(bytes(&path), before);

    // A read-only handle cannot import.
    let mut db = open_ro(&path);
    assert!(matches!(
        import_file(
            db.sqlite_mut().unwrap(),
            &file,
            &ImportOptions::default(),
            &mut |_| {}
        ),
        Err(DbError::ReadOnly { .. })
    ));
}

#[test]
fn an_existing_export_file_is_replaced_only_when_asked() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let db = open_ro(&path);
    let out_dir = fx.path("out");
    std::fs::create_dir(&out_dir).unwrap();
    let dest = out_dir.join("people.csv");
    std::fs::write(&dest, "old").unwrap();

    // A folder as the destination: the file inside it is the one named.
    let e = export_table(
        db.sqlite().unwrap(),
        "people",
        &out_dir,
        &ExportOptions::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&e, DbError::FileExists { path } if *path == dest),
        "{e:?}"
    );
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");

    // Cancelled while replacing: the old file stays, no temporary file is left.
    let cancel = CancelFlag::new();
    cancel.cancel();
    let options = ExportOptions {
        cancel,
        replace: true,
        ..ExportOptions::default()
    };
    let e = export_table(db.sqlite().unwrap(), "people", &dest, &options, &mut |_| {}).unwrap_err();
    assert!(matches!(e, DbError::Cancelled), "{e:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);

    let options = ExportOptions {
        replace: true,
        ..ExportOptions::default()
    };
    let outcome =
        export_table(db.sqlite().unwrap(), "people", &dest, &options, &mut |_| {}).unwrap();
    assert_eq!(outcome.path.as_deref(), Some(dest.as_path()));
    assert!(
        std::fs::read_to_string(&dest)
            .unwrap()
            .starts_with("id,name,email,country,age\n1,Ada,")
    );
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
}

#[test]
fn import_unless_appending_asks_before_appending() {
    let fx = Fixture::new();
    let path = fx.db("shop.db", PEOPLE);
    let file = fx.path("people.csv");
    std::fs::write(&file, "name,email\nLin,lin@x.org\n").unwrap();
    let before = bytes(&path);
    let mut db = open_rw(&path);
    let step = import_unless_appending(
        db.sqlite_mut().unwrap(),
        &file,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let ImportStep::WouldAppend { plan, free_name } = step else {
        panic!("{step:?}")
    };
    assert_eq!((plan.table.as_str(), plan.rows), ("people", 1));
    assert_eq!(plan.columns.len(), 2);
    assert_eq!(free_name, "people_2");
    drop(db);
    assert_eq!(bytes(&path), before, "nothing written before the answer");

    // Into the free name: a new table, the old one untouched.
    let mut db = open_rw(&path);
    let options = ImportOptions {
        table: Some(free_name),
        ..ImportOptions::default()
    };
    let step =
        import_unless_appending(db.sqlite_mut().unwrap(), &file, &options, &mut |_| {}).unwrap();
    let ImportStep::Imported(outcome) = step else {
        panic!("{step:?}")
    };
    assert!(outcome.created);
    assert_eq!((outcome.table.as_str(), outcome.rows), ("people_2", 1));
    drop(db);
    assert_eq!(count(&path, "people"), 2);
    assert_eq!(count(&path, "people_2"), 1);
}

#[test]
fn a_free_table_name_skips_every_name_in_use() {
    let fx = Fixture::new();
    let path = fx.db(
        "shop.db",
        "CREATE TABLE t (a); CREATE TABLE T_2 (a); CREATE INDEX t_3 ON t (a); CREATE VIEW t_4 AS SELECT 1;",
    );
    let db = open_ro(&path);
    assert_eq!(free_table_name(db.sqlite().unwrap(), "t").unwrap(), "t_5");
    assert_eq!(
        free_table_name(db.sqlite().unwrap(), "other").unwrap(),
        "other_2"
    );
}
