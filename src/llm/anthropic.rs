//! Anthropic Messages API with structured output (`output_config.format`), falling back to a
//! forced tool call where the model or endpoint refuses structured output.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::budget;
use super::client::{Client, JsonRequest, RawAnswer, Usage};
use super::error::{LlmError, clean_message};
use super::ladder::{Next, StepDown, Wire};
use super::models;
use super::notice::Notice;
use super::parse::{extract_json, snippet};
use super::schema;

/// Parameters a model may refuse and the request does without ("`temperature` is deprecated
/// for this model" on the Claude 5 generation).
const OPTIONAL: &[&str] = &["temperature", "top_p", "top_k"];

/// The API version header every request carries.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The answer's schema in the two forms a request may carry it.
struct Schemas {
    /// For the forced tool, which takes the schema as it is.
    plain: Value,
    /// For structured output, which compiles the schema into a grammar with documented
    /// limits: shrunk to fit them, or why it cannot be.
    fitted: Value,
    fits: Result<(), budget::TooComplex>,
}

impl Schemas {
    fn new(wire_schema: &Value) -> Self {
        let plain = schema::anthropic(wire_schema);
        let mut fitted = plain.clone();
        let fits = budget::fit_anthropic(&mut fitted).map(|_| ());
        Self {
            plain,
            fitted,
            fits,
        }
    }
}

/// Anthropic: `output_config` first (unless it was refused before in this run), else a
/// forced tool call.
pub(crate) struct Anthropic {
    schemas: Schemas,
}

impl Anthropic {
    pub(crate) fn new(wire_schema: &Value) -> Self {
        Self {
            schemas: Schemas::new(wire_schema),
        }
    }
}

/// The mode is whether the body asks for a forced tool call.
impl Wire for Anthropic {
    type Mode = bool;
    const OPTIONAL: &'static [&'static str] = OPTIONAL;

    fn target(&self, client: &Client) -> Result<(String, HeaderMap), LlmError> {
        Ok((client.root_endpoint("v1/messages"), headers(client)?))
    }

    /// In the client's current mode; a schema beyond structured output's limits goes to the
    /// forced tool instead.
    fn next_body(&self, client: &Client, req: &JsonRequest, max_tokens: u32) -> Next<bool> {
        let mut tool_mode = client.mode() >= TOOL_MODE;
        let mut too_complex = None;
        if !tool_mode && let Err(budget::TooComplex(why)) = &self.schemas.fits {
            tool_mode = true;
            too_complex = Some(why.clone());
        }
        let schema = if tool_mode {
            &self.schemas.plain
        } else {
            &self.schemas.fitted
        };
        Next {
            mode: tool_mode,
            body: request_body(client, req, schema, tool_mode, max_tokens),
            step_first: too_complex.map(to_tool),
        }
    }

    fn refused(&self, tool_mode: bool, error: &LlmError) -> Option<StepDown> {
        if tool_mode {
            return None;
        }
        match error {
            LlmError::BadRequest { message, .. } if refuses_output_config(message) => {
                Some(to_tool(message.clone()))
            }
            // "Schemas contains too many parameters with union types", "The compiled grammar
            // is too large": the forced tool has no grammar, so it takes the same schema.
            LlmError::FormatRefused { message, .. } => Some(to_tool(message.clone())),
            _ => None,
        }
    }

    fn parse(
        &self,
        client: &Client,
        req: &JsonRequest,
        body: &[u8],
        tool_mode: bool,
        max_tokens: u32,
    ) -> Result<RawAnswer, LlmError> {
        let provider = client.provider().clone();
        let key = client.settings().api_key.as_ref();
        let reply: Value = client.reply_json(body)?;
        let blocks = reply
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| LlmError::Protocol {
                provider: provider.clone(),
                detail: "the reply has no content".to_string(),
            })?;
        let text: String = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("");
        match reply.get("stop_reason").and_then(Value::as_str) {
            Some("max_tokens") => {
                return Err(LlmError::Truncated {
                    provider,
                    max_tokens,
                });
            }
            Some("refusal") => {
                let message = if text.trim().is_empty() {
                    "stop reason: refusal".to_string()
                } else {
                    clean_message(&text, key)
                };
                return Err(LlmError::Refused { provider, message });
            }
            _ => {}
        }
        let tool_input = blocks
            .iter()
            .find(|b| {
                b.get("type").and_then(Value::as_str) == Some("tool_use")
                    && (!tool_mode
                        || b.get("name").and_then(Value::as_str)
                            == Some(schema::sanitize_name(&req.name).as_str()))
            })
            .and_then(|b| b.get("input"))
            .cloned();
        let value = match tool_input {
            Some(input) => input,
            None => extract_json(&text).ok_or_else(|| LlmError::NotJson {
                provider: provider.clone(),
                snippet: clean_message(&snippet(&text), key),
            })?,
        };
        let usage = reply.get("usage");
        let count = |name: &str| {
            usage
                .and_then(|u| u.get(name))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        Ok(RawAnswer {
            value,
            // Anthropic's input_tokens leaves out the cached ones: add them back for the total.
            usage: Usage {
                input_tokens: count("input_tokens")
                    + count("cache_creation_input_tokens")
                    + count("cache_read_input_tokens"),
                cached_input_tokens: count("cache_read_input_tokens"),
                cache_write_tokens: count("cache_creation_input_tokens"),
                output_tokens: count("output_tokens"),
            },
            model: client.answered_model(&reply),
        })
    }
}

fn to_tool(reason: String) -> StepDown {
    StepDown {
        to: TOOL_MODE,
        label: TOOL_LABEL,
        reason,
    }
}

/// The answer mode after `output_config` (0): a forced tool call.
const TOOL_MODE: u8 = 1;
const TOOL_LABEL: &str = "a forced tool call";

/// Whether the client has fallen back to the forced-tool mode.
pub fn uses_tool_fallback(client: &Client) -> bool {
    client.mode() >= TOOL_MODE
}

fn refuses_output_config(message: &str) -> bool {
    let lower = message.to_lowercase();
    [
        "output_config",
        "output_format",
        "output format",
        "structured output",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

fn request_body(
    client: &Client,
    req: &JsonRequest,
    schema: &Value,
    tool_mode: bool,
    max_tokens: u32,
) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(client.model()));
    body.insert("max_tokens".into(), json!(max_tokens));
    // The instructions, then the static context with a cache breakpoint: everything up to
    // it (tools, system) is cached for the rest of the run (prompt caching guide:
    // "cache_control": {"type": "ephemeral"} on the last static block).
    let mut system: Vec<Value> = [req.system.trim_end(), req.context.trim_end()]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| json!({"type": "text", "text": s}))
        .collect();
    if let Some(Value::Object(last)) = system.last_mut() {
        last.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": req.user}]),
    );
    if let Some(t) = client.settings().temperature {
        if models::anthropic(client.model()).temperature {
            body.insert("temperature".into(), json!(t));
        } else {
            client.notify(Notice::TemperatureNotSent {
                model: client.model().to_string(),
            });
        }
    }
    if tool_mode {
        let name = schema::sanitize_name(&req.name);
        body.insert(
            "tools".into(),
            json!([{
                "name": name,
                "description": "Record the answer. The input of this tool is the complete answer.",
                "input_schema": schema,
            }]),
        );
        body.insert("tool_choice".into(), json!({"type": "tool", "name": name}));
    } else {
        body.insert(
            "output_config".into(),
            json!({"format": {"type": "json_schema", "schema": schema}}),
        );
    }
    client.strip_dropped(&mut body);
    Value::Object(body)
}

fn headers(client: &Client) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(ANTHROPIC_VERSION),
    );
    if let Some(key) = &client.settings().api_key {
        let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
            LlmError::NotConfigured(
                "The Anthropic API key contains characters that cannot be sent. Check ANTHROPIC_API_KEY."
                    .to_string(),
            )
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_config_refusals_are_recognised() {
        assert!(refuses_output_config(
            "output_config.format: Extra inputs are not permitted"
        ));
        assert!(refuses_output_config(
            "'claude-3-haiku-20240307' does not support structured outputs"
        ));
        assert!(!refuses_output_config("max_tokens: field required"));
    }
}
