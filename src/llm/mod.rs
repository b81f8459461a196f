//! LLM providers behind one interface.
//!
//! `config::select` turns the configuration into a ready [`Client`] (OpenAI, Anthropic or an
//! OpenAI-compatible server) or [`Selection::Offline`]. [`Client::complete_json`] asks for a
//! JSON answer under a JSON Schema and returns the parsed value, token usage, the model that
//! answered, the latency and the attempts made; [`Client::request_preview`] shows what it
//! would send first, sending nothing. Wire formats live in `openai.rs` and
//! `anthropic.rs` and nowhere else; the request loop they share is `ladder.rs`.

mod anthropic;
pub mod budget;
mod client;
mod complete;
pub mod context;
mod error;
mod http;
mod ladder;
pub mod lifecycle;
pub mod models;
mod notice;
mod openai;
mod parse;
mod preview;
pub mod pricing;
mod provider;
pub mod rate;
mod retry;
pub mod schema;
mod secret;
mod window;

pub use anthropic::{ANTHROPIC_VERSION, uses_tool_fallback};
pub use client::{
    Client, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TIMEOUT, JsonAnswer,
    JsonRequest, Settings, Usage,
};
pub use error::LlmError;
pub use models::{ANTHROPIC_DEFAULT_MODEL, OPENAI_DEFAULT_MODEL};
pub use notice::Notice;
pub use openai::{CompatMode, compat_mode};
pub use parse::extract_json;
pub use preview::RequestPreview;
pub use provider::{Provider, ProviderChoice, ProviderKind};
pub use retry::{RetryPolicy, retry_after};
pub use secret::{ApiKey, mask_secrets};

/// OpenAI's base URL, `/v1` included as in the official SDKs.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Anthropic's base URL, without `/v1`, as in the official SDKs.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
