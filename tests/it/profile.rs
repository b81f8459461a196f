//! Column profiles computed in SQL: counts, quantiles, formats, and a
//! bounded sample on large tables.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use common::{Fixture, open_ro, seeded};
use rowsmith::db::formats::Format;
use rowsmith::db::profile::ProfileOptions;
use rusqlite::types::Value;

const PEOPLE: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY, email TEXT, phone TEXT, site TEXT, token TEXT, born TEXT, seen_at TEXT,
  invoice TEXT, price REAL, qty INTEGER, amount_text TEXT, tier TEXT, note TEXT
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO people (email, phone, site, token, born, seen_at, invoice, price, qty, amount_text, tier, note)
SELECT 'user' || i || '@example.com',
       CASE WHEN i % 4 = 0 THEN NULL ELSE printf('(%03d) 555-%04d', 200 + i % 700, i) END,
       'https://example.com/p/' || i,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       date('1970-01-01', '+' || (i * 50) || ' days'),
       datetime('2024-01-01 08:00:00', '+' || i || ' hours'),
       printf('INV-%06d', 100 + i),
       round(i * 1.25, 2),
       i % 10,
       printf('%.2f', i / 4.0),
       CASE WHEN i % 10 < 6 THEN 'bronze' WHEN i % 10 < 9 THEN 'silver' ELSE 'gold' END,
       CASE WHEN i % 2 = 0 THEN 'free text number ' || i ELSE NULL END
FROM n;
";

#[test]
fn profiles_describe_each_column() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let db = open_ro(&path);
    let info = db.table_info("people").unwrap();
    let p = db
        .profile_table(&info, &ProfileOptions::default(), &mut seeded(1))
        .unwrap();
    assert_eq!((p.rows_read, p.sampled), (200, false));
    let col = |name: &str| p.columns.iter().find(|c| c.name == name).unwrap();

    let format = |name: &str| col(name).format.as_ref().map(|f| f.format);
    assert_eq!(format("email"), Some(Format::Email));
    assert_eq!(format("phone"), Some(Format::Phone));
    assert_eq!(format("site"), Some(Format::Url));
    assert_eq!(format("token"), Some(Format::Uuid));
    assert_eq!(format("born"), Some(Format::IsoDate));
    assert_eq!(format("seen_at"), Some(Format::IsoDateTime));
    assert_eq!(format("invoice"), Some(Format::Code));
    assert_eq!(format("amount_text"), Some(Format::DecimalText));
    assert_eq!(format("tier"), None);
    assert_eq!(format("note"), None);

    let phone = col("phone");
    assert_eq!(phone.null_count, 50);
    assert!((phone.null_fraction - 0.25).abs() < 1e-9);
    assert_eq!(phone.shapes[0].shape, "(999) 999-9999");

    let code = col("invoice").code.as_ref().unwrap();
    assert_eq!(
        (code.prefix.as_str(), code.digits, code.max_number),
        ("INV-", 6, 300)
    );

    let price = col("price").numeric.as_ref().unwrap();
    assert_eq!((price.min, price.max), (1.25, 250.0));
    assert_eq!(price.quantiles.len(), 21);
    assert_eq!(price.quantiles[0], 1.25);
    assert_eq!(price.quantiles[20], 250.0);
    assert!(
        (price.quantiles[10] - 125.0).abs() <= 1.25,
        "median {}",
        price.quantiles[10]
    );
    assert_eq!(price.max_decimals, 2);
    assert!(!price.integers_only);

    let qty = col("qty");
    assert!(qty.numeric.as_ref().unwrap().integers_only);
    assert_eq!(qty.distinct_count, 10);

    let amount = col("amount_text").numeric.as_ref().unwrap();
    assert!(amount.from_text);
    assert_eq!((amount.min, amount.max), (0.25, 50.0));

    let tier = col("tier");
    let top: Vec<(Value, u64)> = tier
        .top_values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert_eq!(
        top,
        vec![
            (Value::Text("bronze".into()), 120),
            (Value::Text("silver".into()), 60),
            (Value::Text("gold".into()), 20)
        ]
    );
    let text = tier.text.as_ref().unwrap();
    assert_eq!((text.min_length, text.max_length), (4, 6));

    let born = col("born").dates.as_ref().unwrap();
    assert_eq!(
        (born.min.as_str(), born.max.as_str()),
        ("1970-02-20", "1997-05-19")
    );
    assert_eq!(born.quantiles.len(), 21);

    drop(db);
    assert_eq!(
        common::bytes(&path),
        before,
        "profiling never writes to the user's file"
    );
}

#[test]
fn large_tables_are_profiled_from_a_bounded_sample() {
    let fx = Fixture::new();
    let path = fx.db(
        "big.db",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, kind TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO big (v, kind) SELECT i, CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END FROM n;",
    );
    let db = open_ro(&path);
    let info = db.table_info("big").unwrap();
    let options = ProfileOptions {
        full_scan_limit: 5_000,
        sample_size: 2_000,
        ..ProfileOptions::default()
    };
    let p = db.profile_table(&info, &options, &mut seeded(5)).unwrap();
    assert!(p.sampled, "the profile says it read a sample");
    assert_eq!(p.rows_read, 2_000);
    let v = p.columns[1].numeric.as_ref().unwrap();
    assert!(
        (v.mean - 10_000.0).abs() < 800.0,
        "mean {} from a uniform sample",
        v.mean
    );
    let a_share = p.columns[2]
        .top_values
        .iter()
        .find(|t| t.value == Value::Text("a".into()))
        .unwrap()
        .count as f64
        / 2000.0;
    assert!((a_share - 0.25).abs() < 0.05, "category share {a_share}");
    // The temporary sample table is gone afterwards.
    let left: i64 = db
        .sqlite()
        .unwrap()
        .conn()
        .query_row(
            "SELECT count(*) FROM temp.sqlite_schema WHERE name LIKE 'rowsmith%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}
