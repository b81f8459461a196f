//! Running read-only queries: the row cap, paging, CSV export, interrupting
//! a long query from another thread, progress, and the query history.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::time::{Duration, Instant};

use common::Fixture;
use rowsmith::ask::history::History;
use rowsmith::db::query::{QueryControl, QueryError, QuerySession};
use rusqlite::types::Value;

const NUMBERS: &str = "
CREATE TABLE numbers (n INTEGER PRIMARY KEY, label TEXT, half REAL, raw BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2500)
INSERT INTO numbers SELECT i, 'n' || i, i / 2.0, NULL FROM c;
CREATE TABLE odd (id INTEGER PRIMARY KEY, text TEXT, amount REAL, data BLOB);
INSERT INTO odd VALUES
  (1, 'plain', 2.0, NULL),
  (2, 'comma, and \"quotes\"', NULL, x'00ff'),
  (3, 'two
lines', -0.5, NULL),
  (4, NULL, 1e20, NULL);
";

fn session(fx: &Fixture) -> (std::path::PathBuf, QuerySession) {
    let db = fx.db("numbers.db", NUMBERS);
    let s = QuerySession::open(&db, Duration::from_millis(200)).unwrap();
    (db, s)
}

fn ints(rows: &[Vec<Value>]) -> Vec<i64> {
    rows.iter()
        .map(|r| match r[0] {
            Value::Integer(i) => i,
            ref other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn results_are_capped_at_the_row_limit_and_say_so() {
    let fx = Fixture::new();
    let (_, s) = session(&fx);
    assert_eq!(s.row_limit(), 1000);
    let all = s
        .run("SELECT n FROM numbers ORDER BY n", &QueryControl::new())
        .unwrap();
    assert_eq!(all.rows.len(), 1000);
    assert!(all.truncated);
    assert_eq!(all.offset, 0);
    assert_eq!(all.columns, vec!["n"]);
    assert_eq!(ints(all.page(995, 10)), vec![996, 997, 998, 999, 1000]);
    assert!(all.page(2000, 10).is_empty());

    let s = s.with_row_limit(2500);
    let exact = s
        .run("SELECT n FROM numbers", &QueryControl::new())
        .unwrap();
    assert_eq!(exact.rows.len(), 2500);
    assert!(!exact.truncated, "exactly the limit is not truncated");

    let none = s
        .run("SELECT n FROM numbers WHERE n < 0", &QueryControl::new())
        .unwrap();
    assert!(none.rows.is_empty() && !none.truncated);
    assert_eq!(none.columns, vec!["n"]);
}

#[test]
fn pages_are_fetched_by_offset_and_limit() {
    let fx = Fixture::new();
    let (_, s) = session(&fx);
    let sql = "SELECT n, label FROM numbers ORDER BY n DESC";
    let control = QueryControl::new();
    let first = s.fetch(sql, 0, 100, &control).unwrap();
    assert_eq!(ints(&first.rows), (2401..=2500).rev().collect::<Vec<_>>());
    assert!(first.truncated);
    let middle = s.fetch(sql, 1200, 100, &control).unwrap();
    assert_eq!(middle.offset, 1200);
    assert_eq!(ints(&middle.rows)[0], 1300);
    let last = s.fetch(sql, 2450, 100, &control).unwrap();
    assert_eq!(last.rows.len(), 50);
    assert!(!last.truncated);
    assert_eq!(ints(&last.rows)[49], 1);
    let past = s.fetch(sql, 5000, 100, &control).unwrap();
    assert!(past.rows.is_empty() && !past.truncated);
    // A page never exceeds the row limit.
    let s = s.with_row_limit(10);
    assert_eq!(s.fetch(sql, 0, 500, &control).unwrap().rows.len(), 10);
    // The progress counters saw the rows stepped through.
    assert!(control.progress().rows >= 2500, "{:?}", control.progress());
}

#[test]
fn csv_export_replaces_an_existing_file_only_when_asked() {
    let fx = Fixture::new();
    let (_db, s) = session(&fx);
    let out = fx.path("result.csv");
    std::fs::write(&out, "old").unwrap();
    let err = s
        .export_csv_file("SELECT 1 AS one", &out, &QueryControl::new(), false)
        .unwrap_err();
    assert!(matches!(err, QueryError::FileExists { .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
    let n = s
        .export_csv_file("SELECT 1 AS one", &out, &QueryControl::new(), true)
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "one\n1\n");
    // Nothing but the export is left in the folder, and a file of the user's named like
    // an old temporary one is never touched.
    let theirs = fx.path("report.csv.partial");
    std::fs::write(&theirs, "mine").unwrap();
    s.export_csv_file(
        "SELECT 2 AS two",
        &fx.path("report.csv"),
        &QueryControl::new(),
        false,
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "mine");
    let hidden: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rowsmith-tmp"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

#[test]
fn csv_export_writes_every_row_with_correct_quoting() {
    let fx = Fixture::new();
    let (db, s) = session(&fx);
    let before = common::bytes(&db);
    let out = fx.path("export.csv");
    let n = s
        .export_csv_file(
            "SELECT n, label FROM numbers",
            &out,
            &QueryControl::new(),
            false,
        )
        .unwrap();
    assert_eq!(n, 2500, "export ignores the row cap");
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["n", "label"]);
    assert_eq!(reader.records().count(), 2500);

    let odd = fx.path("odd.csv");
    s.export_csv_file(
        "SELECT * FROM odd ORDER BY id",
        &odd,
        &QueryControl::new(),
        false,
    )
    .unwrap();
    let records: Vec<Vec<String>> = csv::Reader::from_path(&odd)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        records,
        vec![
            vec!["1", "plain", "2.0", ""],
            vec!["2", "comma, and \"quotes\"", "", "00ff"],
            vec!["3", "two\nlines", "-0.5", ""],
            vec!["4", "", "1e20", ""],
        ]
    );
    // One dialect with table exports: NULL is an empty field, empty text is `""`.
    let text = std::fs::read_to_string(&odd).unwrap();
    assert!(text.ends_with("4,,1e20,\n"), "{text}");

    // An empty result still has its header.
    let mut buf = Vec::new();
    s.export_csv(
        "SELECT n, label FROM numbers WHERE 0",
        &mut buf,
        &QueryControl::new(),
    )
    .unwrap();
    assert_eq!(String::from_utf8(buf).unwrap(), "n,label\n");

    // Refused SQL and the database itself as a target leave no file behind.
    let refused = fx.path("refused.csv");
    let err = s
        .export_csv_file("DELETE FROM numbers", &refused, &QueryControl::new(), false)
        .unwrap_err();
    assert!(err.refusal().is_some());
    assert!(!refused.exists());
    let err = s
        .export_csv_file("SELECT 1", &db, &QueryControl::new(), false)
        .unwrap_err();
    assert!(
        err.to_string().contains("that is the database itself"),
        "{err}"
    );
    drop(s);
    assert_eq!(common::bytes(&db), before);
}

#[test]
fn json_text_keeps_column_order_and_storage_classes() {
    let fx = Fixture::new();
    let (_, s) = session(&fx);
    let r = s
        .run(
            "SELECT id AS z, text AS a, amount, data, id FROM odd WHERE id IN (2, 4) ORDER BY id",
            &QueryControl::new(),
        )
        .unwrap();
    assert_eq!(
        r.to_json_text(),
        r#"[{"z":2,"a":"comma, and \"quotes\"","amount":null,"data":{"blob_hex":"00ff"},"id":2},{"z":4,"a":null,"amount":1e+20,"data":null,"id":4}]"#
    );
    let value: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        value["columns"],
        serde_json::json!(["z", "a", "amount", "data", "id"])
    );
    assert_eq!(value["truncated"], false);
}

#[test]
fn a_long_query_is_interrupted_from_another_thread() {
    let fx = Fixture::new();
    let (db, s) = session(&fx);
    let before = common::bytes(&db);
    let control = QueryControl::new();
    let watcher = control.clone();
    let started = Instant::now();
    let worker = std::thread::spawn(move || {
        let result = s.run(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000000) \
             SELECT count(*) FROM c",
            &control,
        );
        (result, s)
    });
    // Progress moves while no row has come out yet.
    let mut work = 0;
    while work == 0 && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        work = watcher.progress().work;
    }
    assert!(work > 0, "progress is reported while SQLite works");
    assert_eq!(watcher.progress().rows, 0);
    watcher.cancel();
    let cancelled_at = Instant::now();
    let (result, s) = worker.join().unwrap();
    // Counting to a billion takes minutes; stopping within seconds is the point.
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(20),
        "stopped in {:?}",
        cancelled_at.elapsed()
    );
    let err = result.unwrap_err();
    assert!(matches!(err, QueryError::Cancelled), "{err}");
    assert_eq!(
        err.to_string(),
        "The query was stopped before it finished; the database was not changed."
    );
    // The session works again with a fresh control.
    let r = s
        .run("SELECT count(*) FROM numbers", &QueryControl::new())
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Integer(2500)]]);
    // A control cancelled before the start stops at once.
    let stopped = QueryControl::new();
    stopped.cancel();
    assert!(matches!(
        s.run("SELECT 1", &stopped),
        Err(QueryError::Cancelled)
    ));
    drop(s);
    assert_eq!(common::bytes(&db), before);
}

#[test]
fn history_is_kept_per_database_newest_first() {
    let fx = Fixture::new();
    let a = fx.db("a.db", "CREATE TABLE t(x);");
    let b = fx.db("b.db", "CREATE TABLE t(x);");
    let before = common::bytes(&a);
    let history = History::open(&fx.data_dir().join("history.sqlite")).unwrap();
    history
        .append(&a, "how many rows?", "SELECT count(*) FROM t")
        .unwrap();
    history.append(&a, "SELECT 1", "SELECT 1").unwrap();
    history.append(&a, "SELECT 1", "SELECT 1").unwrap();
    history.append(&b, "SELECT 2", "SELECT 2").unwrap();
    // The same file by another spelling shares the history.
    let other_spelling = fx.dir.path().join(".").join("a.db");
    history
        .append(&other_spelling, "SELECT 3", "SELECT 3")
        .unwrap();

    let recent = history.recent(&a, 10).unwrap();
    let inputs: Vec<&str> = recent.iter().map(|e| e.input.as_str()).collect();
    assert_eq!(inputs, vec!["SELECT 3", "SELECT 1", "how many rows?"]);
    assert!(recent[2].was_question());
    assert_eq!(recent[2].sql, "SELECT count(*) FROM t");
    assert!(!recent[1].was_question());
    assert!(recent[0].at_ms >= recent[2].at_ms);
    assert_eq!(history.recent(&a, 1).unwrap().len(), 1);
    assert_eq!(history.recent(&b, 10).unwrap().len(), 1);
    assert!(history.recent(&fx.path("c.db"), 10).unwrap().is_empty());
    // Nothing was written into the user's database.
    assert_eq!(common::bytes(&a), before);
}

#[test]
fn row_limit_is_configurable_and_validated() {
    use rowsmith::config::{Config, parse};
    let path = std::path::Path::new("rowsmith.toml");
    assert_eq!(Config::default().query.row_limit, 1000);
    let c = parse("[query]\nrow_limit = 50\n", path).unwrap();
    assert_eq!(c.query.row_limit, 50);
    let err = parse("[query]\nrow_limit = 0\n", path).unwrap_err();
    assert_eq!(err.line(), Some(2));
    assert_eq!(err.key(), Some("query.row_limit"));
    assert!(err.to_string().contains("between 1 and 1000000"), "{err}");
    let err = parse("[query]\nrows = 5\n", path).unwrap_err();
    assert_eq!(err.line(), Some(2));
    // The documented example parses to the defaults.
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"),
    )
    .unwrap();
    assert_eq!(parse(&example, path).unwrap().query.row_limit, 1000);
}

/// Issue 11, defect 8: a result held in memory copies at most MAX_HELD_CELL_BYTES of one
/// value; what it leaves out is said with the full size. Streams keep whole values.
#[test]
fn huge_values_are_held_cut_with_their_size() {
    let fx = Fixture::new();
    let db = fx.db("t.db", "CREATE TABLE t (x);");
    let s = QuerySession::open(&db, Duration::from_millis(200)).unwrap();
    let sql = "SELECT randomblob(5000000), printf('%.*c', 3000000, 'x'), 'small'";
    let result = s.run(sql, &QueryControl::new()).unwrap();
    let row = &result.rows[0];
    assert_eq!(row[0], Value::Text("<5,000,000 bytes>".into()));
    let Value::Text(text) = &row[1] else {
        panic!("{:?}", row[1])
    };
    assert!(text.starts_with("xxxx") && text.ends_with("… (3,000,000 bytes in all)"));
    assert!(text.len() <= rowsmith::db::query::MAX_HELD_CELL_BYTES + 64);
    assert_eq!(row[2], Value::Text("small".into()));
    let mut whole = 0;
    s.for_each_row(sql, &QueryControl::new(), |_, row| {
        if let Value::Blob(b) = &row[0] {
            whole = b.len();
        }
        Ok(true)
    })
    .unwrap();
    assert_eq!(whole, 5_000_000, "a stream gets the whole value");
}

/// A query's CSV keeps NULL and empty text apart, and importing it gives both back.
#[test]
fn a_query_export_round_trips_null_and_empty_text_through_import() {
    let fx = Fixture::new();
    let (_db, s) = session(&fx);
    let out = fx.path("kinds.csv");
    s.export_csv_file(
        "SELECT 1 AS id, NULL AS missing, '' AS empty, 'x' AS text \
         UNION ALL SELECT 2, 'a', NULL, ''",
        &out,
        &QueryControl::new(),
        false,
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,missing,empty,text\n1,,\"\",x\n2,a,,\"\"\n"
    );
    let target = fx.db("back.db", "");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_rowsmith"))
        .args(["import", target.to_str().unwrap(), out.to_str().unwrap()])
        .env("ROWSMITH_DATA_DIR", fx.data_dir())
        .status()
        .unwrap();
    assert!(status.success());
    let conn = rusqlite::Connection::open(&target).unwrap();
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = conn
        .prepare("SELECT missing, empty, text FROM kinds ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![
            (None, Some(String::new()), Some("x".into())),
            (Some("a".into()), None, Some(String::new())),
        ]
    );
}
