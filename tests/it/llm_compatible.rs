//! OpenAI-compatible servers (Ollama, llama.cpp, vLLM, LM Studio) against a real HTTP
//! server on 127.0.0.1: no key needed, schema without `strict`, and the fallback chain.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::llm_support;

use llm_support::*;
use rowsmith::llm::{
    Client, CompatMode, JsonAnswer, LlmError, ProviderKind, Settings, compat_mode,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn compatible_settings(server: &MockServer) -> Settings {
    let mut s = settings(
        ProviderKind::Compatible,
        &format!("{}/v1", server.uri()),
        "smollm2",
    );
    s.api_key = None;
    s
}

fn ok_reply(content: &str) -> ResponseTemplate {
    let mut reply = chat_reply(content, "stop");
    reply["model"] = json!("smollm2");
    ResponseTemplate::new(200).set_body_json(reply)
}

async fn ask(client: &Client) -> Result<JsonAnswer, LlmError> {
    client
        .complete_json(rows_request(), &CancellationToken::new())
        .await
}

fn has_no_response_format(req: &Request) -> bool {
    body_of(req).get("response_format").is_none()
}

fn mode_of(req: &Request) -> &'static str {
    match body_of(req)["response_format"]["type"].as_str() {
        Some("json_schema") => "json_schema",
        Some("json_object") => "json_object",
        Some(_) => "other",
        None => "prompt",
    }
}

#[tokio::test]
async fn sends_schema_without_strict_and_no_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok_reply(&rows_value().to_string()))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server));
    assert_eq!(
        client.describe(),
        format!("compatible smollm2 at {}/v1", server.uri())
    );
    let answer = ask(&client).await.expect("answer");
    assert_eq!(answer.value, rows_value());
    assert_eq!(answer.model, "smollm2");
    assert_eq!(compat_mode(&client), CompatMode::JsonSchema);
    let requests = server.received_requests().await.expect("recorded");
    assert!(requests[0].headers.get("authorization").is_none());
    insta::assert_json_snapshot!("compatible_request", snapshot_of(&requests[0]));
}

#[tokio::test]
async fn optional_key_is_sent_as_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply(&rows_value().to_string()))
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server).with_api_key(KEY));
    ask(&client).await.expect("answer");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn fallback_chain_reaches_prompt_mode_and_remembers_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"response_format": {"type": "json_schema"}})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"code": 400, "message": "response_format type json_schema is not supported", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"response_format": {"type": "json_object"}}),
        ))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "detail": "Unsupported response_format: json_object"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(has_no_response_format)
        .respond_with(ok_reply(&format!(
            "Here are the rows:\n```json\n{}\n```",
            rows_value()
        )))
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server));
    let answer = ask(&client).await.expect("answer");
    assert_eq!(answer.value, rows_value());
    assert_eq!(answer.attempts, 3);
    assert_eq!(compat_mode(&client), CompatMode::Prompt);

    // Remembered: later requests, from clones running concurrently, go straight to it.
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { ask(&c).await })
        })
        .collect();
    for t in tasks {
        let answer = t.await.expect("join").expect("answer");
        assert_eq!(answer.attempts, 1);
    }
    let requests = server.received_requests().await.expect("recorded");
    let modes: Vec<&str> = requests.iter().map(mode_of).collect();
    assert_eq!(
        modes,
        [
            "json_schema",
            "json_object",
            "prompt",
            "prompt",
            "prompt",
            "prompt"
        ]
    );
    insta::assert_json_snapshot!("compatible_prompt_mode_body", body_of(&requests[2]));
}

#[tokio::test]
async fn json_object_mode_is_remembered_when_it_works() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"response_format": {"type": "json_schema"}}),
        ))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": "unknown response_format"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(
            json!({"response_format": {"type": "json_object"}}),
        ))
        .respond_with(ok_reply(&rows_value().to_string()))
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server));
    assert_eq!(ask(&client).await.expect("answer").attempts, 2);
    assert_eq!(ask(&client).await.expect("answer").attempts, 1);
    assert_eq!(compat_mode(&client), CompatMode::JsonObject);
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        body_of(&requests[1])["response_format"],
        json!({"type": "json_object", "schema": rows_schema()})
    );
}

#[tokio::test]
async fn other_bad_requests_do_not_fall_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "the request exceeds the available context size (4096 tokens)"}
        })))
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server));
    let err = ask(&client).await.expect_err("400");
    assert!(
        matches!(err, LlmError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with(&format!(
        "The server at {}/v1 rejected the request (HTTP 400: the request exceeds",
        server.uri()
    )));
    assert_eq!(compat_mode(&client), CompatMode::JsonSchema);
    assert_eq!(server.received_requests().await.map_or(0, |r| r.len()), 1);
}

#[tokio::test]
async fn sloppy_answers_are_parsed_leniently() {
    let server = MockServer::start().await;
    let rows = rows_value()["rows"].clone();
    Mock::given(method("POST"))
        .respond_with(ok_reply(&format!(
            "<think>ok</think>\n{rows}\nHope this helps!"
        )))
        .mount(&server)
        .await;
    let answer = ask(&client(compatible_settings(&server)))
        .await
        .expect("answer");
    // A bare array where the schema wants {"rows": [...]} is wrapped.
    assert_eq!(answer.value, rows_value());
}

#[tokio::test]
async fn unknown_model_or_path_hints_at_v1() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({"error": "model \"smollm2\" not found, try pulling it first"}),
            ),
        )
        .mount(&server)
        .await;
    let err = ask(&client(compatible_settings(&server)))
        .await
        .expect_err("404");
    assert!(
        matches!(
            err,
            LlmError::NotFound {
                model_missing: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("does not offer the model 'smollm2'"),
        "{err}"
    );
    assert!(err.to_string().contains("--model"), "{err}");

    // A 404 that does not name the model is about the address.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("404 page not found"))
        .mount(&server)
        .await;
    let err = ask(&client(compatible_settings(&server)))
        .await
        .expect_err("404");
    assert!(err.to_string().contains("usually ends in /v1"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Loading model"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok_reply(&rows_value().to_string()))
        .with_priority(2)
        .mount(&server)
        .await;
    let answer = ask(&client(compatible_settings(&server)))
        .await
        .expect("answer");
    assert_eq!(answer.attempts, 3);
}

#[tokio::test]
async fn non_object_schemas_are_wrapped_and_unwrapped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok_reply(r#"{"value": ["a", "b"]}"#))
        .mount(&server)
        .await;
    let client = client(compatible_settings(&server));
    let mut req = rows_request();
    req.schema = json!({"type": "array", "items": {"type": "string"}});
    let answer = client
        .complete_json(req, &CancellationToken::new())
        .await
        .expect("answer");
    assert_eq!(answer.value, json!(["a", "b"]));
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        body_of(&requests[0])["response_format"]["json_schema"]["schema"]["required"],
        json!(["value"])
    );
}
