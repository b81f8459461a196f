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

const CONTACTS: &str = "
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  email TEXT,
  phone TEXT,
  street TEXT,
  city TEXT
);";

/// 40 contacts (20 pairs of first and last names used twice, emails and phones of
/// their own); returns the real (first, last), emails, phones and streets.
fn contacts(fx: &Fixture) -> (std::path::PathBuf, Vec<[String; 5]>) {
    let path = fx.db("contacts.db", CONTACTS);
    let conn = Connection::open(&path).unwrap();
    let mut real = Vec::new();
    for i in 0..40usize {
        let row = [
            FIRST[i % 10].to_string(),
            LAST[(i / 10 + i) % 10].to_string(),
            format!(
                "{}{}@mail.example.org",
                FIRST[i % 10].to_lowercase(),
                100 + i
            ),
            format!("(555) 01{}-{:04}", i % 10, 2000 + i * 13),
            format!("{} {} Street", 3 + i * 11, STREETS[i % 5]),
        ];
        conn.execute(
            "INSERT INTO contacts (first_name, last_name, email, phone, street, city)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![row[0], row[1], row[2], row[3], row[4], CITIES[i % 4]],
        )
        .unwrap();
        real.push(row);
    }
    (path, real)
}

/// New rows (id above 40) as (first, last, email, phone, street).
fn new_rows(path: &std::path::Path) -> Vec<[String; 5]> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT first_name, last_name, email, phone, street FROM contacts WHERE id > 40")
        .unwrap();
    stmt.query_map([], |r| {
        Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// No new row reuses a real email, phone (by its digits) or street, or a real person's
/// whole set of identifying values.
fn assert_no_real_person(real: &[[String; 5]], made: &[[String; 5]]) {
    for row in made {
        for person in real {
            assert_ne!(row[2].to_lowercase(), person[2].to_lowercase(), "{row:?}");
            assert_ne!(digits(&row[3]), digits(&person[3]), "{row:?}");
            assert_ne!(row[4].to_lowercase(), person[4].to_lowercase(), "{row:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_copies_a_real_email_phone_or_street_is_turned_away_and_topped_up() {
    let fx = Fixture::new();
    let (path, real) = contacts(&fx);
    let copied = real.clone();
    let counter = AtomicUsize::new(0);
    let model = FakeModel::openai(move |ask| {
        let rows: Vec<serde_json::Value> = (0..ask.rows)
            .map(|_| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let p = &copied[n % copied.len()];
                let mut row = serde_json::json!({
                    "first_name": "Nova", "last_name": format!("Quill{n}"),
                    "email": format!("nova{n}@mail.example.org"),
                    "phone": format!("(555) 02{}-{:04}", n % 10, 7000 + n),
                    "street": format!("{} Orbit Way", 900 + n), "city": "Leeds"
                });
                // The first answer copies: an email in capitals, a phone written
                // another way, a street in lower case.
                match n {
                    0 => row["email"] = p[2].to_uppercase().into(),
                    1 => row["phone"] = digits(&p[3]).into(),
                    2 => row["street"] = p[4].to_lowercase().into(),
                    _ => {}
                }
                row
            })
            .collect();
        Reply::Rows(rows)
    })
    .await;
    let mut cmd = fx.cmd();
    cmd.args([
        "generate",
        path.to_str().unwrap(),
        "contacts",
        "-n",
        "10",
        "--json",
    ]);
    cmd.args(["--gate", "constraints"]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows_added"], 10, "topped up");
    let rejected = &summary["rejected"];
    assert_eq!(
        rejected["email is a real person's email from the table"], 1,
        "{rejected}"
    );
    assert_eq!(
        rejected["phone is a real person's phone number from the table"], 1,
        "{rejected}"
    );
    assert_eq!(
        rejected["street is a real person's street address from the table"], 1,
        "{rejected}"
    );
    let made = new_rows(&path);
    assert_eq!(made.len(), 10);
    assert_no_real_person(&real, &made);
    // The reasons never carry the value.
    assert!(
        !stderr.contains(&real[0][2])
            && !String::from_utf8_lossy(&out.stdout).contains(&real[0][2])
    );
}

#[test]
fn the_offline_generator_never_writes_a_real_person_either() {
    let fx = Fixture::new();
    let (path, real) = contacts(&fx);
    let out = fx
        .cmd()
        .args(["generate", path.to_str().unwrap(), "contacts", "-n", "400"])
        .args([
            "--provider",
            "offline",
            "--seed",
            "3",
            "--json",
            "--gate",
            "constraints",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = new_rows(&path);
    assert_eq!(made.len(), 400);
    assert_no_real_person(&real, &made);
    // Names are recombined from the table's own, but never into a real pair with the
    // rest of a real person's values.
    for row in &made {
        assert!(
            !real
                .iter()
                .any(|p| p[..2] == row[..2] && p[2..] == row[2..]),
            "{row:?}"
        );
    }
}

#[test]
fn a_question_shows_the_model_masked_examples_or_none() {
    use rowsmith::ask::schema::describe_schema;
    use rowsmith::config::Privacy;
    use rowsmith::db::{Database, OpenOptions};
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let db = Database::open(&path, &OpenOptions::read_only()).unwrap();
    let text = |privacy| {
        describe_schema(&*db, &mut common::seeded(4), privacy)
            .unwrap()
            .text
    };
    let real_in = |text: &str| {
        people
            .identities
            .iter()
            .filter(|v| text.contains(v.as_str()))
            .count()
    };
    let samples = text(Privacy::Samples);
    assert!(real_in(&samples) >= 3, "{samples}");
    let masked = text(Privacy::Mask);
    assert_eq!(real_in(&masked), 0, "{masked}");
    assert!(
        CITIES.iter().any(|c| masked.contains(c)),
        "categories stay: {masked}"
    );
    assert!(
        masked.contains("@corp") || masked.contains('@'),
        "emails are still shown, made up: {masked}"
    );
    let schema = text(Privacy::Schema);
    assert_eq!(real_in(&schema), 0);
    assert!(CITIES.iter().all(|c| !schema.contains(c)), "{schema}");
    assert!(
        schema.contains("\"email\""),
        "the columns are still described: {schema}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn show_prompt_shows_the_masked_request_and_sends_nothing() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let mut cmd = fx.cmd();
    cmd.args([
        "generate",
        path.to_str().unwrap(),
        "customers",
        "--show-prompt",
    ]);
    cmd.args(["--privacy", "mask"]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(model.calls(), 0, "nothing is sent");
    assert!(
        stdout.contains("Privacy: mask. Each request sends 11 masked sample rows; made up in them: full_name, email, phone, street, notes."),
        "{stdout}"
    );
    assert!(
        people
            .identities
            .iter()
            .all(|v| !stdout.contains(v.as_str()))
    );
    assert!(CITIES.iter().any(|c| stdout.contains(c)));
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_that_belong_to_a_person_are_masked_however_they_are_stored() {
    let fx = Fixture::new();
    let path = fx.db(
        "bank.db",
        "CREATE TABLE clients (id INTEGER PRIMARY KEY, ssn TEXT, card_number INTEGER, phone INTEGER, tier TEXT);",
    );
    let conn = Connection::open(&path).unwrap();
    let mut real = Vec::new();
    for i in 0..40i64 {
        let ssn = format!("{:03}-{:02}-{:04}", 100 + i, 10 + i, 4000 + i * 17);
        let card = 4_111_111_100_000_000 + i * 7_919;
        let phone = 2_155_550_100 + i * 31;
        conn.execute(
            "INSERT INTO clients (ssn, card_number, phone, tier) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![ssn, card, phone, ["basic", "gold"][i as usize % 2]],
        )
        .unwrap();
        real.extend([ssn, card.to_string(), phone.to_string()]);
    }
    drop(conn);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let mut cmd = fx.cmd();
    cmd.args(["generate", path.to_str().unwrap(), "clients", "-n", "5"]);
    cmd.args(["--privacy", "mask", "--gate", "constraints"]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bodies = sent_any(&model).await;
    for value in &real {
        assert!(!bodies.contains(value.as_str()), "{value} was sent");
    }
    assert!(bodies.contains("gold"), "categories stay");
}

async fn sent_any(model: &FakeModel) -> String {
    let bodies = model.bodies().await;
    assert!(!bodies.is_empty());
    bodies
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A remote service gets masked rows unless told otherwise; seen with --show-prompt, which
/// sends nothing, so the real OpenAI address is safe to name.
#[test]
fn a_remote_service_gets_masked_rows_by_default() {
    let fx = Fixture::new();
    let (path, people) = customers(&fx);
    let out = fx
        .cmd()
        .args([
            "generate",
            path.to_str().unwrap(),
            "customers",
            "--show-prompt",
        ])
        .args(["--provider", "openai"])
        .env("OPENAI_API_KEY", "sk-remote-default-test")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("POST https://api.openai.com/v1/chat/completions"),
        "{stdout}"
    );
    assert!(stdout.contains("Privacy: mask."), "{stdout}");
    assert!(
        people
            .identities
            .iter()
            .all(|v| !stdout.contains(v.as_str()))
    );
}

/// The demo's names come from the same name lists the stand-ins are drawn from: a masked
/// request still shows none of the table's own names, emails, phones or streets. (Seed 1
/// draws a stand-in that is one of the demo's names when stand-ins do not avoid them.)
#[tokio::test(flavor = "multi_thread")]
async fn stand_ins_avoid_every_value_the_table_holds() {
    let fx = Fixture::new();
    let demo = fx.cmd().arg("demo").output().unwrap();
    let path = String::from_utf8_lossy(&demo.stdout).trim().to_string();
    let conn = Connection::open(&path).unwrap();
    let mut real: Vec<(String, String)> = Vec::new();
    for column in ["first_name", "last_name", "email", "phone", "street"] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT DISTINCT {column} FROM customers WHERE {column} IS NOT NULL"
            ))
            .unwrap();
        let values: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        real.extend(values.into_iter().map(|v| (column.to_string(), v)));
    }
    drop(conn);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let mut cmd = fx.cmd();
    cmd.args([
        "generate",
        &path,
        "customers",
        "-n",
        "30",
        "--privacy",
        "mask",
        "--gate",
        "constraints",
        "--seed",
        "1",
    ]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    // The test model's rows break the demo's CHECKs: only what was sent matters here.
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let bodies: Vec<String> = model
        .bodies()
        .await
        .iter()
        .flat_map(|b| b["messages"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["content"].as_str().map(str::to_string))
        .collect();
    assert!(bodies.len() >= 2);
    let text = bodies.join("\n");
    for (column, value) in &real {
        let field = format!("\"{column}\":{}", serde_json::to_string(value).unwrap());
        assert!(!text.contains(&field), "{field} was sent");
    }
}
