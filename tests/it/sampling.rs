//! Random sampling: uniform despite rowid gaps, small tables, every key shape.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::collections::HashMap;

use common::{Fixture, open_ro, seeded};
use rowsmith::db::sample::SampleMethod;
use rusqlite::types::Value;

fn ids(rows: &[Vec<Value>]) -> Vec<i64> {
    rows.iter()
        .map(|r| match r[0] {
            Value::Integer(i) => i,
            _ => panic!("integer id expected"),
        })
        .collect()
}

#[test]
fn small_tables_give_all_their_rows() {
    let fx = Fixture::new();
    let path = fx.db(
        "small.db",
        "CREATE TABLE empty (id INTEGER PRIMARY KEY, v TEXT);
         CREATE TABLE one (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO one (v) VALUES ('only');
         CREATE TABLE ten (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO ten SELECT i, 'r' || i FROM n;",
    );
    let db = open_ro(&path);
    let mut rng = seeded(1);
    let empty = db
        .sample_rows(&db.table_info("empty").unwrap(), 10, &mut rng)
        .unwrap();
    assert!(empty.rows.is_empty());
    let one = db
        .sample_rows(&db.table_info("one").unwrap(), 10, &mut rng)
        .unwrap();
    assert_eq!(
        one.rows,
        vec![vec![Value::Integer(1), Value::Text("only".into())]]
    );
    assert_eq!(one.method, SampleMethod::AllRows);
    let ten = db
        .sample_rows(&db.table_info("ten").unwrap(), 10, &mut rng)
        .unwrap();
    let mut got = ids(&ten.rows);
    got.sort();
    assert_eq!(got, (1..=10).collect::<Vec<_>>());
    assert_eq!(ten.columns, vec!["id", "v"]);
}

#[test]
fn sampling_stays_uniform_across_rowid_gaps() {
    let fx = Fixture::new();
    // Rows 1..1000, then delete most of 2..500: the survivors there sit right
    // after long gaps, which a naive "first row at or after a random rowid"
    // sampler would pick about 50 times too often.
    let path = fx.db(
        "gaps.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO t SELECT i, 'v' FROM n;
         DELETE FROM t WHERE id BETWEEN 2 AND 500 AND id % 50 <> 0;",
    );
    let db = open_ro(&path);
    let info = db.table_info("t").unwrap();
    let mut rng = seeded(42);
    let mut hits: HashMap<i64, u32> = HashMap::new();
    let draws = 3000;
    for _ in 0..draws {
        let s = db.sample_rows(&info, 5, &mut rng).unwrap();
        assert_eq!(s.method, SampleMethod::Uniform);
        let got = ids(&s.rows);
        let mut unique = got.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 5, "a sample never repeats a row");
        for id in got {
            *hits.entry(id).or_default() += 1;
        }
    }
    let rows = 511.0;
    let expected = draws as f64 * 5.0 / rows;
    let after_gaps: Vec<f64> = (1..=10)
        .map(|i| *hits.get(&(i * 50)).unwrap_or(&0) as f64)
        .collect();
    let mean_after_gaps = after_gaps.iter().sum::<f64>() / after_gaps.len() as f64;
    assert!(
        (mean_after_gaps - expected).abs() < expected * 0.3,
        "rows after gaps drawn {mean_after_gaps:.1} times on average, expected about {expected:.1}"
    );
    // Chi-square over all rows: 510 degrees of freedom, sd about 32.
    let chi2: f64 = (1..=1000)
        .filter(|id| *id == 1 || *id > 500 || id % 50 == 0)
        .map(|id| {
            let o = *hits.get(&id).unwrap_or(&0) as f64;
            (o - expected).powi(2) / expected
        })
        .sum();
    assert!(
        chi2 < 510.0 + 5.0 * 32.0,
        "chi-square {chi2:.0} is too far from uniform"
    );
}

#[test]
fn very_sparse_keys_still_give_distinct_rows() {
    let fx = Fixture::new();
    let path = fx.db(
        "sparse.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'a'), (10, 'b'), (100, 'c'), (1000, 'd'), (10000, 'e'), (100000, 'f'),
           (1000000, 'g'), (10000000, 'h'), (100000000, 'i'), (1000000000, 'j'), (10000000000, 'k'),
           (100000000000, 'l'), (1000000000000, 'm'), (10000000000000, 'n'), (100000000000000, 'o');",
    );
    let db = open_ro(&path);
    let s = db
        .sample_rows(&db.table_info("t").unwrap(), 10, &mut seeded(3))
        .unwrap();
    let mut got = ids(&s.rows);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 10);
    assert_eq!(s.method, SampleMethod::KeySeek);
}

#[test]
fn without_rowid_tables_are_sampled_by_key() {
    let fx = Fixture::new();
    let path = fx.db(
        "keys.db",
        "CREATE TABLE by_int (id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID;
         CREATE TABLE by_text (code TEXT PRIMARY KEY, v INT) WITHOUT ROWID;
         CREATE TABLE composite (a INT, b TEXT, v INT, PRIMARY KEY (a, b)) WITHOUT ROWID;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO by_int SELECT i * 3, 'v' FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO by_text SELECT printf('INV-%06d', i), i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO composite SELECT i / 5, 'k' || (i % 5), i FROM n;",
    );
    let db = open_ro(&path);
    let mut rng = seeded(9);
    let by_int = db
        .sample_rows(&db.table_info("by_int").unwrap(), 20, &mut rng)
        .unwrap();
    assert_eq!(by_int.method, SampleMethod::Uniform);
    assert_eq!(by_int.rows.len(), 20);

    for table in ["by_text", "composite"] {
        let info = db.table_info(table).unwrap();
        let mut seen_values = std::collections::HashSet::new();
        for _ in 0..20 {
            let s = db.sample_rows(&info, 10, &mut rng).unwrap();
            assert_eq!(s.rows.len(), 10, "{table}");
            assert_eq!(s.method, SampleMethod::KeySeek);
            let distinct: std::collections::HashSet<_> =
                s.rows.iter().map(|r| format!("{r:?}")).collect();
            assert_eq!(distinct.len(), 10, "{table}: no repeats within a sample");
            seen_values.extend(distinct);
        }
        // Spread over the table, not stuck at one end.
        assert!(
            seen_values.len() > 120,
            "{table}: only {} distinct rows over 20 samples",
            seen_values.len()
        );
    }
}

#[test]
fn views_cannot_be_sampled_for_generation() {
    let fx = Fixture::new();
    let path = fx.db(
        "v.db",
        "CREATE TABLE t (a); CREATE VIEW v AS SELECT a FROM t;",
    );
    let db = open_ro(&path);
    let err = db
        .sample_rows(&db.table_info("v").unwrap(), 3, &mut seeded(1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'v' is a view, not a table, so rowsmith cannot add rows to it."
    );
}
