//! Sampling a 5,000,000-row Postgres table: rowsmith's sampler against the naive
//! `ORDER BY random() LIMIT 10`, in the same run, on a real server (the one
//! `ROWSMITH_PG_URL` names, or a throwaway one started like the tests'). See
//! benches/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench that fails should fail loudly

// The tests' server: this bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use std::path::Path;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rowsmith::db::{Database, OpenOptions};

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let rows: u64 = std::env::var("ROWSMITH_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5_000_000);
    let runs: usize = 9;
    let db = pg::PgDb::new("");
    let admin = db.admin();
    let built = Instant::now();
    admin
        .execute_batch(&format!(
            "CREATE TABLE orders (id bigint PRIMARY KEY, name text, email text, price numeric(10,2), \
                 quantity int, ordered_on date, category text, note text);
             INSERT INTO orders SELECT g, 'Customer ' || g, 'c' || g || '@example.com', \
                 (g % 997) / 10.0, g % 9 + 1, date '2020-01-01' + (g % 1500), \
                 (ARRAY['books', 'garden', 'toys', 'food'])[1 + g % 4], \
                 CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END \
             FROM generate_series(1, {rows}) g;
             CREATE TABLE events (code text PRIMARY KEY, at timestamptz, kind text);
             INSERT INTO events SELECT md5(g::text), timestamptz '2024-01-01' + (g || ' seconds')::interval, \
                 'k' || g % 7 FROM generate_series(1, {rows}) g;"
        ))
        .unwrap();
    for table in ["orders", "events"] {
        admin
            .execute_batch(&format!("VACUUM ANALYZE {table}"))
            .unwrap();
    }
    println!(
        "fixture: two tables of {rows} rows each, built in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let read = Database::open(Path::new(&db.url), &OpenOptions::read_only()).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    println!(
        "| table | method | rowsmith (median of {runs}) | ORDER BY random() LIMIT 10 | ratio |"
    );
    println!("|---|---|---|---|---|");
    for table in ["orders", "events"] {
        let info = read.table_info(table).unwrap();
        // One warm-up each, then the two in turn.
        let warm = read.sample_rows(&info, 10, &mut rng).unwrap();
        admin
            .query_text(&format!("SELECT * FROM {table} ORDER BY random() LIMIT 10"))
            .unwrap();
        let (mut ours, mut naive) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            let s = read.sample_rows(&info, 10, &mut rng).unwrap();
            ours.push(t.elapsed());
            assert_eq!(s.rows.len(), 10);
            let t = Instant::now();
            let n = admin
                .query_text(&format!("SELECT * FROM {table} ORDER BY random() LIMIT 10"))
                .unwrap();
            naive.push(t.elapsed());
            assert_eq!(n.len(), 10);
        }
        let (ours, naive) = (median(&mut ours), median(&mut naive));
        println!(
            "| {table} ({} key) | {:?} | {} | {} | {:.0}x |",
            if table == "orders" { "integer" } else { "text" },
            warm.method,
            ms(ours),
            ms(naive),
            naive.as_secs_f64() / ours.as_secs_f64()
        );
    }

    write_benchmark(&db);
}

/// 20,000 rows written by the batch writer (1,000-row batches, each one transaction,
/// every row judged by Postgres) against the naive loop: one INSERT per row, each its own
/// transaction, values spliced into the text.
fn write_benchmark(db: &pg::PgDb) {
    use rowsmith::db::CancelFlag;
    use rowsmith::db::value::Value;
    use rowsmith::db::write::WriteOptions;

    const ROWS: usize = 20_000;
    let admin = db.admin();
    let rows: Vec<Vec<Option<Value>>> = (0..ROWS)
        .map(|i| {
            vec![
                Some(Value::Text(format!("Person {i}"))),
                Some(Value::Text(format!("p{i}@example.com"))),
                Some(Value::Real(i as f64 / 10.0)),
            ]
        })
        .collect();
    let columns = vec!["name".to_string(), "email".to_string(), "score".to_string()];
    let (mut ours, mut naive) = (Vec::new(), Vec::new());
    for run in 0..5 {
        for table in ["w_ours", "w_naive"] {
            admin
                .execute_batch(&format!(
                    "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id bigint GENERATED ALWAYS \
                     AS IDENTITY PRIMARY KEY, name text NOT NULL, email text UNIQUE, score float8)"
                ))
                .unwrap();
        }
        let mut write = Database::open(Path::new(&db.url), &OpenOptions::read_write()).unwrap();
        let info = write.table_info("w_ours").unwrap();
        let cancel = CancelFlag::new();
        let t = Instant::now();
        for batch in rows.chunks(1_000) {
            let outcome = write
                .write_rows(
                    &info,
                    &columns,
                    batch,
                    &WriteOptions {
                        journal: None,
                        cancel: &cancel,
                        dry_run: false,
                    },
                )
                .unwrap();
            assert_eq!(outcome.accepted.len(), batch.len());
        }
        let took = t.elapsed();
        let t = Instant::now();
        for i in 0..ROWS {
            admin
                .execute_batch(&format!(
                    "INSERT INTO w_naive (name, email, score) VALUES ('Person {i}', 'p{i}@example.com', {})",
                    i as f64 / 10.0
                ))
                .unwrap();
        }
        let naive_took = t.elapsed();
        if run > 0 {
            ours.push(took);
            naive.push(naive_took);
        }
    }
    let (ours, naive) = (median(&mut ours), median(&mut naive));
    println!();
    println!(
        "| write {ROWS} rows | rowsmith (1,000-row batches) | naive (a statement and commit per row) | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "| median of 4 | {} ({:.0} rows/s) | {} ({:.0} rows/s) | {:.1}x faster |",
        ms(ours),
        ROWS as f64 / ours.as_secs_f64(),
        ms(naive),
        ROWS as f64 / naive.as_secs_f64(),
        naive.as_secs_f64() / ours.as_secs_f64()
    );
}
