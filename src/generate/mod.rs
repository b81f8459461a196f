//! Generation: from "add N rows to this table" to rows safely inserted.
//!
//! `job` runs the flow (sample, profile, ask, validate, insert, top up) off
//! the caller's thread and reports over a channel; `plan`, `prompt`, `parse`
//! and `validate` are its pure parts.

pub mod job;
pub mod parse;
pub mod plan;
pub mod prompt;
pub mod validate;

use crate::config::Config;
use crate::llm::{OfflineReason, Selection};
use job::Source;

/// Chooses where rows come from, from the configuration: the configured LLM,
/// or, when none is configured, the reason as one sentence.
pub fn select_source(config: &Config) -> Result<Source, String> {
    match crate::llm::select(config).map_err(|e| e.to_string())? {
        Selection::Client(client) => Ok(Source::Llm(client)),
        Selection::Offline(OfflineReason::NothingConfigured) => Err("No LLM provider is configured. Set \
             OPENAI_API_KEY or ANTHROPIC_API_KEY, or pass --provider compatible --base-url URL --model NAME for a \
             local server."
            .into()),
        Selection::Offline(OfflineReason::Chosen) => Err("The offline generator is not part of this build yet. \
             Choose --provider openai, anthropic or compatible."
            .into()),
    }
}
