//! How much a local server can read and write in one request.
//!
//! Hosted models have context windows far beyond a batch of rows; local servers often do
//! not, and they fail in different ways when a request is too long: llama.cpp answers 400
//! `exceed_context_size_error`, vLLM answers 400 "This model's maximum context length is N
//! tokens", and Ollama's OpenAI endpoint silently keeps only the end of the prompt (its
//! default context is 4,096 tokens below 24 GiB of VRAM: docs.ollama.com/context-length).
//! rowsmith asks the server where the server tells:
//!
//! - llama.cpp `GET /props` → `default_generation_settings.n_ctx` (per slot);
//! - Ollama `POST /api/show` → `num_ctx` in `parameters`, else the 4,096-token default;
//! - vLLM `GET /v1/models` → `max_model_len` (prompt and output together);
//! - LM Studio `GET /api/v0/models/{model}` → `loaded_context_length`.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::Client;
use super::provider::ProviderKind;

/// How long each question may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Ollama's context when nothing sets it on machines under 24 GiB of VRAM.
pub const OLLAMA_DEFAULT_CONTEXT: u32 = 4_096;

pub use super::window::{ContextWindow, ServerKind};

/// Asks the compatible server for its context window; `None` for other providers and for
/// servers that do not say.
pub async fn learn(client: &Client) -> Option<ContextWindow> {
    if client.kind() != ProviderKind::Compatible {
        return None;
    }
    let model = client.model().to_string();
    if let Some(n) = get(client, &client.root_endpoint("props"))
        .await
        .and_then(|v| {
            v.pointer("/default_generation_settings/n_ctx")
                .or_else(|| v.get("n_ctx"))
                .and_then(Value::as_u64)
        })
    {
        return window(n, ServerKind::LlamaCpp, false);
    }
    if let Some(show) = post(
        client,
        &client.root_endpoint("api/show"),
        &json!({"model": model}),
    )
    .await
        && show.get("model_info").is_some()
    {
        let num_ctx = show
            .get("parameters")
            .and_then(Value::as_str)
            .and_then(|p| {
                p.lines().find_map(|l| {
                    let mut parts = l.split_whitespace();
                    (parts.next() == Some("num_ctx"))
                        .then(|| parts.next()?.parse::<u64>().ok())
                        .flatten()
                })
            });
        return match num_ctx {
            Some(n) => window(n, ServerKind::Ollama, false),
            None => window(u64::from(OLLAMA_DEFAULT_CONTEXT), ServerKind::Ollama, true),
        };
    }
    if let Some(list) = get(client, &client.endpoint("models")).await
        && let Some(models) = list.get("data").and_then(Value::as_array)
    {
        let entry = models
            .iter()
            .find(|m| m.get("id").and_then(Value::as_str) == Some(model.as_str()))
            .or_else(|| models.first());
        if let Some(n) = entry
            .and_then(|m| m.get("max_model_len"))
            .and_then(Value::as_u64)
        {
            return window(n, ServerKind::Vllm, false);
        }
    }
    if let Some(n) = get(
        client,
        &client.root_endpoint(&format!("api/v0/models/{model}")),
    )
    .await
    .and_then(|v| v.get("loaded_context_length").and_then(Value::as_u64))
    {
        return window(n, ServerKind::LmStudio, false);
    }
    None
}

fn window(tokens: u64, server: ServerKind, assumed: bool) -> Option<ContextWindow> {
    let tokens = u32::try_from(tokens).ok().filter(|t| *t > 0)?;
    Some(ContextWindow {
        tokens,
        server,
        assumed,
    })
}

/// Servers started with a key (vLLM --api-key, llama-server --api-key) want it here too.
async fn get(client: &Client, url: &str) -> Option<Value> {
    let headers = super::openai::headers(client).ok()?;
    super::http::fetch_json(client.http().get(url).headers(headers), PROBE_TIMEOUT).await
}

async fn post(client: &Client, url: &str, body: &Value) -> Option<Value> {
    let headers = super::openai::headers(client).ok()?;
    let request = client.http().post(url).headers(headers).json(body);
    super::http::fetch_json(request, PROBE_TIMEOUT).await
}

impl Client {
    /// The server's context window (compatible servers that say), asked once per client.
    pub async fn context_window(&self) -> Option<ContextWindow> {
        *self.context_cell().get_or_init(|| learn(self)).await
    }
}
