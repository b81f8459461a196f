//! `rowsmith generate` end to end: real SQLite files, the real binary, and a
//! local HTTP server playing the model in OpenAI's and Anthropic's formats.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Fixture;
use common::model::{Ask, FakeModel, Reply};
use rusqlite::Connection;
use serde_json::{Value, json};

const PEOPLE: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  age INTEGER CHECK (age BETWEEN 18 AND 99),
  city TEXT
);
INSERT INTO people (name, email, age, city) VALUES
  ('Ada Lovelace', 'ada@example.com', 36, 'London'),
  ('Grace Hopper', 'grace@example.com', 85, 'New York'),
  ('Alan Turing', 'alan@example.com', 41, 'Manchester'),
  ('Katherine Johnson', 'katherine@example.com', 101 - 20, 'Hampton'),
  ('Edsger Dijkstra', 'edsger@example.com', 72, 'Nuenen');
";

/// Rows with unique emails, numbered across all calls.
fn people_rows(ask: &Ask, counter: &AtomicUsize) -> Vec<Value> {
    (0..ask.rows)
        .map(|_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            json!({"name": format!("Person {n}"), "email": format!("person{n}@example.org"), "age": 20 + (n % 60), "city": "Leeds"})
        })
        .collect()
}

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn rowsmith(fx: &Fixture, model: &FakeModel, args: &[&str]) -> Run {
    let mut cmd = fx.cmd();
    cmd.args(args);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn count(path: &std::path::Path, table: &str) -> i64 {
    common::count(path, table)
}

#[tokio::test(flavor = "multi_thread")]
async fn generates_ten_rows_and_says_so_then_undo_removes_them() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| Reply::Rows(people_rows(ask, &counter))).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(&fx, &model, &["generate", p, "people"]).await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Generated 10 rows for table 'people'. New total: 15 rows.\n"
    );
    assert_eq!(count(&path, "people"), 15);
    assert_eq!(model.calls(), 1);

    // What the model was given: schema, constraints, profile, samples, instructions.
    let body = &model.bodies().await[0];
    let system = body["messages"][0]["content"].as_str().unwrap();
    let user = body["messages"][1]["content"].as_str().unwrap();
    let prompt = format!("{system}\n{user}");
    // The static part comes first (instructions, then the table and its profile) so that
    // every request of the run shares it as a cacheable prefix; samples vary and come last.
    assert!(system.starts_with(rowsmith::generate::prompt::SYSTEM));
    assert!(
        system.contains("Table: \"people\"") && system.contains("Random existing rows (5 of 5)")
    );
    assert!(
        user.starts_with("Write exactly 10"),
        "a five-row table has no more rows to show"
    );
    for needle in [
        "Table: \"people\"",
        "SQLite fills them: id (INTEGER PRIMARY KEY (rowid))",
        "email TEXT NOT NULL UNIQUE",
        "CHECK (age BETWEEN 18 AND 99)",
        "format email",
        "Random existing rows (5 of 5)",
        "\"ada@example.com\"",
        "Write exactly 10 new rows.",
    ] {
        assert!(
            prompt.contains(needle),
            "prompt lacks {needle:?}:\n{prompt}"
        );
    }
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("relationships between columns")
            && system.contains("never copy a sample row")
    );
    let schema = &body["response_format"]["json_schema"]["schema"];
    let row = &schema["properties"]["rows"]["items"]["properties"];
    assert!(row.get("id").is_none(), "the rowid alias is not asked for");
    assert_eq!(row["age"]["type"], json!(["integer", "null"]));
    assert_eq!(row["email"]["type"], json!("string"));

    let undo = fx.cmd().args(["undo", p]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&undo.stdout).starts_with("Removed 10 rows from table 'people'")
    );
    assert_eq!(count(&path, "people"), 5);
}

/// The log file says what ran and what a generation did, and never holds the API key or a
/// row's values, even at the most detailed level.
#[tokio::test(flavor = "multi_thread")]
async fn the_log_file_records_the_run_without_keys_or_values() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| Reply::Rows(people_rows(ask, &counter))).await;
    let p = path.to_str().unwrap();
    let mut cmd = fx.cmd();
    cmd.args(["generate", p, "people"])
        .env("ROWSMITH_LOG", "trace");
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success());
    let logs: Vec<_> = std::fs::read_dir(fx.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("rowsmith."))
        .collect();
    assert_eq!(logs.len(), 1, "one file a day");
    let log = std::fs::read_to_string(logs[0].path()).unwrap();
    assert!(log.contains("command=\"generate\""), "{log}");
    assert!(log.contains("generation finished"), "{log}");
    assert!(log.contains("added=10"), "{log}");
    assert!(log.contains("JSON answer received"), "{log}");
    assert!(
        !log.contains("sk-test-key"),
        "the API key is never written:\n{log}"
    );
    for value in [
        "person0@example.org",
        "Person 0",
        "ada@example.com",
        "Leeds",
    ] {
        assert!(
            !log.contains(value),
            "a row value is in the log: {value}\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn anthropic_json_summary_reports_usage_and_rejections() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::anthropic(move |ask| {
        let mut rows = people_rows(ask, &counter);
        if ask.call == 0 {
            // One row copies an existing email, one breaks the CHECK.
            rows[0]["email"] = json!("ada@example.com");
            rows[1]["age"] = json!(7);
        }
        Reply::Rows(rows)
    })
    .await;
    let run = rowsmith(
        &fx,
        &model,
        &[
            "generate",
            path.to_str().unwrap(),
            "people",
            "-n",
            "4",
            "--json",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["table"], "people");
    assert_eq!(summary["rows_added"], 4);
    assert_eq!(summary["new_row_count"], 9);
    assert_eq!(summary["provider"], "anthropic");
    assert_eq!(summary["model"], "claude-haiku-5-5");
    // Two requests (one top-up); the usage is what the service billed, the second request
    // reading the static prefix the first one wrote to Anthropic's prompt cache.
    let billed = model.billed.lock().unwrap().clone();
    assert_eq!(billed.len(), 2, "one top-up");
    let total = |f: fn(&common::services::Billed) -> u64| billed.iter().map(f).sum::<u64>();
    assert_eq!(summary["usage"]["input_tokens"], total(|b| b.input));
    assert_eq!(summary["usage"]["cache_write_tokens"], billed[0].written);
    assert_eq!(summary["usage"]["cached_input_tokens"], billed[1].cached);
    assert!(billed[0].written > 0 && billed[1].cached == billed[0].written);
    assert!(summary["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(summary["usage"]["estimated_cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(
        summary["rejected"]["email is already in the table (UNIQUE)"],
        1
    );
    assert_eq!(
        summary["rejected"]["CHECK constraint failed: age BETWEEN 18 AND 99"],
        1
    );
    assert!(summary["elapsed_ms"].as_u64().is_some());
    assert_eq!(count(&path, "people"), 9);
    let second = &model.bodies().await[1];
    let prompt = second["messages"][0]["content"].as_str().unwrap();
    // Two rows are missing; after rejections a top-up asks for half as many again.
    assert!(prompt.contains("Write exactly 3 new rows."), "{prompt}");
    assert!(
        prompt.contains("already taken, do not use") && prompt.contains("\"ada@example.com\""),
        "{prompt}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_types_extra_and_missing_columns_are_handled_row_by_row() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| {
        let mut rows = people_rows(ask, &counter);
        if ask.call == 0 {
            rows[0]["age"] = json!("forty"); // not a number: rejected
            rows[1]["age"] = json!("42"); // lossless: accepted as 42
            rows[2]["shoe_size"] = json!(44); // extra key: dropped
            rows[3].as_object_mut().unwrap().remove("name"); // NOT NULL missing: rejected
            rows[4].as_object_mut().unwrap().remove("city"); // nullable missing: NULL
        }
        Reply::Rows(rows)
    })
    .await;
    let run = rowsmith(
        &fx,
        &model,
        &[
            "generate",
            path.to_str().unwrap(),
            "people",
            "-n",
            "5",
            "--json",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["rows_added"], 5);
    assert_eq!(
        summary["rejected"]["column 'age' (INTEGER) got text that is not a number"],
        1
    );
    assert_eq!(
        summary["rejected"]["no value for NOT NULL column 'name'"],
        1
    );
    let conn = Connection::open(&path).unwrap();
    let (age, kind): (i64, String) = conn
        .query_row(
            "SELECT age, typeof(age) FROM people WHERE email = 'person1@example.org'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((age, kind.as_str()), (42, "integer"));
    let city: Option<String> = conn
        .query_row(
            "SELECT city FROM people WHERE email = 'person4@example.org'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(city, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_answers_are_asked_again_and_a_hopeless_model_gives_a_shortfall() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| {
        if ask.call == 0 {
            Reply::Text("{\"rows\": [{\"name\": \"Broken".into())
        } else {
            Reply::Rows(people_rows(ask, &counter))
        }
    })
    .await;
    let run = rowsmith(
        &fx,
        &model,
        &["generate", path.to_str().unwrap(), "people", "-n", "3"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Generated 3 rows for table 'people'. New total: 8 rows.\n"
    );
    assert_eq!(model.calls(), 2);

    // A model that only ever repeats existing rows: bounded attempts, then the shortfall.
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let model = FakeModel::openai(|ask| {
        Reply::Rows(
            (0..ask.rows)
                .map(|_| json!({"name": "Ada", "email": "ada@example.com", "age": 36, "city": "London"}))
                .collect(),
        )
    })
    .await;
    let run = rowsmith(
        &fx,
        &model,
        &["generate", path.to_str().unwrap(), "people", "-n", "3"],
    )
    .await;
    assert_eq!(
        run.code,
        Some(3),
        "a shortfall exits with status 3: {}",
        run.stderr
    );
    assert_eq!(
        run.stdout,
        "Generated 0 rows for table 'people'. New total: 5 rows.\n"
    );
    assert!(
        run.stderr.contains("Stopped early after 3 model requests: most rows gpt-6.1-terra wrote were rejected (email is already in the table (UNIQUE) (13)), so only 0 of 3 rows were added; try a larger model, or the offline generator (--provider offline)."),
        "{}",
        run.stderr
    );
    assert_eq!(count(&path, "people"), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_tables_need_from_schema() {
    let fx = Fixture::new();
    let path = fx.db(
        "empty.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT NOT NULL, n REAL);",
    );
    let model = FakeModel::openai(|ask| {
        Reply::Rows(
            (0..ask.rows)
                .map(|i| json!({"label": format!("item {i}"), "n": i as f64 + 0.5}))
                .collect(),
        )
    })
    .await;
    let p = path.to_str().unwrap();
    let run = rowsmith(&fx, &model, &["generate", p, "t"]).await;
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        "error: Cannot generate data for empty table. Please add at least one row first.\n"
    );
    assert_eq!(model.calls(), 0);
    let run = rowsmith(
        &fx,
        &model,
        &["generate", p, "t", "--from-schema", "-n", "2"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "Generated 2 rows for table 't'. New total: 2 rows.\n"
    );
    let body = &model.bodies().await[0];
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("The table is empty")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_rows_and_writes_nothing() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| Reply::Rows(people_rows(ask, &counter))).await;
    let run = rowsmith(
        &fx,
        &model,
        &[
            "generate",
            path.to_str().unwrap(),
            "people",
            "-n",
            "3",
            "--dry-run",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let rows: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["email"], "person0@example.org");
    assert!(
        run.stderr.contains(
            "Dry run: 3 rows for table 'people' passed every check; nothing was written."
        )
    );
    assert_eq!(common::bytes(&path), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_says_what_the_run_costs_before_it_asks_and_what_it_used_after() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(people_rows(ask, &counter))).await;
    let run = rowsmith(
        &fx,
        &model,
        &[
            "generate",
            path.to_str().unwrap(),
            "people",
            "-n",
            "4",
            "--dry-run",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let estimate = lines
        .iter()
        .position(|l| l.starts_with("rowsmith: Estimate: 1 request, about "))
        .unwrap_or_else(|| panic!("no estimate in {}", run.stderr));
    assert!(
        lines[estimate].contains("with gpt-6.1-terra"),
        "{}",
        lines[estimate]
    );
    let tokens = lines
        .iter()
        .position(|l| l.starts_with("Tokens: ") && l.contains(" output; about $"))
        .unwrap_or_else(|| panic!("no usage in {}", run.stderr));
    assert!(estimate < tokens);
    assert_eq!(count(&path, "people"), 5, "a dry run writes nothing");
}

/// Issue 11, defect 6: a typo in -n is not thousands of paid requests. Above
/// generate.confirm_rows an LLM run says what it would cost and needs --yes.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_llm_run_says_its_cost_and_needs_yes() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let model = FakeModel::openai(move |ask| Reply::Rows(people_rows(ask, &c))).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(&fx, &model, &["generate", p, "people", "-n", "5000"]).await;
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("5,000 rows is more than generate.confirm_rows (1,000) for a model."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Estimate: 200 requests"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Pass --yes to go ahead."),
        "{}",
        run.stderr
    );
    assert_eq!(model.calls(), 0, "nothing was sent");
    assert_eq!(count(&path, "people"), 5);
    // A dry run asks the model for every row too: it costs the same.
    let run = rowsmith(
        &fx,
        &model,
        &["generate", p, "people", "-n", "5000", "--dry-run"],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("Pass --yes to go ahead."),
        "{}",
        run.stderr
    );
    assert_eq!(model.calls(), 0, "nothing was sent for the dry run");
    let run = rowsmith(
        &fx,
        &model,
        &["generate", p, "people", "-n", "1001", "--yes"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(count(&path, "people"), 1006);
}
