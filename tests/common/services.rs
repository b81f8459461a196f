//! The documented rules of the services rowsmith talks to, enforced by our test servers.
//!
//! A fake that accepts everything proves nothing: each check below refuses what the real
//! service refuses, with its real status code and error body, and names the page the rule
//! comes from (checked 2026-12-04). `check_*` returns `Err((status, body))` for a request
//! the service would refuse.
#![allow(dead_code)]

use serde_json::{Value, json};

pub type Refusal = (u16, Value);

/// Today's date as `YYYY-MM-DD` (UTC), for shutdown dates.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

// ---------------------------------------------------------------------------------------
// OpenAI Chat Completions
// ---------------------------------------------------------------------------------------

/// One OpenAI model as the service knows it.
#[derive(Clone, Copy, Debug)]
pub struct OpenAiModel {
    pub id: &'static str,
    /// `shutdown_date` of GET /v1/models/{id}; after it the model answers 404.
    /// Source: developers.openai.com/api/docs/deprecations.
    pub shutdown: Option<&'static str>,
    /// `reasoning_effort` values accepted; `None` for a model that refuses the parameter.
    pub efforts: Option<&'static [&'static str]>,
}

/// Source: developers.openai.com/api/docs/models and each model's page;
/// developers.openai.com/api/docs/deprecations for the shutdown dates.
pub const OPENAI_MODELS: &[OpenAiModel] = &[
    OpenAiModel {
        id: "gpt-6.1-terra",
        shutdown: None,
        efforts: Some(&["none", "low", "medium", "high", "xhigh", "max"]),
    },
    OpenAiModel {
        id: "gpt-6-luna",
        shutdown: None,
        efforts: Some(&["none", "low", "medium", "high", "xhigh", "max"]),
    },
    OpenAiModel {
        id: "gpt-6.1-sol",
        shutdown: None,
        efforts: Some(&["low", "medium", "high", "xhigh", "max"]),
    },
    OpenAiModel {
        id: "gpt-5.1",
        shutdown: Some("2027-04-01"),
        efforts: Some(&["none", "low", "medium", "high"]),
    },
    OpenAiModel {
        id: "gpt-5-mini",
        shutdown: Some("2026-12-11"),
        efforts: Some(&["minimal", "low", "medium", "high"]),
    },
    OpenAiModel {
        id: "gpt-5",
        shutdown: Some("2026-12-11"),
        efforts: Some(&["minimal", "low", "medium", "high"]),
    },
    OpenAiModel {
        id: "gpt-4.1-mini",
        shutdown: Some("2027-01-14"),
        efforts: None,
    },
];

pub fn openai_model(id: &str) -> Option<&'static OpenAiModel> {
    OPENAI_MODELS.iter().find(|m| m.id == id)
}

fn openai_error(status: u16, message: String, param: Option<&str>, code: Option<&str>) -> Refusal {
    (
        status,
        json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}),
    )
}

/// The rules of POST /v1/chat/completions for `body`, on the date `today`.
pub fn check_openai(body: &Value, today: &str) -> Result<(), Refusal> {
    let id = body["model"].as_str().unwrap_or_default();
    // 404 model_not_found for unknown and shut-down models, body as the service sends it.
    let model = openai_model(id)
        .filter(|m| m.shutdown.is_none_or(|d| today < d))
        .ok_or_else(|| {
            openai_error(
                404,
                format!("The model `{id}` does not exist or you do not have access to it."),
                None,
                Some("model_not_found"),
            )
        })?;
    let reasoning = model.efforts.is_some();
    // Reasoning models: "Unsupported parameter: 'max_tokens' is not supported with this model.
    // Use 'max_completion_tokens' instead." (code unsupported_parameter).
    if reasoning && body.get("max_tokens").is_some() {
        return Err(openai_error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.".into(),
            Some("max_tokens"),
            Some("unsupported_parameter"),
        ));
    }
    // "When reasoning effort is not none, remove temperature, top_p" (deployment checklist);
    // GPT-5: "Only the default (1) value is supported."
    let effort = body["reasoning_effort"].as_str();
    for param in ["temperature", "top_p"] {
        if let Some(v) = body.get(param)
            && reasoning
            && effort != Some("none")
            && v.as_f64() != Some(1.0)
        {
            return Err(openai_error(
                400,
                format!(
                    "Unsupported value: '{param}' does not support {v} with this model. Only the default (1) value is supported."
                ),
                Some(param),
                Some("unsupported_value"),
            ));
        }
    }
    if let Some(effort) = effort {
        match model.efforts {
            None => {
                return Err(openai_error(
                    400,
                    "Unsupported parameter: 'reasoning_effort' is not supported with this model."
                        .into(),
                    Some("reasoning_effort"),
                    Some("unsupported_parameter"),
                ));
            }
            Some(accepted) if !accepted.contains(&effort) => {
                let list: Vec<String> = accepted.iter().map(|e| format!("'{e}'")).collect();
                return Err(openai_error(
                    400,
                    format!(
                        "Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. Supported values are: {}.",
                        list.join(", ")
                    ),
                    Some("reasoning_effort"),
                    Some("unsupported_value"),
                ));
            }
            Some(_) => {}
        }
    }
    let format = &body["response_format"];
    // JSON mode: "'messages' must contain the word 'json' in some form, to use
    // 'response_format' of type 'json_object'." (Chat Completions reference).
    if format["type"] == "json_object"
        && !body["messages"].to_string().to_lowercase().contains("json")
    {
        return Err(openai_error(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.".into(),
            Some("messages"),
            None,
        ));
    }
    if format["type"] == "json_schema" && format["json_schema"]["strict"] == true {
        let name = format["json_schema"]["name"].as_str().unwrap_or_default();
        check_openai_strict(name, &format["json_schema"]["schema"])
            .map_err(|m| openai_error(400, m, Some("response_format"), None))?;
    }
    Ok(())
}

/// Structured Outputs, "Supported schemas" (developers.openai.com/api/docs/guides/
/// structured-outputs#supported-schemas): limits and rules of strict mode.
pub const STRICT_MAX_PROPERTIES: usize = 5_000;
pub const STRICT_MAX_DEPTH: usize = 10;
pub const STRICT_MAX_CHARS: usize = 120_000;
pub const STRICT_MAX_ENUM_VALUES: usize = 1_000;
pub const STRICT_LARGE_ENUM: usize = 250;
pub const STRICT_LARGE_ENUM_CHARS: usize = 15_000;
/// Keywords strict mode refuses.
const STRICT_REFUSED: &[&str] = &[
    "minLength",
    "maxLength",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "default",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
];

#[derive(Default)]
struct StrictTally {
    properties: usize,
    depth: usize,
    chars: usize,
    enum_values: usize,
}

fn check_openai_strict(name: &str, schema: &Value) -> Result<(), String> {
    let prefix = format!("Invalid schema for response_format '{name}'");
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{prefix}: the name must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64."
        ));
    }
    if schema["type"] != "object" || schema.get("anyOf").is_some() {
        return Err(format!(
            "{prefix}: schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{}\"'.",
            schema["type"].as_str().unwrap_or("None")
        ));
    }
    let mut tally = StrictTally::default();
    strict_node(&prefix, schema, 0, &mut tally, "root")?;
    if tally.properties > STRICT_MAX_PROPERTIES {
        return Err(format!(
            "{prefix}: Expected at most {STRICT_MAX_PROPERTIES} properties in total, but received {}.",
            tally.properties
        ));
    }
    if tally.depth > STRICT_MAX_DEPTH {
        return Err(format!(
            "{prefix}: {} levels of nesting exceeds limit of {STRICT_MAX_DEPTH}.",
            tally.depth
        ));
    }
    if tally.enum_values > STRICT_MAX_ENUM_VALUES {
        return Err(format!(
            "{prefix}: Expected at most {STRICT_MAX_ENUM_VALUES} enum values in total within a single schema when using structured outputs, but received {}. Consider reducing the number of enums, or use 'strict: false' to opt out of structured outputs.",
            tally.enum_values
        ));
    }
    if tally.chars > STRICT_MAX_CHARS {
        return Err(format!(
            "{prefix}: Expected the total string length of all property names, definition names, enum values and const values to be at most {STRICT_MAX_CHARS}, but received {}.",
            tally.chars
        ));
    }
    Ok(())
}

fn strict_node(
    prefix: &str,
    node: &Value,
    depth: usize,
    tally: &mut StrictTally,
    at: &str,
) -> Result<(), String> {
    let Some(obj) = node.as_object() else {
        return Ok(());
    };
    for k in STRICT_REFUSED {
        if obj.contains_key(*k) {
            return Err(format!(
                "{prefix}: In context=('{at}',), '{k}' is not permitted."
            ));
        }
    }
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        tally.enum_values += values.len();
        let text: usize = values
            .iter()
            .map(|v| v.as_str().map_or(v.to_string().len(), str::len))
            .sum();
        tally.chars += text;
        if values.len() > STRICT_LARGE_ENUM && text > STRICT_LARGE_ENUM_CHARS {
            return Err(format!(
                "{prefix}: Expected at most {STRICT_LARGE_ENUM_CHARS} total characters in enum values when an enum has more than {STRICT_LARGE_ENUM} values, but received {text}."
            ));
        }
    }
    let is_object = obj.get("type") == Some(&json!("object"))
        || obj
            .get("type")
            .and_then(Value::as_array)
            .is_some_and(|t| t.contains(&json!("object")));
    if is_object {
        tally.depth = tally.depth.max(depth + 1);
        if obj.get("additionalProperties") != Some(&json!(false)) {
            return Err(format!(
                "{prefix}: In context=('{at}',), 'additionalProperties' is required to be supplied and to be false."
            ));
        }
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for key in props.keys() {
            if !required.contains(&key.as_str()) {
                return Err(format!(
                    "{prefix}: In context=('{at}',), 'required' is required to be supplied and to be an array including every key in properties. Missing '{key}'."
                ));
            }
        }
        tally.properties += props.len();
        for (key, prop) in &props {
            tally.chars += key.len();
            strict_node(prefix, prop, depth + 1, tally, key)?;
        }
    }
    if let Some(items) = obj.get("items") {
        strict_node(prefix, items, depth, tally, "items")?;
    }
    if let Some(alts) = obj.get("anyOf").and_then(Value::as_array) {
        for alt in alts {
            strict_node(prefix, alt, depth, tally, "anyOf")?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Anthropic Messages
// ---------------------------------------------------------------------------------------

/// Current and legacy models. Source: platform.claude.com/docs/en/about-claude/models/overview.
pub const ANTHROPIC_MODELS: &[&str] = &[
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-fable-5-1",
    "claude-sonnet-5",
    "claude-opus-5",
    "claude-haiku-4-5",
];

/// Structured outputs, "Schema complexity limits" (platform.claude.com/docs/en/build-with-
/// claude/structured-outputs): "Parameters with union types: 16", "Optional parameters: 24".
pub const ANTHROPIC_MAX_UNION_PARAMS: usize = 16;
pub const ANTHROPIC_MAX_OPTIONAL_PARAMS: usize = 24;
/// Prompt caching: "A maximum of 4 blocks with cache_control may be provided".
pub const ANTHROPIC_MAX_CACHE_BREAKPOINTS: usize = 4;

fn anthropic_error(message: String) -> Refusal {
    anthropic_typed(400, "invalid_request_error", message)
}

fn anthropic_typed(status: u16, kind: &str, message: String) -> Refusal {
    (
        status,
        json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_test"}),
    )
}

/// The rules of POST /v1/messages for `body`.
pub fn check_anthropic(body: &Value) -> Result<(), Refusal> {
    let id = body["model"].as_str().unwrap_or_default();
    if !ANTHROPIC_MODELS.contains(&id) {
        return Err(anthropic_typed(
            404,
            "not_found_error",
            format!("model: {id}"),
        ));
    }
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return Err(anthropic_error("max_tokens: Field required".into()));
    }
    // The Claude 5 generation: "`temperature` is deprecated for this model." (also top_p,
    // top_k); Haiku 4.5 refuses temperature and top_p together.
    let claude5 = id != "claude-haiku-4-5";
    for param in ["temperature", "top_p", "top_k"] {
        if claude5 && body.get(param).is_some() {
            return Err(anthropic_error(format!(
                "`{param}` is deprecated for this model."
            )));
        }
    }
    if !claude5 && body.get("temperature").is_some() && body.get("top_p").is_some() {
        return Err(anthropic_error(
            "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
                .into(),
        ));
    }
    let breakpoints = body.to_string().matches("\"cache_control\"").count();
    if breakpoints > ANTHROPIC_MAX_CACHE_BREAKPOINTS {
        return Err(anthropic_error(format!(
            "A maximum of {ANTHROPIC_MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {breakpoints}."
        )));
    }
    let schema = &body["output_config"]["format"]["schema"];
    if schema.is_object() {
        check_anthropic_schema(schema).map_err(|m| {
            anthropic_error(format!("output_config.format.schema: Invalid schema: {m}"))
        })?;
    }
    Ok(())
}

#[derive(Default)]
struct GrammarTally {
    unions: usize,
    optional: usize,
}

fn check_anthropic_schema(schema: &Value) -> Result<(), String> {
    let mut tally = GrammarTally::default();
    grammar_node(schema, &mut tally)?;
    if tally.unions > ANTHROPIC_MAX_UNION_PARAMS {
        return Err(format!(
            "Schemas contains too many parameters with union types ({} parameters, limit: {ANTHROPIC_MAX_UNION_PARAMS}). Reduce the number of union-typed parameters.",
            tally.unions
        ));
    }
    if tally.optional > ANTHROPIC_MAX_OPTIONAL_PARAMS {
        return Err(format!(
            "Schemas contains too many optional parameters ({}), which would make grammar compilation inefficient. Reduce the number of optional parameters in your tool schemas (limit: {ANTHROPIC_MAX_OPTIONAL_PARAMS}).",
            tally.optional
        ));
    }
    Ok(())
}

/// "Not supported: numerical constraints (minimum, maximum, multipleOf), string constraints
/// (minLength, maxLength)"; objects need `additionalProperties: false`.
fn grammar_node(node: &Value, tally: &mut GrammarTally) -> Result<(), String> {
    let Some(obj) = node.as_object() else {
        return Ok(());
    };
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("value");
    for k in ["minimum", "maximum", "multipleOf", "minLength", "maxLength"] {
        if obj.contains_key(k) {
            return Err(format!("For '{ty}' type, property '{k}' is not supported"));
        }
    }
    if obj
        .get("minItems")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > 1)
        || obj.contains_key("maxItems")
    {
        return Err("For 'array' type, only minItems values 0 and 1 are supported".into());
    }
    let is_object = obj.get("type") == Some(&json!("object")) || obj.contains_key("properties");
    if is_object {
        if obj.get("additionalProperties") != Some(&json!(false)) {
            return Err(
                "For 'object' type, 'additionalProperties' must be explicitly set to false".into(),
            );
        }
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (key, prop) in &props {
            if !required.contains(&key.as_str()) {
                tally.optional += 1;
            }
            let union =
                prop["type"].as_array().is_some_and(|t| t.len() > 1) || prop.get("anyOf").is_some();
            if union {
                tally.unions += 1;
            }
            grammar_node(prop, tally)?;
        }
    }
    if let Some(items) = obj.get("items") {
        grammar_node(items, tally)?;
    }
    if let Some(alts) = obj.get("anyOf").and_then(Value::as_array) {
        for alt in alts {
            grammar_node(alt, tally)?;
        }
    }
    Ok(())
}

/// A wiremock responder for OpenAI's Chat Completions that enforces [`check_openai`] on the
/// date `today` and otherwise answers `ok`.
pub fn openai_service(
    today: &str,
    ok: wiremock::ResponseTemplate,
) -> impl Fn(&wiremock::Request) -> wiremock::ResponseTemplate + Send + Sync + 'static {
    let today = today.to_string();
    move |request: &wiremock::Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match check_openai(&body, &today) {
            Ok(()) => ok.clone(),
            Err((status, refusal)) => {
                wiremock::ResponseTemplate::new(status).set_body_json(refusal)
            }
        }
    }
}

/// A wiremock responder for Anthropic's Messages API that enforces [`check_anthropic`].
pub fn anthropic_service(
    ok: wiremock::ResponseTemplate,
) -> impl Fn(&wiremock::Request) -> wiremock::ResponseTemplate + Send + Sync + 'static {
    move |request: &wiremock::Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match check_anthropic(&body) {
            Ok(()) => ok.clone(),
            Err((status, refusal)) => {
                wiremock::ResponseTemplate::new(status).set_body_json(refusal)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Prompt caching, as the services bill it
// ---------------------------------------------------------------------------------------

/// Tokens of a text, by the usual 4 characters a token.
pub fn tokens_of(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// OpenAI: "Caching is enabled automatically for prompts that are 1024 tokens or longer";
/// "cache hits are only possible for exact prefix matches", counted "in increments of 128
/// tokens" (prompt caching guide). Anthropic caches the prefix up to a `cache_control`
/// breakpoint: the first request writes it, later ones read it.
pub const CACHE_MIN_TOKENS: u64 = 1_024;
pub const CACHE_INCREMENT: u64 = 128;

/// The prompt caches of one test server.
#[derive(Default)]
pub struct PromptCache {
    seen: Vec<String>,
    anthropic_prefixes: std::collections::HashSet<String>,
}

/// What one request was billed, in tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Billed {
    pub input: u64,
    pub cached: u64,
    pub written: u64,
}

impl PromptCache {
    /// OpenAI Chat Completions: the request as the model reads it (schema, then messages);
    /// cached = the longest prefix shared with an earlier request, in 128-token steps.
    pub fn openai(&mut self, body: &Value) -> Billed {
        let mut text = body["response_format"].to_string();
        for m in body["messages"].as_array().cloned().unwrap_or_default() {
            text.push_str(m["content"].as_str().unwrap_or_default());
        }
        let input = tokens_of(&text);
        let shared = self
            .seen
            .iter()
            .map(|old| common_prefix(old, &text))
            .max()
            .unwrap_or(0);
        let shared_tokens = (shared as u64) / 4;
        let cached = if shared_tokens >= CACHE_MIN_TOKENS {
            shared_tokens / CACHE_INCREMENT * CACHE_INCREMENT
        } else {
            0
        };
        self.seen.push(text);
        Billed {
            input,
            cached,
            written: 0,
        }
    }

    /// Anthropic Messages: tools, system, messages; the prefix up to the last block marked
    /// `cache_control` is written once and read after.
    pub fn anthropic(&mut self, body: &Value) -> Billed {
        let mut prefix = body["tools"].to_string();
        let mut rest = String::new();
        let blocks = match &body["system"] {
            Value::Array(b) => b.clone(),
            Value::String(s) => vec![json!({"type": "text", "text": s})],
            _ => Vec::new(),
        };
        let marked = blocks
            .iter()
            .rposition(|b| b.get("cache_control").is_some());
        for (i, block) in blocks.iter().enumerate() {
            let t = block["text"].as_str().unwrap_or_default();
            if marked.is_some_and(|m| i <= m) {
                prefix.push_str(t);
            } else {
                rest.push_str(t);
            }
        }
        rest.push_str(&body["messages"].to_string());
        rest.push_str(&body["output_config"].to_string());
        let input = tokens_of(&prefix) + tokens_of(&rest);
        if marked.is_none() {
            return Billed {
                input,
                ..Billed::default()
            };
        }
        let tokens = tokens_of(&prefix);
        if self.anthropic_prefixes.contains(&prefix) {
            Billed {
                input,
                cached: tokens,
                written: 0,
            }
        } else {
            self.anthropic_prefixes.insert(prefix);
            Billed {
                input,
                cached: 0,
                written: tokens,
            }
        }
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

// ---------------------------------------------------------------------------------------
// Local OpenAI-compatible servers and their context windows
// ---------------------------------------------------------------------------------------

/// A local server as it behaves when a request is longer than its context.
#[derive(Clone, Copy, Debug)]
pub enum Local {
    /// llama.cpp's llama-server: `GET /props` tells `n_ctx`; a longer prompt is refused with
    /// 400 `exceed_context_size_error` (ggml-org/llama.cpp PR #16486).
    LlamaCpp { n_ctx: u32 },
    /// vLLM: `GET /v1/models` tells `max_model_len`; prompt plus `max_tokens` beyond it is
    /// refused with 400 "This model's maximum context length is N tokens" (vLLM's
    /// serving_engine.py, BadRequestError).
    Vllm { max_model_len: u32 },
    /// Ollama: `POST /api/show` tells `num_ctx` when a Modelfile sets it, else the default
    /// 4,096 applies; a longer prompt is cut from the front without a word ("It also
    /// silently discards context that exceeds the window", aider's Ollama notes), so the
    /// model never sees its instructions.
    Ollama { num_ctx: Option<u32> },
}

/// The prompt a chat completion asks the model to read, in tokens.
pub fn chat_prompt_tokens(body: &Value) -> u64 {
    let mut text = body["response_format"].to_string();
    for m in body["messages"].as_array().cloned().unwrap_or_default() {
        text.push_str(m["content"].as_str().unwrap_or_default());
    }
    tokens_of(&text)
}

impl Local {
    pub fn context(&self) -> u32 {
        match *self {
            Self::LlamaCpp { n_ctx } => n_ctx,
            Self::Vllm { max_model_len } => max_model_len,
            Self::Ollama { num_ctx } => num_ctx.unwrap_or(4_096),
        }
    }

    /// Err with the server's answer for a request it will not serve as asked: a refusal,
    /// or (Ollama) a 200 whose text shows the instructions were cut away.
    pub fn check(&self, body: &Value) -> Result<(), Refusal> {
        let prompt = chat_prompt_tokens(body);
        let ctx = u64::from(self.context());
        match *self {
            Self::LlamaCpp { n_ctx } if prompt > ctx => Err((
                400,
                json!({"error": {"code": 400,
                    "message": format!("request ({prompt} tokens) exceeds the available context size ({n_ctx} tokens), try increasing it"),
                    "type": "exceed_context_size_error", "n_prompt_tokens": prompt, "n_ctx": n_ctx}}),
            )),
            Self::Vllm { max_model_len } => {
                let asked = body["max_tokens"].as_u64().unwrap_or(0);
                if prompt + asked > ctx {
                    return Err((
                        400,
                        json!({"object": "error",
                            "message": format!("This model's maximum context length is {max_model_len} tokens. However, you requested {} tokens ({prompt} in the messages, {asked} in the completion). Please reduce the length of the messages or completion.", prompt + asked),
                            "type": "BadRequestError", "param": null, "code": 400}),
                    ));
                }
                Ok(())
            }
            Self::Ollama { .. } if prompt > ctx => Err((
                200,
                json!({"id": "chatcmpl-cut", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "Sure! Here are some more rows like the ones above."}}],
                    "usage": {"prompt_tokens": ctx, "completion_tokens": 12, "total_tokens": ctx + 12}}),
            )),
            _ => Ok(()),
        }
    }
}
