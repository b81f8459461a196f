//! Helpers shared by the provider tests: fast settings, a small rows schema, and request
//! snapshots with the key redacted. Servers are real HTTP servers on 127.0.0.1 (wiremock).
#![allow(dead_code)]

use std::time::Duration;

use rowsmith::llm::{Client, JsonRequest, ProviderKind, RetryPolicy, Settings};
use serde_json::{Value, json};
use wiremock::Request;

pub const KEY: &str = "sk-test-0123456789abcdef";

/// Settings with tiny backoffs so retry tests stay fast.
pub fn settings(kind: ProviderKind, base_url: &str, model: &str) -> Settings {
    let mut s = Settings::new(kind, model, base_url).with_api_key(KEY);
    s.timeout = Duration::from_secs(5);
    s.max_output_tokens = 4000;
    s.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
    };
    s
}

pub fn client(settings: Settings) -> Client {
    match Client::new(settings) {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

pub fn rows_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "age": {"type": "integer", "minimum": 0, "maximum": 120},
                        "email": {"type": "string", "format": "email"}
                    },
                    "required": ["name", "age"]
                }
            }
        },
        "required": ["rows"]
    })
}

pub fn rows_request() -> JsonRequest {
    JsonRequest {
        name: "users rows".to_string(),
        system: "You generate realistic rows for a SQLite table.".to_string(),
        context: String::new(),
        user: "Generate 2 rows for table users.".to_string(),
        schema: rows_schema(),
        max_output_tokens: None,
    }
}

pub fn rows_value() -> Value {
    json!({"rows": [{"name": "Ada", "age": 36, "email": null}, {"name": "Lin", "age": 41, "email": "lin@example.com"}]})
}

/// The request as a JSON value for a snapshot: method, path, the headers that matter, and
/// the body. The key is checked and then redacted.
pub fn snapshot_of(req: &Request) -> Value {
    let mut headers = serde_json::Map::new();
    for name in [
        "authorization",
        "x-api-key",
        "anthropic-version",
        "content-type",
    ] {
        if let Some(v) = req.headers.get(name).and_then(|v| v.to_str().ok()) {
            let shown = v.replace(KEY, "[redacted]");
            headers.insert(name.to_string(), Value::String(shown));
        }
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    json!({
        "method": req.method.as_str(),
        "path": req.url.path(),
        "headers": headers,
        "body": body,
    })
}

pub fn body_of(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

/// A Chat Completions reply.
pub fn chat_reply(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-5-mini-2025-08-07",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "finish_reason": finish_reason
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 45, "total_tokens": 165}
    })
}

/// A Messages API reply with one text block.
pub fn messages_reply(text: &str, stop_reason: &str) -> Value {
    json!({
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 200, "output_tokens": 60}
    })
}

/// Asserts that no text shows the key.
pub fn assert_no_key(texts: &[String]) {
    for t in texts {
        assert!(!t.contains(KEY), "key leaked in: {t}");
        assert!(!t.contains("0123456789abcdef"), "key part leaked in: {t}");
    }
}
