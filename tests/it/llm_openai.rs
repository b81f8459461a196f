//! OpenAI Chat Completions against a real HTTP server on 127.0.0.1.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::llm_support;

use std::time::{Duration, Instant};

use llm_support::*;
use rowsmith::llm::{LlmError, ProviderKind};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ENDPOINT: &str = "/v1/chat/completions";

async fn server() -> MockServer {
    MockServer::start().await
}

fn openai(server: &MockServer) -> rowsmith::llm::Client {
    client(openai_settings(server))
}

fn openai_settings(server: &MockServer) -> rowsmith::llm::Settings {
    let mut s = settings(
        ProviderKind::OpenAi,
        &format!("{}/v1", server.uri()),
        "gpt-5-mini",
    );
    s.reasoning_effort = Some("low".to_string());
    s
}

fn ok_reply() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat_reply(&rows_value().to_string(), "stop"))
}

fn error_reply(status: u16, message: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": code, "param": null, "code": code}
    }))
}

async fn ask(client: &rowsmith::llm::Client) -> Result<rowsmith::llm::JsonAnswer, LlmError> {
    client
        .complete_json(rows_request(), &CancellationToken::new())
        .await
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn success_returns_value_usage_model_and_sends_strict_schema() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok_reply())
        .expect(1)
        .mount(&server)
        .await;
    let answer = ask(&openai(&server)).await.expect("answer");
    assert_eq!(answer.value, rows_value());
    assert_eq!(answer.usage.input_tokens, 120);
    assert_eq!(answer.usage.output_tokens, 45);
    assert_eq!(answer.model, "gpt-5-mini-2025-08-07");
    assert_eq!(answer.attempts, 1);
    assert!(answer.latency > Duration::ZERO);

    let requests = server.received_requests().await.expect("recorded");
    insta::assert_json_snapshot!("openai_request", snapshot_of(&requests[0]));
}

#[tokio::test]
async fn temperature_is_sent_only_when_configured() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply())
        .mount(&server)
        .await;
    ask(&openai(&server)).await.expect("answer");
    let mut s = openai_settings(&server);
    s.temperature = Some(0.7);
    s.model = "gpt-4.1-mini".to_string();
    ask(&client(s)).await.expect("answer");
    let requests = server.received_requests().await.expect("recorded");
    let first = body_of(&requests[0]);
    let second = body_of(&requests[1]);
    assert!(first.get("temperature").is_none());
    assert_eq!(second["temperature"], json!(0.7));
    // reasoning_effort goes to reasoning models only.
    assert_eq!(first["reasoning_effort"], json!("low"));
    assert!(second.get("reasoning_effort").is_none());
}

#[tokio::test]
async fn bad_key_is_auth_error_without_retry_and_without_the_key() {
    let server = server().await;
    let echo = format!(
        "Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com."
    );
    Mock::given(method("POST"))
        .respond_with(error_reply(401, &echo, "invalid_api_key"))
        .mount(&server)
        .await;
    let client = openai(&server);
    let err = ask(&client).await.expect_err("401");
    assert!(matches!(err, LlmError::Auth { status: 401, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "OpenAI rejected the API key (HTTP 401). Check OPENAI_API_KEY."
    );
    assert_eq!(request_count(&server).await, 1);
    assert_no_key(&[
        err.to_string(),
        format!("{err:?}"),
        format!("{client:?}"),
        format!("{:?}", client.settings()),
    ]);
}

#[tokio::test]
async fn forbidden_is_not_retried() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            403,
            "Project does not have access to model",
            "model_not_found",
        ))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("403");
    assert!(
        matches!(err, LlmError::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Project does not have access to model")
    );
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn bad_request_is_not_retried_and_quotes_the_server() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            400,
            "Invalid 'messages[1].content': string too long. Expected a string with maximum length 10485760.",
            "invalid_request_error",
        ))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("400");
    assert!(
        matches!(err, LlmError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "OpenAI rejected the request (HTTP 400: Invalid 'messages[1].content': string too long. Expected a string with maximum length 10485760). Check the model name and settings such as temperature and max_output_tokens."
    );
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn exhausted_quota_is_not_retried() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
        ))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("quota");
    assert!(matches!(err, LlmError::QuotaExhausted { .. }), "{err:?}");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn rate_limit_honours_retry_after_ms_then_succeeds() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            error_reply(
                429,
                "Rate limit reached for requests",
                "rate_limit_exceeded",
            )
            .insert_header("retry-after-ms", "200")
            .insert_header("retry-after", "30"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok_reply())
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let answer = ask(&openai(&server)).await.expect("answer");
    let waited = started.elapsed();
    assert_eq!(answer.attempts, 2);
    assert!(waited >= Duration::from_millis(200), "waited {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test]
async fn persistent_rate_limit_gives_up_after_bounded_attempts() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            429,
            "Rate limit reached",
            "rate_limit_exceeded",
        ))
        .mount(&server)
        .await;
    let mut s = openai_settings(&server);
    s.retry.max_retries = 2;
    let err = ask(&client(s)).await.expect_err("429");
    assert!(
        matches!(err, LlmError::RateLimited { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(500, "The server had an error", "server_error"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok_reply())
        .with_priority(2)
        .mount(&server)
        .await;
    let answer = ask(&openai(&server)).await.expect("answer");
    assert_eq!(answer.attempts, 3);
    assert_eq!(answer.value, rows_value());
}

#[tokio::test]
async fn timeout_is_typed_and_bounded() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply().set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let mut s = openai_settings(&server);
    s.timeout = Duration::from_millis(200);
    s.retry.max_retries = 1;
    let started = Instant::now();
    let err = ask(&client(s)).await.expect_err("timeout");
    assert!(
        matches!(err, LlmError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
    // Two attempts gave up long before one answer would have come (60 s): a bound no
    // loaded machine comes near.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        err.to_string()
            .contains("did not answer within 0.2 seconds")
    );
}

#[tokio::test]
async fn truncated_answer_is_typed() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat_reply("{\"rows\": [{\"name\": \"A", "length")),
        )
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("truncated");
    assert!(
        matches!(
            err,
            LlmError::Truncated {
                max_tokens: 4000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn refusal_is_typed() {
    let server = server().await;
    let mut reply = chat_reply("", "stop");
    reply["choices"][0]["message"]["content"] = json!(null);
    reply["choices"][0]["message"]["refusal"] = json!("I'm sorry, I cannot help with that.");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("refusal");
    assert!(matches!(err, LlmError::Refused { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("I'm sorry, I cannot help with that")
    );
}

#[tokio::test]
async fn content_filter_is_typed() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_reply("", "content_filter")))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("filtered");
    assert!(matches!(err, LlmError::ContentFiltered { .. }), "{err:?}");
}

#[tokio::test]
async fn malformed_json_is_not_json_error() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(chat_reply("{\"rows\": [oops", "stop")),
        )
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("not json");
    assert!(matches!(err, LlmError::NotJson { .. }), "{err:?}");
    assert!(
        err.to_string().contains("{\\\"rows\\\": [oops")
            || err.to_string().contains("{\"rows\": [oops")
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_protocol_error() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("protocol");
    assert!(matches!(err, LlmError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn answer_of_the_wrong_shape_is_typed() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_reply("\"just text\"", "stop")))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("shape");
    // A bare string has no object or array in it: not JSON we can use.
    assert!(
        matches!(err, LlmError::NotJson { .. } | LlmError::WrongShape { .. }),
        "{err:?}"
    );
    let server2 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_reply("[1, 2]", "stop")))
        .mount(&server2)
        .await;
    let mut s = openai_settings(&server2);
    s.base_url = format!("{}/v1", server2.uri());
    let mut req = rows_request();
    req.schema =
        json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}});
    let err = client(s)
        .complete_json(req, &CancellationToken::new())
        .await
        .expect_err("shape");
    assert!(matches!(err, LlmError::WrongShape { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_body_is_dropped() {
    let server = server().await;
    let huge = "x".repeat(rowsmith::llm::DEFAULT_MAX_BODY_BYTES + 1);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let err = ask(&openai(&server)).await.expect_err("too large");
    assert!(matches!(err, LlmError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 8 MiB"));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn cancellation_aborts_a_request_in_flight() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply().set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let client = openai(&server);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = client
        .complete_json(rows_request(), &cancel)
        .await
        .expect_err("cancelled");
    assert_eq!(err, LlmError::Cancelled);
    // The answer was 60 s away: stopping well before it is the point.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn cancellation_interrupts_a_backoff() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            error_reply(503, "overloaded", "server_error").insert_header("retry-after", "60"),
        )
        .mount(&server)
        .await;
    let client = openai(&server);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = client
        .complete_json(rows_request(), &cancel)
        .await
        .expect_err("cancelled");
    assert_eq!(err, LlmError::Cancelled);
    // The server asked for 60 s; the one request made says the backoff never ended.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    // Bind a port, then free it, so nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut s = settings(
        ProviderKind::OpenAi,
        &format!("http://127.0.0.1:{port}/v1"),
        "gpt-5-mini",
    );
    s.retry.max_retries = 1;
    let err = ask(&client(s)).await.expect_err("network");
    assert!(
        matches!(err, LlmError::Network { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("Could not reach OpenAI"));
}

#[tokio::test]
async fn clones_run_concurrently() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply().set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let client = openai(&server);
    let started = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { ask(&c).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("answer");
    }
    // One after another would take 8 s; together they take one delay and change.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(request_count(&server).await, 4);
}
