//! Opt-in round trip against a real OpenAI-compatible server.
//!
//! Skipped unless `ROWSMITH_LIVE_BASE_URL` is set, for example:
//!
//! ```sh
//! URL=$(../shared/tools/local-llm start)   # llama.cpp's llama-server with SmolLM2-135M
//! ROWSMITH_LIVE_BASE_URL=$URL ROWSMITH_LIVE_MODEL=smollm2 \
//!     cargo test --test it llm_live -- --nocapture
//! ```
//!
//! `ROWSMITH_LIVE_MODEL` defaults to `smollm2`; `ROWSMITH_LIVE_API_KEY` is sent if set.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::time::Duration;

use rowsmith::llm::{Client, JsonRequest, ProviderKind, Settings, compat_mode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn live_compatible_round_trip() {
    let Some(base_url) = std::env::var("ROWSMITH_LIVE_BASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        println!(
            "skipped: set ROWSMITH_LIVE_BASE_URL (and optionally ROWSMITH_LIVE_MODEL) to run the live test"
        );
        return;
    };
    let model = std::env::var("ROWSMITH_LIVE_MODEL").unwrap_or_else(|_| "smollm2".to_string());
    let mut settings = Settings::new(ProviderKind::Compatible, model, base_url);
    if let Ok(key) = std::env::var("ROWSMITH_LIVE_API_KEY") {
        settings = settings.with_api_key(key);
    }
    settings.timeout = Duration::from_secs(300);
    settings.max_output_tokens = 1024;
    settings.retry.max_retries = 1;
    let client = Client::new(settings).expect("client");
    println!("live test against {}", client.describe());

    let request = JsonRequest {
        name: "people".to_string(),
        system: "You generate realistic test data. Answer with JSON only.".to_string(),
        context: String::new(),
        user: "Generate 3 rows of people, each with a name (string) and an age (integer)."
            .to_string(),
        schema: json!({
            "type": "object",
            "properties": {
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "age": {"type": "integer"}
                        },
                        "required": ["name", "age"]
                    }
                }
            },
            "required": ["rows"]
        }),
        max_output_tokens: None,
    };
    let answer = client
        .complete_json(request, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("live request failed: {e}"));
    println!(
        "model {} answered in {:?} ({} attempts, {} in / {} out tokens, mode {:?}):\n{}",
        answer.model,
        answer.latency,
        answer.attempts,
        answer.usage.input_tokens,
        answer.usage.output_tokens,
        compat_mode(&client),
        serde_json::to_string_pretty(&answer.value).unwrap_or_default()
    );
    let rows = answer.value["rows"].as_array().expect("rows array");
    assert!(!rows.is_empty(), "no rows");
    for row in rows {
        assert!(row.get("name").is_some_and(Value::is_string), "row {row}");
        assert!(row.get("age").is_some_and(Value::is_i64), "row {row}");
    }
    assert!(answer.usage.output_tokens > 0);
}
