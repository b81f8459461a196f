//! Benchmark of rowsmith's SQLite core: sampling, profiling and the batch
//! writer, each against the naive way of doing the same thing, measured in
//! the same run.
//!
//! Run with `cargo bench --bench core`. `ROWSMITH_BENCH_ROWS` sets the size
//! of the big table (default 5,000,000); `ROWSMITH_BENCH_ROWS=200000 cargo
//! bench --bench core` is a quick check. Every measurement is repeated and
//! its median reported; see `benches/README.md`.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rowsmith::db::catalog::TableInfo;
use rowsmith::db::journal::Journal;
use rowsmith::db::profile::ProfileOptions;
use rowsmith::db::sample::SampleMethod;
use rowsmith::db::write::{BatchWriter, JournalTarget};
use rowsmith::db::{CancelFlag, Database, OpenOptions};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

/// The big table's default size.
const DEFAULT_ROWS: u64 = 5_000_000;
/// The small table, profiled whole (it is exactly `full_scan_limit` rows).
const SMALL_ROWS: u64 = 100_000;
/// Rows drawn per sample.
const SAMPLE_K: usize = 10;
/// Share of the big table deleted for the gapped variant, in percent.
const GAP_PERCENT: u32 = 30;
/// Rows the writer inserts per measurement, and per `write` call.
const WRITE_ROWS: usize = 100_000;
const WRITE_BATCH: usize = 10_000;

const SCHEMA_COLUMNS: &str = "id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, \
     price REAL NOT NULL, quantity INTEGER NOT NULL, ordered_on TEXT NOT NULL, \
     category TEXT NOT NULL, note TEXT";
const COLUMNS: [&str; 8] = [
    "id",
    "name",
    "email",
    "price",
    "quantity",
    "ordered_on",
    "category",
    "note",
];

fn main() {
    let started = Instant::now();
    let big_rows = std::env::var("ROWSMITH_BENCH_ROWS")
        .ok()
        .map(|v| {
            v.replace(['_', ','], "")
                .parse::<u64>()
                .expect("ROWSMITH_BENCH_ROWS must be a whole number of rows")
        })
        .unwrap_or(DEFAULT_ROWS)
        .max(1);
    let dir = tempfile::Builder::new()
        .prefix("rowsmith-bench-")
        .tempdir()
        .expect("create a temp dir");
    println!("rowsmith core benchmark");
    println!(
        "big table: {} rows (ROWSMITH_BENCH_ROWS), temp dir: {}",
        thousands(big_rows),
        dir.path().display()
    );
    let mut report = Report::default();

    // ---- Fixtures -------------------------------------------------------
    let fixture_path = dir.path().join("fixture.db");
    let fixture = Connection::open(&fixture_path).expect("create fixture db");
    fixture
        .execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
        )
        .expect("fixture pragmas");
    let t = Instant::now();
    build_table(&fixture, "orders", big_rows, 1);
    build_table(&fixture, "orders_small", SMALL_ROWS, 2);
    let fixture_time = t.elapsed();
    let size = std::fs::metadata(&fixture_path)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "fixture: {} + {} rows, 8 columns, {} MB, built in {} ({})",
        thousands(big_rows),
        thousands(SMALL_ROWS),
        size / 1_000_000,
        fmt_duration(fixture_time),
        rate(big_rows + SMALL_ROWS, fixture_time)
    );

    // Opened as the app opens a database to sample or profile it: read-only.
    let db = Database::open(&fixture_path, &OpenOptions::read_only()).expect("Database::open");
    let big = db.table_info("orders").expect("orders.table_info()");
    let small = db
        .table_info("orders_small")
        .expect("orders_small.table_info()");

    // ---- 1. Sampling (dense rowids) -------------------------------------
    println!("\n[1] sampling {SAMPLE_K} rows");
    bench_sampling(
        &mut report,
        &db,
        &big,
        &format!("{} rows, dense rowids", short(big_rows)),
    );

    bounds_diagnostic(&mut report, &db, &big);

    // ---- 2. Profile -----------------------------------------------------
    println!("\n[2] profile_table (default options)");
    let options = ProfileOptions::default();
    let mut rng = StdRng::seed_from_u64(20);
    let mut last = None;
    let small_runs = measure("profile 100k", 1, 5, || {
        let t = Instant::now();
        let p = db
            .profile_table(&small, &options, &mut rng)
            .expect("small.profile_table()");
        let d = t.elapsed();
        last = Some((p.rows_read, p.sampled));
        d
    });
    let (read, sampled) = last.take().unwrap();
    let small_median = median(&small_runs);
    report.row(
        "profile",
        &format!(
            "{} rows (rows read: {}, {})",
            short(SMALL_ROWS),
            thousands(read),
            if sampled { "sampled" } else { "whole table" }
        ),
        &small_runs,
        Some(rate(read, small_median) + " read"),
        "baseline".into(),
    );
    let big_runs = measure("profile big", 1, 5, || {
        let t = Instant::now();
        let p = db
            .profile_table(&big, &options, &mut rng)
            .expect("big.profile_table()");
        let d = t.elapsed();
        last = Some((p.rows_read, p.sampled));
        d
    });
    let (read, sampled) = last.take().unwrap();
    report.row(
        "profile",
        &format!(
            "{} rows (rows read: {}, {})",
            short(big_rows),
            thousands(read),
            if sampled { "sampled" } else { "whole table" }
        ),
        &big_runs,
        Some(rate(read, median(&big_runs)) + " read"),
        format!(
            "{:.2}x the {} time, on {:.0}x the rows",
            ratio(median(&big_runs), small_median),
            short(SMALL_ROWS),
            big_rows as f64 / SMALL_ROWS as f64
        ),
    );

    // ---- 1b. Sampling with rowid gaps -----------------------------------
    let t = Instant::now();
    let deleted = fixture
        .execute(
            &format!("DELETE FROM orders WHERE abs(random() % 100) < {GAP_PERCENT}"),
            [],
        )
        .expect("delete rows for gaps");
    let left = big_rows - deleted as u64;
    println!(
        "\ngaps: deleted {} rows ({GAP_PERCENT}% at random) in {}, {} left",
        thousands(deleted as u64),
        fmt_duration(t.elapsed()),
        thousands(left)
    );
    drop(fixture);
    bench_sampling(
        &mut report,
        &db,
        &big,
        &format!(
            "{} rows, {GAP_PERCENT}% rowid gaps ({} left)",
            short(big_rows),
            short(left)
        ),
    );
    drop(db);

    // ---- 3. Writer ------------------------------------------------------
    println!(
        "\n[3] writing {} precomputed rows",
        thousands(WRITE_ROWS as u64)
    );
    bench_writer(&mut report, dir.path());

    // ---- Results --------------------------------------------------------
    let total = started.elapsed();
    println!("\n=== results (medians; ratios against the naive approach in this run) ===\n");
    print!("{}", report.plain());
    println!("\n--- markdown ---\n");
    print!("{}", report.markdown());
    println!();
    for note in report.notes.iter().chain(&report.diagnostics) {
        println!("{note}");
    }
    println!(
        "fixture build: {}; whole run: {}",
        fmt_duration(fixture_time),
        fmt_duration(total)
    );
}

// ---- Sampling ----------------------------------------------------------

fn bench_sampling(report: &mut Report, db: &Database, table: &TableInfo, label: &str) {
    let mut rng = StdRng::seed_from_u64(10);
    let mut methods = Vec::new();
    let fast = measure("sample_rows", 3, 31, || {
        let t = Instant::now();
        let sample = db
            .sample_rows(table, SAMPLE_K, &mut rng)
            .expect("sample_rows");
        let d = t.elapsed();
        assert_eq!(
            sample.rows.len(),
            SAMPLE_K,
            "sample_rows returned too few rows"
        );
        assert_eq!(sample.columns.len(), COLUMNS.len());
        methods.push(sample.method);
        d
    });
    let naive_sql = format!(
        "SELECT * FROM main.{} ORDER BY RANDOM() LIMIT {SAMPLE_K}",
        table.quoted()
    );
    let naive = measure("ORDER BY RANDOM()", 1, 5, || {
        let t = Instant::now();
        let rows = query_all(db.sqlite().unwrap().conn(), &naive_sql);
        let d = t.elapsed();
        assert_eq!(rows.len(), SAMPLE_K);
        d
    });
    let method = if methods.iter().all(|m| *m == SampleMethod::Uniform) {
        "uniform".to_string()
    } else {
        format!("methods {methods:?}")
    };
    let speedup = ratio(median(&naive), median(&fast));
    report.row(
        "sample",
        &format!("ORDER BY RANDOM() LIMIT {SAMPLE_K}, {label}"),
        &naive,
        None,
        "baseline".into(),
    );
    report.row(
        "sample",
        &format!("sample_rows k={SAMPLE_K} ({method}), {label}"),
        &fast,
        None,
        format!("{} faster", times(speedup)),
    );
    report.notes.push(format!(
        "target sample_rows >= 100x faster than ORDER BY RANDOM() ({label}): {} ({speedup:.1}x)",
        if speedup >= 100.0 { "MET" } else { "MISSED" }
    ));
}

/// Context for the sampling rows: the sampler first reads the key range with
/// one `SELECT min(rowid), max(rowid)`. SQLite's min/max optimization applies
/// only to a query with a single min() or max(), so that form scans the
/// table; two scalar subqueries are two index seeks. Timed here so a slow
/// sampler can be traced to (or cleared of) this query.
fn bounds_diagnostic(report: &mut Report, db: &Database, table: &TableInfo) {
    let from = format!("main.{}", table.quoted());
    let forms = [
        (
            "one query",
            format!("SELECT min(rowid), max(rowid) FROM {from}"),
        ),
        (
            "two subqueries",
            format!("SELECT (SELECT min(rowid) FROM {from}), (SELECT max(rowid) FROM {from})"),
        ),
    ];
    let mut parts = Vec::new();
    for (name, sql) in &forms {
        let plan: Vec<String> = {
            let mut stmt = db
                .sqlite()
                .unwrap()
                .conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            stmt.query_map([], |r| r.get::<_, String>(3))
                .expect("explain")
                .collect::<rusqlite::Result<_>>()
                .expect("explain")
        };
        let runs = measure(&format!("key range, {name}"), 1, 5, || {
            let t = Instant::now();
            let _ = query_all(db.sqlite().unwrap().conn(), sql);
            t.elapsed()
        });
        parts.push(format!(
            "{name} `{sql}` {} (plan: {})",
            fmt_duration(median(&runs)),
            plan.join(", ")
        ));
    }
    report
        .diagnostics
        .push(format!("diagnostic, key-range query: {}", parts.join("; ")));
}

fn query_all(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare_cached(sql).expect("prepare");
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

// ---- Writer ------------------------------------------------------------

fn bench_writer(report: &mut Report, dir: &Path) {
    let rows = precomputed_rows(WRITE_ROWS);
    let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let insert_sql = format!(
        "INSERT INTO orders ({}) VALUES ({})",
        COLUMNS.join(", "),
        vec!["?"; COLUMNS.len()].join(", ")
    );
    let mut run_id = 0u32;
    // A fresh, empty database file for every run, opened the way the app
    // opens one to write (rollback journal, synchronous=FULL, foreign keys
    // on), so every approach pays the same per-commit cost.
    let mut fresh = || -> (PathBuf, Database) {
        run_id += 1;
        let path = dir.join(format!("write-{run_id}.db"));
        let db = Database::open(&path, &OpenOptions::read_write().create(true))
            .expect("Database::open(create)");
        db.sqlite()
            .unwrap()
            .conn()
            .execute_batch(&format!("CREATE TABLE orders ({SCHEMA_COLUMNS})"))
            .expect("create table");
        (path, db)
    };
    let check = |db: &Database| {
        let n: i64 = db
            .sqlite()
            .unwrap()
            .conn()
            .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n as usize, WRITE_ROWS, "wrong number of rows written");
    };
    let finish = |path: PathBuf, db: Database| {
        drop(db);
        let _ = std::fs::remove_file(path);
    };

    let ceiling = measure("plain INSERT, 1 tx", 1, 5, || {
        let (path, mut db) = fresh();
        let t = Instant::now();
        let tx = db
            .sqlite_mut()
            .unwrap()
            .conn_mut()
            .transaction()
            .expect("begin");
        {
            let mut stmt = tx.prepare(&insert_sql).expect("prepare insert");
            for row in &rows {
                stmt.execute(params_from_iter(row.iter())).expect("insert");
            }
        }
        tx.commit().expect("commit");
        let d = t.elapsed();
        check(&db);
        finish(path, db);
        d
    });
    let batched = measure("plain INSERT, 10 tx", 1, 5, || {
        let (path, mut db) = fresh();
        let t = Instant::now();
        for batch in rows.chunks(WRITE_BATCH) {
            let tx = db
                .sqlite_mut()
                .unwrap()
                .conn_mut()
                .transaction()
                .expect("begin");
            {
                let mut stmt = tx.prepare_cached(&insert_sql).expect("prepare insert");
                for row in batch {
                    stmt.execute(params_from_iter(row.iter())).expect("insert");
                }
            }
            tx.commit().expect("commit");
        }
        let d = t.elapsed();
        check(&db);
        finish(path, db);
        d
    });
    let cancel = CancelFlag::new();
    let no_journal = measure("BatchWriter, no journal", 1, 5, || {
        let (path, mut db) = fresh();
        let info = db.table_info("orders").expect("table_info");
        let writer = BatchWriter::new(&info, &columns).expect("BatchWriter::new");
        let t = Instant::now();
        for batch in rows.chunks(WRITE_BATCH) {
            let outcome = writer
                .write(db.sqlite_mut().unwrap(), batch, None, &cancel)
                .expect("BatchWriter::write");
            assert_eq!(
                outcome.accepted.len(),
                batch.len(),
                "{:?}",
                outcome.rejected.first()
            );
        }
        let d = t.elapsed();
        check(&db);
        finish(path, db);
        d
    });
    let journal_dir = dir.join("journals");
    std::fs::create_dir_all(&journal_dir).expect("journal dir");
    let with_journal = measure("BatchWriter + journal", 1, 5, || {
        let (path, mut db) = fresh();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let journal = Journal::open(&journal_dir.join(format!("{stem}.journal.sqlite")))
            .expect("Journal::open");
        let info = db.table_info("orders").expect("table_info");
        let writer = BatchWriter::new(&info, &columns).expect("BatchWriter::new");
        let t = Instant::now();
        let operation = journal
            .begin_operation(&path, "orders", "bench", writer.fingerprint_columns())
            .expect("begin_operation");
        let target = JournalTarget {
            journal: &journal,
            operation,
        };
        for batch in rows.chunks(WRITE_BATCH) {
            let outcome = writer
                .write(db.sqlite_mut().unwrap(), batch, Some(&target), &cancel)
                .expect("BatchWriter::write");
            assert_eq!(
                outcome.accepted.len(),
                batch.len(),
                "{:?}",
                outcome.rejected.first()
            );
        }
        let d = t.elapsed();
        check(&db);
        let recorded = journal.rows(operation).expect("journal rows").len();
        assert_eq!(
            recorded, WRITE_ROWS,
            "journal recorded the wrong number of rows"
        );
        finish(path, db);
        d
    });

    let ceiling_median = median(&ceiling);
    let n = WRITE_ROWS as u64;
    let vs = |runs: &[Duration]| {
        format!(
            "{:.2}x the ceiling's rows/s",
            ratio(ceiling_median, median(runs))
        )
    };
    report.row(
        "write",
        "plain prepared INSERT loop, 1 transaction (ceiling)",
        &ceiling,
        Some(rate(n, ceiling_median)),
        "baseline".into(),
    );
    report.row(
        "write",
        &format!(
            "plain prepared INSERT loop, {} tx of {}k",
            WRITE_ROWS / WRITE_BATCH,
            WRITE_BATCH / 1000
        ),
        &batched,
        Some(rate(n, median(&batched))),
        vs(&batched),
    );
    report.row(
        "write",
        &format!(
            "BatchWriter::write, {}k-row batches, no journal",
            WRITE_BATCH / 1000
        ),
        &no_journal,
        Some(rate(n, median(&no_journal))),
        vs(&no_journal),
    );
    report.row(
        "write",
        &format!(
            "BatchWriter::write, {}k-row batches, with journal",
            WRITE_BATCH / 1000
        ),
        &with_journal,
        Some(rate(n, median(&with_journal))),
        vs(&with_journal),
    );
    report.notes.push(format!(
        "journal cost: the writer with a journal takes {:.2}x the time of the writer without one",
        ratio(median(&with_journal), median(&no_journal))
    ));
}

/// The writer's input: 8 values per row, explicit ids 1..=n.
fn precomputed_rows(n: usize) -> Vec<Vec<Value>> {
    let mut g = RowGen::new(3);
    (1..=n as i64)
        .map(|id| {
            g.next();
            vec![
                Value::Integer(id),
                Value::Text(g.name.clone()),
                Value::Text(g.email.clone()),
                Value::Real(g.price),
                Value::Integer(g.quantity),
                Value::Text(g.date.clone()),
                Value::Text(g.category.to_string()),
                g.note.map_or(Value::Null, |s| Value::Text(s.to_string())),
            ]
        })
        .collect()
}

// ---- Fixture -----------------------------------------------------------

fn build_table(conn: &Connection, name: &str, rows: u64, seed: u64) {
    conn.execute_batch(&format!("CREATE TABLE {name} ({SCHEMA_COLUMNS})"))
        .expect("create fixture table");
    conn.execute_batch("BEGIN").expect("begin");
    {
        let mut stmt = conn
            .prepare(&format!(
                "INSERT INTO {name} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))
            .expect("prepare fixture insert");
        let mut g = RowGen::new(seed);
        for id in 1..=rows as i64 {
            g.next();
            stmt.execute(params![
                id,
                g.name.as_str(),
                g.email.as_str(),
                g.price,
                g.quantity,
                g.date.as_str(),
                g.category,
                g.note
            ])
            .expect("fixture insert");
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
}

const FIRST: [&str; 16] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis",
    "Radia", "John", "Hedy", "Linus", "Sophie", "Tim",
];
const LAST: [&str; 16] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Backus",
    "Lamarr",
    "Torvalds",
    "Wilson",
    "Berners-Lee",
];
const DOMAINS: [&str; 4] = ["example.com", "mail.test", "shop.example", "corp.test"];
const CATEGORIES: [&str; 8] = [
    "books", "garden", "toys", "kitchen", "music", "outdoor", "office", "games",
];
const NOTES: [&str; 6] = [
    "gift wrap, please",
    "leave at the door",
    "call before delivery",
    "fragile",
    "second order this month",
    "deliver after 5pm",
];

/// Realistic-looking values from a fast deterministic generator.
struct RowGen {
    state: u64,
    name: String,
    email: String,
    date: String,
    price: f64,
    quantity: i64,
    category: &'static str,
    note: Option<&'static str>,
}

impl RowGen {
    fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            name: String::new(),
            email: String::new(),
            date: String::new(),
            price: 0.0,
            quantity: 0,
            category: "",
            note: None,
        }
    }

    /// splitmix64.
    fn bits(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next(&mut self) {
        let a = self.bits();
        let b = self.bits();
        let (first, last) = (FIRST[(a & 15) as usize], LAST[((a >> 4) & 15) as usize]);
        self.name.clear();
        let _ = write!(self.name, "{first} {last}");
        self.email.clear();
        let _ = write!(
            self.email,
            "{}.{}{}@{}",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
            (a >> 8) % 1000,
            DOMAINS[((a >> 18) & 3) as usize]
        );
        self.price = ((a >> 20) % 50_000 + 99) as f64 / 100.0;
        self.quantity = ((b & 63) + 1) as i64;
        self.date.clear();
        let _ = write!(
            self.date,
            "{}-{:02}-{:02}",
            2019 + (b >> 6) % 7,
            1 + (b >> 10) % 12,
            1 + (b >> 14) % 28
        );
        self.category = CATEGORIES[((b >> 20) & 7) as usize];
        self.note = if (b >> 24) % 10 < 3 {
            Some(NOTES[((b >> 28) % NOTES.len() as u64) as usize])
        } else {
            None
        };
    }
}

// ---- Measurement and reporting -----------------------------------------

/// Runs `f` `warmup` times (discarded) then `runs` times; `f` returns the
/// time of the part it measures, so setup stays outside the timing.
fn measure(
    what: &str,
    warmup: usize,
    runs: usize,
    mut f: impl FnMut() -> Duration,
) -> Vec<Duration> {
    for _ in 0..warmup {
        f();
    }
    let times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "  {what:<28} median {:>10}  (min {}, max {}, {runs} runs)",
        fmt_duration(median(&times)),
        fmt_duration(sorted[0]),
        fmt_duration(sorted[sorted.len() - 1])
    );
    times
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// `1.7x`, `42x`, `1234x`.
fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.0}x")
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

#[derive(Default)]
struct Report {
    rows: Vec<[String; 6]>,
    notes: Vec<String>,
    diagnostics: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        group: &str,
        what: &str,
        runs: &[Duration],
        throughput: Option<String>,
        vs: String,
    ) {
        let mut sorted = runs.to_vec();
        sorted.sort();
        self.rows.push([
            group.to_string(),
            what.to_string(),
            runs.len().to_string(),
            fmt_duration(median(runs)),
            format!(
                "{} – {}",
                fmt_duration(sorted[0]),
                fmt_duration(sorted[sorted.len() - 1])
            ),
            match throughput {
                Some(t) => format!("{t}; {vs}"),
                None => vs,
            },
        ]);
    }

    const HEADERS: [&'static str; 6] = [
        "group",
        "measurement",
        "runs",
        "median",
        "min – max",
        "throughput / ratio",
    ];

    /// Rows grouped in reading order (measured in another order: the gapped
    /// table is made after profiling the dense one).
    fn ordered(&self) -> Vec<&[String; 6]> {
        let rank = |g: &str| ["sample", "profile", "write"].iter().position(|x| *x == g);
        let mut rows: Vec<&[String; 6]> = self.rows.iter().collect();
        rows.sort_by_key(|r| rank(&r[0]));
        rows
    }

    fn plain(&self) -> String {
        let mut widths = Self::HEADERS.map(|h| h.chars().count());
        for row in self.ordered() {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                // Numbers right-aligned, text left-aligned.
                if (2..=4).contains(&i) {
                    let _ = write!(s, "{}{cell}  ", " ".repeat(pad));
                } else {
                    let _ = write!(s, "{cell}{}  ", " ".repeat(pad));
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&Self::HEADERS.map(String::from));
        out += &line(&widths.map(|w| "-".repeat(w)));
        for row in self.ordered() {
            out += &line(row);
        }
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", Self::HEADERS.join(" | "));
        out += "|---|---|---:|---:|---:|---|\n";
        for row in self.ordered() {
            out += &format!("| {} |\n", row.join(" | "));
        }
        out
    }
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn rate(n: u64, d: Duration) -> String {
    let per_s = n as f64 / d.as_secs_f64().max(1e-12);
    if per_s >= 1e6 {
        format!("{:.2}M rows/s", per_s / 1e6)
    } else {
        format!("{:.0}k rows/s", per_s / 1e3)
    }
}

fn short(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(100_000) {
        format!("{}M", n as f64 / 1e6)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        thousands(n)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
