//! Configuration: file, environment and flags.
//!
//! Precedence, lowest first: built-in defaults < the TOML file < environment variables <
//! command-line flags. The file is `--config PATH`, else `$ROWSMITH_CONFIG`, else
//! `config.toml` in the per-user config directory (`directories::ProjectDirs`). A missing
//! per-user file is fine; a missing file that was named explicitly is an error. Unknown keys
//! and bad values are errors that name the key and its line.
//!
//! Every key is documented, with its default, in `config.example.toml`. New sections (for
//! example `[tui]`, `[query]`) are added as one more field with `#[serde(default)]`.

mod select;
pub use select::{OfflineReason, Selection, select};

use std::collections::HashMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use thiserror::Error;

pub use crate::llm::{ApiKey, ProviderChoice, ProviderKind};

/// Environment variables the loader reads.
pub const ENV_VARS: &[&str] = &[
    "ROWSMITH_CONFIG",
    "ROWSMITH_PROVIDER",
    "ROWSMITH_MODEL",
    "ROWSMITH_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ROWSMITH_BUSY_TIMEOUT_MS",
];

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `openai`, `anthropic`, `compatible` or `offline`; unset = automatic (OpenAI if its key
    /// is set, else Anthropic if its key is set, else offline).
    pub provider: Option<ProviderChoice>,
    /// Model for the provider in use; beats the `model` of the provider's section.
    pub model: Option<String>,
    /// Base URL for the provider in use; beats the `base_url` of the provider's section.
    #[serde(deserialize_with = "opt_url")]
    pub base_url: Option<String>,
    /// Per-request timeout in seconds; unset = 120 for OpenAI and Anthropic, 600 for a
    /// compatible server (local models on a CPU are slow). See [`Config::timeout_for`].
    #[serde(deserialize_with = "timeout_secs")]
    pub timeout_secs: Option<u64>,
    /// Retries after a failed attempt (rate limits, overload, network trouble).
    #[serde(deserialize_with = "max_retries")]
    pub max_retries: u32,
    /// Sampling temperature; unset = not sent (the model's default).
    #[serde(deserialize_with = "temperature")]
    pub temperature: Option<f64>,
    /// Cap on the output tokens of one answer.
    #[serde(deserialize_with = "max_output_tokens")]
    pub max_output_tokens: u32,
    /// Bytes of one answer from a model; a larger answer is dropped (and asked again).
    #[serde(deserialize_with = "byte_bound")]
    pub max_answer_bytes: usize,
    pub openai: OpenAiSection,
    pub anthropic: ProviderSection,
    pub compatible: ProviderSection,
    pub database: DatabaseSection,
    pub generate: GenerateSection,
    pub query: QuerySection,
    pub import: ImportSection,
    pub tui: TuiSection,
    /// The file this configuration was read from, if any.
    #[serde(skip)]
    pub loaded_from: Option<PathBuf>,
}

/// Default per-request timeout for OpenAI and Anthropic: a 10-50 row answer from a hosted
/// model takes 10-60 s (more for a reasoning model at a busy hour).
pub const HOSTED_TIMEOUT_SECS: u64 = 120;
/// Default per-request timeout for compatible servers: a small model on two CPU cores
/// writes a 25-row batch in 60-90 s, and requests may queue behind each other.
pub const LOCAL_TIMEOUT_SECS: u64 = 600;

impl Config {
    /// The per-request timeout for a provider: `timeout_secs` if set, else the default for
    /// hosted APIs or for compatible (usually local) servers.
    pub fn timeout_for(&self, kind: ProviderKind) -> Duration {
        let secs = self.timeout_secs.unwrap_or(match kind {
            ProviderKind::Compatible => LOCAL_TIMEOUT_SECS,
            ProviderKind::OpenAi | ProviderKind::Anthropic => HOSTED_TIMEOUT_SECS,
        });
        Duration::from_secs(secs.max(1))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            provider: None,
            model: None,
            base_url: None,
            timeout_secs: None,
            max_retries: 3,
            temperature: None,
            max_output_tokens: 16_384,
            max_answer_bytes: crate::llm::DEFAULT_MAX_BODY_BYTES,
            openai: OpenAiSection::default(),
            anthropic: ProviderSection::default(),
            compatible: ProviderSection::default(),
            database: DatabaseSection::default(),
            generate: GenerateSection::default(),
            query: QuerySection::default(),
            import: ImportSection::default(),
            tui: TuiSection::default(),
            loaded_from: None,
        }
    }
}

/// `[anthropic]` and `[compatible]`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSection {
    pub api_key: Option<ApiKey>,
    #[serde(deserialize_with = "opt_url")]
    pub base_url: Option<String>,
    pub model: Option<String>,
}

/// `[openai]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiSection {
    pub api_key: Option<ApiKey>,
    #[serde(deserialize_with = "opt_url")]
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// `reasoning_effort` for reasoning models (gpt-5*, gpt-6*, o-series); "" = not sent.
    #[serde(deserialize_with = "reasoning_effort")]
    pub reasoning_effort: String,
}

impl Default for OpenAiSection {
    fn default() -> Self {
        Self {
            api_key: None,
            base_url: None,
            model: None,
            reasoning_effort: "low".to_string(),
        }
    }
}

/// `[database]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// How long SQLite waits for a lock held by another process, in milliseconds.
    #[serde(deserialize_with = "busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            busy_timeout_ms: 5000,
        }
    }
}

/// `[generate]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenerateSection {
    /// Rows asked for in one request (20 to 50).
    #[serde(deserialize_with = "batch_size")]
    pub batch_size: u32,
    /// Requests in flight at once.
    #[serde(deserialize_with = "concurrency")]
    pub concurrency: u32,
    /// Rows generated when no count is given.
    #[serde(deserialize_with = "default_rows")]
    pub default_rows: u64,
    /// The most rows one run may add (`-n` and the app alike): a typo must not fill the
    /// disk or send thousands of paid requests.
    #[serde(deserialize_with = "max_rows")]
    pub max_rows: u64,
    /// An LLM run of more rows than this needs `--yes` (the CLI says what it would cost).
    #[serde(deserialize_with = "max_rows")]
    pub confirm_rows: u64,
    /// What judges generated rows: the realism gate learned from the table, then SQLite
    /// (`realism`), or the database's constraints only (`constraints`).
    pub gate: GateMode,
    /// What of the table's rows a model request may carry; unset: `mask` for a remote
    /// service, `samples` for a server on this machine.
    pub privacy: Option<Privacy>,
}

impl Default for GenerateSection {
    fn default() -> Self {
        Self {
            batch_size: 25,
            concurrency: 4,
            default_rows: 10,
            max_rows: 1_000_000,
            confirm_rows: 1_000,
            gate: GateMode::Realism,
            privacy: None,
        }
    }
}

/// `[query]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuerySection {
    /// Rows a query shows before its result is reported as truncated.
    #[serde(deserialize_with = "row_limit")]
    pub row_limit: usize,
    /// Bytes of one text or blob value a shown result holds in memory; longer values are
    /// shown cut with their size (csv/json output and exports stream whole values).
    #[serde(deserialize_with = "byte_bound")]
    pub max_cell_bytes: usize,
}

impl Default for QuerySection {
    fn default() -> Self {
        Self {
            row_limit: 1000,
            max_cell_bytes: crate::db::query::MAX_HELD_CELL_BYTES,
        }
    }
}

/// `[import]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportSection {
    /// Bytes one record (a CSV line with its quoted line breaks, one JSON object) may hold.
    #[serde(deserialize_with = "byte_bound")]
    pub max_record_bytes: usize,
}

impl Default for ImportSection {
    fn default() -> Self {
        Self {
            max_record_bytes: crate::db::transfer::MAX_RECORD_BYTES,
        }
    }
}

/// `[tui]`: the terminal app.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiSection {
    /// Click to select and scroll with the wheel; off leaves the mouse to the terminal
    /// (for selecting text).
    pub mouse: bool,
    pub keys: TuiKeys,
}

impl Default for TuiSection {
    fn default() -> Self {
        Self {
            mouse: true,
            keys: TuiKeys::default(),
        }
    }
}

/// Keys as written under `[tui.keys]`: `action = "key"` or `action = ["key", "key"]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyList(pub Vec<crate::keychord::KeyChord>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let texts = match OneOrMany::deserialize(d).map_err(|_| {
            D::Error::custom("must be a key such as \"g\" or a list such as [\"g\", \"f5\"]")
        })? {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(ts) => ts,
        };
        texts
            .iter()
            .map(|t| crate::keychord::KeyChord::parse(t).map_err(D::Error::custom))
            .collect::<Result<Vec<_>, _>>()
            .map(KeyList)
    }
}

/// `[tui.keys]`: one optional entry per action of the app (see `crate::tui::keys::ACTIONS`);
/// an entry replaces that action's default keys.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiKeys {
    pub generate: Option<KeyList>,
    pub generate_dialog: Option<KeyList>,
    pub fill_database: Option<KeyList>,
    pub show_prompt: Option<KeyList>,
    pub cancel: Option<KeyList>,
    pub back: Option<KeyList>,
    pub log: Option<KeyList>,
    pub undo: Option<KeyList>,
    pub undo_history: Option<KeyList>,
    pub open: Option<KeyList>,
    pub schema: Option<KeyList>,
    pub view_cell: Option<KeyList>,
    pub copy_cell: Option<KeyList>,
    pub copy_row: Option<KeyList>,
    pub sort: Option<KeyList>,
    pub go_to_row: Option<KeyList>,
    pub open_database: Option<KeyList>,
    pub filter: Option<KeyList>,
    pub query: Option<KeyList>,
    pub export: Option<KeyList>,
    pub import: Option<KeyList>,
    pub delete: Option<KeyList>,
    pub reload: Option<KeyList>,
    pub up: Option<KeyList>,
    pub down: Option<KeyList>,
    pub left: Option<KeyList>,
    pub right: Option<KeyList>,
    pub page_up: Option<KeyList>,
    pub page_down: Option<KeyList>,
    pub first: Option<KeyList>,
    pub last: Option<KeyList>,
    pub switch_pane: Option<KeyList>,
    pub help: Option<KeyList>,
    pub quit: Option<KeyList>,
}

impl TuiKeys {
    /// The entries that were set, as (action name, keys).
    pub fn overrides(&self) -> Vec<(String, Vec<crate::keychord::KeyChord>)> {
        let all = [
            ("generate", &self.generate),
            ("generate_dialog", &self.generate_dialog),
            ("fill_database", &self.fill_database),
            ("show_prompt", &self.show_prompt),
            ("cancel", &self.cancel),
            ("back", &self.back),
            ("log", &self.log),
            ("undo", &self.undo),
            ("undo_history", &self.undo_history),
            ("open", &self.open),
            ("schema", &self.schema),
            ("view_cell", &self.view_cell),
            ("copy_cell", &self.copy_cell),
            ("copy_row", &self.copy_row),
            ("sort", &self.sort),
            ("go_to_row", &self.go_to_row),
            ("open_database", &self.open_database),
            ("filter", &self.filter),
            ("query", &self.query),
            ("export", &self.export),
            ("import", &self.import),
            ("delete", &self.delete),
            ("reload", &self.reload),
            ("up", &self.up),
            ("down", &self.down),
            ("left", &self.left),
            ("right", &self.right),
            ("page_up", &self.page_up),
            ("page_down", &self.page_down),
            ("first", &self.first),
            ("last", &self.last),
            ("switch_pane", &self.switch_pane),
            ("help", &self.help),
            ("quit", &self.quit),
        ];
        all.into_iter()
            .filter_map(|(name, keys)| keys.as_ref().map(|k| (name.to_string(), k.0.clone())))
            .collect()
    }
}

/// Values given on the command line (`--provider`, `--model`, `--base-url`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub provider: Option<ProviderChoice>,
    pub model: Option<String>,
    pub base_url: Option<String>,
}

/// Where the configuration comes from. Tests build one by hand, so loading never depends on
/// the real environment or the real per-user config file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigSources {
    /// `--config PATH`.
    pub path: Option<PathBuf>,
    /// Environment variables (only the ones in [`ENV_VARS`] are read).
    pub env: HashMap<String, String>,
    /// Command-line flags.
    pub flags: Overrides,
    /// The per-user config file, used when neither `--config` nor `ROWSMITH_CONFIG` is set.
    pub default_path: Option<PathBuf>,
}

impl ConfigSources {
    /// The real environment and per-user config path, with no flags.
    pub fn from_process_env() -> Self {
        let env = ENV_VARS
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
            .collect();
        Self {
            path: None,
            env,
            flags: Overrides::default(),
            default_path: default_config_path(),
        }
    }

    fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// `config.toml` in the per-user config directory (for example
/// `~/.config/rowsmith/config.toml` on Linux).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "rowsmith").map(|d| d.config_dir().join("config.toml"))
}

/// A configuration problem, as one sentence that names what to fix.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum ConfigError {
    #[error("The config file {} (from {origin}) does not exist. Create it or fix the path.", .path.display())]
    Missing { path: PathBuf, origin: &'static str },

    #[error("Could not read the config file {} ({message}). Check that it is a readable file.", .path.display())]
    Read { path: PathBuf, message: String },

    #[error("The config file {} has a problem at line {line}{}: {message}. Fix or remove that line.", .path.display(), key_part(.key))]
    Invalid {
        path: PathBuf,
        line: usize,
        key: Option<String>,
        message: String,
    },

    #[error("The environment variable {var} {message}. Fix or unset it.")]
    Env { var: &'static str, message: String },

    #[error("The flag {flag} {message}.")]
    Flag { flag: &'static str, message: String },
}

impl ConfigError {
    /// The key the error is about (`generate.batch_size`), where known.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// The 1-based line of the file the error is about, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
}

fn key_part(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!(" ({k})")).unwrap_or_default()
}

/// Loads the configuration: defaults < file < environment < flags.
pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
    let mut config = match file_to_read(sources)? {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let mut config = parse(&text, &path)?;
            config.loaded_from = Some(path);
            config
        }
        None => Config::default(),
    };
    apply_env(&mut config, sources)?;
    apply_flags(&mut config, &sources.flags)?;
    Ok(config)
}

/// Parses config text; `path` is only used in error messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    toml::from_str::<Config>(text).map_err(|e| {
        let span = e.span();
        let start = span.as_ref().map_or(0, |s| s.start);
        let (line, key) = locate(text, start);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key: if span.is_some() { key } else { None },
            message: tidy_toml_message(e.message()),
        }
    })
}

/// Which file to read: `--config`, else `ROWSMITH_CONFIG` (both must exist), else the
/// per-user file if it exists.
fn file_to_read(sources: &ConfigSources) -> Result<Option<PathBuf>, ConfigError> {
    let explicit = match (&sources.path, sources.env_value("ROWSMITH_CONFIG")) {
        (Some(path), _) => Some((path.clone(), "--config")),
        (None, Some(path)) => Some((PathBuf::from(path), "ROWSMITH_CONFIG")),
        (None, None) => None,
    };
    if let Some((path, origin)) = explicit {
        if !path.exists() {
            return Err(ConfigError::Missing { path, origin });
        }
        return Ok(Some(path));
    }
    Ok(sources.default_path.clone().filter(|p| p.is_file()))
}

fn apply_env(config: &mut Config, sources: &ConfigSources) -> Result<(), ConfigError> {
    let url = |var: &'static str| -> Result<Option<String>, ConfigError> {
        sources
            .env_value(var)
            .map(|v| check_url(v).map_err(|message| ConfigError::Env { var, message }))
            .transpose()
    };
    if let Some(key) = ApiKey::from_non_empty(sources.env_value("OPENAI_API_KEY")) {
        config.openai.api_key = Some(key);
    }
    if let Some(key) = ApiKey::from_non_empty(sources.env_value("ANTHROPIC_API_KEY")) {
        config.anthropic.api_key = Some(key);
    }
    if let Some(u) = url("OPENAI_BASE_URL")? {
        config.openai.base_url = Some(u);
    }
    if let Some(u) = url("ANTHROPIC_BASE_URL")? {
        config.anthropic.base_url = Some(u);
    }
    if let Some(u) = url("ROWSMITH_BASE_URL")? {
        config.base_url = Some(u);
    }
    if let Some(p) = sources.env_value("ROWSMITH_PROVIDER") {
        config.provider = Some(p.parse().map_err(|message| ConfigError::Env {
            var: "ROWSMITH_PROVIDER",
            message: format!("is wrong: {message}"),
        })?);
    }
    if let Some(m) = sources.env_value("ROWSMITH_MODEL") {
        config.model = Some(m.to_string());
    }
    if let Some(ms) = sources.env_value("ROWSMITH_BUSY_TIMEOUT_MS") {
        config.database.busy_timeout_ms =
            ms.parse()
                .ok()
                .filter(|ms| *ms <= 600_000)
                .ok_or(ConfigError::Env {
                    var: "ROWSMITH_BUSY_TIMEOUT_MS",
                    message: "must be a number of milliseconds from 0 to 600000".into(),
                })?;
    }
    Ok(())
}

fn apply_flags(config: &mut Config, flags: &Overrides) -> Result<(), ConfigError> {
    if let Some(p) = flags.provider {
        config.provider = Some(p);
    }
    if let Some(m) = flags
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        config.model = Some(m.to_string());
    }
    if let Some(u) = flags
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let u = check_url(u).map_err(|message| ConfigError::Flag {
            flag: "--base-url",
            message,
        })?;
        config.base_url = Some(u);
    }
    Ok(())
}

/// The 1-based line of byte offset `at`, and the dotted key written there
/// (`generate.batch_size`), found from the `key = value` on that line and the nearest
/// `[section]` header above it.
fn locate(text: &str, at: usize) -> (usize, Option<String>) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line_no = before.matches('\n').count() + 1;
    let lines: Vec<&str> = text.lines().take(line_no).collect();
    let line = lines.get(line_no - 1).copied().unwrap_or("");
    let section = lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let trimmed = line.trim();
    let key = if trimmed.starts_with('[') {
        section
    } else {
        trimmed.split_once('=').map(|(k, _)| {
            let k = k.trim().trim_matches('"').to_string();
            match &section {
                Some(s) => format!("{s}.{k}"),
                None => k,
            }
        })
    };
    (line_no, key)
}

fn tidy_toml_message(message: &str) -> String {
    message.trim().trim_end_matches('.').replace('\n', " ")
}

/// Accepts http(s) URLs with a host; returns the URL as written (trimmed).
fn check_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    match reqwest::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(text.to_string())
        }
        Ok(_) => Err(format!(
            "is \"{text}\", which is not an http:// or https:// URL"
        )),
        Err(e) => Err(format!("is \"{text}\", which is not a valid URL ({e})")),
    }
}

fn opt_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => check_url(t)
            .map(Some)
            .map_err(|m| D::Error::custom(format!("the value {m}"))),
    }
}

fn ranged<'de, D, T>(d: D, lo: T, hi: T) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + Display + Copy,
{
    let v = T::deserialize(d)?;
    // Written as "not inside" so that NaN, which compares false with everything, is refused.
    if !(v >= lo && v <= hi) {
        return Err(D::Error::custom(format!(
            "must be between {lo} and {hi} (got {v})"
        )));
    }
    Ok(v)
}

fn timeout_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    ranged(d, 1, 3600).map(Some)
}

fn max_retries<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 0, 10)
}

fn max_output_tokens<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 256, 1_000_000)
}

fn busy_timeout_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 0, 600_000)
}

fn batch_size<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 20, 50)
}

fn concurrency<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    ranged(d, 1, 32)
}

fn max_rows<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 1, 100_000_000)
}

fn default_rows<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    ranged(d, 1, 1_000_000)
}

/// Byte bounds: from 1 KiB to 1 GiB.
fn byte_bound<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1024, 1 << 30)
}

fn row_limit<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1, 1_000_000)
}

fn temperature<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    ranged(d, 0.0, 2.0).map(Some)
}

fn reasoning_effort<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    const ALLOWED: [&str; 8] = [
        "", "none", "minimal", "low", "medium", "high", "xhigh", "max",
    ];
    let v = String::deserialize(d)?;
    let v = v.trim().to_ascii_lowercase();
    if ALLOWED.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(D::Error::custom(format!(
            "must be one of none, minimal, low, medium, high, xhigh, max or \"\" (got \"{v}\")"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_line_and_dotted_key() {
        let text = "provider = \"openai\"\n\n[generate]\nbatch_size = 10\n";
        let at = text.find("10").unwrap_or(0);
        assert_eq!(locate(text, at), (4, Some("generate.batch_size".into())));
        assert_eq!(locate(text, 0), (1, Some("provider".into())));
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::default();
        assert_eq!(c.generate.batch_size, 25);
        assert_eq!(c.generate.concurrency, 4);
        assert_eq!(c.generate.default_rows, 10);
        assert_eq!(c.database.busy_timeout_ms, 5000);
        assert_eq!(c.timeout_secs, None);
        assert_eq!(
            c.timeout_for(ProviderKind::OpenAi),
            Duration::from_secs(120)
        );
        assert_eq!(
            c.timeout_for(ProviderKind::Compatible),
            Duration::from_secs(600)
        );
        assert_eq!(c.max_retries, 3);
        assert_eq!(parse("", Path::new("x")), Ok(Config::default()));
    }
}

/// What judges generated rows before SQLite does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(clap::ValueEnum)]
pub enum GateMode {
    /// The realism gate, then the database's constraints.
    #[default]
    Realism,
    /// The database's constraints only.
    Constraints,
}

impl GateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            GateMode::Realism => "realism",
            GateMode::Constraints => "constraints",
        }
    }
}

/// What of the table's own rows a model request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(clap::ValueEnum)]
pub enum Privacy {
    /// Sample rows with names, emails, phones, addresses and other identifying text replaced
    /// by made-up values of the same shape; numbers, dates and categories as they are.
    Mask,
    /// Real sample rows, as they are.
    Samples,
    /// No rows and no real values: the schema, constraints and a profile of shapes and ranges.
    Schema,
}

impl Privacy {
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Mask => "mask",
            Privacy::Samples => "samples",
            Privacy::Schema => "schema",
        }
    }
}
