//! Which model a run uses: the configured provider, else OpenAI when its key is set, else
//! Anthropic, else the offline generator; flags and `ROWSMITH_*` beat the provider's own
//! section, which beats the built-in default. It sits with the configuration it reads, so
//! `llm` knows nothing of the config file.

use super::Config;
use crate::llm::{
    ANTHROPIC_BASE_URL, ANTHROPIC_DEFAULT_MODEL, Client, LlmError, OPENAI_BASE_URL,
    OPENAI_DEFAULT_MODEL, ProviderChoice, ProviderKind, Settings,
};

/// The outcome of provider selection.
#[derive(Clone, Debug)]
pub enum Selection {
    /// A ready client.
    Client(Client),
    /// No LLM: generate offline.
    Offline(OfflineReason),
}

/// Why no LLM is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfflineReason {
    /// `provider = "offline"` (or `--provider offline`).
    Chosen,
    /// No provider chosen and no API key found.
    NothingConfigured,
}

impl Selection {
    /// What the user is told is in use.
    pub fn describe(&self) -> String {
        match self {
            Self::Client(client) => client.describe(),
            Self::Offline(_) => "offline generator".to_string(),
        }
    }

    /// A hint for the user when no LLM is configured; `None` otherwise.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Offline(OfflineReason::NothingConfigured) => Some(
                "No LLM provider is configured. Set OPENAI_API_KEY or ANTHROPIC_API_KEY, or use --provider compatible --base-url URL --model NAME for a local server.",
            ),
            _ => None,
        }
    }

    pub fn client(&self) -> Option<&Client> {
        match self {
            Self::Client(client) => Some(client),
            Self::Offline(_) => None,
        }
    }
}

/// Picks the provider: the configured one, else OpenAI if its key is set, else Anthropic if
/// its key is set, else offline. Top-level `model` / `base_url` (flags, `ROWSMITH_*`) beat
/// the provider's own section, which beats the built-in default.
pub fn select(config: &Config) -> Result<Selection, LlmError> {
    let choice = match config.provider {
        Some(choice) => choice,
        None if config.openai.api_key.is_some() => ProviderChoice::OpenAi,
        None if config.anthropic.api_key.is_some() => ProviderChoice::Anthropic,
        None => return Ok(Selection::Offline(OfflineReason::NothingConfigured)),
    };
    let Some(kind) = choice.kind() else {
        return Ok(Selection::Offline(OfflineReason::Chosen));
    };
    let non_empty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (section_key, section_url, section_model) = match kind {
        ProviderKind::OpenAi => (
            &config.openai.api_key,
            &config.openai.base_url,
            &config.openai.model,
        ),
        ProviderKind::Anthropic => (
            &config.anthropic.api_key,
            &config.anthropic.base_url,
            &config.anthropic.model,
        ),
        ProviderKind::Compatible => (
            &config.compatible.api_key,
            &config.compatible.base_url,
            &config.compatible.model,
        ),
    };
    let base_url = non_empty(&config.base_url).or_else(|| non_empty(section_url));
    let model = non_empty(&config.model).or_else(|| non_empty(section_model));
    let (base_url, model) = match kind {
        ProviderKind::OpenAi => (
            base_url.unwrap_or_else(|| OPENAI_BASE_URL.to_string()),
            model.unwrap_or_else(|| OPENAI_DEFAULT_MODEL.to_string()),
        ),
        ProviderKind::Anthropic => (
            base_url.unwrap_or_else(|| ANTHROPIC_BASE_URL.to_string()),
            model.unwrap_or_else(|| ANTHROPIC_DEFAULT_MODEL.to_string()),
        ),
        ProviderKind::Compatible => {
            let base_url = base_url.ok_or_else(|| {
                LlmError::NotConfigured(
                    "The compatible provider needs a base URL. Set compatible.base_url in the config file or pass --base-url (for example http://127.0.0.1:11434/v1 for Ollama).".to_string(),
                )
            })?;
            let model = model.ok_or_else(|| {
                LlmError::NotConfigured(
                    "The compatible provider needs a model name. Set compatible.model in the config file or pass --model.".to_string(),
                )
            })?;
            (base_url, model)
        }
    };
    if section_key.is_none() && kind != ProviderKind::Compatible {
        return Err(LlmError::NotConfigured(format!(
            "{kind} needs an API key. Set {} or {}.api_key in the config file.",
            kind.key_hint(),
            kind.config_name()
        )));
    }
    let mut settings = Settings::new(kind, model, base_url);
    settings.api_key = section_key.clone();
    settings.timeout = config.timeout_for(kind);
    settings.retry.max_retries = config.max_retries;
    settings.temperature = config.temperature;
    settings.max_output_tokens = config.max_output_tokens;
    settings.max_body_bytes = config.max_answer_bytes;
    if kind == ProviderKind::OpenAi {
        settings.reasoning_effort =
            Some(config.openai.reasoning_effort.clone()).filter(|e| !e.is_empty());
    }
    Client::new(settings).map(Selection::Client)
}
