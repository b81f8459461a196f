//! Input tokens billed for 1,000 rows of the demo `customers`, with the prompt caches of
//! OpenAI and Anthropic simulated the way they bill (tests/common/services.rs PromptCache:
//! OpenAI caches a shared prefix of 1,024+ tokens in 128-token steps; Anthropic writes the
//! prefix up to its `cache_control` breakpoint once and reads it after).
//!
//! Billed tokens are counted in full-price input tokens: uncached × 1, cached × 0.05
//! (OpenAI gpt-6.1-terra) or × 0.1 (Anthropic claude-haiku-5-5), cache writes × 1.25.
//!
//! cargo bench --bench tokens
//! ROWSMITH_BASELINE_BIN=/path/to/older/rowsmith cargo bench --bench tokens   # before/after
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

#[path = "../tests/common/model.rs"]
mod model;
#[path = "../tests/common/services.rs"]
mod services;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use model::{FakeModel, Reply, rows_like_samples};
use services::Billed;

const ROWS: &str = "1000";

struct Tally {
    requests: usize,
    input: u64,
    cached: u64,
    written: u64,
    billed: f64,
}

fn tally(billed: &[Billed], cached_rate: f64) -> Tally {
    let sum = |f: fn(&Billed) -> u64| billed.iter().map(f).sum::<u64>();
    let (input, cached, written) = (sum(|b| b.input), sum(|b| b.cached), sum(|b| b.written));
    Tally {
        requests: billed.len(),
        input,
        cached,
        written,
        billed: (input - cached - written) as f64
            + cached as f64 * cached_rate
            + written as f64 * 1.25,
    }
}

async fn one_run(bin: &Path, anthropic: bool, dir: &Path, name: &str) -> Tally {
    let db = dir.join(format!("{name}.db"));
    rowsmith::db::demo::create_demo(&db).unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let script = move |ask: &model::Ask| Reply::Rows(rows_like_samples(ask, &counter));
    let model = if anthropic {
        FakeModel::anthropic(script).await
    } else {
        FakeModel::openai(script).await
    };
    let mut cmd = model.command(bin, &dir.join(format!("{name}-data")));
    cmd.args([
        "generate",
        db.to_str().unwrap(),
        "customers",
        "-n",
        ROWS,
        "--json",
    ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let billed = model.billed.lock().unwrap().clone();
    tally(&billed, if anthropic { 0.10 } else { 0.05 })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let current = PathBuf::from(env!("CARGO_BIN_EXE_rowsmith"));
    let baseline = std::env::var_os("ROWSMITH_BASELINE_BIN").map(PathBuf::from);
    println!(
        "Input tokens for {ROWS} rows of the demo customers (billed = full-price equivalent)\n"
    );
    println!(
        "| provider | build | requests | input | cached | cache writes | billed | vs baseline |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (anthropic, label) in [(false, "OpenAI"), (true, "Anthropic")] {
        let base = match &baseline {
            Some(bin) => Some(one_run(bin, anthropic, dir.path(), &format!("base-{label}")).await),
            None => None,
        };
        let now = one_run(&current, anthropic, dir.path(), &format!("now-{label}")).await;
        for (build, t) in [("baseline", base.as_ref()), ("this build", Some(&now))] {
            let Some(t) = t else { continue };
            let ratio = base
                .as_ref()
                .map(|b| format!("{:.2}×", t.billed / b.billed))
                .unwrap_or_else(|| "–".into());
            println!(
                "| {label} | {build} | {} | {} | {} | {} | {:.0} | {ratio} |",
                t.requests, t.input, t.cached, t.written, t.billed
            );
        }
    }
}
