//! Everything that can go wrong when asking a model, as typed values.
//!
//! Each variant's `Display` is one plain sentence that says what happened and what to do,
//! naming the provider. Server-provided text is cleaned (whitespace collapsed, shortened,
//! anything key-like masked) before it is stored, so no key can reach a message.

use std::time::Duration;

use thiserror::Error;

use super::provider::Provider;
use super::secret::{ApiKey, mask_secrets};

/// The longest piece of server text kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum LlmError {
    /// No provider is usable with the current settings; the text says which setting to set.
    #[error("{0}")]
    NotConfigured(String),

    #[error("{} rejected the API key (HTTP {status}). Check {}.", .provider.subject(), .provider.key_hint())]
    Auth { provider: Provider, status: u16 },

    #[error("{} refused access (HTTP {status}: {message}). Check that your key may use this model.", .provider.subject())]
    Forbidden {
        provider: Provider,
        status: u16,
        message: String,
    },

    #[error("{}", not_found_sentence(.provider, *.status, .model, *.model_missing, .message))]
    NotFound {
        provider: Provider,
        status: u16,
        model: String,
        /// The service said the model is unknown (rather than the address).
        model_missing: bool,
        message: String,
    },

    #[error("{} kept rate-limiting the requests (HTTP 429) after {attempts} attempts. Wait a minute, or lower generate.concurrency.", .provider.subject())]
    RateLimited { provider: Provider, attempts: u32 },

    #[error("{} says the account is out of quota or credit ({message}). Add credit or check the plan and billing settings.", .provider.subject())]
    QuotaExhausted { provider: Provider, message: String },

    #[error("{} did not answer within {} seconds ({attempts} attempts). Ask for fewer rows per batch or raise timeout_secs.", .provider.subject(), .after.as_secs_f64())]
    Timeout {
        provider: Provider,
        after: Duration,
        attempts: u32,
    },

    #[error(
        "Could not reach {provider} ({detail}) after {attempts} attempts. Check the network connection and the base URL."
    )]
    Network {
        provider: Provider,
        detail: String,
        attempts: u32,
    },

    #[error("{} {} (HTTP {status}) after {attempts} attempts. Try again later.", .provider.subject(), server_trouble(*.status))]
    Server {
        provider: Provider,
        status: u16,
        attempts: u32,
    },

    #[error("{} rejected the request (HTTP {status}: {message}). Check the model name and settings such as temperature and max_output_tokens.", .provider.subject())]
    BadRequest {
        provider: Provider,
        status: u16,
        message: String,
        /// The request parameter the service named, where it named one.
        param: Option<String>,
    },

    /// The service refused the answer format or its schema (too complex, unsupported), even
    /// after every weaker mode was tried.
    #[error("{} refused the answer format (HTTP {status}: {message}). Try another model, or generate into a table with fewer columns.", .provider.subject())]
    FormatRefused {
        provider: Provider,
        status: u16,
        message: String,
    },

    #[error("{} stopped at the output limit of {max_tokens} tokens before the answer was complete. Ask for fewer rows per batch or raise max_output_tokens.", .provider.subject())]
    Truncated { provider: Provider, max_tokens: u32 },

    #[error("{} refused to answer ({message}). Rephrase the request or try another model.", .provider.subject())]
    Refused { provider: Provider, message: String },

    #[error("{} withheld the answer because of its content filter. Change the prompt or sample data, or try another model.", .provider.subject())]
    ContentFiltered { provider: Provider },

    #[error("{} answered with text that is not JSON ({snippet}). Try again, or use a model that supports structured output.", .provider.subject())]
    NotJson { provider: Provider, snippet: String },

    #[error("{} answered with JSON of the wrong shape ({detail}). Try again, or use a model that supports structured output.", .provider.subject())]
    WrongShape { provider: Provider, detail: String },

    #[error("{} sent an answer larger than {} MiB (max_answer_bytes), so it was dropped. Ask for fewer rows per batch, or raise max_answer_bytes in the config file.", .provider.subject(), *.limit_bytes as f64 / (1024.0 * 1024.0))]
    TooLarge {
        provider: Provider,
        limit_bytes: usize,
    },

    #[error("{} sent a reply rowsmith cannot read ({detail}). Check that the base URL points at the right kind of API.", .provider.subject())]
    Protocol { provider: Provider, detail: String },

    #[error("The request was cancelled.")]
    Cancelled,
}

impl LlmError {
    /// The provider the error came from, where there is one.
    pub fn provider(&self) -> Option<&Provider> {
        match self {
            Self::NotConfigured(_) | Self::Cancelled => None,
            Self::Auth { provider, .. }
            | Self::Forbidden { provider, .. }
            | Self::NotFound { provider, .. }
            | Self::RateLimited { provider, .. }
            | Self::QuotaExhausted { provider, .. }
            | Self::Timeout { provider, .. }
            | Self::Network { provider, .. }
            | Self::Server { provider, .. }
            | Self::BadRequest { provider, .. }
            | Self::FormatRefused { provider, .. }
            | Self::Truncated { provider, .. }
            | Self::Refused { provider, .. }
            | Self::ContentFiltered { provider }
            | Self::NotJson { provider, .. }
            | Self::WrongShape { provider, .. }
            | Self::TooLarge { provider, .. }
            | Self::Protocol { provider, .. } => Some(provider),
        }
    }

    /// Whether asking again later (a new batch, a top-up round) may help. Errors that need
    /// the user to change something (key, quota, model, settings) return false.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Timeout { .. }
                | Self::Network { .. }
                | Self::Server { .. }
                | Self::Truncated { .. }
                | Self::NotJson { .. }
                | Self::WrongShape { .. }
                | Self::Protocol { .. }
        )
    }
}

fn server_trouble(status: u16) -> &'static str {
    match status {
        529 | 503 => "is overloaded",
        408 => "timed out on its side",
        409 => "reported a conflict",
        _ => "had an internal error",
    }
}

fn not_found_sentence(
    provider: &Provider,
    status: u16,
    model: &str,
    model_missing: bool,
    message: &str,
) -> String {
    let subject = provider.subject();
    if model_missing {
        let example = match provider.kind {
            super::ProviderKind::OpenAi => {
                format!(" (for example {})", super::OPENAI_DEFAULT_MODEL)
            }
            super::ProviderKind::Anthropic => {
                format!(" (for example {})", super::ANTHROPIC_DEFAULT_MODEL)
            }
            super::ProviderKind::Compatible => String::new(),
        };
        format!(
            "{subject} does not offer the model '{model}' (HTTP {status}: {message}); it may be misspelt or shut down. Choose another{example} with --model, ROWSMITH_MODEL or {}.model in the config file.",
            provider.kind.config_name()
        )
    } else {
        format!(
            "{subject} does not know the model '{model}' or the address (HTTP {status}: {message}). Check the model name (--model, ROWSMITH_MODEL or {}.model) and the base URL{}.",
            provider.kind.config_name(),
            base_url_tip(provider)
        )
    }
}

fn base_url_tip(provider: &Provider) -> String {
    match provider.kind {
        super::ProviderKind::Compatible => {
            " (an OpenAI-compatible base URL usually ends in /v1)".to_string()
        }
        _ => format!(" ({})", provider.kind.base_url_hint()),
    }
}

/// Makes server text fit inside one sentence: masks secrets (the exact key and anything
/// key-like), collapses whitespace, shortens it and drops a trailing full stop.
pub(crate) fn clean_message(text: &str, key: Option<&ApiKey>) -> String {
    let scrubbed = match key {
        Some(key) => key.scrub(text),
        None => text.to_string(),
    };
    let masked = mask_secrets(&scrubbed);
    let collapsed = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = collapsed.chars().take(MAX_MESSAGE_CHARS).collect();
    if collapsed.chars().count() > MAX_MESSAGE_CHARS {
        short.push('…');
    }
    let trimmed = short.trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        "no details given".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ProviderKind;

    #[test]
    fn auth_error_is_one_sentence_naming_the_variable() {
        let err = LlmError::Auth {
            provider: Provider::new(ProviderKind::OpenAi, "https://api.openai.com/v1"),
            status: 401,
        };
        assert_eq!(
            err.to_string(),
            "OpenAI rejected the API key (HTTP 401). Check OPENAI_API_KEY."
        );
    }

    #[test]
    fn compatible_servers_are_named_by_address() {
        let err = LlmError::Server {
            provider: Provider::new(ProviderKind::Compatible, "http://127.0.0.1:8089/v1"),
            status: 503,
            attempts: 4,
        };
        assert_eq!(
            err.to_string(),
            "The server at http://127.0.0.1:8089/v1 is overloaded (HTTP 503) after 4 attempts. Try again later."
        );
    }

    #[test]
    fn clean_message_masks_and_shortens() {
        let key = ApiKey::new("abcd-secret-key");
        let text = format!("bad key abcd-secret-key\n\n and {}.", "x".repeat(300));
        let cleaned = clean_message(&text, Some(&key));
        assert!(!cleaned.contains("abcd-secret-key"));
        assert!(cleaned.starts_with("bad key *** and x"));
        assert!(cleaned.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
