//! One answer from a model: the transport (`Client`) carries the request, the provider's
//! own file speaks its wire format, and the answer is checked against the schema asked for.
//! A new provider is its file plus its arm in the match below.

use std::time::Instant;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::client::{Client, JsonAnswer, JsonRequest};
use super::error::LlmError;
use super::preview::RequestPreview;
use super::provider::ProviderKind;
use super::{anthropic, openai, schema};

impl Client {
    /// The first request [`complete_json`](Self::complete_json) would send for `req`, for a
    /// person to read: the same URL, headers and body, built by the same code, with the API
    /// key's place marked instead of the key. Nothing is sent, and the client keeps its
    /// answer mode (a schema too big for the strongest mode is only reported in the note).
    pub fn request_preview(&self, req: &JsonRequest) -> Result<RequestPreview, LlmError> {
        let (wire_schema, _) = schema::wrap_root(&req.schema);
        let first = match self.kind() {
            ProviderKind::OpenAi => openai::first_request(self, req, &wire_schema)?,
            ProviderKind::Compatible => openai::first_compatible_request(self, req, &wire_schema)?,
            ProviderKind::Anthropic => anthropic::first_request(self, req, &wire_schema)?,
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
            match self.kind() {
                ProviderKind::OpenAi => {
                    openai::complete(self, &req, &wire_schema, cancel, &mut attempts).await
                }
                ProviderKind::Compatible => {
                    openai::complete_compatible(self, &req, &wire_schema, cancel, &mut attempts)
                        .await
                }
                ProviderKind::Anthropic => {
                    anthropic::complete(self, &req, &wire_schema, cancel, &mut attempts).await
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
