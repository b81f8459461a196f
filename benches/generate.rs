//! The generation job against a local server playing the model.
//!
//! 1. The time rowsmith itself adds: 10 and 1,000 rows with a server that
//!    answers at once (medians).
//! 2. 1,000 rows with a server that takes a fixed time per call: batched and
//!    concurrent (the defaults) vs sequential 10-row calls.
//! 3. Output tokens per row of our answer format (objects keyed by column
//!    name) vs positional arrays, counted with the o200k tokenizer.
//!
//! cargo bench --bench generate
//! ROWSMITH_BENCH_CALL_MS=200 cargo bench --bench generate   # shorter step 2
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

#[path = "../tests/common/model.rs"]
mod model;
#[path = "../tests/common/services.rs"]
mod services;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use model::{FakeModel, Reply, rows_from_schema};
use rowsmith::generate::job::{Event, GenerateRequest, Outcome, Source, spawn};
use rowsmith::llm::{Client, ProviderKind, Settings};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn client(model: &FakeModel) -> Source {
    let settings = Settings::new(
        ProviderKind::OpenAi,
        "gpt-6.1-terra",
        format!("{}/v1", model.server.uri()),
    )
    .with_api_key("sk-bench");
    Source::Llm(Client::new(settings).unwrap())
}

async fn run(
    path: &Path,
    journal: &Path,
    source: Source,
    rows: u64,
    batch: usize,
    concurrency: usize,
) -> Duration {
    let mut request = GenerateRequest::new(path, "people", rows);
    request.batch_size = batch;
    request.concurrency = concurrency;
    request.journal_path = Some(journal.to_path_buf());
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = spawn(request, source, tx, CancellationToken::new());
    let mut outcome = None;
    while let Some(e) = rx.recv().await {
        if let Event::Finished(o) = e {
            outcome = Some(o);
        }
    }
    job.await.unwrap();
    let elapsed = started.elapsed();
    match outcome {
        Some(Outcome::Done(s)) => assert_eq!(s.rows_added, rows, "{:?}", s.shortfall),
        other => panic!("{other:?}"),
    }
    elapsed
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fresh_demo(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    rowsmith::db::demo::create_demo(&path).unwrap();
    path
}

/// A table whose constraints the fake model's schema-driven rows satisfy.
fn fresh_people(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, age INTEGER, city TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
         INSERT INTO people (name, email, age, city) SELECT 'Person ' || i, 'p' || i || '@example.com', 20 + i % 50, 'Leeds' FROM n;",
    )
    .unwrap();
    path
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.sqlite");
    let counter = Arc::new(AtomicUsize::new(0));

    // 1. Overhead with an instant server.
    let instant = {
        let counter = counter.clone();
        FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await
    };
    let mut ten = Vec::new();
    for i in 0..15 {
        let path = fresh_people(dir.path(), &format!("ten{i}.db"));
        ten.push(run(&path, &journal, client(&instant), 10, 25, 4).await);
    }
    let mut thousand = Vec::new();
    for i in 0..5 {
        let path = fresh_people(dir.path(), &format!("thousand{i}.db"));
        thousand.push(run(&path, &journal, client(&instant), 1000, 25, 4).await);
    }
    println!("## Time rowsmith adds (server answers at once)\n");
    println!("| rows | median wall time | per row |");
    println!("|---:|---:|---:|");
    let (t10, t1000) = (median(ten), median(thousand));
    println!("| 10 | {} | {:.2} ms |", ms(t10), t10.as_secs_f64() * 100.0);
    println!("| 1,000 | {} | {:.3} ms |", ms(t1000), t1000.as_secs_f64());

    // 2. A server that takes a fixed time per call.
    let call_ms: u64 = std::env::var("ROWSMITH_BENCH_CALL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let slow = {
        let counter = counter.clone();
        FakeModel::slow_openai(call_ms, move |ask| {
            Reply::Rows(rows_from_schema(ask, &counter))
        })
        .await
    };
    let path = fresh_people(dir.path(), "batched.db");
    let batched = run(&path, &journal, client(&slow), 1000, 25, 4).await;
    let path = fresh_people(dir.path(), "sequential.db");
    let sequential = run(&path, &journal, client(&slow), 1000, 10, 1).await;
    println!("\n## 1,000 rows, server taking {call_ms} ms per call\n");
    println!("| approach | calls | wall time | speed-up |");
    println!("|---|---:|---:|---:|");
    println!(
        "| sequential 10-row calls | 100 | {:.1} s | 1.0x |",
        sequential.as_secs_f64()
    );
    println!(
        "| batches of 25, 4 concurrent (defaults) | 40 | {:.1} s | {:.1}x |",
        batched.as_secs_f64(),
        sequential.as_secs_f64() / batched.as_secs_f64()
    );

    // 3. Tokens per row of the answer format.
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let conn = rusqlite::Connection::open(fresh_demo(dir.path(), "tokens.db")).unwrap();
    let columns = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "city",
        "state",
        "zip",
        "loyalty_tier",
        "birth_date",
        "created_at",
    ];
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM customers LIMIT 25",
            columns.join(", ")
        ))
        .unwrap();
    let rows: Vec<Vec<Value>> = stmt
        .query_map([], |r| {
            Ok((0..columns.len())
                .map(|i| {
                    rowsmith::db::value::to_json(&r.get::<_, rusqlite::types::Value>(i).unwrap())
                })
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let objects: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Object(
                columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| (c.to_string(), v.clone()))
                    .collect(),
            )
        })
        .collect();
    let as_objects = json!({ "rows": objects }).to_string();
    let as_arrays = json!({ "rows": rows }).to_string();
    let tokens = |s: &str| bpe.encode_with_special_tokens(s).len() as f64 / rows.len() as f64;
    println!("\n## Output tokens per row (25 demo customers, o200k tokenizer)\n");
    println!("| answer format | tokens per row |");
    println!("|---|---:|");
    println!(
        "| objects keyed by column name (ours) | {:.1} |",
        tokens(&as_objects)
    );
    println!("| positional arrays | {:.1} |", tokens(&as_arrays));
}
