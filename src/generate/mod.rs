//! Generation: from "add N rows to this table" to rows safely inserted.
//!
//! `job` runs the flow (sample, profile, ask, validate, insert, top up) off
//! the caller's thread and reports over a channel; `plan`, `prompt`, `parse`
//! and `validate` are its pure parts.

pub mod gate;
pub mod job;
pub mod lineage;
pub mod offline;
pub mod parse;
pub mod plan;
pub mod privacy;
pub mod prompt;
pub mod validate;
pub mod whole;

use crate::config::Config;
use crate::config::{OfflineReason, Selection};
use job::Source;

/// Chooses where rows come from, from the configuration: the configured LLM,
/// else the offline generator (the embedded default). The second value is a
/// note for the user when no LLM is configured.
pub fn select_source(
    config: &Config,
) -> Result<(Source, Option<&'static str>), crate::llm::LlmError> {
    match crate::config::select(config)? {
        Selection::Client(client) => Ok((Source::Llm(client), None)),
        Selection::Offline(OfflineReason::NothingConfigured) => Ok((
            Source::Offline,
            Some(
                "No LLM is configured, so the offline generator learns from the table. Set OPENAI_API_KEY or \
                 ANTHROPIC_API_KEY, or pass --provider compatible --base-url URL --model NAME, to use a model.",
            ),
        )),
        Selection::Offline(OfflineReason::Chosen) => Ok((Source::Offline, None)),
    }
}
