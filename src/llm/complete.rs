//! One answer from a model: the transport (`Client`) carries the request, the provider's
//! own file speaks its wire format (a [`ladder::Wire`]), the one request loop in `ladder.rs`
//! drives it, and the answer is checked against the schema asked for. A new provider is its
//! file plus its arm in the matches below.

use std::time::Instant;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::client::{Client, JsonAnswer, JsonRequest};
use super::error::LlmError;
use super::preview::RequestPreview;
use super::provider::ProviderKind;
use super::{anthropic, ladder, openai, schema};

impl Client {
    /// The first request [`complete_json`](Self::complete_json) would send for `req`, for a
    /// person to read: the same URL, headers and body, built by the same code, with the API
    /// key's place marked instead of the key. Nothing is sent, and the client keeps its
    /// answer mode (a schema too big for the strongest mode is only reported in the note).
    pub fn request_preview(&self, req: &JsonRequest) -> Result<RequestPreview, LlmError> {
        let (wire_schema, _) = schema::wrap_root(&req.schema);
        let first = match self.kind() {
            ProviderKind::OpenAi => {
                ladder::first_request(self, &openai::OpenAi::new(&wire_schema), req)?
            }
            ProviderKind::Compatible => {
                ladder::first_request(self, &openai::Compatible::new(&wire_schema), req)?
            }
            ProviderKind::Anthropic => {
                ladder::first_request(self, &anthropic::Anthropic::new(&wire_schema), req)?
            }
        };
        Ok(RequestPreview::new(self, first))
    }

    /// Asks the model for JSON matching `req.schema`. Retries transient failures, falls back
    /// to weaker structured-output modes where a server refuses one, and returns promptly
    /// with [`LlmError::Cancelled`] when `cancel` fires (the HTTP request is aborted).
    pub async fn complete_json(
        &self,
        req: JsonRequest,
        cancel: &CancellationToken,
    ) -> Result<JsonAnswer, LlmError> {
        if cancel.is_cancelled() {
            return Err(LlmError::Cancelled);
        }
        let started = Instant::now();
        let (wire_schema, wrapped) = schema::wrap_root(&req.schema);
        let mut attempts = 0u32;
        let work = async {
            let attempts = &mut attempts;
            match self.kind() {
                ProviderKind::OpenAi => {
                    let wire = openai::OpenAi::new(&wire_schema);
                    ladder::complete(self, &wire, &req, cancel, attempts).await
                }
                ProviderKind::Compatible => {
                    let wire = openai::Compatible::new(&wire_schema);
                    ladder::complete(self, &wire, &req, cancel, attempts).await
                }
                ProviderKind::Anthropic => {
                    let wire = anthropic::Anthropic::new(&wire_schema);
                    ladder::complete(self, &wire, &req, cancel, attempts).await
                }
            }
        };
        let raw = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(LlmError::Cancelled),
            raw = work => raw?,
        };
        let value = if wrapped {
            match raw.value {
                Value::Object(mut map) if map.contains_key(schema::WRAP_KEY) => {
                    map.remove(schema::WRAP_KEY).unwrap_or(Value::Null)
                }
                other => other,
            }
        } else {
            raw.value
        };
        let value =
            schema::fit_root(value, &req.schema).map_err(|detail| LlmError::WrongShape {
                provider: self.provider().clone(),
                detail,
            })?;
        let latency = started.elapsed();
        tracing::info!(
            provider = %self.describe(),
            model = %raw.model,
            attempts,
            input_tokens = raw.usage.input_tokens,
            output_tokens = raw.usage.output_tokens,
            latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            "JSON answer received"
        );
        Ok(JsonAnswer {
            value,
            usage: raw.usage,
            model: raw.model,
            latency,
            attempts,
        })
    }
}
