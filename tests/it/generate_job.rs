//! The generation job through the library: its events, batching, failure in
//! the middle of a run, cancellation, and two processes racing.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use common::Fixture;
use common::model::{FakeModel, Reply, rows_from_schema};
use rowsmith::generate::gate::GateMode;
use rowsmith::generate::job::{
    Event, GenerateError, GenerateRequest, Outcome, Source, Stage, failure_sentence, spawn,
};
use rowsmith::llm::{Client, ProviderKind, Settings};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const PEOPLE: &str = "
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, age INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO people (name, email, age) SELECT 'Person ' || i, 'p' || i || '@example.com', 20 + i % 50 FROM n;
";

fn client(model: &FakeModel) -> Source {
    let mut settings = Settings::new(
        ProviderKind::OpenAi,
        "gpt-6.1-terra",
        format!("{}/v1", model.server.uri()),
    );
    settings = settings.with_api_key("sk-test");
    Source::Llm(Client::new(settings).unwrap())
}

fn request(
    fx: &Fixture,
    path: &std::path::Path,
    rows: u64,
    batch: usize,
    concurrency: usize,
) -> GenerateRequest {
    let mut r = GenerateRequest::new(path, "people", rows);
    r.batch_size = batch;
    r.concurrency = concurrency;
    r.journal_path = Some(fx.data_dir().join("journal.sqlite"));
    // These tests are about the job's mechanics with a fake that writes mechanical rows;
    // the realism gate has its own tests (gate.rs).
    r.gate = GateMode::Constraints;
    r
}

async fn collect(
    request: GenerateRequest,
    source: Source,
    cancel: CancellationToken,
) -> Vec<Event> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = spawn(request, source, tx, cancel);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    job.await.unwrap();
    events
}

fn outcome(events: &[Event]) -> &Outcome {
    let finished: Vec<&Outcome> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finished(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 1, "exactly one Finished event");
    assert!(
        matches!(events.last(), Some(Event::Finished(_))),
        "Finished comes last"
    );
    finished[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn events_tell_the_whole_story_in_order() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let events = collect(
        request(&fx, &path, 10, 25, 1),
        client(&model),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(events[0], Event::Stage(Stage::Sampling));
    assert_eq!(
        events[1],
        Event::Started {
            table: "people".into(),
            provider: "openai".into(),
            model: "gpt-6.1-terra".into(),
            rows: 10,
            // The test server is on 127.0.0.1: the rows stay on this machine, as they are.
            sending: Some("11 sample rows".into()),
        }
    );
    // The cost estimate comes before the first request.
    let Event::Estimate(estimate) = &events[2] else {
        panic!("{:?}", events[2]);
    };
    assert_eq!(estimate.requests, 1);
    assert!(estimate.input_tokens > 0 && estimate.cost_usd.is_some());
    assert_eq!(events[3], Event::Stage(Stage::AskingModel { request: 1 }));
    assert!(events.contains(&Event::RowsReceived { rows: 10 }));
    assert!(events.contains(&Event::Stage(Stage::Validating)));
    assert!(events.contains(&Event::Stage(Stage::Inserting)));
    assert!(events.contains(&Event::RowsAccepted {
        rows: 10,
        total: 10
    }));
    match outcome(&events) {
        Outcome::Done(s) => {
            assert_eq!((s.rows_added, s.new_row_count), (10, 110));
            assert_eq!(
                s.sentence(),
                "Generated 10 rows for table 'people'. New total: 110 rows."
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn large_requests_run_in_batches_with_fresh_samples() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let events = collect(
        request(&fx, &path, 95, 20, 3),
        client(&model),
        CancellationToken::new(),
    )
    .await;
    assert!(matches!(outcome(&events), Outcome::Done(s) if s.rows_added == 95));
    assert_eq!(common::count(&path, "people"), 195);
    let bodies = model.bodies().await;
    assert_eq!(bodies.len(), 5, "95 rows in batches of 20");
    let prompts: Vec<String> = bodies
        .iter()
        .map(|b| b["messages"][1]["content"].as_str().unwrap().to_string())
        .collect();
    let mut asked: Vec<usize> = prompts
        .iter()
        .map(|p| {
            p.split("Write exactly ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    asked.sort();
    assert_eq!(asked, vec![15, 20, 20, 20, 20]);
    let fresh: std::collections::HashSet<String> = prompts
        .iter()
        .map(|p| {
            p.split("More random existing rows")
                .nth(1)
                .unwrap()
                .split("Write exactly")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(fresh.len() >= 4, "each request shows its own fresh rows");
    // The instructions, table, profile and anchor rows are the same bytes every time, so the
    // providers' prompt caches can reuse them.
    let prefixes: std::collections::HashSet<&str> = bodies
        .iter()
        .map(|b| b["messages"][0]["content"].as_str().unwrap())
        .collect();
    assert_eq!(prefixes.len(), 1, "one static prefix for the whole run");
    assert!(
        prefixes
            .iter()
            .all(|p| p.contains("Random existing rows (8 of 100)"))
    );
    // One operation in the journal: undo removes all 95.
    let journal = fx.journal();
    let mut db = common::open_rw(&path);
    let out = rowsmith::db::undo::undo_last(db.sqlite_mut().unwrap(), &journal, None).unwrap();
    assert_eq!(out.removed, 95);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_failure_mid_run_keeps_only_whole_committed_batches() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| {
        if ask.call == 2 {
            Reply::Status(401, json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}))
        } else {
            Reply::Rows(rows_from_schema(ask, &counter))
        }
    })
    .await;
    let events = collect(
        request(&fx, &path, 100, 20, 1),
        client(&model),
        CancellationToken::new(),
    )
    .await;
    match outcome(&events) {
        Outcome::Failed { error, kept } => {
            assert_eq!(*kept, 40);
            assert!(matches!(error, GenerateError::Provider(_)), "{error:?}");
            assert_eq!(
                failure_sentence(error, *kept),
                "OpenAI rejected the API key (HTTP 401). Check OPENAI_API_KEY. Kept the 40 rows already added."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(common::count(&path, "people"), 140);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_stops_at_once_and_keeps_whole_batches_only() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model =
        FakeModel::slow_openai(400, move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = spawn(
        request(&fx, &path, 200, 20, 1),
        client(&model),
        tx,
        cancel.clone(),
    );
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        // Cancel as soon as the first batch is in, while the second is being asked for.
        if matches!(e, Event::RowsAccepted { total: 20, .. }) {
            cancel.cancel();
        }
        events.push(e);
    }
    tokio::time::timeout(Duration::from_secs(5), job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome(&events), &Outcome::Cancelled { kept: 20 });
    assert_eq!(common::count(&path, "people"), 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_generating_into_one_table_both_succeed() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &counter))).await;
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = fx.cmd();
            cmd.args(["generate", path.to_str().unwrap(), "people", "-n", "30"]);
            cmd.args(["--gate", "constraints"]);
            for (k, v) in model.env() {
                cmd.env(k, v);
            }
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
        })
        .collect();
    for run in runs {
        let out = run.await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .starts_with("Generated 30 rows for table 'people'.")
        );
    }
    assert_eq!(common::count(&path, "people"), 160);
}

/// The model writes keys in schema order, so the schema, the sample rows and
/// the preview must follow the table's own column order, not A to Z: an email
/// is built from names written before it, a city after its country.
#[tokio::test(flavor = "multi_thread")]
async fn columns_keep_the_table_order_everywhere() {
    let fx = Fixture::new();
    let path = fx.db(
        "order.db",
        "CREATE TABLE customer (id INTEGER PRIMARY KEY, LastName TEXT, FirstName TEXT, Email TEXT, Country TEXT, City TEXT, Address TEXT);
         INSERT INTO customer (LastName, FirstName, Email, Country, City, Address) VALUES
           ('Smith', 'Ann', 'ann.smith@example.com', 'USA', 'Boston', '1 Main St'),
           ('Jones', 'Bob', 'bob.jones@example.com', 'Canada', 'Toronto', '2 King St');",
    );
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let model = FakeModel::openai(move |ask| Reply::Rows(rows_from_schema(ask, &c))).await;
    let mut r = request(&fx, &path, 2, 2, 1);
    r.table = "customer".into();
    r.dry_run = true;
    let events = collect(r, client(&model), CancellationToken::new()).await;
    let Outcome::Done(summary) = outcome(&events) else {
        panic!("{:?}", outcome(&events));
    };
    let order = [
        "LastName",
        "FirstName",
        "Email",
        "Country",
        "City",
        "Address",
    ];
    let body = &model.bodies().await[0];
    let schema = &body["response_format"]["json_schema"]["schema"]["properties"]["rows"]["items"];
    let keys: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, order, "schema properties");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(required, order, "required list");
    let prompt = body["messages"].to_string();
    let sample = prompt
        .find(r#"{\"LastName\":\"Smith\",\"FirstName\":\"Ann\",\"Email\""#)
        .or_else(|| prompt.find(r#"{\"LastName\":\"Jones\",\"FirstName\":\"Bob\",\"Email\""#));
    assert!(sample.is_some(), "sample rows in table order: {prompt}");
    let preview: Vec<&str> = summary.preview[0].keys().map(String::as_str).collect();
    assert_eq!(preview, order, "preview");
}

/// A low rate-limit tier: the service takes two requests per 100 ms and answers 429 to the
/// rest. The run slows down, says so, and finishes instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_run_slows_down_and_finishes() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let counter = Arc::new(AtomicUsize::new(0));
    let window = Arc::new(std::sync::Mutex::new((std::time::Instant::now(), 0u32)));
    let refused = Arc::new(AtomicUsize::new(0));
    let seen = refused.clone();
    let model = FakeModel::openai(move |ask| {
        let mut w = window.lock().unwrap();
        if w.0.elapsed() > Duration::from_millis(100) {
            *w = (std::time::Instant::now(), 0);
        }
        if w.1 >= 2 {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Reply::Status(
                429,
                json!({"error": {"message": "Rate limit reached for gpt-6.1-terra on requests per min (RPM): Limit 600, Used 600, Requested 1.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
            );
        }
        w.1 += 1;
        Reply::Rows(rows_from_schema(ask, &counter))
    })
    .await;
    let mut settings = Settings::new(
        ProviderKind::OpenAi,
        "gpt-6.1-terra",
        format!("{}/v1", model.server.uri()),
    )
    .with_api_key("sk-test");
    settings.retry.max_retries = 1;
    settings.retry.base_delay = Duration::from_millis(5);
    let source = Source::Llm(Client::new(settings).unwrap());
    let events = collect(
        request(&fx, &path, 120, 10, 4),
        source,
        CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(outcome(&events), Outcome::Done(s) if s.rows_added == 120),
        "{:?}",
        outcome(&events)
    );
    assert!(
        refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the limit was hit"
    );
    let told: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { text } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        told.iter()
            .any(|t| t.contains("rate-limiting requests (HTTP 429)")),
        "{told:?}"
    );
}

/// Issue 11, smaller defect: a server that does not answer is not a silent hang; the run
/// says it is asking again while it waits.
#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_is_reported_while_the_run_waits() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let server = wiremock::MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(move |request: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let rows: Vec<serde_json::Value> = (0..3)
                .map(|i| json!({"name": format!("P {n} {i}"), "email": format!("p{n}x{i}@example.com"), "age": 30}))
                .collect();
            let _ = body;
            let reply = wiremock::ResponseTemplate::new(200).set_body_json(json!({
                "id": "c", "object": "chat.completion", "model": "gpt-6.1-terra",
                "choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": json!({"rows": rows}).to_string()}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10}}));
            if n == 0 {
                reply.set_delay(Duration::from_secs(3))
            } else {
                reply
            }
        })
        .mount(&server)
        .await;
    let mut settings = Settings::new(
        ProviderKind::OpenAi,
        "gpt-6.1-terra",
        format!("{}/v1", server.uri()),
    )
    .with_api_key("sk-test");
    settings.timeout = Duration::from_millis(800);
    settings.retry.base_delay = Duration::from_millis(10);
    let source = Source::Llm(Client::new(settings).unwrap());
    let events = collect(
        request(&fx, &path, 3, 25, 1),
        source,
        CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(outcome(&events), Outcome::Done(s) if s.rows_added == 3),
        "{:?}",
        outcome(&events)
    );
    let told: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { text } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        told.iter()
            .any(|t| t.contains("did not answer within 0.8 s; asking again (attempt 2 of 4)")),
        "{told:?}"
    );
}

/// An answer that is JSON but holds no list of rows is an unusable answer with its reason,
/// not silently zero rows.
#[tokio::test(flavor = "multi_thread")]
async fn an_answer_without_a_list_of_rows_is_rejected_with_its_reason() {
    let fx = Fixture::new();
    let path = fx.db("people.db", PEOPLE);
    let model = FakeModel::openai(|_| {
        Reply::Text(json!({"first": [{"name": "A"}], "second": [{"name": "B"}]}).to_string())
    })
    .await;
    let events = collect(
        request(&fx, &path, 5, 5, 1),
        client(&model),
        CancellationToken::new(),
    )
    .await;
    let reasons: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::RowsRejected { rows: 0, reasons } => reasons.first(),
            _ => None,
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str() == "the model's answer had the wrong shape"),
        "{events:?}"
    );
}
