//! The client: one configured provider, cheap to clone and share across tokio tasks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::LlmError;
use super::http::{self, Reply};
use super::notice::{Board, Notice};
use super::provider::{Provider, ProviderKind};
use super::rate::RateState;
use super::retry::{self, RetryPolicy};
use super::secret::ApiKey;

/// Default per-request timeout. A 50-row answer from a hosted model takes 10-60 s (longer
/// for a reasoning model or a busy local server); 120 s leaves room without hanging forever.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default cap on the output tokens of one answer (room for 50 wide rows plus reasoning).
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 16_384;
/// Default bound on a response body; a larger body is dropped with [`LlmError::TooLarge`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How long connecting may take, within the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `User-Agent` of every request (the request preview shows it too).
pub(crate) const USER_AGENT: &str = concat!("rowsmith/", env!("CARGO_PKG_VERSION"));

/// Everything a client needs. Build one with [`Settings::new`] and adjust fields, or let
/// [`crate::llm::select`] build it from the config.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub kind: ProviderKind,
    pub model: String,
    /// Base URL: `https://api.openai.com/v1` style for OpenAI and compatible servers,
    /// `https://api.anthropic.com` (no `/v1`) for Anthropic.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Sent only when set.
    pub temperature: Option<f64>,
    pub max_output_tokens: u32,
    /// OpenAI `reasoning_effort`, sent only to reasoning models (gpt-5*, o1/o3/o4*).
    pub reasoning_effort: Option<String>,
    pub max_body_bytes: usize,
}

impl Settings {
    pub fn new(kind: ProviderKind, model: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self {
            kind,
            model: model.into(),
            base_url: base_url.into(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            temperature: None,
            max_output_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
            reasoning_effort: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = ApiKey::from_non_empty(Some(&key.into()));
        self
    }
}

/// One request for a JSON answer.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonRequest {
    /// Schema name (OpenAI `json_schema.name`, Anthropic tool name); sanitized to
    /// `[a-zA-Z0-9_-]{1,64}`.
    pub name: String,
    pub system: String,
    /// What stays the same across a run's requests (the table, its columns and profile),
    /// sent right after `system` so that the two form a byte-identical prefix the
    /// providers' prompt caches can reuse. May be empty.
    pub context: String,
    /// What varies from request to request; sent last.
    pub user: String,
    /// An ordinary JSON Schema for the answer; rewritten per provider.
    pub schema: Value,
    /// Overrides the configured output-token cap for this request.
    pub max_output_tokens: Option<u32>,
}

/// Token counts as the provider reported them (zero where it reported none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Every input token, cached or not.
    pub input_tokens: u64,
    /// Input tokens read from the provider's prompt cache (billed at a fraction).
    pub cached_input_tokens: u64,
    /// Input tokens written to the prompt cache (billed at a premium where the provider
    /// charges for writes).
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// A parsed answer. `value` is JSON whose root matches the schema's root type; the caller
/// validates the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonAnswer {
    pub value: Value,
    pub usage: Usage,
    /// The model as the server named it (may differ from the configured alias).
    pub model: String,
    pub latency: Duration,
    /// HTTP attempts made, retries and fallbacks included.
    pub attempts: u32,
}

/// What a provider module returns before the common post-processing.
pub(crate) struct RawAnswer {
    pub value: Value,
    pub usage: Usage,
    pub model: String,
}

/// A ready client for one provider, model and endpoint. Cloning is cheap (an `Arc`); all
/// clones share the HTTP connection pool and what was learnt about the endpoint (which
/// structured-output mode it accepts).
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    provider: Provider,
    http: reqwest::Client,
    /// The provider's answer mode that works so far, as an index into its own ladder of
    /// modes from the strongest (a strict schema) to the weakest (a prompt); it only goes up.
    mode: AtomicU8,
    /// Optional parameters the endpoint refused for this model: never sent again.
    dropped: Mutex<HashSet<String>>,
    /// What the user should hear, each once.
    notices: Mutex<Board>,
    /// Rate limits as the service last reported them.
    rates: Mutex<RateState>,
    /// A compatible server's context window, asked once per client.
    context: tokio::sync::OnceCell<Option<super::window::ContextWindow>>,
}

impl Client {
    /// Checks the settings and builds the HTTP client.
    pub fn new(settings: Settings) -> Result<Self, LlmError> {
        let url = Url::parse(settings.base_url.trim()).map_err(|e| {
            LlmError::NotConfigured(format!(
                "The base URL \"{}\" for {} is not a valid URL ({e}). Fix {}.",
                settings.base_url,
                settings.kind,
                settings.kind.base_url_hint()
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(LlmError::NotConfigured(format!(
                "The base URL \"{}\" for {} must start with http:// or https://. Fix {}.",
                settings.base_url,
                settings.kind,
                settings.kind.base_url_hint()
            )));
        }
        if settings.model.trim().is_empty() {
            return Err(LlmError::NotConfigured(format!(
                "No model is set for {}. Set --model or {}.model in the config file.",
                settings.kind,
                settings.kind.config_name()
            )));
        }
        let provider = Provider::new(settings.kind, display_url(&url));
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .build()
            .map_err(|e| LlmError::Network {
                provider: provider.clone(),
                detail: format!("the HTTP client could not start: {e}"),
                attempts: 0,
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                provider,
                http,
                mode: AtomicU8::new(0),
                dropped: Mutex::new(HashSet::new()),
                notices: Mutex::new(Board::default()),
                rates: Mutex::new(RateState::default()),
                context: tokio::sync::OnceCell::new(),
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn kind(&self) -> ProviderKind {
        self.inner.settings.kind
    }

    pub fn model(&self) -> &str {
        &self.inner.settings.model
    }

    /// The base URL without any user name or password in it.
    pub fn base_url(&self) -> &str {
        &self.inner.provider.base_url
    }

    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    /// A reply body as JSON, or a protocol error quoting a cleaned snippet
    /// of it (no key can reach the message).
    pub(crate) fn reply_json(&self, body: &[u8]) -> Result<Value, LlmError> {
        serde_json::from_slice(body).map_err(|_| LlmError::Protocol {
            provider: self.provider().clone(),
            detail: format!(
                "the reply body is not JSON; {}",
                super::error::clean_message(
                    &super::parse::snippet(&String::from_utf8_lossy(body)),
                    self.settings().api_key.as_ref()
                )
            ),
        })
    }

    /// The model a reply names (it may differ from the configured alias), else the one asked
    /// for.
    pub(crate) fn answered_model(&self, reply: &Value) -> String {
        reply
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or(self.model())
            .to_string()
    }

    /// The provider and model in use, for the user: "OpenAI gpt-6.1-terra",
    /// "compatible smollm2 at http://127.0.0.1:8089/v1". A non-default OpenAI or Anthropic
    /// base URL is shown too.
    pub fn describe(&self) -> String {
        let s = &self.inner.settings;
        let default_base = match s.kind {
            ProviderKind::OpenAi => Some(super::OPENAI_BASE_URL),
            ProviderKind::Anthropic => Some(super::ANTHROPIC_BASE_URL),
            ProviderKind::Compatible => None,
        };
        let base = self.base_url();
        if default_base.is_some_and(|d| d.trim_end_matches('/') == base.trim_end_matches('/')) {
            format!("{} {}", s.kind, s.model)
        } else {
            format!("{} {} at {}", s.kind, s.model, base)
        }
    }

    /// POSTs `body` to `url` with retries; adds the attempts made to `attempts`.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &Value,
        cancel: &CancellationToken,
        attempts: &mut u32,
    ) -> Result<Reply, LlmError> {
        let s = &self.inner.settings;
        let ctx = http::Context {
            provider: &self.inner.provider,
            key: s.api_key.as_ref(),
            model: &s.model,
            timeout: s.timeout,
            max_body_bytes: s.max_body_bytes,
            rates: &self.inner.rates,
        };
        let attempts_in_all = s.retry.max_retries + 1;
        let (result, made) = retry::run(
            &s.retry,
            cancel,
            |n| http::attempt(&self.inner.http, url, headers.clone(), body, &ctx, n),
            |error, next, _| {
                // A slow or silent server should not look like a hang: say what happened
                // and that rowsmith is asking again (429s are the pacer's to report).
                let what = match error {
                    LlmError::Timeout {
                        provider, after, ..
                    } => format!(
                        "{} did not answer within {} s",
                        provider.subject(),
                        after.as_secs_f64()
                    ),
                    LlmError::Network {
                        provider, detail, ..
                    } => {
                        format!("Could not reach {provider} ({detail})")
                    }
                    LlmError::Server {
                        provider, status, ..
                    } => format!("{} answered HTTP {status}", provider.subject()),
                    _ => return,
                };
                self.notify(Notice::Retrying {
                    what,
                    attempt: next,
                    of: attempts_in_all,
                });
            },
        )
        .await;
        *attempts += made;
        result
    }

    /// The rate limits as the service last reported them.
    pub fn rates(&self) -> RateState {
        self.inner
            .rates
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Where the server's context window is kept once learned (`context` asks for it).
    pub(crate) fn context_cell(
        &self,
    ) -> &tokio::sync::OnceCell<Option<super::window::ContextWindow>> {
        &self.inner.context
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Notices posted since the last call, each distinct one only once per client.
    pub fn take_notices(&self) -> Vec<Notice> {
        self.inner
            .notices
            .lock()
            .map(|mut b| b.take())
            .unwrap_or_default()
    }

    pub(crate) fn notify(&self, notice: Notice) {
        if let Ok(mut board) = self.inner.notices.lock() {
            board.post(notice);
        }
    }

    /// Removes the parameters this endpoint refused before from a request body.
    pub(crate) fn strip_dropped(&self, body: &mut serde_json::Map<String, Value>) {
        if let Ok(dropped) = self.inner.dropped.lock() {
            body.retain(|k, _| !dropped.contains(k));
        }
    }

    /// After a 400: if it was about one of `optional` that `body` carries, remembers to leave
    /// it out from now on, tells the user once and returns true (the caller asks again).
    /// Required parameters are never in `optional`, so they are never dropped.
    pub(crate) fn drop_refused(
        &self,
        body: &Value,
        optional: &[&str],
        param: Option<&str>,
        message: &str,
    ) -> bool {
        let Some(name) = refused_optional(body, optional, param, message) else {
            return false;
        };
        if let Ok(mut dropped) = self.inner.dropped.lock() {
            dropped.insert(name.clone());
        }
        self.notify(Notice::ParameterDropped {
            provider: self.provider().subject(),
            model: self.model().to_string(),
            param: name,
        });
        true
    }

    /// The index of the answer mode in use (see each provider's mode ladder).
    pub(crate) fn mode(&self) -> u8 {
        self.inner.mode.load(Ordering::Acquire)
    }

    /// Moves to answer mode `to` (never back up) and tells the user why, once.
    pub(crate) fn move_to_mode(&self, to: u8, label: &'static str, reason: &str) {
        let before = self.inner.mode.fetch_max(to, Ordering::AcqRel);
        if before < to {
            tracing::info!("{}: using {label} from now on ({reason})", self.describe());
            self.notify(Notice::FormatChanged {
                provider: self.provider().subject(),
                to: label,
                reason: reason.to_string(),
            });
        }
    }

    /// The output-token cap for a request.
    pub(crate) fn max_tokens_for(&self, req: &JsonRequest) -> u32 {
        req.max_output_tokens
            .unwrap_or(self.inner.settings.max_output_tokens)
            .max(1)
    }

    /// The base URL as configured, without a trailing slash, for building endpoints.
    /// `path` under the base URL (`chat/completions` -> `.../v1/chat/completions`), keeping
    /// a query string the base URL carries (some gateways put their key there).
    pub(crate) fn endpoint(&self, path: &str) -> String {
        endpoint_url(&self.inner.settings.base_url, path, false)
    }

    /// `path` under the server's root: the base URL without a trailing `/v1`.
    pub(crate) fn root_endpoint(&self, path: &str) -> String {
        endpoint_url(&self.inner.settings.base_url, path, true)
    }
}

/// The optional parameter a 400 is about: the one the service named (OpenAI's `param`), or
/// the one its message names together with a word of refusal.
fn refused_optional(
    body: &Value,
    optional: &[&str],
    param: Option<&str>,
    message: &str,
) -> Option<String> {
    let sent = |name: &str| body.get(name).is_some() && optional.contains(&name);
    if let Some(p) = param.filter(|p| sent(p)) {
        return Some(p.to_string());
    }
    let lower = message.to_lowercase();
    const REFUSALS: [&str; 9] = [
        "unsupported",
        "not supported",
        "does not support",
        "deprecated",
        "not permitted",
        "not allowed",
        "unknown",
        "unrecognized",
        "extra inputs",
    ];
    if !REFUSALS.iter().any(|w| lower.contains(w)) {
        return None;
    }
    optional
        .iter()
        .find(|name| sent(name) && lower.contains(*name))
        .map(|name| name.to_string())
}

/// `path` joined to the base URL's path, its query string kept.
fn endpoint_url(base: &str, path: &str, root: bool) -> String {
    let Ok(mut url) = Url::parse(base.trim()) else {
        return format!("{}/{path}", base.trim().trim_end_matches('/'));
    };
    let mut prefix = url.path().trim_end_matches('/').to_string();
    if root && let Some(stripped) = prefix.strip_suffix("/v1") {
        prefix = stripped.to_string();
    }
    url.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
    url.to_string()
}

/// A URL without user name, password or query string (which may hold a key), for
/// messages, logs and the undo journal.
fn display_url(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_query(None);
    clean.set_fragment(None);
    let text = clean.to_string();
    // Url adds a trailing "/" to bare hosts; drop it again.
    if url.path() == "/" {
        text.trim_end_matches('/').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_provider_and_model() {
        let c = Client::new(Settings::new(
            ProviderKind::OpenAi,
            "gpt-6.1-terra",
            "https://api.openai.com/v1",
        ));
        assert_eq!(
            c.map(|c| c.describe()).ok().as_deref(),
            Some("OpenAI gpt-6.1-terra")
        );
        let c = Client::new(Settings::new(
            ProviderKind::Compatible,
            "smollm2",
            "http://127.0.0.1:8089/v1",
        ));
        assert_eq!(
            c.map(|c| c.describe()).ok().as_deref(),
            Some("compatible smollm2 at http://127.0.0.1:8089/v1")
        );
    }

    #[test]
    fn refused_optional_parameters_are_found_only_when_sent() {
        let body = serde_json::json!({"model": "m", "temperature": 0.7, "max_tokens": 10});
        let optional = ["temperature", "top_p"];
        assert_eq!(
            refused_optional(&body, &optional, Some("temperature"), "x").as_deref(),
            Some("temperature")
        );
        assert_eq!(
            refused_optional(
                &body,
                &optional,
                None,
                "`temperature` is deprecated for this model"
            )
            .as_deref(),
            Some("temperature")
        );
        // Required parameters and parameters that were not sent are never the answer.
        assert_eq!(
            refused_optional(&body, &optional, Some("max_tokens"), "unsupported"),
            None
        );
        assert_eq!(
            refused_optional(&body, &optional, None, "top_p is not supported"),
            None
        );
        assert_eq!(
            refused_optional(&body, &optional, None, "temperature must be at most 1"),
            None
        );
    }

    #[test]
    fn endpoints_keep_the_query_and_displays_drop_it() {
        let base = "https://gw.example.com/openai/v1?api-key=secret-123";
        assert_eq!(
            endpoint_url(base, "chat/completions", false),
            "https://gw.example.com/openai/v1/chat/completions?api-key=secret-123"
        );
        assert_eq!(
            endpoint_url(base, "props", true),
            "https://gw.example.com/openai/props?api-key=secret-123"
        );
        assert_eq!(
            endpoint_url("http://127.0.0.1:8080/v1/", "models/x", false),
            "http://127.0.0.1:8080/v1/models/x"
        );
        let c = Client::new(Settings::new(ProviderKind::Compatible, "m", base));
        let shown = c.map(|c| c.describe()).unwrap_or_default();
        assert!(!shown.contains("secret-123"), "{shown}");
    }

    #[test]
    fn urls_lose_their_credentials() {
        let c = Client::new(Settings::new(
            ProviderKind::Compatible,
            "m",
            "http://user:pw@localhost:8080/v1",
        ));
        assert_eq!(
            c.map(|c| c.base_url().to_string()).ok().as_deref(),
            Some("http://localhost:8080/v1")
        );
    }

    #[test]
    fn bad_urls_and_empty_models_are_not_configured() {
        for (url, model) in [
            ("localhost:8080", "m"),
            ("not a url", "m"),
            ("http://x/v1", " "),
        ] {
            let err = Client::new(Settings::new(ProviderKind::Compatible, model, url));
            assert!(
                matches!(err, Err(LlmError::NotConfigured(_))),
                "{url} {model}"
            );
        }
    }
}
