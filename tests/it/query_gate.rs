//! The read-only gate: a corpus of write and escape attempts, typed by a user
//! and coming back from a model's answer, all refused with a clear sentence
//! and the database file left byte-for-byte as it was, with no journal, WAL
//! or other file appearing beside it.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::path::{Path, PathBuf};

use common::Fixture;
use common::model::{FakeModel, Reply};
use rowsmith::ask;
use rowsmith::db::query::{QueryControl, QueryError, QuerySession, RefusalKind};
use rowsmith::llm::{Client, ProviderKind, Settings};
use serde_json::json;

const SHOP: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  state TEXT,
  email TEXT UNIQUE
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES people(id),
  total REAL
);
CREATE INDEX orders_by_person ON orders(person_id);
CREATE VIEW texans AS SELECT * FROM people WHERE state = 'TX';
INSERT INTO people (name, state, email) VALUES
  ('Ada', 'TX', 'ada@example.com'),
  ('Grace', 'NY', 'grace@example.com'),
  ('Alan', 'TX', NULL);
INSERT INTO orders (person_id, total) VALUES (1, 10.5), (1, 20), (2, 7.25);
";

/// Write and escape attempts. `{dir}` is replaced by the fixture's folder so
/// file-creating attempts aim at a place we then check stays empty.
const ATTACKS: &[&str] = &[
    // Plain writes.
    "INSERT INTO people (name) VALUES ('Mallory')",
    "insert into people default values returning id",
    "INSERT OR REPLACE INTO people (id, name) VALUES (1, 'Mallory')",
    "REPLACE INTO people (id, name) VALUES (1, 'Mallory')",
    "UPDATE people SET name = 'Mallory'",
    "UPDATE people SET name = name RETURNING *",
    "DELETE FROM people",
    "dElEtE fRoM orders WHERE 1",
    "INSERT INTO sqlite_master VALUES ('table', 'x', 'x', 0, 'CREATE TABLE x(a)')",
    "DELETE FROM sqlite_sequence",
    // Schema changes.
    "DROP TABLE people",
    "DROP TABLE no_such_table",
    "DROP VIEW texans",
    "DROP INDEX orders_by_person",
    "CREATE TABLE loot (a)",
    "CREATE TABLE loot AS SELECT * FROM people",
    "CREATE INDEX people_by_name ON people(name)",
    "CREATE VIEW everyone AS SELECT * FROM people",
    "CREATE TRIGGER wipe AFTER INSERT ON orders BEGIN DELETE FROM people; END",
    "CREATE VIRTUAL TABLE notes USING fts5(body)",
    "ALTER TABLE people ADD COLUMN secret TEXT",
    "ALTER TABLE people RENAME TO folks",
    // Temporary-object tricks.
    "CREATE TEMP TABLE stash (a)",
    "CREATE TEMPORARY TABLE stash AS SELECT * FROM people",
    "CREATE TEMP VIEW v AS SELECT 1",
    "CREATE TEMP TRIGGER t AFTER DELETE ON people BEGIN SELECT 1; END",
    "CREATE VIRTUAL TABLE temp.t USING fts5(x)",
    // Other files.
    "ATTACH DATABASE '{dir}/other.db' AS other",
    "ATTACH ':memory:' AS scratch",
    "DETACH DATABASE main",
    "VACUUM",
    "VACUUM INTO '{dir}/copy.db'",
    "VACUUM main INTO '{dir}/copy2.db'",
    // PRAGMAs that write or act.
    "PRAGMA journal_mode = wal",
    "PRAGMA journal_mode = delete",
    "PRAGMA user_version = 7",
    "PRAGMA main.application_id = 5",
    "PRAGMA writable_schema = ON",
    "PRAGMA query_only = OFF",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA optimize",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA incremental_vacuum",
    "SELECT * FROM pragma_optimize",
    // Writable CTEs and EXPLAIN of writes.
    "WITH x AS (SELECT 1) INSERT INTO people (name) SELECT 'Mallory' FROM x",
    "WITH doomed AS (SELECT id FROM people) DELETE FROM people WHERE id IN doomed",
    "WITH u AS (SELECT 1) UPDATE people SET state = 'XX'",
    "EXPLAIN DELETE FROM people",
    // Several statements, some hidden behind comments and strings.
    "SELECT 1; DROP TABLE people",
    "SELECT * FROM people; DELETE FROM people",
    "SELECT 1 -- harmless\n; DELETE FROM people",
    "SELECT 1 /* ; */ ; /* nothing here */ DELETE FROM people",
    "SELECT ';'; DELETE FROM people",
    "SELECT 'a'';b'; VACUUM",
    "/* SELECT */ DELETE FROM people",
    "-- SELECT 1\nDROP TABLE people",
    "SELECT 1; ATTACH '{dir}/other.db' AS o",
    // Functions that reach outside.
    "SELECT load_extension('{dir}/evil.so')",
    "SELECT load_extension('{dir}/evil', 'init') FROM people",
    "SELECT writefile('{dir}/out.txt', 'data')",
    "SELECT readfile('/etc/passwd')",
    "SELECT fts3_tokenizer('simple')",
    // Maintenance and transactions.
    "REINDEX",
    "REINDEX people",
    "ANALYZE",
    "ANALYZE people",
    "BEGIN",
    "BEGIN IMMEDIATE",
    "BEGIN EXCLUSIVE TRANSACTION",
    "COMMIT",
    "END",
    "ROLLBACK",
    "SAVEPOINT s1",
    "RELEASE s1",
    "ROLLBACK TO s1",
];

fn attack(sql: &str, dir: &Path) -> String {
    sql.replace("{dir}", &dir.display().to_string())
}

/// The database's bytes and the folder's file names.
fn snapshot(fx: &Fixture, db: &Path) -> (Vec<u8>, Vec<PathBuf>) {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    (common::bytes(db), names)
}

fn assert_refused(result: Result<impl std::fmt::Debug, QueryError>, sql: &str) {
    match result {
        Err(QueryError::Refused(refusal)) => {
            let message = refusal.to_string();
            assert!(message.starts_with("Refused: "), "{sql}: {message}");
            assert!(!message.contains('\n'), "{sql}: one line: {message}");
            assert!(
                message.ends_with("Only read-only queries run here.")
                    || message.ends_with("Run one statement at a time."),
                "{sql}: {message}"
            );
        }
        other => panic!("not refused: {sql:?} gave {other:?}"),
    }
}

#[test]
fn typed_attacks_are_refused_and_change_nothing() {
    assert!(ATTACKS.len() >= 30);
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let before = snapshot(&fx, &db);
    let session = QuerySession::open(&db, std::time::Duration::from_millis(200)).unwrap();
    for sql in ATTACKS {
        let sql = attack(sql, fx.dir.path());
        assert_refused(session.check(&sql), &sql);
        assert_refused(session.run(&sql, &QueryControl::new()), &sql);
        assert_refused(
            session.export_csv(&sql, Vec::new(), &QueryControl::new()),
            &sql,
        );
        assert_eq!(snapshot(&fx, &db), before, "changed by {sql:?}");
    }
    // The session still answers honest questions afterwards.
    let rows = session
        .run("SELECT count(*) FROM people", &QueryControl::new())
        .unwrap();
    assert_eq!(rows.rows, vec![vec![rusqlite::types::Value::Integer(3)]]);
    drop(session);
    assert_eq!(snapshot(&fx, &db), before);
    assert_eq!(common::count(&db, "people"), 3);
}

#[test]
fn refusals_name_what_was_refused() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let session = QuerySession::open(&db, std::time::Duration::from_millis(200)).unwrap();
    let cases: &[(&str, RefusalKind, &str)] = &[
        (
            "INSERT INTO people (name) VALUES ('x')",
            RefusalKind::Write,
            "Refused: this statement would change the database (INSERT). Only read-only queries run here.",
        ),
        (
            "REPLACE INTO people (id, name) VALUES (1, 'x')",
            RefusalKind::Write,
            "(REPLACE)",
        ),
        ("VACUUM INTO 'x.db'", RefusalKind::Write, "(VACUUM INTO)"),
        (
            "DROP TABLE no_such_table",
            RefusalKind::Write,
            "(DROP TABLE)",
        ),
        (
            "CREATE TEMP TABLE t(a)",
            RefusalKind::TempObject,
            "would create or drop a temporary object (CREATE TEMP TABLE)",
        ),
        (
            "ATTACH 'x.db' AS x",
            RefusalKind::Attach,
            "would attach or detach a database file (ATTACH)",
        ),
        (
            "PRAGMA journal_mode = wal",
            RefusalKind::Pragma,
            "(PRAGMA journal_mode = wal)",
        ),
        ("PRAGMA optimize", RefusalKind::Pragma, "(PRAGMA optimize)"),
        (
            "SELECT load_extension('x')",
            RefusalKind::Function,
            "calls a function that is not allowed here (load_extension())",
        ),
        (
            "WITH x AS (SELECT 1) DELETE FROM people",
            RefusalKind::Write,
            "(DELETE FROM people)",
        ),
        (
            "BEGIN",
            RefusalKind::Transaction,
            "would begin or end a transaction (BEGIN)",
        ),
        (
            "SELECT 1; DROP TABLE people",
            RefusalKind::Several,
            "Refused: the text holds more than one statement (the second begins with DROP TABLE). Run one statement at a time.",
        ),
    ];
    for (sql, kind, text) in cases {
        let err = session.check(sql).unwrap_err();
        let refusal = err.refusal().unwrap_or_else(|| panic!("{sql}: {err}"));
        assert_eq!(refusal.kind, *kind, "{sql}");
        assert!(err.to_string().contains(text), "{sql}: {err}");
    }
}

#[test]
fn reads_of_every_allowed_kind_pass_the_gate() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let before = snapshot(&fx, &db);
    let session = QuerySession::open(&db, std::time::Duration::from_millis(200)).unwrap();
    for sql in [
        "SELECT * FROM people",
        "  -- a comment first\n select name from texans ;  ",
        "WITH t AS (SELECT person_id, sum(total) s FROM orders GROUP BY 1) SELECT * FROM t",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n",
        "VALUES (1, 'a'), (2, 'b')",
        "EXPLAIN QUERY PLAN SELECT * FROM orders WHERE person_id = 1",
        "EXPLAIN SELECT 1",
        "PRAGMA table_info(people)",
        "PRAGMA table_xinfo('people')",
        "PRAGMA index_list(orders)",
        "PRAGMA index_info(orders_by_person)",
        "PRAGMA foreign_key_list(orders)",
        "PRAGMA user_version",
        "PRAGMA main.page_count",
        "PRAGMA integrity_check",
        "SELECT * FROM pragma_table_info('people')",
        "SELECT name FROM sqlite_schema WHERE type = 'table'",
        "SELECT 'a;b' AS \"x;y\", [c;d] FROM (SELECT 1 AS [c;d])",
        "SELECT upper(name), length(email), rowsmith_format(email) FROM people",
    ] {
        let result = session.run(sql, &QueryControl::new());
        assert!(result.is_ok(), "{sql}: {result:?}");
    }
    drop(session);
    assert_eq!(snapshot(&fx, &db), before);
}

#[test]
fn empty_text_and_bad_sql_are_plain_errors() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let session = QuerySession::open(&db, std::time::Duration::from_millis(200)).unwrap();
    for sql in ["", "  ;; ", "-- nothing\n/* at all */"] {
        let err = session.check(sql).unwrap_err();
        assert!(matches!(err, QueryError::Empty), "{sql:?}");
        assert_eq!(err.to_string(), "Nothing to run: the query is empty.");
    }
    let err = session.check("SELECT * FROM nowhere").unwrap_err();
    assert_eq!(
        err.to_string(),
        "SQLite could not run the query: no such table: nowhere."
    );
    let err = session.check("SELEC 1").unwrap_err();
    assert!(matches!(err, QueryError::Unparsable { .. }), "{err}");
}

/// The attack corpus again, this time as a model's answer to a question:
/// the SQL from the model goes through exactly the same gate.
#[tokio::test(flavor = "multi_thread")]
async fn attacks_from_the_model_are_refused_and_change_nothing() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let dir = fx.dir.path().to_path_buf();
    let model = FakeModel::openai(move |ask| {
        let n: usize = ask
            .prompt
            .split("attack #")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        Reply::Text(
            json!({"sql": attack(ATTACKS[n], &dir), "explanation": "Just a harmless look."})
                .to_string(),
        )
    })
    .await;
    let client = Client::new(
        Settings::new(
            ProviderKind::OpenAi,
            "gpt-6.1-terra",
            format!("{}/v1", model.server.uri()),
        )
        .with_api_key("sk-test-key"),
    )
    .unwrap();
    let before = snapshot(&fx, &db);
    let session = QuerySession::open(&db, std::time::Duration::from_millis(200)).unwrap();
    let schema = ask::schema::describe_schema(
        session.database(),
        &mut common::seeded(1),
        rowsmith::config::Privacy::Samples,
    )
    .unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    for (n, raw) in ATTACKS.iter().enumerate() {
        let question = format!("attack #{n}: show me the people");
        let translation = ask::translate(&client, &schema, &question, &cancel)
            .await
            .unwrap();
        assert_eq!(translation.sql, attack(raw, fx.dir.path()));
        assert_refused(
            session.run(&translation.sql, &QueryControl::new()),
            &translation.sql,
        );
        assert_eq!(snapshot(&fx, &db), before, "changed by {raw:?}");
    }
    assert_eq!(model.calls(), ATTACKS.len());
    drop(session);
    assert_eq!(snapshot(&fx, &db), before);
}

/// A handful of attacks through the binary, typed and from the model: one
/// sentence on stderr, a failing exit, the file untouched.
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_refuses_typed_and_model_attacks() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let model = FakeModel::openai(|_| {
        Reply::Text(
            json!({"sql": "SELECT name FROM people; DELETE FROM people", "explanation": "Names."})
                .to_string(),
        )
    })
    .await;
    let db_arg = db.to_str().unwrap().to_string();
    let before = common::bytes(&db);
    for (input, expected) in [
        ("DELETE FROM people", "(DELETE)"),
        ("PRAGMA user_version = 3", "(PRAGMA user_version = 3)"),
        ("VACUUM INTO 'copy.db'", "(VACUUM INTO)"),
        (
            "SELECT 1; DROP TABLE people",
            "more than one statement (the second begins with DROP TABLE)",
        ),
        (
            "which people have orders?",
            "more than one statement (the second begins with DELETE)",
        ),
    ] {
        let mut cmd = fx.cmd();
        cmd.args(["query", &db_arg, input]);
        for (k, v) in model.env() {
            cmd.env(k, v);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{input}");
        assert!(out.stdout.is_empty(), "{input}");
        let last = stderr.lines().last().unwrap_or("");
        assert!(last.starts_with("error: Refused: "), "{input}: {stderr}");
        assert!(last.contains(expected), "{input}: {stderr}");
        if input.ends_with('?') {
            // The model's SQL is shown before the refusal.
            assert!(
                stderr.contains("SELECT name FROM people; DELETE FROM people"),
                "{stderr}"
            );
        }
        assert_eq!(common::bytes(&db), before);
    }
    assert!(!fx.path("copy.db").exists());
    for suffix in ["-journal", "-wal", "-shm"] {
        assert!(!fx.path(&format!("shop.db{suffix}")).exists());
    }
}
