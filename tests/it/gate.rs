//! The realism gate: rows that break what the table always keeps never land, the model is
//! told why, and a model that keeps writing such rows is stopped early. The test server
//! answers with degenerate rows of each kind a small real model writes.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::model::{FakeModel, Reply};
use common::{Fixture, count, open_rw};
use rowsmith::db::profile::ProfileOptions;
use rowsmith::generate::gate::{Existing, Gate};
use rowsmith::generate::plan::Plan;
use rusqlite::types::Value;
use serde_json::{Value as Json, json};

const FIRST: [&str; 12] = [
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances", "Ken", "Radia",
    "Edsger", "Hedy",
];
const LAST: [&str; 11] = [
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie", "Allen",
    "Thompson", "Perlman", "Dijkstra",
];
const CITIES: [(&str, &str); 6] = [
    ("Austin", "TX"),
    ("Dallas", "TX"),
    ("Denver", "CO"),
    ("Boston", "MA"),
    ("Seattle", "WA"),
    ("Portland", "OR"),
];
const TIERS: [&str; 3] = ["gold", "silver", "bronze"];

/// Row `i` of the customers table: every rule the gate learns holds in these rows.
fn customer(i: usize) -> Json {
    let (city, state) = CITIES[i % 6];
    json!({
        "name": format!("{} {}", FIRST[i % 12], LAST[i % 11]),
        "email": format!("{}.{}@example.com", FIRST[i % 12].to_lowercase(), LAST[i % 11].to_lowercase()),
        "address": format!("{} Main St", i + 1),
        "city": city,
        "state": state,
        "phone": format!("(215) 555-{:04}", 1000 + i),
        "birth_date": format!("19{}-0{}-1{}", 60 + i % 40, 1 + i % 9, i % 9),
        "signup_date": format!("2021-0{}-2{}", 1 + i % 9, i % 9),
        "tier": TIERS[(i / 6) % 3],
    })
}

fn customers_db(fx: &Fixture) -> std::path::PathBuf {
    let path = fx.db(
        "shop.db",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, address TEXT, city TEXT,
           state TEXT, phone TEXT, birth_date TEXT, signup_date TEXT, tier TEXT);",
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    for i in 0..60 {
        let c = customer(i);
        let cols = [
            "name",
            "email",
            "address",
            "city",
            "state",
            "phone",
            "birth_date",
            "signup_date",
            "tier",
        ];
        let values: Vec<String> = cols
            .iter()
            .map(|k| c[k].as_str().unwrap().to_string())
            .collect();
        conn.execute(
            "INSERT INTO customers (name, email, address, city, state, phone, birth_date, signup_date, tier)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params_from_iter(values),
        )
        .unwrap();
    }
    path
}

/// The degenerate row a small model wrote into a real customer table, again and again.
fn degenerate() -> Json {
    json!({"name": "John Doe", "email": "email@google.com", "address": null, "city": null,
           "state": null, "phone": null, "birth_date": "2023-01-01", "signup_date": "2021-01-01", "tier": "gold"})
}

async fn run(fx: &Fixture, model: &FakeModel, args: &[&str]) -> std::process::Output {
    let mut cmd = fx.cmd();
    cmd.args(args);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Every row added after the first 60 keeps the table's rules.
fn assert_no_degenerate_row(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let bad: i64 = conn
        .query_row(
            "SELECT count(*) FROM customers WHERE id > 60 AND (address IS NULL OR address = '' OR city IS NULL
               OR phone NOT GLOB '([0-9][0-9][0-9]) [0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]' OR email NOT LIKE '%@%'
               OR birth_date > signup_date OR tier NOT IN ('gold', 'silver', 'bronze')
               OR (city = 'Dallas' AND state <> 'TX'))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0, "a degenerate row landed");
    let repeated: i64 = conn
        .query_row(
            "SELECT count(*) - count(DISTINCT email) FROM customers",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(repeated, 0, "an email repeats");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_repeats_one_degenerate_row_lands_nothing_and_is_stopped_early() {
    let fx = Fixture::new();
    let path = customers_db(&fx);
    let model = FakeModel::openai(|ask| Reply::Rows(vec![degenerate(); ask.rows])).await;
    let p = path.to_str().unwrap();
    let out = run(&fx, &model, &["generate", p, "customers", "-n", "10"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(count(&path, "customers"), 60, "nothing landed");
    assert!(
        stderr.contains("Stopped early after 3 model requests"),
        "{stderr}"
    );
    assert!(
        stderr.contains("try a larger model, or the offline generator"),
        "{stderr}"
    );
    assert!(model.calls() <= 4, "bounded: {} requests", model.calls());

    // SQLite alone would have taken them: the setting restores that.
    let out = run(
        &fx,
        &model,
        &[
            "generate",
            p,
            "customers",
            "-n",
            "10",
            "--gate",
            "constraints",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&path, "customers"), 70);
}

#[tokio::test(flavor = "multi_thread")]
async fn half_good_answers_give_exactly_the_good_rows_and_the_model_hears_why() {
    let fx = Fixture::new();
    let path = customers_db(&fx);
    let next = Arc::new(AtomicUsize::new(100));
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let (n, seen) = (next.clone(), prompts.clone());
    // Each answer: good new rows and bad ones in turn — a NULL address, a phone of
    // another shape, an email that is not one, Dallas in Colorado, a sign-up in 1950.
    let model = FakeModel::openai(move |ask| {
        seen.lock().unwrap().push(ask.prompt.clone());
        let rows = (0..ask.rows)
            .map(|k| {
                let i = n.fetch_add(1, Ordering::SeqCst);
                let mut row = customer(i);
                row["address"] = json!(format!("{} Main St", 61 + i % 39));
                let bad = (k % 2 == 0).then_some((i / 2) % 5);
                match bad {
                    Some(0) => row["address"] = Json::Null,
                    Some(1) => row["phone"] = json!("(1200) 793-4837"),
                    Some(2) => row["email"] = json!("not an email"),
                    Some(3) => {
                        row["city"] = json!("Dallas");
                        row["state"] = json!("CO");
                    }
                    Some(_) => row["signup_date"] = json!("1950-01-01"),
                    None => {}
                }
                row
            })
            .collect();
        Reply::Rows(rows)
    })
    .await;
    let p = path.to_str().unwrap();
    let out = run(
        &fx,
        &model,
        &["generate", p, "customers", "-n", "12", "--json"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
    assert_eq!(summary["rows_added"], 12, "{stderr} {summary}");
    assert_eq!(count(&path, "customers"), 72);
    assert_no_degenerate_row(&path);
    let rejected = summary["rejected"].as_object().cloned().unwrap_or_default();
    for reason in [
        "address is NULL, but is never NULL in the data",
        "phone does not have the shape of the data ((999) 999-9999)",
        "email is not an email address like the data",
        "state does not go with city as in the data",
        "signup_date is far outside the data's dates (2021-01-20 to 2021-09-28)",
    ] {
        assert!(rejected.contains_key(reason), "{reason}: {rejected:?}");
    }
    let prompts = prompts.lock().unwrap();
    assert!(prompts.len() >= 2, "topped up");
    assert!(
        prompts[1].contains("Rows of earlier answers were rejected because:")
            && prompts[1].contains("address is NULL, but is never NULL in the data"),
        "{}",
        prompts[1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_what_the_gate_turned_away_and_why() {
    let fx = Fixture::new();
    let path = customers_db(&fx);
    let next = Arc::new(AtomicUsize::new(100));
    let model = FakeModel::openai(move |ask| {
        let rows = (0..ask.rows)
            .map(|k| {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let mut row = customer(i);
                row["address"] = json!(format!("{} Main St", 61 + i % 39));
                if k % 2 == 0 {
                    row["birth_date"] = json!("2023-05-01");
                }
                row
            })
            .collect();
        Reply::Rows(rows)
    })
    .await;
    let p = path.to_str().unwrap();
    let out = run(
        &fx,
        &model,
        &["generate", p, "customers", "-n", "3", "--dry-run", "--json"],
    )
    .await;
    let summary: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows_added"], 3);
    let gated = summary["rejected_rows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!gated.is_empty(), "{summary}");
    assert!(
        gated.iter().all(|g| g["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("birth_date '2023-05-01' is far outside"))
            && g["row"]["birth_date"] == "2023-05-01"),
        "{gated:?}"
    );
    assert_eq!(count(&path, "customers"), 60, "a dry run writes nothing");
    let out = run(
        &fx,
        &model,
        &["generate", p, "customers", "-n", "3", "--dry-run"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("The realism gate turned away"), "{stderr}");
    assert!(
        stderr.contains("✗ birth_date '2023-05-01' is far outside"),
        "{stderr}"
    );
}

/// Each rule the gate learns from the table, one row breaking it at a time.
#[test]
fn each_learned_rule_rejects_with_its_reason() {
    let fx = Fixture::new();
    let path = customers_db(&fx);
    let db = open_rw(&path);
    let info = db.table_info("customers").unwrap();
    let plan = Plan::new(&info);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let profile = db
        .profile_table(&info, &ProfileOptions::default(), &mut rng)
        .unwrap();
    let rows = db
        .sample_columns(&info, &plan.column_names(), 1000, &mut rng)
        .unwrap();
    let gate = Gate::learn(
        &plan,
        &profile,
        &rows.rows,
        Existing::learn(&plan, &profile, &rows.rows),
    );
    let candidate = |row: &Json| -> Vec<Option<Value>> {
        plan.columns
            .iter()
            .map(|c| match &row[&c.name] {
                Json::Null => Some(Value::Null),
                Json::String(s) => Some(Value::Text(s.clone())),
                other => Some(Value::Text(other.to_string())),
            })
            .collect()
    };
    let good = || {
        let mut row = customer(70);
        row["address"] = json!("70 Main St");
        row
    };
    let mut g = gate;
    assert_eq!(
        g.check(&plan, &candidate(&good())),
        Ok(()),
        "a good row passes"
    );
    let cases: Vec<(&str, Json, &str)> = vec![
        (
            "name",
            json!("Ada Lovelace"),
            "name is already in the table",
        ),
        (
            "tier",
            json!("platinum"),
            "tier is not one of the data's values",
        ),
        (
            "birth_date",
            json!("2023-01-01"),
            "birth_date is far outside the data's dates",
        ),
        (
            "address",
            json!(""),
            "address is empty, but is never empty in the data",
        ),
        (
            "city",
            json!("Denver"),
            "state does not go with city as in the data",
        ),
    ];
    for (column, value, reason) in cases {
        let mut row = customer(71);
        row["address"] = json!("71 Main St");
        row[column] = value;
        let rejection = g
            .check(&plan, &candidate(&row))
            .expect_err(&format!("{column} breaks a rule"));
        assert!(
            rejection.reason.starts_with(reason),
            "{column}: {rejection:?}"
        );
    }
    // The good row again: a repeat of a new row.
    let repeat = g.check(&plan, &candidate(&good())).expect_err("a repeat");
    assert!(
        repeat.reason.contains("repeats another new row"),
        "{repeat:?}"
    );
}

use rand::SeedableRng;

/// A column of one sentence template (`note number 12 about …`) is text, not a format:
/// the offline generator writes new sentences and the gate lets them land. Found on a
/// 60-table database, where 20,000 rows stopped early at 11,805.
#[test]
fn a_templated_sentence_is_text_not_a_format() {
    let fx = Fixture::new();
    let path = fx.db(
        "notes.db",
        "CREATE TABLE ledger (id INTEGER PRIMARY KEY, account_email TEXT NOT NULL, note TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59)
         INSERT INTO ledger (account_email, note)
           SELECT 'user' || i || '@example.com',
                  'note number ' || i || ' about the account and its very long billing history text'
           FROM n;",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rowsmith"))
        .args(["generate", path.to_str().unwrap(), "ledger", "-n", "2000"])
        .args(["--provider", "offline", "--seed", "7"])
        .env("ROWSMITH_DATA_DIR", fx.data_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("does not have the shape"), "{stderr}");
    assert_eq!(count(&path, "ledger"), 2060);
}
