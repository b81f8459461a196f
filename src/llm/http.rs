//! One HTTP attempt: POST a JSON body, read a bounded reply, and sort the outcome into
//! "done", "worth a retry" or "failed for good".

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::error::{LlmError, clean_message};
use super::provider::Provider;
use super::retry::{self, Verdict};
use super::secret::ApiKey;

/// A complete HTTP reply with a success status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub body: Vec<u8>,
}

/// What the attempt needs to know to build typed errors.
pub(crate) struct Context<'a> {
    pub provider: &'a Provider,
    pub key: Option<&'a ApiKey>,
    pub model: &'a str,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// Where every response's rate-limit headers and 429s are recorded.
    pub rates: &'a std::sync::Mutex<super::rate::RateState>,
}

/// A side question (model facts, server settings): the JSON of a successful answer within
/// `timeout`, or `None` for anything else. Never retried; callers treat `None` as "unknown".
pub(crate) async fn fetch_json(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Option<Value> {
    let response = request.timeout(timeout).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// Sends one request and classifies the outcome. `attempt` is the 1-based attempt number,
/// recorded in errors that report how often the request was tried.
pub(crate) async fn attempt(
    http: &reqwest::Client,
    url: &str,
    headers: HeaderMap,
    body: &Value,
    ctx: &Context<'_>,
    attempt: u32,
) -> Verdict<Reply> {
    let sent = http
        .post(url)
        .headers(headers)
        .timeout(ctx.timeout)
        .json(body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return transport_failure(&e, ctx, attempt),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if let Ok(mut rates) = ctx.rates.lock() {
        rates.observe(status, &headers, std::time::Instant::now());
    }
    let body = match read_bounded(response, ctx.max_body_bytes).await {
        Ok(body) => body,
        Err(ReadError::TooLarge) => {
            return Verdict::Fail(LlmError::TooLarge {
                provider: ctx.provider.clone(),
                limit_bytes: ctx.max_body_bytes,
            });
        }
        Err(ReadError::Http(e)) => return transport_failure(&e, ctx, attempt),
    };
    if (200..300).contains(&status) {
        return Verdict::Done(Reply { body });
    }
    classify_status(status, &headers, &body, ctx, attempt)
}

enum ReadError {
    TooLarge,
    Http(reqwest::Error),
}

/// Reads the body chunk by chunk and stops as soon as it passes `limit`, so an endless or
/// huge reply never fills memory.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_failure(e: &reqwest::Error, ctx: &Context<'_>, attempt: u32) -> Verdict<Reply> {
    let error = if e.is_timeout() {
        LlmError::Timeout {
            provider: ctx.provider.clone(),
            after: ctx.timeout,
            attempts: attempt,
        }
    } else {
        LlmError::Network {
            provider: ctx.provider.clone(),
            detail: clean_message(&root_cause(e), ctx.key),
            attempts: attempt,
        }
    };
    if e.is_builder() {
        return Verdict::Fail(error);
    }
    Verdict::Retry { error, wait: None }
}

/// The innermost cause of a transport error ("Connection refused (os error 111)"), which
/// says more than reqwest's "error sending request for url (...)".
fn root_cause(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    let text = source.to_string();
    if text.is_empty() { e.to_string() } else { text }
}

/// What an error body says, in any of the usual shapes:
/// `{"error": {"message", "type", "param", "code"}}` (OpenAI, Anthropic), `{"error": "text"}`
/// (Ollama, llama.cpp), `{"message": ...}` (vLLM), `{"detail": ...}` or plain text.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorBody {
    pub message: String,
    /// `code`, else `type`.
    pub code: Option<String>,
    /// The request parameter the error is about (OpenAI's `param`).
    pub param: Option<String>,
}

pub(crate) fn error_details(body: &[u8]) -> ErrorBody {
    let text = String::from_utf8_lossy(body);
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return ErrorBody {
            message: text.trim().to_string(),
            ..ErrorBody::default()
        };
    };
    let err = json.get("error");
    let message = err
        .and_then(|e| e.get("message"))
        .or_else(|| err.filter(|e| e.is_string()))
        .or_else(|| json.get("message"))
        .or_else(|| json.get("detail"))
        .map(|m| match m {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| text.trim().to_string());
    let field = |name: &str| {
        err.and_then(|e| e.get(name).and_then(Value::as_str))
            .map(str::to_string)
    };
    ErrorBody {
        message,
        code: field("code").or_else(|| field("type")),
        param: field("param"),
    }
}

fn classify_status(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    ctx: &Context<'_>,
    attempt: u32,
) -> Verdict<Reply> {
    let provider = ctx.provider.clone();
    let ErrorBody {
        message: raw,
        code,
        param,
    } = error_details(body);
    let message = clean_message(&raw, ctx.key);
    let lower = raw.to_lowercase();
    let wait = retry::retry_after(headers, SystemTime::now());
    tracing::debug!(
        status,
        code = code.as_deref(),
        "{provider} answered: {message}"
    );
    let quota = code.as_deref() == Some("insufficient_quota")
        || lower.contains("exceeded your current quota")
        || lower.contains("credit balance is too low");
    if matches!(status, 400 | 422 | 500) && about_answer_format(&lower) {
        return Verdict::Fail(LlmError::FormatRefused {
            provider,
            status,
            message,
        });
    }
    match status {
        401 => Verdict::Fail(LlmError::Auth { provider, status }),
        402 => Verdict::Fail(LlmError::QuotaExhausted { provider, message }),
        403 => Verdict::Fail(LlmError::Forbidden {
            provider,
            status,
            message,
        }),
        404 => Verdict::Fail(LlmError::NotFound {
            provider,
            status,
            model: ctx.model.to_string(),
            model_missing: model_missing(code.as_deref(), &lower, ctx.model),
            message,
        }),
        400 if code.as_deref() == Some("model_not_found") => Verdict::Fail(LlmError::NotFound {
            provider,
            status,
            model: ctx.model.to_string(),
            model_missing: true,
            message,
        }),
        429 | 400 if quota => Verdict::Fail(LlmError::QuotaExhausted { provider, message }),
        429 => Verdict::Retry {
            error: LlmError::RateLimited {
                provider,
                attempts: attempt,
            },
            wait,
        },
        408 | 409 | 500..=599 => Verdict::Retry {
            error: LlmError::Server {
                provider,
                status,
                attempts: attempt,
            },
            wait,
        },
        _ => Verdict::Fail(LlmError::BadRequest {
            provider,
            status,
            message,
            param,
        }),
    }
}

/// Whether an error body is about the structured-output format or its schema: OpenAI's
/// "Invalid schema for response_format", Anthropic's "output_config.format.schema: ... too many
/// parameters with union types" and "The compiled grammar is too large", llama.cpp's
/// "JSON schema conversion failed" (a 500 on older servers). Such a request is never
/// retried as it is; the provider moves to a weaker mode.
fn about_answer_format(lower_message: &str) -> bool {
    [
        "response_format",
        "json_schema",
        "json schema",
        "grammar",
        "output_config",
        "output_format",
        "invalid schema",
        "union types",
        "optional parameters",
        "structured output",
    ]
    .iter()
    .any(|w| lower_message.contains(w))
}

/// Whether a 404 is about the model (and not the address): OpenAI's `model_not_found`,
/// Anthropic's "model: NAME", or any message that names the model.
fn model_missing(code: Option<&str>, lower_message: &str, model: &str) -> bool {
    code == Some("model_not_found")
        || lower_message.starts_with("model:")
        || (!model.is_empty() && lower_message.contains(&model.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_all_shapes() {
        let openai = br#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.7 with this model.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#;
        assert_eq!(
            error_details(openai),
            ErrorBody {
                message: "Unsupported value: 'temperature' does not support 0.7 with this model."
                    .to_string(),
                code: Some("unsupported_value".to_string()),
                param: Some("temperature".to_string()),
            }
        );
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let details = error_details(anthropic);
        assert_eq!(details.message, "Overloaded");
        assert_eq!(details.code.as_deref(), Some("overloaded_error"));
        assert_eq!(error_details(br#"{"error":"bad"}"#).message, "bad");
        assert_eq!(error_details(br#"{"message":"m"}"#).message, "m");
        assert_eq!(error_details(b"plain text\n").message, "plain text");
    }
}
