//! Benchmark of the terminal app as a user feels it, on a database with a
//! 5,000,000-row table: the release binary runs in a pseudo-terminal and the
//! screen is read back through a terminal emulator (vt100).
//!
//! - time to first frame (the layout), to the table names, and to the big
//!   table's row count;
//! - key-to-frame latency: `j` in the rows view of the big table until the
//!   title shows the next row, while a generation runs on that table (a fake
//!   OpenAI server that answers slowly) and its 5,000,000 rows are being
//!   counted again (`r` every 20 keys).
//!
//! Run with `cargo bench --bench tui`; `ROWSMITH_BENCH_ROWS=200000 cargo
//! bench --bench tui` is a quick check. Medians are printed, with p90 and max.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

#[path = "../tests/common/model.rs"]
mod model;
#[path = "../tests/common/services.rs"]
mod services;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use rusqlite::Connection;

const DEFAULT_ROWS: u64 = 5_000_000;
const STARTS: usize = 7;
const KEYS: usize = 200;

struct Screen {
    parser: Mutex<vt100::Parser>,
    changed: Condvar,
}

struct Session {
    screen: Arc<Screen>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    started: Instant,
}

impl Session {
    fn start(db: &Path, data: &Path, env: &[(String, String)]) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_rowsmith"));
        cmd.arg(db);
        cmd.env("TERM", "xterm-256color");
        cmd.env("ROWSMITH_DATA_DIR", data);
        cmd.env("XDG_CONFIG_HOME", data.join("config-home"));
        for var in [
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
            "ROWSMITH_PROVIDER",
            "ROWSMITH_CONFIG",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let child = pair.slave.spawn_command(cmd).expect("spawn rowsmith");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Screen {
            parser: Mutex::new(vt100::Parser::new(40, 120, 0)),
            changed: Condvar::new(),
        });
        let feed = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut p) = feed.parser.lock() {
                    p.process(&buf[..n]);
                }
                feed.changed.notify_all();
            }
        });
        Self {
            screen,
            writer,
            child,
            _master: pair.master,
            started,
        }
    }

    /// Blocks until the screen shows `text`; returns when it did.
    fn wait_for(&self, text: &str, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        let mut parser = self.screen.parser.lock().expect("screen");
        loop {
            if parser.screen().contents().contains(text) {
                return Instant::now();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "the screen never showed {text:?}:\n{}",
                    parser.screen().contents()
                );
            }
            parser = self
                .screen
                .changed
                .wait_timeout(parser, left.min(Duration::from_millis(50)))
                .expect("screen")
                .0;
        }
    }

    fn press(&mut self, keys: &str) -> Instant {
        let at = Instant::now();
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
        at
    }

    fn quit(mut self) {
        self.press("q");
        std::thread::sleep(Duration::from_millis(100));
        // Quitting during a generation asks first.
        self.press("y");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
    }
}

fn build(path: &Path, rows: u64) {
    let conn = Connection::open(path).expect("create");
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;
         CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, user_id INTEGER NOT NULL,
             amount REAL, note TEXT, created_at TEXT NOT NULL);
         CREATE TABLE logs (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
         CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO users (name, email) SELECT 'User ' || i, 'u' || i || '@example.com' FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO logs (line) SELECT 'line ' || i FROM n;",
    )
    .expect("small tables");
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO events (kind, user_id, amount, note, created_at)
         SELECT CASE i % 4 WHEN 0 THEN 'click' WHEN 1 THEN 'view' WHEN 2 THEN 'buy' ELSE 'share' END,
                1 + i % 1000, round((i % 10000) / 7.0, 2),
                CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || (i % 977) END,
                datetime(1700000000 + i * 13, 'unixepoch')
         FROM n",
        [rows as i64],
    )
    .expect("events");
}

fn stats(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:<44} median {:>8.2} ms   p90 {:>8.2} ms   max {:>8.2} ms   (n={})",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

fn main() {
    let rows = std::env::var("ROWSMITH_BENCH_ROWS")
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse::<u64>().ok())
        .unwrap_or(DEFAULT_ROWS)
        .max(1);
    let dir = tempfile::Builder::new()
        .prefix("rowsmith-tui-bench-")
        .tempdir()
        .expect("temp dir");
    let db = dir.path().join("bench.db");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    println!("rowsmith terminal app benchmark");
    let t = Instant::now();
    build(&db, rows);
    println!(
        "fixture: events {} rows (+ logs 20,000, users 1,000), built in {:.1} s",
        thousands(rows),
        t.elapsed().as_secs_f64()
    );
    let count_text = thousands(rows);

    // [1] Time to first frame.
    let mut first = Vec::new();
    let mut names = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..STARTS {
        let s = Session::start(
            &db,
            &data,
            &[("ROWSMITH_PROVIDER".into(), "offline".into())],
        );
        first.push(s.wait_for("Tables", Duration::from_secs(30)) - s.started);
        names.push(s.wait_for("events", Duration::from_secs(30)) - s.started);
        counts.push(s.wait_for(&count_text, Duration::from_secs(60)) - s.started);
        s.quit();
    }
    println!("\n[1] start-up, {STARTS} runs (process start included)");
    stats("first frame (layout drawn)", &mut first);
    stats("table names painted", &mut names);
    stats(
        &format!("row count of events ({count_text}) shown"),
        &mut counts,
    );

    // [2] Key-to-frame while a generation and the counts run.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let counter = Arc::new(AtomicUsize::new(0));
    let fake = runtime.block_on(model::FakeModel::slow_openai(60_000, move |ask| {
        model::Reply::Rows(model::rows_from_schema(ask, &counter))
    }));
    let mut s = Session::start(&db, &data, &fake.env());
    s.wait_for(&count_text, Duration::from_secs(60));
    s.press("\t");
    s.wait_for("row 1 of", Duration::from_secs(10));
    s.press("g");
    s.wait_for("asking the model", Duration::from_secs(60));
    let mut keys = Vec::new();
    let mut row = 1;
    for i in 0..KEYS {
        if i % 20 == 0 {
            // Count the 5,000,000 rows again, in the background.
            s.press("r");
            std::thread::sleep(Duration::from_millis(2));
        }
        row += 1;
        let at = s.press("j");
        let seen = s.wait_for(&format!("row {} ", thousands(row)), Duration::from_secs(10));
        keys.push(seen - at);
        std::thread::sleep(Duration::from_millis(5));
    }
    let still = s
        .screen
        .parser
        .lock()
        .map(|p| p.screen().contents().contains("asking the model"))
        .unwrap_or(false);
    println!(
        "\n[2] key-to-frame in the rows view of events, {KEYS} keys (generation still running at the end: {still})"
    );
    stats("j -> next row drawn", &mut keys);
    s.quit();
    println!("\nfake model requests: {}", fake.calls());
}
