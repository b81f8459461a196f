//! The offline generator on the demo database and odd schemas, with fixed
//! seeds: distributions, formats, coherent columns, constraints, new rows,
//! determinism.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::Fixture;
use rowsmith::generate::job::{Event, GenerateRequest, Outcome, Source, Summary, spawn};
use rusqlite::Connection;
use tokio_util::sync::CancellationToken;

/// A fresh copy of the demo database in the fixture.
fn demo(fx: &Fixture, name: &str) -> PathBuf {
    let path = fx.path(name);
    rowsmith::db::demo::create_demo(&path).unwrap();
    path
}

async fn generate(fx: &Fixture, path: &Path, table: &str, rows: u64, seed: u64) -> Summary {
    let mut request = GenerateRequest::new(path, table, rows);
    request.seed = Some(seed);
    request.journal_path = Some(fx.data_dir().join("journal.sqlite"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = spawn(request, Source::Offline, tx, CancellationToken::new());
    let mut outcome = None;
    while let Some(e) = rx.recv().await {
        if let Event::Finished(o) = e {
            outcome = Some(o);
        }
    }
    job.await.unwrap();
    match outcome.unwrap() {
        Outcome::Done(s) => s,
        other => panic!("{table}: {other:?}"),
    }
}

fn query<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> Vec<T> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn one<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> T {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Category shares of `column` among rows with id in (lo, hi].
fn shares(path: &Path, table: &str, column: &str, filter: &str) -> BTreeMap<String, f64> {
    let rows: Vec<String> = query(
        path,
        &format!("SELECT coalesce(CAST({column} AS TEXT), 'NULL') FROM {table} WHERE {filter}"),
    );
    let mut out = BTreeMap::new();
    for r in &rows {
        *out.entry(r.clone()).or_insert(0.0) += 1.0 / rows.len() as f64;
    }
    out
}

fn assert_close(
    source: &BTreeMap<String, f64>,
    generated: &BTreeMap<String, f64>,
    tolerance: f64,
    what: &str,
) {
    for (k, v) in source {
        let g = generated.get(k).copied().unwrap_or(0.0);
        assert!(
            (v - g).abs() <= tolerance,
            "{what}: share of {k} is {g:.3}, source {v:.3}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_keep_distributions_formats_and_coherent_addresses() {
    let fx = Fixture::new();
    let path = demo(&fx, "demo.db");
    let s = generate(&fx, &path, "customers", 400, 7).await;
    assert_eq!((s.rows_added, s.new_row_count), (400, 460));
    let old = "id <= 60";
    let new = "id > 60";
    assert_close(
        &shares(&path, "customers", "loyalty_tier", old),
        &shares(&path, "customers", "loyalty_tier", new),
        0.08,
        "tier",
    );
    assert_close(
        &shares(&path, "customers", "state", old),
        &shares(&path, "customers", "state", new),
        0.08,
        "state",
    );
    let phone_nulls = |f: &str| {
        one::<f64>(
            &path,
            &format!("SELECT avg(phone IS NULL) FROM customers WHERE {f}"),
        )
    };
    assert!((phone_nulls(old) - phone_nulls(new)).abs() < 0.08);

    // City, state and zip come as real combinations from the table.
    let strange: i64 = one(
        &path,
        "SELECT count(*) FROM customers n WHERE n.id > 60 AND NOT EXISTS \
         (SELECT 1 FROM customers o WHERE o.id <= 60 AND o.city = n.city AND o.state = n.state AND o.zip = n.zip)",
    );
    assert_eq!(strange, 0);
    // Formats as observed.
    let phones: Vec<String> = query(
        &path,
        "SELECT phone FROM customers WHERE id > 60 AND phone IS NOT NULL",
    );
    assert!(
        phones
            .iter()
            .all(|p| rowsmith::db::formats::shape(p) == "(999) 999-9999"),
        "{phones:?}"
    );
    let births: Vec<String> = query(
        &path,
        "SELECT birth_date FROM customers WHERE id > 60 AND birth_date IS NOT NULL",
    );
    assert!(births.iter().all(
        |b| rowsmith::db::formats::classify(b) == Some(rowsmith::db::formats::Format::IsoDate)
    ));
    let created: Vec<String> = query(&path, "SELECT created_at FROM customers WHERE id > 60");
    assert!(
        created
            .iter()
            .all(|c| rowsmith::db::formats::shape(c) == "9999-99-99 99:99:99"),
        "{:?}",
        &created[..3]
    );
    // Emails: unique, lower-case, and built from the row's own names.
    let emails: Vec<(String, String, String)> = {
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare("SELECT first_name, last_name, email FROM customers WHERE id > 60")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let derived = emails
        .iter()
        .filter(|(f, l, e)| {
            let local = e.split('@').next().unwrap_or("");
            let (first, last) = (deunicode_lower(f), deunicode_lower(l));
            local.starts_with(&first[..first.len().min(3)])
                || local.contains(&last[..last.len().min(3)])
        })
        .count();
    assert!(
        derived as f64 >= 0.9 * emails.len() as f64,
        "{derived} of {} emails use the row's names",
        emails.len()
    );
    assert!(emails.iter().all(|(_, _, e)| e == &e.to_lowercase()));
}

fn deunicode_lower(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_keep_order_of_dates_parents_and_sequences() {
    let fx = Fixture::new();
    let path = demo(&fx, "demo.db");
    generate(&fx, &path, "orders", 300, 11).await;
    let new = "id > 200";
    let misordered: i64 = one(
        &path,
        &format!("SELECT count(*) FROM orders WHERE {new} AND shipped_at < ordered_at"),
    );
    assert_eq!(misordered, 0);
    // Nullness co-occurs: open orders are not shipped.
    let shipped_open: i64 = one(
        &path,
        &format!(
            "SELECT count(*) FROM orders WHERE {new} AND status IN ('pending', 'paid', 'cancelled') AND shipped_at IS NOT NULL"
        ),
    );
    assert_eq!(shipped_open, 0);
    let orphans: i64 = one(
        &path,
        "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)",
    );
    assert_eq!(orphans, 0);
    assert_close(
        &shares(&path, "orders", "status", "id <= 200"),
        &shares(&path, "orders", "status", new),
        0.08,
        "status",
    );
    // The order numbers continue the sequence after the highest one.
    let lowest_new: String = one(
        &path,
        &format!("SELECT min(order_number) FROM orders WHERE {new}"),
    );
    let highest_old: String = one(
        &path,
        "SELECT max(order_number) FROM orders WHERE id <= 200",
    );
    assert!(lowest_new > highest_old, "{lowest_new} after {highest_old}");
    // Fan-out: customers who order a lot keep ordering a lot.
    let top_old: Vec<i64> = query(
        &path,
        "SELECT customer_id FROM orders WHERE id <= 200 GROUP BY 1 ORDER BY count(*) DESC LIMIT 5",
    );
    let top_new: HashSet<i64> = query::<i64>(
        &path,
        &format!(
            "SELECT customer_id FROM orders WHERE {new} GROUP BY 1 ORDER BY count(*) DESC LIMIT 10"
        ),
    )
    .into_iter()
    .collect();
    assert!(top_old.iter().filter(|c| top_new.contains(c)).count() >= 3);
    // Totals follow the source's quantiles.
    let median = |f: &str| -> f64 {
        let v: Vec<f64> = query(
            &path,
            &format!("SELECT total FROM orders WHERE {f} ORDER BY total"),
        );
        v[v.len() / 2]
    };
    let (m_old, m_new) = (median("id <= 200"), median(new));
    assert!(
        (m_new - m_old).abs() / m_old < 0.25,
        "median total {m_new} vs {m_old}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn order_items_keep_arithmetic_and_prices_determined_by_products() {
    let fx = Fixture::new();
    let path = demo(&fx, "demo.db");
    let before: i64 = one(&path, "SELECT count(*) FROM order_items");
    let s = generate(&fx, &path, "order_items", 200, 3).await;
    assert_eq!(s.rows_added, 200);
    assert_eq!(
        one::<i64>(&path, "SELECT count(*) FROM order_items"),
        before + 200
    );
    let wrong_totals: i64 = one(
        &path,
        "SELECT count(*) FROM order_items WHERE abs(line_total - round(quantity * unit_price, 2)) > 0.001",
    );
    assert_eq!(wrong_totals, 0);
    let wrong_prices: i64 = one(
        &path,
        "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id WHERE abs(i.unit_price - p.price) > 0.001",
    );
    assert_eq!(
        wrong_prices, 0,
        "a product's unit price follows the product"
    );
    let fk: i64 = one(
        &path,
        "SELECT count(*) FROM pragma_foreign_key_check('order_items')",
    );
    assert_eq!(fk, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_rows_are_new_rows() {
    let fx = Fixture::new();
    let path = demo(&fx, "demo.db");
    for (table, n, cols) in [
        (
            "customers",
            200,
            "first_name, last_name, email, phone, street, city, state, zip, loyalty_tier, birth_date, created_at",
        ),
        (
            "products",
            100,
            "sku, name, category, price, stock, weight_kg, discontinued",
        ),
        (
            "orders",
            200,
            "order_number, customer_id, status, ordered_at, shipped_at, total, notes",
        ),
    ] {
        let before: i64 = one(&path, &format!("SELECT max(rowid) FROM {table}"));
        generate(&fx, &path, table, n, 5).await;
        let copies: i64 = one(
            &path,
            &format!(
                "SELECT count(*) FROM (SELECT {cols} FROM {table} WHERE rowid > {before} INTERSECT SELECT {cols} FROM {table} WHERE rowid <= {before})"
            ),
        );
        let new_rate = 1.0 - copies as f64 / n as f64;
        assert!(new_rate >= 0.95, "{table}: new-row rate {new_rate}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_seed_gives_the_same_rows() {
    let fx = Fixture::new();
    let a = demo(&fx, "a.db");
    let b = demo(&fx, "b.db");
    let c = demo(&fx, "c.db");
    generate(&fx, &a, "orders", 50, 42).await;
    generate(&fx, &b, "orders", 50, 42).await;
    generate(&fx, &c, "orders", 50, 43).await;
    let rows = |p: &Path| -> Vec<String> {
        query(
            p,
            "SELECT order_number || customer_id || status || ordered_at || coalesce(shipped_at, '') || total FROM orders WHERE id > 200 ORDER BY id",
        )
    };
    assert_eq!(rows(&a), rows(&b));
    assert_ne!(rows(&a), rows(&c));
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_schemas_and_a_one_row_table() {
    let fx = Fixture::new();
    let path = fx.db(
        "odd.db",
        "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty > 0), label TEXT NOT NULL) STRICT;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
         INSERT INTO strict_t (qty, label) SELECT 1 + i % 7, 'item ' || i FROM n;
         CREATE TABLE coded (code TEXT PRIMARY KEY, label TEXT, price REAL CHECK (price BETWEEN 1 AND 100)) WITHOUT ROWID;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
         INSERT INTO coded SELECT printf('C-%04d', i * 3), 'l' || (i % 4), 1 + (i * 7) % 99 FROM n;
         CREATE TABLE pairs (a INTEGER, b TEXT, v REAL, lo INTEGER, hi INTEGER, CHECK (lo < hi), PRIMARY KEY (a, b)) WITHOUT ROWID;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
         INSERT INTO pairs SELECT i, 'k' || (i % 5), i * 1.5, i, i + 1 + i % 3 FROM n;
         CREATE TABLE calc (id INTEGER PRIMARY KEY, price REAL, qty INTEGER, total REAL AS (price * qty) STORED);
         INSERT INTO calc (price, qty) VALUES (2.5, 4), (3.0, 1), (9.99, 2);
         CREATE TABLE one_row (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);
         INSERT INTO one_row (name, score) VALUES ('only', 4.5);",
    );
    for (table, n) in [
        ("strict_t", 50),
        ("coded", 40),
        ("pairs", 20),
        ("calc", 30),
        ("one_row", 10),
    ] {
        let before: i64 = one(&path, &format!("SELECT count(*) FROM {table}"));
        let s = generate(&fx, &path, table, n, 9).await;
        assert_eq!(s.rows_added, n, "{table}: {:?}", s.shortfall);
        assert_eq!(
            one::<i64>(&path, &format!("SELECT count(*) FROM {table}")),
            before + n as i64,
            "{table}"
        );
    }
    let codes: Vec<String> = query(&path, "SELECT code FROM coded ORDER BY code DESC LIMIT 3");
    assert!(
        codes.iter().all(|c| c.starts_with("C-") && c.len() == 6),
        "{codes:?}"
    );
    let bad: i64 = one(&path, "SELECT count(*) FROM pairs WHERE lo >= hi");
    assert_eq!(bad, 0);
}

/// A small international customer list, as in the Chinook sample database: every last
/// name, address and postal code differs from the others.
#[tokio::test]
async fn a_small_table_whose_every_name_and_postal_code_differs_gets_new_ones_in_full() {
    let fx = Fixture::new();
    let path = fx.db(
        "intl.db",
        "CREATE TABLE customer (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
           city TEXT NOT NULL, country TEXT NOT NULL, postal_code TEXT)",
    );
    let places = [
        ("Prague", "Czech Republic", "14700"),
        ("Montréal", "Canada", "H2G 1A7"),
        ("São Paulo", "Brazil", "01007-010"),
        ("Oslo", "Norway", "0171"),
        ("Stuttgart", "Germany", "70174"),
        ("Lisbon", "Portugal", "1100"),
    ];
    let firsts = [
        "Luís",
        "Leonie",
        "François",
        "Bjørn",
        "František",
        "Helena",
        "Astrid",
        "Daan",
        "Kara",
        "Eduardo",
        "Alexandre",
        "Roberto",
        "Fernanda",
        "Mark",
        "Jennifer",
        "Frank",
        "Jack",
        "Michelle",
        "Tim",
        "Dan",
        "Kathy",
        "Heather",
        "John",
        "Robert",
        "Patrick",
        "Julia",
        "Victor",
        "Richard",
        "Ellie",
        "Edward",
        "Martha",
        "Aaron",
        "Wyatt",
        "Hugh",
        "Lucas",
        "Marc",
        "Camille",
        "Dominique",
        "Niklas",
        "Fynn",
    ];
    let lasts = [
        "Gonçalves",
        "Köhler",
        "Tremblay",
        "Hansen",
        "Wichterlová",
        "Holý",
        "Gruber",
        "Peeters",
        "Nielsen",
        "Martins",
        "Rocha",
        "Almeida",
        "Brooks",
        "Goyer",
        "Dubois",
        "Lefebvre",
        "Bernard",
        "Mercier",
        "Schneider",
        "Zimmermann",
        "Kovács",
        "Rossi",
        "Murray",
        "Jones",
        "Sullivan",
        "Srivastava",
        "Nair",
        "Silva",
        "Fernandes",
        "Ramos",
        "Cunningham",
        "Miller",
        "Chase",
        "Gordon",
        "Ralston",
        "Stevens",
        "Harris",
        "Mitchell",
        "Taylor",
        "Smith",
    ];
    let conn = Connection::open(&path).unwrap();
    for (i, last) in lasts.iter().enumerate() {
        let (city, country, postal) = places[i % places.len()];
        // Each postal code is its place's with the row's own last digits.
        let postal = format!("{}{:02}", &postal[..postal.len() - 2], i);
        conn.execute(
            "INSERT INTO customer (first_name, last_name, city, country, postal_code) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![firsts[i % firsts.len()], last, city, country, postal],
        )
        .unwrap();
    }
    drop(conn);
    let summary = generate(&fx, &path, "customer", 40, 1).await;
    assert_eq!(summary.rows_added, 40, "{summary:?}");
    // New names and postal codes, each one of its own, postal codes still shaped as
    // their city's.
    let repeats: i64 = one(
        &path,
        "SELECT count(*) FROM customer n WHERE n.id > 40 AND EXISTS (SELECT 1 FROM customer o
           WHERE o.id <> n.id AND (o.last_name = n.last_name OR o.postal_code = n.postal_code))",
    );
    let shown: Vec<String> = query(
        &path,
        "SELECT n.id || ' ' || n.last_name || ' ' || coalesce(n.postal_code, '-') FROM customer n WHERE n.id > 40 AND EXISTS (SELECT 1 FROM customer o
           WHERE o.id <> n.id AND (o.last_name = n.last_name OR o.postal_code = n.postal_code))",
    );
    assert_eq!(repeats, 0, "{shown:?}");
    let misplaced: i64 = one(
        &path,
        "SELECT count(*) FROM customer WHERE id > 40 AND city = 'Montréal' AND postal_code NOT GLOB 'H2G 1[0-9][0-9]'",
    );
    assert_eq!(misplaced, 0);
}

/// Dates written with a time of day that is always midnight (as in the Chinook sample
/// database) stay at midnight.
#[tokio::test]
async fn datetimes_that_are_always_midnight_stay_at_midnight() {
    let fx = Fixture::new();
    let path = fx.db(
        "invoices.db",
        "CREATE TABLE invoice (id INTEGER PRIMARY KEY, issued TEXT NOT NULL, total REAL NOT NULL)",
    );
    let conn = Connection::open(&path).unwrap();
    for i in 0..60 {
        conn.execute(
            "INSERT INTO invoice (issued, total) VALUES (?1, ?2)",
            rusqlite::params![
                format!(
                    "20{:02}-{:02}-{:02} 00:00:00",
                    9 + i % 4,
                    1 + i % 12,
                    1 + (i * 7) % 28
                ),
                0.99 + f64::from(i % 9)
            ],
        )
        .unwrap();
    }
    drop(conn);
    let summary = generate(&fx, &path, "invoice", 50, 1).await;
    assert_eq!(summary.rows_added, 50);
    let off: i64 = one(
        &path,
        "SELECT count(*) FROM invoice WHERE id > 60 AND issued NOT LIKE '% 00:00:00'",
    );
    assert_eq!(off, 0);
}

/// A table of places each with a one-word name of its own gets new names that sound like
/// them, none a copy.
#[tokio::test]
async fn one_word_names_every_row_has_its_own_are_coined_anew() {
    let fx = Fixture::new();
    let path = fx.db(
        "places.db",
        "CREATE TABLE place (id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL)",
    );
    let names = [
        "Avaria", "Belmor", "Corvana", "Dunmark", "Estoria", "Falland", "Gorvia", "Helmsa",
        "Istrea", "Jovania", "Kelmar", "Lutria", "Mirano", "Norvik", "Ostrava", "Pellan", "Quorin",
        "Rasmark", "Selvia", "Torvand", "Ulmera", "Valdor", "Wesland", "Xandria", "Yarrow",
        "Zelmar", "Arcadia", "Brevia", "Celdor", "Dravia", "Elmora", "Fenwick",
    ];
    let conn = Connection::open(&path).unwrap();
    for (i, name) in names.iter().enumerate() {
        conn.execute(
            "INSERT INTO place (name, size) VALUES (?1, ?2)",
            rusqlite::params![name, 1000 + (i * 37 % 90) as i64],
        )
        .unwrap();
    }
    drop(conn);
    let summary = generate(&fx, &path, "place", 20, 1).await;
    assert_eq!(summary.rows_added, 20, "{summary:?}");
    let new: Vec<String> = query(&path, "SELECT name FROM place WHERE id > 32");
    for name in &new {
        assert!(!names.contains(&name.as_str()), "{name} is a copy");
        assert!(
            name.chars().next().is_some_and(char::is_uppercase)
                && name.chars().skip(1).all(char::is_lowercase),
            "{name}"
        );
    }
}
