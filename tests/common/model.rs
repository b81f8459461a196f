//! A local HTTP server that plays the model, in OpenAI's and Anthropic's wire
//! formats, answering with rows from a closure.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the fake model is asked: the number of rows and the request's index.
pub struct Ask {
    pub rows: usize,
    pub call: usize,
    pub prompt: String,
    /// The JSON schema of one row, as sent on the wire.
    pub row_schema: Value,
}

/// Rows that satisfy the row schema: enums rotate, numbers and text count up
/// from `counter` so values are unique across calls.
pub fn rows_from_schema(ask: &Ask, counter: &std::sync::atomic::AtomicUsize) -> Vec<Value> {
    let props = ask.row_schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    (0..ask.rows)
        .map(|_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut row = serde_json::Map::new();
            for (name, schema) in &props {
                let value = if let Some(choices) =
                    schema["enum"].as_array().filter(|c| !c.is_empty())
                {
                    let non_null: Vec<&Value> = choices.iter().filter(|c| !c.is_null()).collect();
                    non_null
                        .get(n % non_null.len().max(1))
                        .map(|v| (*v).clone())
                        .unwrap_or(Value::Null)
                } else {
                    let types: Vec<String> = match &schema["type"] {
                        Value::String(t) => vec![t.clone()],
                        Value::Array(ts) => ts
                            .iter()
                            .filter_map(|t| t.as_str().map(String::from))
                            .collect(),
                        _ => vec!["string".into()],
                    };
                    if types.iter().any(|t| t == "integer") {
                        json!(1000 + n)
                    } else if types.iter().any(|t| t == "number") {
                        json!(1000.5 + n as f64)
                    } else {
                        json!(format!("{name} {n}"))
                    }
                };
                row.insert(name.clone(), value);
            }
            Value::Object(row)
        })
        .collect()
}

fn row_schema_of(body: &Value) -> Value {
    let in_prompt = schema_in_prompt(body);
    let schema = if body["response_format"]["json_schema"]["schema"].is_object() {
        &body["response_format"]["json_schema"]["schema"]
    } else if body["output_config"]["format"]["schema"].is_object() {
        &body["output_config"]["format"]["schema"]
    } else if body["tools"][0]["input_schema"].is_object() {
        &body["tools"][0]["input_schema"]
    } else {
        &in_prompt
    };
    schema["properties"]["rows"]["items"].clone()
}

/// The schema a weaker mode writes into the system prompt ("It must match this JSON
/// Schema:\n{...}").
fn schema_in_prompt(body: &Value) -> Value {
    let system = match &body["messages"][0]["content"] {
        Value::String(s) => s.clone(),
        _ => body["system"].to_string(),
    };
    system
        .split("It must match this JSON Schema:\n")
        .nth(1)
        .and_then(|rest| {
            serde_json::Deserializer::from_str(rest)
                .into_iter::<Value>()
                .next()
        })
        .and_then(Result::ok)
        .unwrap_or(Value::Null)
}

/// Rows the way a capable model writes them: each one modelled on a sample row of the
/// prompt, with enum values rotated, UNIQUE values made new, and values for columns whose
/// allowed list moved out of the schema taken from the prompt's "use one of" list.
pub fn rows_like_samples(ask: &Ask, counter: &AtomicUsize) -> Vec<Value> {
    let samples: Vec<serde_json::Map<String, Value>> = ask
        .prompt
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect();
    if samples.is_empty() {
        return rows_from_schema(ask, counter);
    }
    let props = ask.row_schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    (0..ask.rows)
        .map(|_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let sample = &samples[n % samples.len()];
            let mut row = serde_json::Map::new();
            for (name, schema) in &props {
                let description = schema["description"].as_str().unwrap_or_default();
                let listed = listed_values(&ask.prompt, name);
                let value = if let Some(choices) = schema["enum"].as_array() {
                    let non_null: Vec<&Value> = choices.iter().filter(|c| !c.is_null()).collect();
                    non_null
                        .get(n % non_null.len().max(1))
                        .map(|v| (*v).clone())
                        .unwrap_or(Value::Null)
                } else if !listed.is_empty() {
                    listed[n % listed.len()].clone()
                } else if description.contains("unique") {
                    match sample.get(name) {
                        Some(Value::String(s)) => Value::String(match s.split_once('@') {
                            Some((user, domain)) => format!("{user}{n}@{domain}"),
                            None => format!("{s}{n}"),
                        }),
                        _ => json!(1_000_000 + n),
                    }
                } else if description.contains("format: email") {
                    match sample.get(name) {
                        Some(Value::String(s)) => Value::String(match s.split_once('@') {
                            Some((user, domain)) => format!("{user}.x{n}@{domain}"),
                            None => format!("{s}{n}"),
                        }),
                        other => other.cloned().unwrap_or(Value::Null),
                    }
                } else if description.contains("format: phone")
                    || name.contains("street")
                    || name.contains("address")
                {
                    // A person's own phone and street are never copied: new digits.
                    match sample.get(name) {
                        Some(Value::String(s)) => Value::String(new_digits(s, n)),
                        other => other.cloned().unwrap_or(Value::Null),
                    }
                } else {
                    sample.get(name).cloned().unwrap_or(Value::Null)
                };
                row.insert(name.clone(), value);
            }
            Value::Object(row)
        })
        .collect()
}

/// `text` with its last digits (up to four) replaced by `n`'s, in the same places.
fn new_digits(text: &str, n: usize) -> String {
    let mut fresh = format!("{:04}", (n * 7919 + 1234) % 10_000).into_bytes();
    let mut out: Vec<char> = text.chars().collect();
    for c in out.iter_mut().rev() {
        if c.is_ascii_digit() {
            match fresh.pop() {
                Some(d) => *c = char::from(d),
                None => break,
            }
        }
    }
    out.into_iter().collect()
}

/// The values the prompt allows for a column: "- name TYPE ... use one of: 1, 2, 3".
fn listed_values(prompt: &str, column: &str) -> Vec<Value> {
    let head = format!("- {column} ");
    prompt
        .lines()
        .find(|l| l.starts_with(&head) && l.contains("use one of: "))
        .and_then(|l| l.split("use one of: ").nth(1))
        .map(|list| {
            list.split(", ")
                .filter_map(|v| serde_json::from_str(v.trim()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// How the fake model answers one request.
pub enum Reply {
    /// These rows, as a `{"rows": [...]}` answer.
    Rows(Vec<Value>),
    /// This text as the message content, exactly.
    Text(String),
    /// An HTTP error status with a body.
    Status(u16, Value),
}

type Script = dyn Fn(&Ask) -> Reply + Send + Sync;

struct Responder {
    script: Arc<Script>,
    calls: Arc<AtomicUsize>,
    anthropic: bool,
    /// A local server instead of OpenAI.
    local: Option<super::services::Local>,
    delay_ms: u64,
    /// The service's prompt cache, so usage reports cached tokens as the service would.
    cache: Arc<std::sync::Mutex<super::services::PromptCache>>,
    billed: Arc<std::sync::Mutex<Vec<super::services::Billed>>>,
}

/// The row count asked for: "Write exactly N new rows."
fn rows_asked(prompt: &str) -> usize {
    prompt
        .split("Write exactly ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
}

/// Everything the model reads: the system prompt (a string or Anthropic's text blocks), then
/// the messages.
fn prompt_of(body: &Value, _anthropic: bool) -> String {
    let text = |content: &Value| match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let mut parts = vec![text(&body["system"])];
    for message in body["messages"].as_array().cloned().unwrap_or_default() {
        parts.push(text(&message["content"]));
    }
    parts.join("\n")
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        // Refuse what the real service refuses, before the script sees the request.
        let verdict = if let Some(local) = &self.local {
            local.check(&body)
        } else if self.anthropic {
            super::services::check_anthropic(&body)
        } else {
            super::services::check_openai(&body, &super::services::today())
        };
        if let Err((status, refusal)) = verdict {
            self.calls.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(status).set_body_json(refusal);
        }
        let model = body["model"].as_str().unwrap_or_default().to_string();
        let prompt = prompt_of(&body, self.anthropic);
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let ask = Ask {
            rows: rows_asked(&prompt),
            call,
            prompt,
            row_schema: row_schema_of(&body),
        };
        let billed = {
            let mut cache = self.cache.lock().unwrap();
            if self.anthropic {
                cache.anthropic(&body)
            } else {
                cache.openai(&body)
            }
        };
        self.billed.lock().unwrap().push(billed);
        let text = match (self.script)(&ask) {
            Reply::Rows(rows) => json!({ "rows": rows }).to_string(),
            Reply::Text(text) => text,
            Reply::Status(status, body) => {
                return ResponseTemplate::new(status).set_body_json(body);
            }
        };
        let body = if self.anthropic {
            json!({
                "id": format!("msg_{call}"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{ "type": "text", "text": text }],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": billed.input - billed.cached - billed.written,
                    "cache_read_input_tokens": billed.cached,
                    "cache_creation_input_tokens": billed.written,
                    "output_tokens": super::services::tokens_of(&text)
                }
            })
        } else {
            json!({
                "id": format!("chatcmpl-{call}"),
                "object": "chat.completion",
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": { "role": "assistant", "content": text, "refusal": null },
                    "finish_reason": "stop"
                }],
                "usage": {
                    "prompt_tokens": billed.input,
                    "completion_tokens": super::services::tokens_of(&text),
                    "total_tokens": billed.input + super::services::tokens_of(&text),
                    "prompt_tokens_details": { "cached_tokens": billed.cached }
                }
            })
        };
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(std::time::Duration::from_millis(self.delay_ms))
    }
}

pub struct FakeModel {
    pub server: MockServer,
    pub calls: Arc<AtomicUsize>,
    pub anthropic: bool,
    pub local: Option<super::services::Local>,
    /// What each answered request was billed, in tokens.
    pub billed: Arc<std::sync::Mutex<Vec<super::services::Billed>>>,
}

impl FakeModel {
    pub async fn openai(script: impl Fn(&Ask) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(false, 0, Arc::new(script)).await
    }

    /// A local OpenAI-compatible server serving `smollm2` with a context window.
    pub async fn local(
        local: super::services::Local,
        script: impl Fn(&Ask) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_with(false, Some(local), 0, Arc::new(script)).await
    }

    pub async fn anthropic(script: impl Fn(&Ask) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(true, 0, Arc::new(script)).await
    }

    pub async fn slow_openai(
        delay_ms: u64,
        script: impl Fn(&Ask) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start(false, delay_ms, Arc::new(script)).await
    }

    async fn start(anthropic: bool, delay_ms: u64, script: Arc<Script>) -> Self {
        Self::start_with(anthropic, None, delay_ms, script).await
    }

    async fn start_with(
        anthropic: bool,
        local: Option<super::services::Local>,
        delay_ms: u64,
        script: Arc<Script>,
    ) -> Self {
        let server = MockServer::start().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let billed: Arc<std::sync::Mutex<Vec<super::services::Billed>>> = Arc::default();
        let route = if anthropic {
            "/v1/messages"
        } else {
            "/v1/chat/completions"
        };
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(Responder {
                script,
                calls: calls.clone(),
                anthropic,
                local,
                delay_ms,
                cache: Arc::default(),
                billed: billed.clone(),
            })
            .mount(&server)
            .await;
        if let Some(local) = local {
            let ctx = local.context();
            let (route, reply) = match local {
                super::services::Local::LlamaCpp { .. } => (
                    ("GET", "/props"),
                    json!({"default_generation_settings": {"n_ctx": ctx}, "total_slots": 1}),
                ),
                super::services::Local::Vllm { .. } => (
                    ("GET", "/v1/models"),
                    json!({"object": "list", "data": [{"id": "smollm2", "object": "model",
                        "owned_by": "vllm", "max_model_len": ctx}]}),
                ),
                super::services::Local::Ollama { num_ctx } => (
                    ("POST", "/api/show"),
                    json!({"model_info": {"general.architecture": "llama", "llama.context_length": 8192},
                        "parameters": num_ctx.map(|n| format!("temperature 0.7\nnum_ctx {n}")).unwrap_or_default()}),
                ),
            };
            Mock::given(method(route.0))
                .and(path(route.1))
                .respond_with(ResponseTemplate::new(200).set_body_json(reply))
                .mount(&server)
                .await;
        } else if !anthropic {
            // Retrieve a model: the catalogue with its published shutdown dates.
            Mock::given(method("GET"))
                .and(wiremock::matchers::path_regex("^/v1/models/[^/]+$"))
                .respond_with(|request: &Request| {
                    let id = request.url.path().rsplit('/').next().unwrap_or_default();
                    let today = super::services::today();
                    match super::services::openai_model(id)
                        .filter(|m| m.shutdown.is_none_or(|d| today.as_str() < d))
                    {
                        Some(m) => ResponseTemplate::new(200).set_body_json(json!({
                            "id": m.id, "object": "model", "created": 1_760_000_000,
                            "owned_by": "system", "shutdown_date": m.shutdown})),
                        None => ResponseTemplate::new(404).set_body_json(json!({"error": {
                            "message": format!("The model `{id}` does not exist or you do not have access to it."),
                            "type": "invalid_request_error", "param": null, "code": "model_not_found"}})),
                    }
                })
                .mount(&server)
                .await;
        }
        Self {
            server,
            calls,
            anthropic,
            local,
            billed,
        }
    }

    /// Environment that points rowsmith at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        if self.local.is_some() {
            vec![
                ("ROWSMITH_PROVIDER".into(), "compatible".into()),
                (
                    "ROWSMITH_BASE_URL".into(),
                    format!("{}/v1", self.server.uri()),
                ),
                ("ROWSMITH_MODEL".into(), "smollm2".into()),
            ]
        } else if self.anthropic {
            vec![
                ("ANTHROPIC_API_KEY".into(), "sk-ant-test-key".into()),
                ("ANTHROPIC_BASE_URL".into(), self.server.uri()),
                ("ROWSMITH_PROVIDER".into(), "anthropic".into()),
            ]
        } else {
            vec![
                ("OPENAI_API_KEY".into(), "sk-test-key".into()),
                (
                    "OPENAI_BASE_URL".into(),
                    format!("{}/v1", self.server.uri()),
                ),
                ("ROWSMITH_PROVIDER".into(), "openai".into()),
            ]
        }
    }

    /// `bin` (a rowsmith binary) pointed at this server only: its own data directory, no
    /// config file and no keys from the machine running it.
    pub fn command(
        &self,
        bin: &std::path::Path,
        data_dir: &std::path::Path,
    ) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin);
        cmd.env("ROWSMITH_DATA_DIR", data_dir)
            .env("XDG_CONFIG_HOME", data_dir.join("no-config"));
        for var in [
            "ROWSMITH_CONFIG",
            "ROWSMITH_MODEL",
            "OPENAI_API_KEY",
            "ANTHROPIC_API_KEY",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The JSON bodies the server received.
    pub async fn bodies(&self) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| {
                r.method == wiremock::http::Method::POST && r.url.path().starts_with("/v1/")
            })
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}
