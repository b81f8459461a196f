//! `rowsmith generate --show-prompt` sends nothing: the real binary, a real SQLite file, and
//! a local server playing the model that records every request it gets (it must get none).
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::Fixture;
use common::model::{FakeModel, Reply};
use serde_json::{Value, json};

const PEOPLE: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  age INTEGER CHECK (age BETWEEN 18 AND 99)
);
INSERT INTO people (name, email, age) VALUES
  ('Ada Lovelace', 'ada@example.com', 36),
  ('Grace Hopper', 'grace@example.com', 85),
  ('Alan Turing', 'alan@example.com', 41);
CREATE TABLE empty (id INTEGER PRIMARY KEY, name TEXT);
";

/// A key no output may ever hold.
const OPENAI_KEY: &str = "sk-showprompt-OPENAI-7f3e9a2c51d8";
const ANTHROPIC_KEY: &str = "sk-ant-showprompt-ANTHROPIC-4b81c6d0e2";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// The binary pointed at `model`, with `key` as its provider's key.
async fn rowsmith(fx: &Fixture, model: &FakeModel, key: &str, args: &[&str]) -> Run {
    let mut cmd = fx.cmd();
    cmd.args(args);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let var = if model.anthropic {
        "ANTHROPIC_API_KEY"
    } else {
        "OPENAI_API_KEY"
    };
    cmd.env(var, key);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Rows for whatever is asked, so that a request that did go out would succeed.
fn rows(n: usize, counter: &AtomicUsize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let i = counter.fetch_add(1, Ordering::SeqCst);
            json!({"name": format!("Person {i}"), "email": format!("p{i}@example.org"), "age": 30})
        })
        .collect()
}

async fn received(model: &FakeModel) -> usize {
    model
        .server
        .received_requests()
        .await
        .map_or(0, |r| r.len())
}

/// Nothing reached the server, the file is byte for byte as it was, and no undo journal
/// was started.
async fn assert_nothing_happened(fx: &Fixture, model: &FakeModel, before: &[u8], run: &Run) {
    let path = fx.path("people.db");
    assert_eq!(received(model).await, 0, "a request reached the server");
    assert_eq!(common::count(&path, "people"), 3);
    assert!(common::bytes(&path) == before, "the database changed");
    assert!(
        !fx.data_dir().join("journal.sqlite").exists(),
        "a journal was written"
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY));
        assert!(!text.contains("7f3e9a2c51d8") && !text.contains("4b81c6d0e2"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_prints_the_openai_request_and_sends_nothing() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| Reply::Rows(rows(ask.rows, &counter))).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(
        &fx,
        &model,
        OPENAI_KEY,
        &["generate", p, "people", "-n", "60", "--show-prompt"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_nothing_happened(&fx, &model, &before, &run).await;

    let out = &run.stdout;
    assert!(
        out.starts_with(&format!(
            "POST {}/v1/chat/completions\nauthorization: Bearer <OPENAI_API_KEY>\ncontent-type: application/json\n",
            model.server.uri()
        )),
        "{out}"
    );
    // The body, pretty-printed: the system prompt with the table, the user message, and
    // the schema as sent.
    let body_text = &out[out.find("\n{\n").unwrap() + 1..out.find("\n}\n").unwrap() + 2];
    let body: Value = serde_json::from_str(body_text).unwrap();
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with(rowsmith::generate::prompt::SYSTEM));
    assert!(system.contains("Table: \"people\""), "{system}");
    assert!(system.contains("email TEXT NOT NULL UNIQUE"), "{system}");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Write exactly 25 new rows."), "{user}");
    let schema = &body["response_format"]["json_schema"];
    assert_eq!(schema["strict"], true);
    let row = &schema["schema"]["properties"]["rows"]["items"]["properties"];
    assert!(
        row.get("email").is_some() && row.get("id").is_none(),
        "{row}"
    );
    assert!(
        out.trim_end().ends_with(&format!(
            "This is request 1 of about 3 to OpenAI gpt-6.1-terra at {}/v1; nothing was sent.",
            model.server.uri()
        )),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_json_is_one_object_with_url_headers_body_and_requests() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let model = FakeModel::openai(|_| Reply::Text("{}".into())).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(
        &fx,
        &model,
        OPENAI_KEY,
        &["generate", p, "people", "--show-prompt", "--json"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_nothing_happened(&fx, &model, &before, &run).await;
    let shown: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(shown["method"], "POST");
    assert_eq!(
        shown["url"],
        format!("{}/v1/chat/completions", model.server.uri())
    );
    assert_eq!(shown["headers"]["authorization"], "Bearer <OPENAI_API_KEY>");
    assert_eq!(shown["requests"], 1);
    assert_eq!(shown["rows_per_request"], 10);
    assert_eq!(shown["sent"], false);
    assert_eq!(shown["table"], "people");
    assert!(
        shown["body"]["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Table: \"people\"")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_prints_the_anthropic_request_and_sends_nothing() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let model = FakeModel::anthropic(|_| Reply::Text("{}".into())).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(
        &fx,
        &model,
        ANTHROPIC_KEY,
        &["generate", p, "people", "--show-prompt"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_nothing_happened(&fx, &model, &before, &run).await;
    let out = &run.stdout;
    assert!(
        out.starts_with(&format!("POST {}/v1/messages\n", model.server.uri())),
        "{out}"
    );
    assert!(out.contains("\nx-api-key: <ANTHROPIC_API_KEY>\n"), "{out}");
    assert!(out.contains("\nanthropic-version: 2023-06-01\n"), "{out}");
    assert!(out.contains("Table: \\\"people\\\""), "{out}");
    assert!(out.contains("\"output_config\""), "{out}");
    assert!(out.contains("nothing was sent."), "{out}");
}

/// The proof of "exactly": with one seed, the request shown is the request a real run
/// sends first (two copies of one database, one shown, one generated into).
#[tokio::test(flavor = "multi_thread")]
async fn a_seeded_show_prompt_is_the_first_request_of_the_seeded_run() {
    let fx = Fixture::new();
    let shown_db = fx.db("people.db", PEOPLE);
    let run_db = fx.db("people-run.db", PEOPLE);
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| Reply::Rows(rows(ask.rows, &counter))).await;
    let args = |db: &std::path::Path| -> Vec<String> {
        ["generate", db.to_str().unwrap(), "people", "-n", "5"]
            .iter()
            .map(|s| s.to_string())
            .chain(["--seed".into(), "7".into()])
            .collect()
    };
    let mut show = args(&shown_db);
    show.extend(["--show-prompt".into(), "--json".into()]);
    let show: Vec<&str> = show.iter().map(String::as_str).collect();
    let shown = rowsmith(&fx, &model, OPENAI_KEY, &show).await;
    assert!(shown.ok, "{}", shown.stderr);
    assert_eq!(received(&model).await, 0);
    let shown: Value = serde_json::from_str(shown.stdout.trim()).unwrap();

    let generate = args(&run_db);
    let generate: Vec<&str> = generate.iter().map(String::as_str).collect();
    let run = rowsmith(&fx, &model, OPENAI_KEY, &generate).await;
    assert!(run.ok, "{}", run.stderr);
    let sent = model.bodies().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(shown["body"], sent[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_on_an_empty_or_missing_table_says_why_in_one_sentence() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let model = FakeModel::openai(|_| Reply::Text("{}".into())).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(
        &fx,
        &model,
        OPENAI_KEY,
        &["generate", p, "empty", "--show-prompt"],
    )
    .await;
    assert!(!run.ok);
    assert_eq!(
        run.stderr.trim(),
        format!("error: {}", rowsmith::generate::job::EMPTY_TABLE)
    );
    assert!(run.stdout.is_empty());
    let run = rowsmith(
        &fx,
        &model,
        OPENAI_KEY,
        &["generate", p, "nope", "--show-prompt"],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("There is no table 'nope'"),
        "{}",
        run.stderr
    );
    assert_eq!(received(&model).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_with_the_offline_generator_says_nothing_is_sent() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let before = common::bytes(&path);
    let model = FakeModel::openai(|_| Reply::Text("{}".into())).await;
    let p = path.to_str().unwrap();
    let run = rowsmith(
        &fx,
        &model,
        OPENAI_KEY,
        &[
            "generate",
            p,
            "people",
            "--provider",
            "offline",
            "--show-prompt",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_nothing_happened(&fx, &model, &before, &run).await;
    assert_eq!(
        run.stdout,
        "The offline generator makes the rows for 'people' on this machine: nothing is sent to any model.\n"
    );
}
