//! Offline generation speed: rows/s generated, validated and inserted by the
//! generation job, against the ceiling of a plain prepared-statement insert
//! loop of precomputed rows in one transaction; and peak memory as N grows.
//!
//! cargo bench --bench offline                                 # 1,000,000 rows
//! ROWSMITH_BENCH_OFFLINE_ROWS=100000 cargo bench --bench offline   # quick
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rowsmith::db::profile::ProfileOptions;
use rowsmith::db::{Database, OpenOptions};
use rowsmith::generate::job::{Event, GenerateRequest, Outcome, Source, spawn};
use rowsmith::generate::offline::{Learning, OfflineModel};
use rowsmith::generate::plan::Plan;
use rusqlite::{Connection, params_from_iter};
use tokio_util::sync::CancellationToken;

const SCHEMA: &str = "
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,
  customer TEXT NOT NULL,
  city TEXT NOT NULL,
  amount REAL NOT NULL CHECK (amount >= 0),
  quantity INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL
);";

fn build_fixture(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    let cities = [
        "Austin", "Denver", "Chicago", "Portland", "Boston", "Seattle", "Miami",
    ];
    let statuses = ["paid", "paid", "paid", "shipped", "shipped", "refunded"];
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Ken Thompson",
    ];
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO events (ref, customer, city, amount, quantity, created_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .unwrap();
        for i in 0..2_000i64 {
            let amount = ((i * 7919) % 50_000) as f64 / 100.0;
            let created = format!(
                "2025-{:02}-{:02} {:02}:{:02}:00",
                1 + i % 12,
                1 + i % 28,
                i % 24,
                (i * 7) % 60
            );
            insert
                .execute(rusqlite::params![
                    format!("EV-{:06}", i + 1),
                    names[(i % 6) as usize],
                    cities[((i * 3) % 7) as usize],
                    amount,
                    1 + (i * 13) % 9,
                    created,
                    statuses[((i * 5) % 6) as usize],
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn copy_of(fixture: &Path, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    std::fs::copy(fixture, &path).unwrap();
    path
}

/// The whole job: sample, profile, learn, generate, insert, journal.
fn time_job(path: &Path, journal: &Path, rows: u64) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut request = GenerateRequest::new(path, "events", rows);
    request.seed = Some(1);
    request.journal_path = Some(journal.to_path_buf());
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let job = spawn(request, Source::Offline, tx, CancellationToken::new());
        let mut outcome = None;
        while let Some(e) = rx.recv().await {
            if let Event::Finished(o) = e {
                outcome = Some(o);
            }
        }
        job.await.unwrap();
        outcome
    });
    let elapsed = started.elapsed();
    match outcome {
        Some(Outcome::Done(s)) => assert_eq!(s.rows_added, rows, "{:?}", s.shortfall),
        other => panic!("{other:?}"),
    }
    elapsed
}

/// Precomputed rows from the same model, as the ceiling inserts them.
fn precompute(path: &Path, rows: usize) -> (Vec<String>, Vec<Vec<rusqlite::types::Value>>) {
    let db = Database::open(path, &OpenOptions::read_only()).unwrap();
    let info = db.table_info("events").unwrap();
    let plan = Plan::new(&info);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let profile = db
        .profile_table(&info, &ProfileOptions::default(), &mut rng)
        .unwrap();
    let sample = db.sample_rows(&info, 5_000, &mut rng).unwrap();
    let mut model = OfflineModel::learn(&Learning {
        plan: &plan,
        profile: Some(&profile),
        columns: &sample.columns,
        rows: &sample.rows,
        parent_keys: &[],
        sequence_max: &vec![None; plan.columns.len()],
    });
    let data = (0..rows)
        .map(|_| {
            model
                .generate(&mut rng)
                .into_iter()
                .map(|v| v.unwrap_or(rusqlite::types::Value::Null))
                .collect()
        })
        .collect();
    (plan.column_names(), data)
}

/// The ceiling: one prepared INSERT per row, one transaction.
fn time_plain_insert(
    path: &Path,
    columns: &[String],
    data: &[Vec<rusqlite::types::Value>],
) -> Duration {
    let conn = Connection::open(path).unwrap();
    let sql = format!(
        "INSERT INTO events ({}) VALUES ({})",
        columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    let started = Instant::now();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx.prepare(&sql).unwrap();
        for row in data {
            // Unique refs from the model may repeat across its own draws only
            // if it has a bug; the ceiling must insert every row.
            insert.execute(params_from_iter(row.iter())).unwrap();
        }
    }
    tx.commit().unwrap();
    started.elapsed()
}

/// Peak resident memory of the real binary generating `rows` rows.
fn peak_memory_kib(binary: &Path, db: &Path, data_dir: &Path, rows: u64) -> Option<u64> {
    let mut child = std::process::Command::new(binary)
        .args([
            "generate",
            db.to_str()?,
            "events",
            "-n",
            &rows.to_string(),
            "--provider",
            "offline",
            "--seed",
            "2",
        ])
        .env("ROWSMITH_DATA_DIR", data_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    peak = peak.max(v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0));
                }
            }
        }
        if child.try_wait().ok()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(peak)
}

fn main() {
    let rows: u64 = std::env::var("ROWSMITH_BENCH_OFFLINE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs = 3;
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("fixture.db");
    build_fixture(&fixture);

    let (columns, data) = precompute(&fixture, rows as usize);
    let plain: Vec<Duration> = (0..runs)
        .map(|i| {
            time_plain_insert(
                &copy_of(&fixture, dir.path(), &format!("plain{i}.db")),
                &columns,
                &data,
            )
        })
        .collect();
    drop(data);
    let journal = dir.path().join("journal.sqlite");
    let job: Vec<Duration> = (0..runs)
        .map(|i| {
            time_job(
                &copy_of(&fixture, dir.path(), &format!("job{i}.db")),
                &journal,
                rows,
            )
        })
        .collect();

    let (plain, job) = (median(plain), median(job));
    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    println!("offline generation, {rows} rows into an 8-column table (median of {runs})");
    println!("| approach | median | rows/s | vs ceiling |");
    println!("|---|---:|---:|---:|");
    println!(
        "| plain prepared INSERT of precomputed rows, 1 transaction (ceiling) | {:.2} s | {:.0} | 1.00x |",
        plain.as_secs_f64(),
        rate(plain)
    );
    println!(
        "| rowsmith offline job: learn, generate, insert, journal | {:.2} s | {:.0} | {:.2}x the time |",
        job.as_secs_f64(),
        rate(job),
        job.as_secs_f64() / plain.as_secs_f64()
    );

    // Memory: the real binary at N/10 and N.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let binary = target.join("release/rowsmith");
    if binary.exists() {
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        for n in [rows / 10, rows] {
            let db = copy_of(&fixture, dir.path(), &format!("mem{n}.db"));
            if let Some(kib) = peak_memory_kib(&binary, &db, &data_dir, n) {
                println!(
                    "peak memory of `rowsmith generate -n {n}`: {:.1} MiB",
                    kib as f64 / 1024.0
                );
            }
        }
    } else {
        println!("(build target/release/rowsmith first to measure peak memory)");
    }
}
