//! Anthropic Messages API against a real HTTP server on 127.0.0.1.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::llm_support;

use std::time::{Duration, Instant};

use llm_support::*;
use rowsmith::llm::{Client, JsonAnswer, LlmError, ProviderKind, uses_tool_fallback};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ENDPOINT: &str = "/v1/messages";

fn anthropic(server: &MockServer) -> Client {
    client(settings(
        ProviderKind::Anthropic,
        &server.uri(),
        "claude-haiku-4-5",
    ))
}

fn ok_reply() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(messages_reply(&rows_value().to_string(), "end_turn"))
}

fn error_reply(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "type": "error",
        "error": {"type": kind, "message": message}
    }))
}

async fn ask(client: &Client) -> Result<JsonAnswer, LlmError> {
    client
        .complete_json(rows_request(), &CancellationToken::new())
        .await
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn success_uses_output_config_and_reports_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(ENDPOINT))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ok_reply())
        .expect(1)
        .mount(&server)
        .await;
    let answer = ask(&anthropic(&server)).await.expect("answer");
    assert_eq!(answer.value, rows_value());
    assert_eq!(answer.usage.input_tokens, 200);
    assert_eq!(answer.usage.output_tokens, 60);
    assert_eq!(answer.model, "claude-haiku-4-5-20251001");
    assert_eq!(answer.attempts, 1);
    let requests = server.received_requests().await.expect("recorded");
    insta::assert_json_snapshot!("anthropic_request", snapshot_of(&requests[0]));
}

#[tokio::test]
async fn refused_output_config_falls_back_to_a_forced_tool_and_remembers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"output_config": {"format": {"type": "json_schema"}}}),
        ))
        .respond_with(error_reply(
            400,
            "invalid_request_error",
            "output_config: Extra inputs are not permitted",
        ))
        .mount(&server)
        .await;
    let tool_reply = json!({
        "id": "msg_2",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "users_rows", "input": rows_value()}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 300, "output_tokens": 80}
    });
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"tool_choice": {"type": "tool", "name": "users_rows"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(tool_reply))
        .mount(&server)
        .await;
    let client = anthropic(&server);
    let answer = ask(&client).await.expect("answer");
    assert_eq!(answer.value, rows_value());
    assert_eq!(answer.attempts, 2);
    assert!(uses_tool_fallback(&client));
    // A clone shares what was learnt: the next request goes straight to the tool.
    let answer = ask(&client.clone()).await.expect("answer");
    assert_eq!(answer.attempts, 1);
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3);
    assert!(body_of(&requests[2]).get("output_config").is_none());
    insta::assert_json_snapshot!("anthropic_tool_request", snapshot_of(&requests[1]));
}

#[tokio::test]
async fn overloaded_529_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(529, "overloaded_error", "Overloaded"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok_reply())
        .with_priority(2)
        .mount(&server)
        .await;
    let answer = ask(&anthropic(&server)).await.expect("answer");
    assert_eq!(answer.attempts, 2);
}

#[tokio::test]
async fn persistent_overload_names_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(529, "overloaded_error", "Overloaded"))
        .mount(&server)
        .await;
    let mut s = settings(ProviderKind::Anthropic, &server.uri(), "claude-haiku-4-5");
    s.retry.max_retries = 1;
    let err = ask(&client(s)).await.expect_err("529");
    assert_eq!(
        err.to_string(),
        "Anthropic is overloaded (HTTP 529) after 2 attempts. Try again later."
    );
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            error_reply(
                429,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
            )
            .insert_header("retry-after", "1"),
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
    let answer = ask(&anthropic(&server)).await.expect("answer");
    assert_eq!(answer.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bad_key_names_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            401,
            "authentication_error",
            "invalid x-api-key",
        ))
        .mount(&server)
        .await;
    let client = anthropic(&server);
    let err = ask(&client).await.expect_err("401");
    assert_eq!(
        err.to_string(),
        "Anthropic rejected the API key (HTTP 401). Check ANTHROPIC_API_KEY."
    );
    assert_eq!(request_count(&server).await, 1);
    assert_no_key(&[format!("{err:?}"), format!("{client:?}")]);
}

#[tokio::test]
async fn forbidden_and_bad_request_are_not_retried() {
    for (status, kind) in [(403, "permission_error"), (400, "invalid_request_error")] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(error_reply(
                status,
                kind,
                "max_tokens: must be at most 64000",
            ))
            .mount(&server)
            .await;
        let err = ask(&anthropic(&server)).await.expect_err("error");
        match status {
            403 => assert!(matches!(err, LlmError::Forbidden { .. }), "{err:?}"),
            _ => assert!(matches!(err, LlmError::BadRequest { .. }), "{err:?}"),
        }
        assert_eq!(request_count(&server).await, 1);
    }
}

#[tokio::test]
async fn low_credit_is_quota_exhausted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(error_reply(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
        ))
        .mount(&server)
        .await;
    let err = ask(&anthropic(&server)).await.expect_err("quota");
    assert!(matches!(err, LlmError::QuotaExhausted { .. }), "{err:?}");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn max_tokens_stop_is_truncated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(messages_reply("{\"rows\": [", "max_tokens")),
        )
        .mount(&server)
        .await;
    let err = ask(&anthropic(&server)).await.expect_err("truncated");
    assert!(matches!(err, LlmError::Truncated { .. }), "{err:?}");
}

#[tokio::test]
async fn refusal_stop_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(messages_reply("I can't help with that.", "refusal")),
        )
        .mount(&server)
        .await;
    let err = ask(&anthropic(&server)).await.expect_err("refused");
    assert!(matches!(err, LlmError::Refused { .. }), "{err:?}");
}

#[tokio::test]
async fn malformed_json_is_not_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(messages_reply("{\"rows\": [}", "end_turn")),
        )
        .mount(&server)
        .await;
    let err = ask(&anthropic(&server)).await.expect_err("not json");
    assert!(matches!(err, LlmError::NotJson { .. }), "{err:?}");
}

#[tokio::test]
async fn timeout_and_oversized_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut s = settings(ProviderKind::Anthropic, &server.uri(), "claude-haiku-4-5");
    s.timeout = Duration::from_millis(150);
    s.retry.max_retries = 0;
    let err = ask(&client(s)).await.expect_err("timeout");
    assert!(
        matches!(err, LlmError::Timeout { attempts: 1, .. }),
        "{err:?}"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("y".repeat(4096)))
        .mount(&server)
        .await;
    let mut s = settings(ProviderKind::Anthropic, &server.uri(), "claude-haiku-4-5");
    s.max_body_bytes = 1024;
    let err = ask(&client(s)).await.expect_err("too large");
    assert!(
        matches!(
            err,
            LlmError::TooLarge {
                limit_bytes: 1024,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn cancellation_aborts_promptly() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply().set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let client = anthropic(&server);
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
        .expect_err("cancel");
    assert_eq!(err, LlmError::Cancelled);
    // The answer was 60 s away.
    assert!(started.elapsed() < Duration::from_secs(30));
}
