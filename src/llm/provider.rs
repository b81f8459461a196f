//! Which provider a client speaks to, and how to name it in messages to the user.

use std::fmt;

/// The wire protocol a [`crate::llm::Client`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI Chat Completions with strict structured outputs.
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
    /// Any OpenAI-compatible server (Ollama, llama.cpp, vLLM, LM Studio, ...).
    Compatible,
}

impl ProviderKind {
    /// Short name as written in the config file: `openai`, `anthropic`, `compatible`.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Compatible => "compatible",
        }
    }

    /// Where the user sets this provider's key.
    pub fn key_hint(self) -> &'static str {
        match self {
            Self::OpenAi => "OPENAI_API_KEY",
            Self::Anthropic => "ANTHROPIC_API_KEY",
            Self::Compatible => "compatible.api_key in the config file",
        }
    }

    /// Where the user sets this provider's base URL.
    pub fn base_url_hint(self) -> &'static str {
        match self {
            Self::OpenAi => "OPENAI_BASE_URL or openai.base_url",
            Self::Anthropic => "ANTHROPIC_BASE_URL or anthropic.base_url",
            Self::Compatible => "--base-url or compatible.base_url",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenAi => "OpenAI",
            Self::Anthropic => "Anthropic",
            Self::Compatible => "compatible",
        })
    }
}

/// A provider as named in error messages: "OpenAI", "Anthropic", or
/// "the server at http://127.0.0.1:8089/v1" for a compatible server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub kind: ProviderKind,
    /// The base URL without any user name or password.
    pub base_url: String,
}

impl Provider {
    pub fn new(kind: ProviderKind, base_url: impl Into<String>) -> Self {
        Self {
            kind,
            base_url: base_url.into(),
        }
    }

    /// The provider as the subject of a sentence ("OpenAI", "The server at ...").
    pub fn subject(&self) -> String {
        match self.kind {
            ProviderKind::Compatible => format!("The server at {}", self.base_url),
            kind => kind.to_string(),
        }
    }

    /// The provider in the middle of a sentence ("OpenAI", "the server at ...").
    pub fn object(&self) -> String {
        match self.kind {
            ProviderKind::Compatible => format!("the server at {}", self.base_url),
            kind => kind.to_string(),
        }
    }

    pub fn key_hint(&self) -> &'static str {
        self.kind.key_hint()
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object())
    }
}

/// What the user asked for with `provider = ...`, `ROWSMITH_PROVIDER` or `--provider`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    #[value(name = "openai")]
    OpenAi,
    Anthropic,
    Compatible,
    /// No LLM: the offline generator.
    Offline,
}

impl ProviderChoice {
    pub const NAMES: &'static str = "openai, anthropic, compatible or offline";

    pub fn name(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Compatible => "compatible",
            Self::Offline => "offline",
        }
    }

    /// The client kind, or `None` for offline.
    pub fn kind(self) -> Option<ProviderKind> {
        match self {
            Self::OpenAi => Some(ProviderKind::OpenAi),
            Self::Anthropic => Some(ProviderKind::Anthropic),
            Self::Compatible => Some(ProviderKind::Compatible),
            Self::Offline => None,
        }
    }
}

impl fmt::Display for ProviderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProviderChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(Self::OpenAi),
            "anthropic" => Ok(Self::Anthropic),
            "compatible" => Ok(Self::Compatible),
            "offline" => Ok(Self::Offline),
            other => Err(format!(
                "\"{other}\" is not a provider; expected {}",
                Self::NAMES
            )),
        }
    }
}
