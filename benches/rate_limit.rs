//! A 1,000-row run of the demo `customers` on a low rate-limit tier: the test server takes
//! `ROWSMITH_BENCH_RPS` requests a second (default 2) and answers 429 with OpenAI's body to
//! the rest. Reports whether the run finished, its wall time and the 429s it drew, for this
//! build and, with ROWSMITH_BASELINE_BIN, an older binary.
//!
//! cargo bench --bench rate_limit
//! ROWSMITH_BASELINE_BIN=/path/to/older/rowsmith cargo bench --bench rate_limit
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

#[path = "../tests/common/model.rs"]
mod model;
#[path = "../tests/common/services.rs"]
mod services;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{FakeModel, Reply, rows_like_samples};
use serde_json::json;

async fn one_run(
    bin: &Path,
    dir: &Path,
    name: &str,
    per_second: u32,
) -> (bool, Duration, usize, String) {
    let db = dir.join(format!("{name}.db"));
    rowsmith::db::demo::create_demo(&db).unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let seen = refused.clone();
    let window = Arc::new(Mutex::new((Instant::now(), 0u32)));
    let model = FakeModel::openai(move |ask| {
        let mut w = window.lock().unwrap();
        if w.0.elapsed() >= Duration::from_secs(1) {
            *w = (Instant::now(), 0);
        }
        if w.1 >= per_second {
            seen.fetch_add(1, Ordering::SeqCst);
            return Reply::Status(429, json!({"error": {
                "message": format!("Rate limit reached for gpt-6.1-terra on requests per min (RPM): Limit {}, Used {}, Requested 1.", per_second * 60, per_second * 60),
                "type": "requests", "param": null, "code": "rate_limit_exceeded"}}));
        }
        w.1 += 1;
        Reply::Rows(rows_like_samples(ask, &counter))
    })
    .await;
    let mut cmd = model.command(bin, &dir.join(format!("{name}-data")));
    cmd.args(["generate", db.to_str().unwrap(), "customers", "-n", "1000"]);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string();
    (
        out.status.success(),
        elapsed,
        refused.load(Ordering::SeqCst),
        last,
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let per_second: u32 = std::env::var("ROWSMITH_BENCH_RPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let dir = tempfile::tempdir().unwrap();
    let mut builds = Vec::new();
    if let Some(bin) = std::env::var_os("ROWSMITH_BASELINE_BIN") {
        builds.push(("baseline", PathBuf::from(bin)));
    }
    builds.push(("this build", PathBuf::from(env!("CARGO_BIN_EXE_rowsmith"))));
    println!("1,000 demo customers against a server that takes {per_second} requests a second\n");
    println!("| build | finished | wall time | 429s drawn | last line on stderr |");
    println!("|---|---|---:|---:|---|");
    for (label, bin) in builds {
        let (ok, elapsed, refused, last) = one_run(&bin, dir.path(), label, per_second).await;
        println!(
            "| {label} | {} | {:.1} s | {refused} | {} |",
            if ok { "yes" } else { "no" },
            elapsed.as_secs_f64(),
            last.chars().take(110).collect::<String>()
        );
    }
}
