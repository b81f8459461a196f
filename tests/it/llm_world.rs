//! A new user with only an OpenAI key, and separately only an Anthropic key, fills every
//! table of the demo database, a table with 30 nullable columns and a table with 22 foreign
//! keys — against test servers that refuse what the real services refuse
//! (tests/common/services.rs: models, parameters, strict-schema limits, Anthropic's union
//! and optional-parameter limits).
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::Fixture;
use common::model::{FakeModel, Reply, rows_like_samples};

/// The demo database plus the two tables that broke against the real services.
fn world(fx: &Fixture) -> PathBuf {
    let path = fx.path("world.db");
    rowsmith::db::demo::create_demo(&path).unwrap();
    let mut sql = String::from("BEGIN;\n");
    // 30 nullable columns: 30 union-typed parameters for Anthropic (limit 16).
    let cols: Vec<String> = (1..=30).map(|i| format!("note_{i:02} TEXT")).collect();
    let _ = writeln!(
        sql,
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, {});",
        cols.join(", ")
    );
    for r in 0..5 {
        let values: Vec<String> = (1..=30).map(|i| format!("'n{r}-{i}'")).collect();
        let names: Vec<String> = (1..=30).map(|i| format!("note_{i:02}")).collect();
        let _ = writeln!(
            sql,
            "INSERT INTO wide ({}) VALUES ({});",
            names.join(", "),
            values.join(", ")
        );
    }
    // 22 foreign keys with 60 parents each: 22 × 50 offered keys = 1,100 enum values for
    // OpenAI strict mode (limit 1,000).
    let mut fks = Vec::new();
    for t in 1..=22 {
        let _ = writeln!(
            sql,
            "CREATE TABLE parent_{t:02} (id INTEGER PRIMARY KEY, label TEXT NOT NULL);"
        );
        let _ = writeln!(
            sql,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) INSERT INTO parent_{t:02} (label) SELECT 'p' || i FROM n;"
        );
        fks.push(format!(
            "ref_{t:02} INTEGER NOT NULL REFERENCES parent_{t:02} (id)"
        ));
    }
    let _ = writeln!(
        sql,
        "CREATE TABLE hub (id INTEGER PRIMARY KEY, {});",
        fks.join(", ")
    );
    let refs: Vec<String> = (1..=22).map(|t| format!("ref_{t:02}")).collect();
    for r in 1..=5 {
        let values: Vec<String> = (1..=22).map(|_| r.to_string()).collect();
        let _ = writeln!(
            sql,
            "INSERT INTO hub ({}) VALUES ({});",
            refs.join(", "),
            values.join(", ")
        );
    }
    sql.push_str("COMMIT;");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&sql)
        .unwrap();
    path
}

const TABLES: [&str; 6] = [
    "customers",
    "products",
    "orders",
    "order_items",
    "wide",
    "hub",
];

fn fill_every_table(fx: &Fixture, path: &Path, model: &FakeModel, key_var: &str) {
    for table in TABLES {
        let before = common::count(path, table);
        let mut cmd = fx.cmd();
        cmd.args(["generate", path.to_str().unwrap(), table, "-n", "10"]);
        // The fake writes mechanical rows; the realism gate has its own tests (gate.rs).
        cmd.args(["--gate", "constraints"]);
        // Only the key and where the test server listens: the provider and model are the
        // defaults a new user gets.
        for (k, v) in model.env() {
            if k == key_var || k.ends_with("_BASE_URL") {
                cmd.env(k, v);
            }
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{table}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(common::count(path, table), before + 10, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_openai_key_fills_every_table() {
    let fx = Fixture::new();
    let path = world(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_like_samples(ask, &counter))).await;
    fill_every_table(&fx, &path, &model, "OPENAI_API_KEY");
    let bodies = model.bodies().await;
    assert!(bodies.iter().all(|b| b["model"] == "gpt-6.1-terra"));
    // The 22-key table still went out as a strict schema, shrunk to fit.
    assert!(
        bodies
            .iter()
            .all(|b| b["response_format"]["json_schema"]["strict"] == true)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_anthropic_key_fills_every_table() {
    let fx = Fixture::new();
    let path = world(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model =
        FakeModel::anthropic(move |ask| Reply::Rows(rows_like_samples(ask, &counter))).await;
    fill_every_table(&fx, &path, &model, "ANTHROPIC_API_KEY");
    let bodies = model.bodies().await;
    assert!(bodies.iter().all(|b| b["model"] == "claude-haiku-5-5"));
    // The 30-column table fitted structured output without a fallback.
    assert!(bodies.iter().all(|b| b["output_config"].is_object()));
}
