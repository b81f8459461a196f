//! A 10-row job on a 5,000,000-row table, as a user runs it: the whole process of
//! `rowsmith generate DB events -n 10 --provider offline --dry-run`, cold (no kept
//! profile) and warm (the profile of the unchanged table kept by the previous run),
//! against the naive way to look at 10 random rows, `SELECT * FROM events ORDER BY
//! RANDOM() LIMIT 10`, in a process of its own. They run in turn in the same run.
//!
//! cargo bench --bench small_job
//! ROWSMITH_BENCH_JOB_ROWS=500000 cargo bench --bench small_job   # quick
//! ROWSMITH_BASELINE_BIN=/path/to/older/rowsmith cargo bench --bench small_job
//!
//! The table is built once (about a minute) and kept in `ROWSMITH_BENCH_CACHE`
//! (default: the system temp folder, `rowsmith-bench/`), so later runs start at once.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

const DEFAULT_ROWS: u64 = 5_000_000;
/// Measured runs of each command, after one discarded round.
const RUNS: usize = 7;
/// Set on the bench's own binary to make it the naive program.
const NAIVE_ENV: &str = "ROWSMITH_BENCH_NAIVE_DB";
const NAIVE_SQL: &str = "SELECT * FROM events ORDER BY RANDOM() LIMIT 10";

const SCHEMA: &str = "CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    category TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    amount REAL NOT NULL,
    note TEXT
)";

fn main() {
    if let Some(db) = std::env::var_os(NAIVE_ENV) {
        naive(Path::new(&db));
        return;
    }
    let rows = std::env::var("ROWSMITH_BENCH_JOB_ROWS")
        .ok()
        .map(|v| {
            v.replace(['_', ','], "")
                .parse::<u64>()
                .expect("ROWSMITH_BENCH_JOB_ROWS must be a whole number of rows")
        })
        .unwrap_or(DEFAULT_ROWS)
        .max(1);
    let cache = std::env::var_os("ROWSMITH_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rowsmith-bench"));
    let db = fixture(&cache, rows);
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let rowsmith = PathBuf::from(env!("CARGO_BIN_EXE_rowsmith"));
    let baseline = std::env::var_os("ROWSMITH_BASELINE_BIN").map(PathBuf::from);

    println!(
        "a 10-row dry run on a {}-row table, whole processes, {RUNS} runs each in turn",
        rowsmith::output::thousands(rows)
    );
    let mut naive_t = Vec::new();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut base = Vec::new();
    for round in 0..=RUNS {
        // Cold: nothing kept; warm: what the cold run just kept.
        let _ = std::fs::remove_dir_all(data.join("profiles"));
        let c = time_rowsmith(&rowsmith, &db, work.path(), &data);
        assert!(
            data.join("profiles").is_dir(),
            "the cold run keeps its profile"
        );
        let n = time_naive(&db);
        let w = time_rowsmith(&rowsmith, &db, work.path(), &data);
        let b = baseline
            .as_ref()
            .map(|bin| time_rowsmith(bin, &db, work.path(), &work.path().join("base-data")));
        if round == 0 {
            continue; // warm-up: file cache, binaries
        }
        cold.push(c);
        naive_t.push(n);
        warm.push(w);
        base.extend(b);
    }

    let naive_m = median(&naive_t);
    let mut table = String::new();
    let _ = writeln!(table, "| what | median | min | max | vs naive |");
    let _ = writeln!(table, "|---|---:|---:|---:|---:|");
    let mut row = |what: &str, times: &[Duration]| {
        let m = median(times);
        let _ = writeln!(
            table,
            "| {what} | {} | {} | {} | {:.3}x |",
            ms(m),
            ms(*times.iter().min().unwrap()),
            ms(*times.iter().max().unwrap()),
            m.as_secs_f64() / naive_m.as_secs_f64()
        );
    };
    row(&format!("naive: `{NAIVE_SQL}`"), &naive_t);
    row("rowsmith, cold (no kept profile)", &cold);
    row("rowsmith, warm (profile kept)", &warm);
    if !base.is_empty() {
        row("baseline binary (ROWSMITH_BASELINE_BIN)", &base);
    }
    println!("\n{table}");
    println!(
        "pairwise medians: cold/naive {:.3}x, warm/naive {:.3}x",
        pairwise(&cold, &naive_t),
        pairwise(&warm, &naive_t)
    );
}

/// The naive program: open, run the query, print the rows, exit.
fn naive(db: &Path) {
    let conn = Connection::open(db).expect("open");
    let mut stmt = conn.prepare(NAIVE_SQL).expect("prepare");
    let width = stmt.column_count();
    let mut rows = stmt.query([]).expect("query");
    let mut out = String::new();
    while let Some(row) = rows.next().expect("row") {
        for i in 0..width {
            let v: rusqlite::types::Value = row.get(i).expect("value");
            let _ = write!(out, "{v:?}|");
        }
        out.push('\n');
    }
    print!("{out}");
}

fn time_naive(db: &Path) -> Duration {
    let exe = std::env::current_exe().expect("own path");
    let t = Instant::now();
    let out = Command::new(exe)
        .env(NAIVE_ENV, db)
        .stdin(Stdio::null())
        .output()
        .expect("run the naive program");
    let d = t.elapsed();
    assert!(out.status.success(), "naive program failed");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 10);
    d
}

fn time_rowsmith(bin: &Path, db: &Path, home: &Path, data: &Path) -> Duration {
    let mut cmd = Command::new(bin);
    cmd.args(["generate"])
        .arg(db)
        .args(["events", "-n", "10", "--provider", "offline", "--dry-run"])
        .env("ROWSMITH_DATA_DIR", data)
        // No user config file and no keys from the machine running the bench.
        .env("XDG_CONFIG_HOME", home.join("config-home"))
        .stdin(Stdio::null());
    for var in [
        "ROWSMITH_CONFIG",
        "ROWSMITH_PROVIDER",
        "ROWSMITH_MODEL",
        "ROWSMITH_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    let t = Instant::now();
    let out = cmd.output().expect("run rowsmith");
    let d = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.contains("Dry run: 10 rows"),
        "{} failed: {stderr}",
        bin.display()
    );
    d
}

/// The events table, built once per size and kept; a half-built file is never used.
fn fixture(cache: &Path, rows: u64) -> PathBuf {
    std::fs::create_dir_all(cache).expect("bench cache folder");
    let path = cache.join(format!("events-{rows}-v1.sqlite"));
    if path.exists() {
        println!("fixture: {} (kept from an earlier run)", path.display());
        return path;
    }
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let t = Instant::now();
    let conn = Connection::open(&partial).expect("create fixture");
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )
    .expect("fixture pragmas");
    conn.execute_batch(SCHEMA).expect("schema");
    conn.execute_batch("BEGIN").expect("begin");
    {
        let mut insert = conn
            .prepare("INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .expect("prepare insert");
        let mut g = Splitmix(rows);
        let start = 1_704_067_200i64; // 2024-01-01T00:00:00Z
        for id in 1..=rows as i64 {
            let (a, b) = (g.next(), g.next());
            // About six events a minute, in order, over the years the table covers.
            let when = datetime(start + id * 10 + (a % 10) as i64);
            let category = CATEGORIES[(a >> 8) as usize % CATEGORIES.len()];
            // A few heavy users and a long tail.
            let user = if (a >> 20) % 10 < 3 {
                1 + (a >> 24) % 500
            } else {
                1 + (a >> 24) % 200_000
            } as i64;
            let amount = ((b % 20_000) as f64 * ((b >> 16) % 5 + 1) as f64) / 100.0;
            let note = ((b >> 24) % 4 != 0).then(|| NOTES[(b >> 28) as usize % NOTES.len()]);
            insert
                .execute(params![id, when.as_str(), category, user, amount, note])
                .expect("insert");
        }
    }
    conn.execute_batch("COMMIT").expect("commit");
    drop(conn);
    std::fs::rename(&partial, &path).expect("keep fixture");
    println!(
        "fixture: {} built in {:.1} s",
        path.display(),
        t.elapsed().as_secs_f64()
    );
    path
}

const CATEGORIES: [&str; 8] = [
    "view", "view", "view", "click", "click", "search", "purchase", "refund",
];
const NOTES: [&str; 6] = [
    "mobile app",
    "from newsletter",
    "returning visitor",
    "coupon SPRING",
    "support chat",
    "desktop web",
];

/// `YYYY-MM-DD HH:MM:SS` (UTC) of seconds since 1970.
fn datetime(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// splitmix64: fast, deterministic.
struct Splitmix(u64);

impl Splitmix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
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

/// The median of the ratios of runs made side by side, which a drifting machine
/// disturbs less than a ratio of medians.
fn pairwise(a: &[Duration], b: &[Duration]) -> f64 {
    let mut ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    if n % 2 == 1 {
        ratios[n / 2]
    } else {
        (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
