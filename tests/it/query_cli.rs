//! `rowsmith query` as a user runs it: plain language through a local server
//! playing the model, typed SQL, the three output formats, the row cap, the
//! SQL on stderr, the history, and the message when no LLM is configured.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::{Arc, Mutex};

use common::Fixture;
use common::model::{FakeModel, Reply};
use rowsmith::ask::history::History;
use serde_json::{Value, json};

const SHOP: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT,
  email TEXT UNIQUE
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES people(id),
  total REAL
);
INSERT INTO people (name, state, email) VALUES
  ('Ada Lovelace', 'TX', 'ada@example.com'),
  ('Grace Hopper', 'NY', 'grace@example.com'),
  ('Alan Turing', 'TX', NULL),
  ('Edsger Dijkstra', 'TX', 'edsger@example.com');
INSERT INTO orders (person_id, total) VALUES (1, 10.5), (1, 20), (2, 7.25);
";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn rowsmith(fx: &Fixture, model: Option<&FakeModel>, args: &[&str]) -> Run {
    let mut cmd = fx.cmd();
    cmd.args(args);
    if let Some(model) = model {
        for (k, v) in model.env() {
            cmd.env(k, v);
        }
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn texans_answer() -> Reply {
    Reply::Text(
        json!({
            "sql": "SELECT name, email FROM people WHERE state = 'TX' ORDER BY name",
            "explanation": "People whose state is Texas, by name."
        })
        .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_becomes_sql_that_runs_with_the_schema_in_the_prompt() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let before = common::bytes(&db);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let model = FakeModel::openai(move |ask| {
        log.lock().unwrap().push(ask.prompt.clone());
        texans_answer()
    })
    .await;
    let db_arg = db.to_str().unwrap();
    let run = rowsmith(
        &fx,
        Some(&model),
        &["query", db_arg, "show me all users in Texas"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        [
            "name             email",
            "Ada Lovelace     ada@example.com",
            "Alan Turing      NULL",
            "Edsger Dijkstra  edsger@example.com",
            "",
        ]
        .join("\n")
    );
    assert_eq!(
        run.stderr,
        "-- People whose state is Texas, by name.\n\
         SELECT name, email FROM people WHERE state = 'TX' ORDER BY name\n\
         -- 3 rows.\n"
    );

    // The request carried the schema: tables, columns with types and keys,
    // the foreign key, example values, and the question.
    let prompt = seen.lock().unwrap()[0].clone();
    for part in [
        "Table \"people\"",
        "\"id\" INTEGER PRIMARY KEY",
        "\"name\" TEXT NOT NULL",
        "\"state\" TEXT",
        "\"email\" TEXT UNIQUE",
        "Table \"orders\"",
        "foreign key (\"person_id\") references \"people\" (\"id\")",
        "\"TX\"",
        "Question: \"show me all users in Texas\"",
    ] {
        assert!(prompt.contains(part), "missing {part:?} in:\n{prompt}");
    }
    let body = &model.bodies().await[0];
    let schema = &body["response_format"]["json_schema"]["schema"];
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, vec!["explanation", "sql"]);
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(system.contains("read-only"), "{system}");

    // The history remembers the question and the SQL it became.
    let history = History::open(&fx.data_dir().join("history.sqlite")).unwrap();
    let recent = history.recent(&db, 10).unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].input, "show me all users in Texas");
    assert_eq!(
        recent[0].sql,
        "SELECT name, email FROM people WHERE state = 'TX' ORDER BY name"
    );
    assert_eq!(common::bytes(&db), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn anthropic_answers_work_the_same_way() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let model = FakeModel::anthropic(|_| texans_answer()).await;
    let run = rowsmith(
        &fx,
        Some(&model),
        &[
            "query",
            db.to_str().unwrap(),
            "who lives in Texas?",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "name,email\nAda Lovelace,ada@example.com\nAlan Turing,\nEdsger Dijkstra,edsger@example.com\n"
    );
    assert_eq!(model.calls(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_only_prints_the_sql_and_runs_nothing() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    // Passes the gate, but fails if it ever runs (integer overflow).
    let model = FakeModel::openai(|_| {
        Reply::Text(
            json!({"sql": "SELECT abs(-9223372036854775807 - 1) AS boom", "explanation": "Boom."})
                .to_string(),
        )
    })
    .await;
    let db_arg = db.to_str().unwrap();
    let run = rowsmith(&fx, Some(&model), &["query", db_arg, "boom", "--sql-only"]).await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "SELECT abs(-9223372036854775807 - 1) AS boom\n");
    let run = rowsmith(&fx, Some(&model), &["query", db_arg, "boom"]).await;
    assert!(!run.ok);
    assert!(
        run.stderr
            .ends_with("error: SQLite could not run the query: integer overflow.\n"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_cannot_answer_says_why() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let model = FakeModel::openai(|_| {
        Reply::Text(json!({"sql": "", "explanation": "There is no salary column"}).to_string())
    })
    .await;
    let run = rowsmith(
        &fx,
        Some(&model),
        &["query", db.to_str().unwrap(), "average salary?"],
    )
    .await;
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        "error: The model could not write a query for this question: There is no salary column.\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_llm_questions_explain_how_to_configure_one_and_sql_still_works() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let db_arg = db.to_str().unwrap();
    let run = rowsmith(&fx, None, &["query", db_arg, "show me all users in Texas"]).await;
    assert!(!run.ok);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    for part in [
        "error: Plain-language questions need an LLM, and none is configured.",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "--provider compatible --base-url URL --model NAME",
    ] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            "show me all users",
            "--provider",
            "offline",
        ],
    )
    .await;
    assert!(
        run.stderr.contains("the provider is set to offline"),
        "{}",
        run.stderr
    );

    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            "select count(*) AS n from people where state = 'TX'",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "n\n3\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn formats_limits_and_the_configured_cap() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let db_arg = db.to_str().unwrap();
    let sql = "SELECT p.id, p.name, p.email, o.total, o.id FROM people p LEFT JOIN orders o ON o.person_id = p.id ORDER BY p.id, o.id";

    let run = rowsmith(&fx, None, &["query", db_arg, sql, "--format", "json"]).await;
    assert!(run.ok, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert_eq!(
        rows[0],
        json!({"id": 1, "name": "Ada Lovelace", "email": "ada@example.com", "total": 10.5, "id_2": 1})
    );
    assert_eq!(rows[4]["total"], Value::Null);
    // Keys come in column order.
    assert!(
        run.stdout
            .contains(r#"{"id":1,"name":"Ada Lovelace","email""#)
    );
    assert_eq!(run.stderr, format!("{sql}\n-- 5 rows.\n"));

    let run = rowsmith(&fx, None, &["query", db_arg, sql, "--limit", "2"]).await;
    assert!(run.ok);
    assert_eq!(run.stdout.lines().count(), 3, "header and two rows");
    assert!(
        run.stderr
            .contains("-- Showing the first 2 rows; the result has more."),
        "{}",
        run.stderr
    );

    let config = fx.path("rowsmith.toml");
    std::fs::write(&config, "[query]\nrow_limit = 3\n").unwrap();
    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            sql,
            "--format",
            "csv",
            "--config",
            config.to_str().unwrap(),
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 4, "header and three rows");
    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            sql,
            "--format",
            "json",
            "--limit",
            "0",
            "--config",
            config.to_str().unwrap(),
        ],
    )
    .await;
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5, "--limit 0 prints all");

    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            "SELECT * FROM people WHERE 0",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(run.stdout, "[]\n");

    // CSV on stdout is the dialect of every export: NULL empty, empty text `""`.
    let run = rowsmith(
        &fx,
        None,
        &[
            "query",
            db_arg,
            "SELECT NULL AS missing, '' AS empty, 1.0 AS one",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "missing,empty,one\n,\"\",1.0\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn typed_text_that_is_not_sql_gets_a_hint() {
    let fx = Fixture::new();
    let db = fx.db("shop.db", SHOP);
    let run = rowsmith(
        &fx,
        None,
        &["query", db.to_str().unwrap(), "Analyze sales by region"],
    )
    .await;
    assert!(!run.ok);
    assert_eq!(
        run.stderr,
        "error: SQLite could not run the query: near \"by\": syntax error. To ask in plain language instead, start the text with '?'.\n"
    );
}
