//! What leaves the machine: the request bodies a test server records hold no real
//! identifying value under `mask` and no value of any row under `schema`; a server on this
//! machine gets the rows as they are unless told otherwise.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::Fixture;
use common::model::{FakeModel, Reply, rows_from_schema};
use rusqlite::Connection;

const SCHEMA: &str = "
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  full_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  street TEXT,
  city TEXT NOT NULL,
  tier TEXT NOT NULL CHECK (tier IN ('free', 'pro', 'team')),
  signed_up TEXT NOT NULL,
  notes TEXT
);";

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Radia",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
    "Perlman",
];
const CITIES: &[&str] = &["Lisbon", "Osaka", "Denver", "Leeds"];
const STREETS: &[&str] = &[
    "Babbage",
    "Analytical",
    "Difference",
    "Jacquard",
    "Hollerith",
];

/// Identifying values of the real rows: names, emails, phones, streets, notes.
struct People {
    identities: Vec<String>,
}

fn customers(fx: &Fixture) -> (std::path::PathBuf, People) {
    let path = fx.db("shop.db", SCHEMA);
    let conn = Connection::open(&path).unwrap();
    let mut identities = Vec::new();
    for i in 0..40usize {
        let (first, last) = (FIRST[i % 10], LAST[(i * 3 + i / 10) % 10]);
        let name = format!("{first} {last}");
        let email = format!(
            "{}.{}{i}@corp-mail.net",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let phone = format!("+1 555-{:03}-{:04}", 100 + i, 1000 + i * 37);
        let street = format!("{} {} Street", 10 + i * 7, STREETS[i % 5]);
        let notes = format!(
            "Called {first} on a Tuesday about invoice {} and the renewal.",
            9000 + i
        );
        conn.execute(
            "INSERT INTO customers (full_name, email, phone, street, city, tier, signed_up, notes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                name,
                email,
                phone,
                street,
                CITIES[i % 4],
                ["free", "pro", "team"][i % 3],
                format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                notes
            ],
        )
        .unwrap();
        identities.extend([name, email, phone, street, notes]);
    }
    (path, People { identities })
}

/// Runs `generate -n 80` in requests of 20 rows; `config` adds to the `[generate]` section.
async fn generate(
    fx: &Fixture,
    model: &FakeModel,
    path: &std::path::Path,
    extra: &[&str],
    config: &str,
) -> String {
    let file = fx.path("rowsmith.toml");
    std::fs::write(&file, format!("[generate]\nbatch_size = 20\n{config}")).unwrap();
    let mut cmd = fx.cmd();
    cmd.args(["generate", path.to_str().unwrap(), "customers", "-n", "80"]);
    cmd.args(["--config", file.to_str().unwrap(), "--gate", "constraints"]);
    cmd.args(extra);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
}

async fn sent(model: &FakeModel) -> String {
    let bodies = model.bodies().await;
    assert!(bodies.len() >= 4, "{} requests", bodies.len());
    bodies
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn under_mask_no_real_name_email_phone_street_or_note_is_sent() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let stderr = generate(&fx, &model, &path, &["--privacy", "mask"], "").await;
    let bodies = sent(&model).await;
    for value in &people.identities {
        // As JSON puts it inside a string: quotes and all.
        let shown = serde_json::to_string(value).unwrap();
        assert!(
            !bodies.contains(shown.trim_matches('"')),
            "{value} was sent"
        );
    }
    // Sample rows are still there, masked: cities, tiers and dates as they are.
    assert!(bodies.contains("masked") || bodies.contains("Random existing rows"));
    assert!(CITIES.iter().all(|c| bodies.contains(c)), "categories stay");
    assert!(bodies.contains("2024-"), "dates stay");
    assert!(
        stderr.contains("each request sends 11 masked sample rows"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn under_schema_no_value_of_any_row_is_sent() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let stderr = generate(&fx, &model, &path, &["--privacy", "schema"], "").await;
    let bodies = sent(&model).await;
    for value in people.identities.iter().chain(
        CITIES
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let shown = serde_json::to_string(value).unwrap();
        assert!(
            !bodies.contains(shown.trim_matches('"')),
            "{value} was sent"
        );
    }
    // The tiers are in the schema's CHECK, so they may be; the rows and their dates not.
    assert!(!bodies.contains("Random existing rows"));
    assert!(bodies.contains("No existing rows are shown"));
    assert!(
        stderr.contains("each request sends no rows (schema only)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_on_this_machine_gets_the_rows_as_they_are_by_default() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let stderr = generate(&fx, &model, &path, &[], "").await;
    let bodies = sent(&model).await;
    let real = people
        .identities
        .iter()
        .filter(|v| bodies.contains(v.as_str()))
        .count();
    assert!(real >= 11, "only {real} real values in the samples");
    assert!(
        stderr.contains("each request sends 11 sample rows"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_config_file_sets_the_privacy() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    generate(&fx, &model, &path, &[], "privacy = \"mask\"\n").await;
    let bodies = sent(&model).await;
    assert!(
        people
            .identities
            .iter()
            .all(|v| !bodies.contains(v.as_str()))
    );
}
