//! `Client::request_preview` shows exactly what `complete_json` then sends: the preview is
//! taken first (the server must see nothing), the real request is recorded by a server on
//! 127.0.0.1, and the two are compared header by header and body for body.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::llm_support;

use llm_support::*;
use rowsmith::llm::{
    Client, CompatMode, JsonRequest, ProviderKind, RequestPreview, compat_mode, uses_tool_fallback,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn recorded(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// The preview and the request sent are one request: same method, URL, headers (the key's
/// header aside, which must hold the key on the wire and its placeholder in the preview)
/// and body; and no text of the preview holds the key.
fn assert_same(preview: &RequestPreview, sent: &Request, key_header: &str, shown: &str) {
    assert_eq!(preview.method, sent.method.as_str());
    // The server records the path it was asked for and the Host it was sent.
    let host = sent.headers.get("host").and_then(|h| h.to_str().ok());
    assert_eq!(
        Some(preview.url.as_str()),
        host.map(|h| format!("http://{h}{}", sent.url.path()))
            .as_deref()
    );
    for (name, value) in &preview.headers {
        let on_wire = sent
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{name} was not sent"));
        if name == key_header {
            assert_eq!(value, shown);
            assert!(on_wire.contains(KEY), "{on_wire}");
        } else {
            assert_eq!(value, on_wire, "{name}");
        }
    }
    assert!(
        preview.headers.iter().any(|(n, _)| n == key_header),
        "{:?}",
        preview.headers
    );
    assert_eq!(preview.body, body_of(sent));
    assert_no_key(&[preview.text(), preview.to_json().to_string()]);
}

async fn ask(client: &Client, req: JsonRequest) {
    client
        .complete_json(req, &CancellationToken::new())
        .await
        .expect("answer");
}

fn request_with_context() -> JsonRequest {
    let mut req = rows_request();
    req.context = "Table: \"users\"\nColumns to write:\n- name TEXT NOT NULL".into();
    req
}

#[tokio::test]
async fn the_openai_preview_is_the_request_complete_json_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(chat_reply(&rows_value().to_string(), "stop")),
        )
        .mount(&server)
        .await;
    let mut s = settings(
        ProviderKind::OpenAi,
        &format!("{}/v1", server.uri()),
        "gpt-5-mini",
    );
    s.reasoning_effort = Some("low".into());
    let client = client(s);
    let preview = client
        .request_preview(&request_with_context())
        .expect("preview");
    assert!(
        recorded(&server).await.is_empty(),
        "the preview sent nothing"
    );
    assert_eq!(preview.note, None);
    assert_eq!(
        preview.body["response_format"]["json_schema"]["strict"],
        true
    );

    ask(&client, request_with_context()).await;
    let sent = recorded(&server).await;
    assert_eq!(sent.len(), 1);
    assert_same(
        &preview,
        &sent[0],
        "authorization",
        "Bearer <OPENAI_API_KEY>",
    );
    let text = preview.text();
    assert!(
        text.starts_with(&format!(
            "POST {}/v1/chat/completions\nauthorization: Bearer <OPENAI_API_KEY>\n",
            server.uri()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn the_anthropic_preview_is_the_request_complete_json_sends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(messages_reply(&rows_value().to_string(), "end_turn")),
        )
        .mount(&server)
        .await;
    let client = client(settings(
        ProviderKind::Anthropic,
        &server.uri(),
        "claude-haiku-4-5",
    ));
    let preview = client
        .request_preview(&request_with_context())
        .expect("preview");
    assert!(
        recorded(&server).await.is_empty(),
        "the preview sent nothing"
    );
    assert!(preview.body.get("output_config").is_some());

    ask(&client, request_with_context()).await;
    let sent = recorded(&server).await;
    assert_eq!(sent.len(), 1);
    assert_same(&preview, &sent[0], "x-api-key", "<ANTHROPIC_API_KEY>");
    assert_eq!(
        preview
            .headers
            .iter()
            .find(|(n, _)| n == "anthropic-version")
            .map(|(_, v)| v.as_str()),
        Some(rowsmith::llm::ANTHROPIC_VERSION)
    );
}

/// A schema with more nullable columns than Anthropic's structured output takes goes to
/// the forced tool: the preview shows that request and says why, without moving the
/// client (only `complete_json` does that).
#[tokio::test]
async fn a_schema_too_big_for_structured_output_is_previewed_as_the_forced_tool() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(messages_reply(&json!({"rows": []}).to_string(), "end_turn")),
        )
        .mount(&server)
        .await;
    let client = client(settings(
        ProviderKind::Anthropic,
        &server.uri(),
        "claude-haiku-4-5",
    ));
    let columns: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("c{i}"), json!({"type": ["string", "null"]})))
        .collect();
    let names: Vec<String> = columns.keys().cloned().collect();
    let mut req = rows_request();
    req.schema = json!({
        "type": "object",
        "properties": {"rows": {"type": "array", "items": {
            "type": "object", "properties": columns, "required": names}}},
        "required": ["rows"]
    });
    let preview = client.request_preview(&req).expect("preview");
    assert!(preview.body.get("tools").is_some(), "{}", preview.body);
    assert!(
        preview
            .note
            .as_deref()
            .is_some_and(|n| n.contains("forced tool")),
        "{:?}",
        preview.note
    );
    assert!(!uses_tool_fallback(&client), "the preview moved the client");

    ask(&client, req).await;
    assert!(uses_tool_fallback(&client));
    let sent = recorded(&server).await;
    assert_eq!(sent.len(), 1);
    assert_same(&preview, &sent[0], "x-api-key", "<ANTHROPIC_API_KEY>");
}

/// A compatible server's preview follows what the client has learned: once the server
/// refused a JSON schema, the preview shows the JSON-mode request that goes next.
#[tokio::test]
async fn the_compatible_preview_follows_the_mode_the_server_accepts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            let body = body_of(request);
            if body["response_format"]["type"] == "json_schema" {
                return ResponseTemplate::new(400).set_body_json(json!({"error": {
                    "code": 400,
                    "message": "response_format type json_schema is not supported",
                    "type": "invalid_request_error"
                }}));
            }
            ResponseTemplate::new(200).set_body_json(chat_reply(&rows_value().to_string(), "stop"))
        })
        .mount(&server)
        .await;
    let mut s = settings(
        ProviderKind::Compatible,
        &format!("{}/v1", server.uri()),
        "smollm2",
    );
    s.temperature = Some(0.4);
    let client = client(s);
    let first = client.request_preview(&rows_request()).expect("preview");
    assert!(recorded(&server).await.is_empty());
    ask(&client, rows_request()).await;
    let sent = recorded(&server).await;
    assert_eq!(sent.len(), 2, "refused, then JSON mode");
    assert_same(
        &first,
        &sent[0],
        "authorization",
        "Bearer <compatible.api_key>",
    );

    assert_eq!(compat_mode(&client), CompatMode::JsonObject);
    let next = client.request_preview(&rows_request()).expect("preview");
    assert_eq!(next.body["response_format"]["type"], "json_object");
    ask(&client, rows_request()).await;
    let sent = recorded(&server).await;
    assert_eq!(sent.len(), 3);
    assert_same(
        &next,
        &sent[2],
        "authorization",
        "Bearer <compatible.api_key>",
    );
}
