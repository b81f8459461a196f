//! The read-only gate on Postgres: the write and escape attempts of the SQLite corpus,
//! adapted, and Postgres's own (COPY … TO PROGRAM, SET ROLE, dblink, pg_read_file, a
//! volatile function that writes, data-modifying CTEs, quoting tricks), all refused with
//! one sentence and the database left exactly as it was.

use std::time::Duration;

use rowsmith::db::query::{QueryControl, QueryError, QuerySession};
use rowsmith::db::value::Value;

use crate::common::pg::PgDb;

const SHOP: &str = "
CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, state text, email text UNIQUE);
CREATE TABLE orders (id serial PRIMARY KEY, person_id int NOT NULL REFERENCES people(id), total numeric(8,2));
CREATE INDEX orders_by_person ON orders(person_id);
CREATE VIEW texans AS SELECT * FROM people WHERE state = 'TX';
CREATE SEQUENCE tickets;
INSERT INTO people (name, state, email) VALUES
  ('Ada', 'TX', 'ada@example.com'), ('Grace', 'NY', 'grace@example.com'), ('Alan', 'TX', NULL);
INSERT INTO orders (person_id, total) VALUES (1, 10.5), (1, 20), (2, 7.25);
CREATE FUNCTION wipe() RETURNS int LANGUAGE sql VOLATILE AS 'DELETE FROM orders RETURNING 1';
CREATE FUNCTION sneaky() RETURNS text LANGUAGE plpgsql AS $$
  BEGIN PERFORM pg_read_file('/etc/hostname'); RETURN 'x'; END $$;
";

/// `{file}` is a path on the server's machine that must not appear.
const ATTACKS: &[&str] = &[
    // Plain writes.
    "INSERT INTO people (name) VALUES ('Mallory')",
    "insert into people default values returning id",
    "INSERT INTO people (id, name) VALUES (1, 'M') ON CONFLICT (id) DO UPDATE SET name = 'M'",
    "UPDATE people SET name = 'Mallory'",
    "UPDATE people SET name = name RETURNING *",
    "DELETE FROM people",
    "dElEtE fRoM orders WHERE true",
    "MERGE INTO people p USING (SELECT 1 AS id) s ON p.id = s.id WHEN MATCHED THEN DELETE",
    "TRUNCATE orders",
    "TRUNCATE TABLE people CASCADE",
    // Schema changes.
    "DROP TABLE people",
    "DROP TABLE no_such_table",
    "DROP VIEW texans",
    "DROP INDEX orders_by_person",
    "DROP SCHEMA public CASCADE",
    "CREATE TABLE loot (a int)",
    "CREATE TABLE loot AS SELECT * FROM people",
    "CREATE UNLOGGED TABLE loot (a int)",
    "CREATE INDEX people_by_name ON people(name)",
    "CREATE VIEW everyone AS SELECT * FROM people",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE EXTENSION dblink",
    "CREATE ROLE mallory SUPERUSER",
    "ALTER TABLE people ADD COLUMN secret text",
    "ALTER TABLE people RENAME TO folks",
    "ALTER ROLE postgres PASSWORD 'x'",
    "ALTER SYSTEM SET fsync = off",
    "COMMENT ON TABLE people IS 'owned'",
    "GRANT ALL ON people TO PUBLIC",
    "REVOKE SELECT ON people FROM PUBLIC",
    "SECURITY LABEL ON TABLE people IS 'x'",
    "REFRESH MATERIALIZED VIEW texans",
    // Temporary objects.
    "CREATE TEMP TABLE stash (a int)",
    "CREATE TEMPORARY TABLE stash AS SELECT * FROM people",
    "SELECT * INTO stash FROM people",
    "SELECT * INTO TEMP stash FROM people",
    // Files and programs on the server.
    "COPY people TO '{file}'",
    "COPY (SELECT * FROM people) TO PROGRAM 'touch {file}'",
    "COPY people FROM PROGRAM 'id'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')",
    "SELECT * FROM pg_ls_dir('/')",
    "SELECT pg_stat_file('/etc/passwd')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_export(1, '{file}')",
    "SELECT pg_catalog.pg_read_file('/etc/passwd')",
    "SELECT \"pg_read_file\"('/etc/passwd')",
    "SELECT PG_READ_FILE('/etc/passwd')",
    // Other servers, sessions, settings, roles.
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE people')",
    "SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_reload_conf()",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT set_config('role', 'postgres', false)",
    "SET ROLE postgres",
    "SET SESSION AUTHORIZATION postgres",
    "SET default_transaction_read_only = off",
    "SET search_path = evil",
    "RESET ALL",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_notify('c', 'x')",
    "NOTIFY channel",
    "LISTEN channel",
    "SELECT nextval('tickets')",
    "SELECT setval('tickets', 99)",
    "SELECT query_to_xml('DELETE FROM people RETURNING 1', true, false, '')",
    "SELECT pg_switch_wal()",
    "SELECT pg_create_restore_point('x')",
    // Writes hidden in reads.
    "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone",
    "WITH x AS (SELECT 1) INSERT INTO people (name) SELECT 'Mallory' FROM x",
    "WITH u AS (UPDATE people SET state = 'XX' RETURNING 1) SELECT count(*) FROM u",
    "SELECT wipe()",
    "SELECT sneaky()",
    "SELECT * FROM people FOR UPDATE",
    "SELECT * FROM people FOR SHARE",
    "EXPLAIN ANALYZE DELETE FROM people",
    "EXPLAIN (ANALYZE) UPDATE people SET name = 'x'",
    "DO $$ BEGIN DELETE FROM people; END $$",
    "CALL nothing()",
    "LOCK TABLE people",
    "VACUUM",
    "VACUUM FULL people",
    "ANALYZE people",
    "CLUSTER people",
    "REINDEX TABLE people",
    "CHECKPOINT",
    "DISCARD ALL",
    "PREPARE p AS DELETE FROM people",
    "EXECUTE p",
    "DECLARE c CURSOR FOR SELECT 1",
    // Several statements, and quoting that could hide one.
    "SELECT 1; DROP TABLE people",
    "SELECT * FROM people; DELETE FROM people",
    "SELECT 1 -- harmless\n; DELETE FROM people",
    "SELECT 1 /* ; */ ; /* nothing */ DELETE FROM people",
    "SELECT ';'; DELETE FROM people",
    "/* SELECT */ DELETE FROM people",
    "-- SELECT 1\nDROP TABLE people",
    "SELECT E'\\'', pg_read_file('/etc/passwd') --'",
    "SELECT $$ ' $$, pg_read_file('/etc/passwd')",
    "SELECT /* /* */ 1 */ pg_read_file('/etc/passwd')",
    // Transactions.
    "BEGIN",
    "BEGIN READ WRITE",
    "START TRANSACTION READ WRITE",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT s1",
    "RELEASE s1",
    "ROLLBACK TO s1",
    "PREPARE TRANSACTION 'x'",
];

/// Every table's contents, the catalog's size, the roles, the sequence: anything an
/// attack could have changed.
fn state(pg: &PgDb) -> Vec<Vec<Option<String>>> {
    pg.admin()
        .query_text(
            "SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) FROM people p), \
                    (SELECT md5(string_agg(o::text, ',' ORDER BY o.id)) FROM orders o), \
                    (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_roles WHERE rolname = 'mallory'), \
                    (SELECT count(*) FROM pg_proc), (SELECT last_value FROM tickets), \
                    (SELECT count(*) FROM pg_largeobject_metadata), \
                    current_setting('default_transaction_read_only')",
        )
        .unwrap()
}

fn assert_refused(result: Result<impl std::fmt::Debug, QueryError>, sql: &str) {
    match result {
        Err(QueryError::Refused(refusal)) => {
            let message = refusal.to_string();
            assert!(message.starts_with("Refused: "), "{sql}: {message}");
            assert!(!message.contains('\n'), "{sql}: one line: {message}");
        }
        other => panic!("not refused: {sql:?} gave {other:?}"),
    }
}

#[test]
fn typed_attacks_are_refused_and_change_nothing() {
    assert!(ATTACKS.len() >= 70, "{} attacks", ATTACKS.len());
    let pg = PgDb::new(SHOP);
    let file = std::env::temp_dir().join(format!("rowsmith-gate-{}", std::process::id()));
    let before = state(&pg);
    let session = QuerySession::open(&pg.path(), Duration::from_millis(500)).unwrap();
    for sql in ATTACKS {
        let sql = sql.replace("{file}", &file.display().to_string());
        assert_refused(session.check(&sql), &sql);
        assert_refused(session.run(&sql, &QueryControl::new()), &sql);
        assert_refused(
            session.export_csv(&sql, Vec::new(), &QueryControl::new()),
            &sql,
        );
        assert_eq!(state(&pg), before, "changed by {sql:?}");
        assert!(!file.exists(), "{sql:?} wrote a file");
    }
    // The session still answers honest questions afterwards.
    let rows = session
        .run("SELECT count(*) FROM people", &QueryControl::new())
        .unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Integer(3)]]);
}

#[test]
fn reads_of_every_allowed_kind_pass_and_give_typed_values() {
    let pg = PgDb::new(SHOP);
    let session = QuerySession::open(&pg.path(), Duration::from_millis(500)).unwrap();
    for sql in [
        "SELECT * FROM people",
        "select p.name, sum(o.total) from people p join orders o on o.person_id = p.id group by 1",
        "WITH t AS (SELECT * FROM texans) SELECT count(*) FROM t",
        "VALUES (1, 'a'), (2, 'b')",
        "TABLE people",
        "EXPLAIN SELECT * FROM orders WHERE person_id = 1",
        "SHOW server_version",
        "SELECT name, rank() OVER (ORDER BY id) FROM people",
        "SELECT json_agg(p) FROM people p",
        "SELECT 'it''s; not a second statement'",
        "SELECT $$ a dollar-quoted string $$",
        "SELECT current_setting('server_version')",
        "SELECT pg_sleep(0)",
    ] {
        let result = session.run(sql, &QueryControl::new());
        assert!(result.is_ok(), "{sql}: {result:?}");
    }
    let r = session
        .run(
            "SELECT o.id, total, total > 10 AS big, name FROM orders o JOIN people p ON p.id = o.person_id ORDER BY o.id",
            &QueryControl::new(),
        )
        .unwrap();
    assert_eq!(r.columns, ["id", "total", "big", "name"]);
    assert_eq!(
        r.rows[0],
        vec![
            Value::Integer(1),
            Value::Real(10.5),
            Value::Integer(1),
            Value::Text("Ada".into())
        ]
    );
    // A page at a time, from a cursor.
    let big = session
        .fetch(
            "SELECT g FROM generate_series(1, 5000) g",
            1200,
            10,
            &QueryControl::new(),
        )
        .unwrap();
    assert_eq!(big.rows[0], vec![Value::Integer(1201)]);
    assert!(big.truncated);
}

#[test]
fn errors_are_postgres_sentences_and_a_long_query_can_be_stopped() {
    let pg = PgDb::new(SHOP);
    let session = QuerySession::open(&pg.path(), Duration::from_millis(500)).unwrap();
    let e = session
        .run("SELECT nope FROM people", &QueryControl::new())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Postgres could not run the query: column \"nope\" does not exist."
    );
    let e = session.run("SELEC 1", &QueryControl::new()).unwrap_err();
    assert!(matches!(e, QueryError::Unparsable { .. }), "{e}");

    let control = QueryControl::new();
    let stopper = control.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stopper.cancel();
    });
    let started = std::time::Instant::now();
    let e = session.run("SELECT pg_sleep(30)", &control).unwrap_err();
    assert!(matches!(e, QueryError::Cancelled), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // And the session is usable after.
    assert!(session.run("SELECT 1", &QueryControl::new()).is_ok());
}

/// A question on a Postgres database: the model is asked for PostgreSQL with the schema
/// in Postgres's types, its SQL runs through the gate, and the history keeps the database
/// by its URL without the password.
#[tokio::test(flavor = "multi_thread")]
async fn a_question_becomes_postgres_sql_that_runs() {
    use crate::common::Fixture;
    use crate::common::model::{FakeModel, Reply};
    use std::sync::{Arc, Mutex};

    // The database layer blocks: it is set up off the test's async threads.
    let pg = tokio::task::spawn_blocking(|| PgDb::new(SHOP))
        .await
        .unwrap();
    let fx = Fixture::new();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let model = FakeModel::openai(move |ask| {
        log.lock().unwrap().push(ask.prompt.clone());
        Reply::Text(
            serde_json::json!({
                "sql": "SELECT state, count(*) AS people FROM people GROUP BY state ORDER BY state",
                "explanation": "People per state."
            })
            .to_string(),
        )
    })
    .await;
    let mut cmd = fx.cmd();
    cmd.args(["query", &pg.url, "how many people live in each state"]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "state  people\nNY          1\nTX          2\n");
    let prompt = seen.lock().unwrap()[0].clone();
    for part in ["Table \"people\"", "\"id\" integer PRIMARY KEY", "\"TX\""] {
        assert!(prompt.contains(part), "missing {part:?} in:\n{prompt}");
    }
    let body = &model.bodies().await[0];
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        system.contains("read-only PostgreSQL statement"),
        "{system}"
    );

    let history = std::fs::read(fx.data_dir().join("history.sqlite")).unwrap();
    let (_, rest) = pg.url.split_once("//").unwrap();
    let password = rest.split_once('@').unwrap().0.split_once(':').unwrap().1;
    assert!(
        !String::from_utf8_lossy(&history).contains(password),
        "the history file holds no password"
    );
}

#[test]
fn a_session_whose_connection_was_lost_says_so() {
    let pg = PgDb::new(SHOP);
    let session = QuerySession::open(&pg.path(), Duration::from_millis(500)).unwrap();
    assert!(!session.is_lost());
    pg.admin()
        .execute_batch(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND application_name = 'rowsmith' AND pid <> pg_backend_pid()",
            pg.name
        ))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !session.is_lost() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        session.is_lost(),
        "the app's query worker opens a new session"
    );
}
