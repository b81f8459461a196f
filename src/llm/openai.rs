//! OpenAI Chat Completions, for OpenAI itself (strict structured outputs) and for any
//! OpenAI-compatible server (schema without `strict`, with a fallback chain).

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use super::budget;
use super::client::{Client, JsonRequest, RawAnswer, Usage};
use super::error::{LlmError, clean_message};
use super::ladder::{Next, StepDown, Wire};
use super::models;
use super::notice::Notice;
use super::parse::{extract_json, snippet};
use super::schema;

/// How a compatible server is asked for JSON, from the strongest to the weakest.
/// The client remembers the first mode the endpoint accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompatMode {
    /// `response_format: {"type": "json_schema", "json_schema": {"name", "schema"}}`.
    JsonSchema = 0,
    /// `response_format: {"type": "json_object", "schema": ...}` (llama.cpp, older servers).
    JsonObject = 1,
    /// No `response_format`; the schema is described in the system prompt.
    Prompt = 2,
}

impl CompatMode {
    fn from_index(i: u8) -> Self {
        match i {
            0 => Self::JsonSchema,
            1 => Self::JsonObject,
            _ => Self::Prompt,
        }
    }

    fn next(self) -> Option<Self> {
        match self {
            Self::JsonSchema => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::Prompt),
            Self::Prompt => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::JsonSchema => "a JSON schema",
            Self::JsonObject => "JSON mode with the schema in the prompt",
            Self::Prompt => "the schema in the prompt",
        }
    }
}

/// How OpenAI itself is asked for JSON: a strict schema, or, when a table's schema is beyond
/// strict mode's limits or refused, JSON mode with the schema in the instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpenAiMode {
    Strict = 0,
    JsonObject = 1,
}

/// Parameters rowsmith sends that a model may refuse and the request does without. Everything
/// else in the body (model, messages, response_format, the token cap) is required.
const OPTIONAL: &[&str] = &["temperature", "top_p", "reasoning_effort"];

const JSON_OBJECT_LABEL: &str = "JSON mode with the schema in the instructions";

/// OpenAI itself: a strict schema, or JSON mode when the schema is beyond strict mode's
/// limits or refused.
pub(crate) struct OpenAi<'a> {
    wire_schema: &'a Value,
}

impl<'a> OpenAi<'a> {
    pub(crate) fn new(wire_schema: &'a Value) -> Self {
        Self { wire_schema }
    }
}

impl Wire for OpenAi<'_> {
    type Mode = OpenAiMode;
    const OPTIONAL: &'static [&'static str] = OPTIONAL;

    fn target(&self, client: &Client) -> Result<(String, HeaderMap), LlmError> {
        target(client)
    }

    /// In the client's current mode; a table's schema beyond strict mode's limits goes in
    /// JSON mode instead.
    fn next_body(&self, client: &Client, req: &JsonRequest, max_tokens: u32) -> Next<OpenAiMode> {
        let strict = (client.mode() == 0).then(|| strict_format(client, req, self.wire_schema));
        let (mode, response_format, too_complex) = match strict {
            Some(Ok(format)) => (OpenAiMode::Strict, format, None),
            Some(Err(budget::TooComplex(why))) => {
                (OpenAiMode::JsonObject, json_object(), Some(why))
            }
            None => (OpenAiMode::JsonObject, json_object(), None),
        };
        let body = openai_body(
            client,
            req,
            self.wire_schema,
            mode,
            response_format,
            max_tokens,
        );
        Next {
            mode,
            body,
            step_first: too_complex.map(to_json_object),
        }
    }

    fn refused(&self, mode: OpenAiMode, error: &LlmError) -> Option<StepDown> {
        match error {
            LlmError::FormatRefused { message, .. } if mode == OpenAiMode::Strict => {
                Some(to_json_object(message.clone()))
            }
            _ => None,
        }
    }

    fn parse(
        &self,
        client: &Client,
        _req: &JsonRequest,
        body: &[u8],
        _mode: OpenAiMode,
        max_tokens: u32,
    ) -> Result<RawAnswer, LlmError> {
        parse_reply(client, body, max_tokens)
    }
}

fn to_json_object(reason: String) -> StepDown {
    StepDown {
        to: OpenAiMode::JsonObject as u8,
        label: JSON_OBJECT_LABEL,
        reason,
    }
}

/// Where every Chat Completions request goes, and with which headers.
fn target(client: &Client) -> Result<(String, HeaderMap), LlmError> {
    Ok((client.endpoint("chat/completions"), headers(client)?))
}

fn json_object() -> Value {
    json!({"type": "json_object"})
}

/// The strict `response_format`, shrunk to strict mode's documented limits.
fn strict_format(
    client: &Client,
    req: &JsonRequest,
    wire_schema: &Value,
) -> Result<Value, budget::TooComplex> {
    let mut strict = schema::openai_strict(wire_schema);
    let fitted = budget::fit_openai_strict(&mut strict)?;
    if !fitted.dropped_enums.is_empty() {
        tracing::info!(
            "{}: value lists of {} left out of the schema to stay within OpenAI's limits",
            client.describe(),
            fitted.dropped_enums.join(", ")
        );
    }
    Ok(json!({
        "type": "json_schema",
        "json_schema": {
            "name": schema::sanitize_name(&req.name),
            "strict": true,
            "schema": strict,
        }
    }))
}

/// The system prompt with the answer's schema written into it, for modes without one.
fn system_with_schema(req: &JsonRequest, wire_schema: &Value) -> String {
    let rule = format!(
        "Reply with one JSON object only: no prose and no code fences. \
         It must match this JSON Schema:\n{}",
        schema::for_prompt(wire_schema)
    );
    if req.system.trim().is_empty() {
        rule
    } else {
        format!("{}\n\n{rule}", req.system.trim_end())
    }
}

/// The Chat Completions body for OpenAI itself, following the model's rules
/// (`models::openai`): reasoning models get `max_completion_tokens`, an accepted
/// `reasoning_effort` and no temperature.
fn openai_body(
    client: &Client,
    req: &JsonRequest,
    wire_schema: &Value,
    mode: OpenAiMode,
    response_format: Value,
    max_tokens: u32,
) -> Value {
    let settings = client.settings();
    let rules = models::openai(&settings.model);
    let system = match mode {
        OpenAiMode::Strict => req.system.clone(),
        OpenAiMode::JsonObject => system_with_schema(req, wire_schema),
    };
    let mut body = common_body(client, req, &system);
    if !rules.temperature && body.remove("temperature").is_some() {
        client.notify(Notice::TemperatureNotSent {
            model: settings.model.clone(),
        });
    }
    body.insert("max_completion_tokens".into(), json!(max_tokens));
    body.insert("response_format".into(), response_format);
    if let Some(asked) = settings
        .reasoning_effort
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match models::effort_for(&rules, asked) {
            Some(sent) => {
                if sent != asked {
                    client.notify(Notice::EffortChanged {
                        model: settings.model.clone(),
                        asked: asked.to_string(),
                        sent: sent.to_string(),
                    });
                }
                body.insert("reasoning_effort".into(), json!(sent));
            }
            None if rules.reasoning => client.notify(Notice::EffortNotSent {
                model: settings.model.clone(),
                asked: asked.to_string(),
            }),
            None => {}
        }
    }
    client.strip_dropped(&mut body);
    Value::Object(body)
}

/// A compatible server: walks down [`CompatMode`] while the server refuses a mode, and the
/// client remembers what worked.
pub(crate) struct Compatible<'a> {
    wire_schema: &'a Value,
}

impl<'a> Compatible<'a> {
    pub(crate) fn new(wire_schema: &'a Value) -> Self {
        Self { wire_schema }
    }
}

impl Wire for Compatible<'_> {
    type Mode = CompatMode;
    const OPTIONAL: &'static [&'static str] = OPTIONAL;

    fn target(&self, client: &Client) -> Result<(String, HeaderMap), LlmError> {
        target(client)
    }

    /// In the mode the server is known to accept.
    fn next_body(&self, client: &Client, req: &JsonRequest, max_tokens: u32) -> Next<CompatMode> {
        let mode = CompatMode::from_index(client.mode());
        Next {
            mode,
            body: compatible_body(client, req, self.wire_schema, mode, max_tokens),
            step_first: None,
        }
    }

    fn refused(&self, mode: CompatMode, error: &LlmError) -> Option<StepDown> {
        let next = mode.next()?;
        let message = match error {
            LlmError::BadRequest { message, .. } if refuses_format(message) => message,
            // Older llama.cpp servers answer a schema they cannot turn into a grammar with a
            // 500 "JSON schema conversion failed"; that is not worth four retries.
            LlmError::FormatRefused { message, .. } => message,
            _ => return None,
        };
        Some(StepDown {
            to: next as u8,
            label: next.label(),
            reason: message.clone(),
        })
    }

    fn parse(
        &self,
        client: &Client,
        _req: &JsonRequest,
        body: &[u8],
        _mode: CompatMode,
        max_tokens: u32,
    ) -> Result<RawAnswer, LlmError> {
        parse_reply(client, body, max_tokens)
    }
}

/// The model's published shutdown date (`GET {base}/models/{model}`, field
/// `shutdown_date`: a `YYYY-MM-DD` string, null or absent). `None` when the question could
/// not be answered; `Some(None)` when no date is announced.
pub(crate) async fn shutdown_date(
    client: &Client,
    timeout: std::time::Duration,
) -> Option<Option<String>> {
    let url = client.endpoint(&format!("models/{}", client.model()));
    let request = client.http().get(url).headers(headers(client).ok()?);
    let body = super::http::fetch_json(request, timeout).await?;
    Some(
        body.get("shutdown_date")
            .and_then(Value::as_str)
            .map(str::to_string),
    )
}

/// The structured-output mode the compatible endpoint is known to accept so far.
pub fn compat_mode(client: &Client) -> CompatMode {
    CompatMode::from_index(client.mode())
}

/// Whether a 4xx message is about the response format (and not, say, the prompt length).
fn refuses_format(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["format", "schema", "grammar", "json", "no details given"]
        .iter()
        .any(|w| lower.contains(w))
}

fn compatible_body(
    client: &Client,
    req: &JsonRequest,
    wire_schema: &Value,
    mode: CompatMode,
    max_tokens: u32,
) -> Value {
    let system = match mode {
        CompatMode::Prompt => system_with_schema(req, wire_schema),
        _ => req.system.clone(),
    };
    let mut body = common_body(client, req, &system);
    body.insert("max_tokens".into(), json!(max_tokens));
    match mode {
        CompatMode::JsonSchema => {
            body.insert(
                "response_format".into(),
                json!({
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema::sanitize_name(&req.name),
                        "schema": wire_schema,
                    }
                }),
            );
        }
        CompatMode::JsonObject => {
            body.insert(
                "response_format".into(),
                json!({"type": "json_object", "schema": wire_schema}),
            );
        }
        CompatMode::Prompt => {}
    }
    client.strip_dropped(&mut body);
    Value::Object(body)
}

/// The body every mode shares. The system message carries the instructions and then the
/// request's static context, so consecutive requests share a long identical prefix
/// (OpenAI caches prefixes of 1,024 tokens and more automatically; llama.cpp reuses them).
fn common_body(client: &Client, req: &JsonRequest, system: &str) -> Map<String, Value> {
    let mut messages = Vec::new();
    let system = [system.trim_end(), req.context.trim_end()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n");
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": req.user}));
    let mut body = Map::new();
    body.insert("model".into(), json!(client.model()));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = client.settings().temperature {
        body.insert("temperature".into(), json!(t));
    }
    body
}

pub(crate) fn headers(client: &Client) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &client.settings().api_key {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                LlmError::NotConfigured(format!(
                    "The API key for {} contains characters that cannot be sent. Check {}.",
                    client.kind(),
                    client.kind().key_hint()
                ))
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// Reads a Chat Completions reply: refusal, finish reason, content, usage, model.
fn parse_reply(client: &Client, body: &[u8], max_tokens: u32) -> Result<RawAnswer, LlmError> {
    let provider = client.provider().clone();
    let key = client.settings().api_key.as_ref();
    let reply: Value = client.reply_json(body)?;
    let choice = reply
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| LlmError::Protocol {
            provider: provider.clone(),
            detail: "the reply has no choices".to_string(),
        })?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str)
        && !refusal.trim().is_empty()
    {
        return Err(LlmError::Refused {
            provider,
            message: clean_message(refusal, key),
        });
    }
    match choice.get("finish_reason").and_then(Value::as_str) {
        Some("length") => {
            return Err(LlmError::Truncated {
                provider,
                max_tokens,
            });
        }
        Some("content_filter") => return Err(LlmError::ContentFiltered { provider }),
        _ => {}
    }
    let text = content_text(message.get("content"));
    let value = extract_json(&text).ok_or_else(|| LlmError::NotJson {
        provider: provider.clone(),
        snippet: clean_message(&snippet(&text), key),
    })?;
    let usage = reply.get("usage");
    let count = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| usage.and_then(|u| u.pointer(p)).and_then(Value::as_u64))
            .unwrap_or(0)
    };
    Ok(RawAnswer {
        value,
        // prompt_tokens includes the cached ones ("usage.prompt_tokens_details.cached_tokens");
        // GPT-5.6 and later also report cache writes (prompt caching guide).
        usage: Usage {
            input_tokens: count(&["/prompt_tokens", "/input_tokens"]),
            cached_input_tokens: count(&[
                "/prompt_tokens_details/cached_tokens",
                "/input_tokens_details/cached_tokens",
            ]),
            cache_write_tokens: count(&[
                "/prompt_tokens_details/cache_write_tokens",
                "/input_tokens_details/cache_write_tokens",
            ]),
            output_tokens: count(&["/completion_tokens", "/output_tokens"]),
        },
        model: client.answered_model(&reply),
    })
}

/// Message content as text: a string, or the text parts of a content array.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_refusals_are_told_apart() {
        assert!(refuses_format(
            "response_format type json_schema is not supported"
        ));
        assert!(refuses_format("Unsupported grammar"));
        assert!(!refuses_format(
            "the prompt is too long for the context window"
        ));
    }
}
