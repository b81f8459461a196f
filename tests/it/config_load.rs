//! Loading the configuration: file < environment < flags, errors that name key and line.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rowsmith::config::{self, Config, ConfigError, ConfigSources, Overrides};
use rowsmith::llm::ProviderChoice;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "config.toml", text);
    config::load(&ConfigSources {
        path: Some(path),
        ..ConfigSources::default()
    })
}

const FILE: &str = r#"
provider = "anthropic"
model = "file-model"
base_url = "http://file.example.com/v1"

[openai]
api_key = "file-openai-key"

[generate]
batch_size = 30
"#;

#[test]
fn file_beats_defaults() {
    let c = load_text(FILE).expect("config");
    assert_eq!(c.provider, Some(ProviderChoice::Anthropic));
    assert_eq!(c.model.as_deref(), Some("file-model"));
    assert_eq!(c.generate.batch_size, 30);
    assert_eq!(c.generate.concurrency, 4);
    assert_eq!(
        c.openai.api_key.as_ref().map(|k| k.expose()),
        Some("file-openai-key")
    );
}

#[test]
fn env_beats_file_and_flags_beat_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "config.toml", FILE);
    let mut sources = ConfigSources {
        path: Some(path),
        env: env(&[
            ("ROWSMITH_PROVIDER", "openai"),
            ("ROWSMITH_MODEL", "env-model"),
            ("ROWSMITH_BASE_URL", "http://env.example.com/v1"),
            ("OPENAI_API_KEY", "env-openai-key"),
            ("OPENAI_BASE_URL", "https://openai-proxy.example.com/v1"),
            ("ANTHROPIC_API_KEY", "env-anthropic-key"),
            ("ANTHROPIC_BASE_URL", "https://anthropic-proxy.example.com"),
        ]),
        ..ConfigSources::default()
    };
    let c = config::load(&sources).expect("config");
    assert_eq!(c.provider, Some(ProviderChoice::OpenAi));
    assert_eq!(c.model.as_deref(), Some("env-model"));
    assert_eq!(c.base_url.as_deref(), Some("http://env.example.com/v1"));
    assert_eq!(
        c.openai.api_key.as_ref().map(|k| k.expose()),
        Some("env-openai-key")
    );
    assert_eq!(
        c.openai.base_url.as_deref(),
        Some("https://openai-proxy.example.com/v1")
    );
    assert_eq!(
        c.anthropic.api_key.as_ref().map(|k| k.expose()),
        Some("env-anthropic-key")
    );
    assert_eq!(
        c.anthropic.base_url.as_deref(),
        Some("https://anthropic-proxy.example.com")
    );
    assert_eq!(c.generate.batch_size, 30, "untouched file values stay");

    sources.flags = Overrides {
        provider: Some(ProviderChoice::Compatible),
        model: Some("flag-model".into()),
        base_url: Some("http://127.0.0.1:8089/v1".into()),
    };
    let c = config::load(&sources).expect("config");
    assert_eq!(c.provider, Some(ProviderChoice::Compatible));
    assert_eq!(c.model.as_deref(), Some("flag-model"));
    assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:8089/v1"));
}

#[test]
fn empty_env_values_are_ignored() {
    let sources = ConfigSources {
        env: env(&[("OPENAI_API_KEY", ""), ("ROWSMITH_MODEL", "  ")]),
        ..ConfigSources::default()
    };
    let c = config::load(&sources).expect("config");
    assert!(c.openai.api_key.is_none());
    assert!(c.model.is_none());
}

#[test]
fn unknown_key_names_key_and_line() {
    let err = load_text("provider = \"openai\"\n\n[generate]\nbatch_size = 30\nbatch_sise = 40\n")
        .expect_err("unknown key");
    assert_eq!(err.line(), Some(5), "{err}");
    assert_eq!(err.key(), Some("generate.batch_sise"), "{err}");
    let text = err.to_string();
    assert!(text.contains("line 5"), "{text}");
    assert!(text.contains("generate.batch_sise"), "{text}");
    assert!(text.contains("unknown field `batch_sise`"), "{text}");
}

#[test]
fn unknown_top_level_key_and_section() {
    let err = load_text("modle = \"x\"\n").expect_err("unknown key");
    assert_eq!((err.line(), err.key()), (Some(1), Some("modle")), "{err}");
    let err = load_text("model = \"x\"\n[gui]\ntheme = 1\n").expect_err("unknown section");
    assert_eq!(err.line(), Some(2), "{err}");
    assert_eq!(err.key(), Some("gui"), "{err}");
}

#[test]
fn out_of_range_value_names_key_line_and_range() {
    let err = load_text("[database]\nbusy_timeout_ms = 100\n\n[generate]\nbatch_size = 10\n")
        .expect_err("range");
    assert_eq!(err.line(), Some(5), "{err}");
    assert_eq!(err.key(), Some("generate.batch_size"), "{err}");
    assert!(
        err.to_string()
            .contains("must be between 20 and 50 (got 10)"),
        "{err}"
    );
}

#[test]
fn wrong_type_and_bad_choices_name_the_key() {
    let cases = [
        ("timeout_secs = \"soon\"\n", 1, "timeout_secs"),
        ("max_retries = 3\nprovider = \"gemini\"\n", 2, "provider"),
        (
            "[compatible]\nbase_url = \"localhost:8080\"\n",
            2,
            "compatible.base_url",
        ),
        (
            "[openai]\nreasoning_effort = \"extreme\"\n",
            2,
            "openai.reasoning_effort",
        ),
        ("temperature = 3.5\n", 1, "temperature"),
        // NaN compares false with every bound; it must not slip through as `null`.
        ("temperature = nan\n", 1, "temperature"),
        ("[generate]\nmax_rows = 0\n", 2, "generate.max_rows"),
    ];
    for (text, line, key) in cases {
        let err = load_text(text).expect_err(text);
        assert_eq!(err.line(), Some(line), "{text}: {err}");
        assert_eq!(err.key(), Some(key), "{text}: {err}");
    }
}

#[test]
fn syntax_errors_give_the_line() {
    let err = load_text("model = \"x\"\n[generate\n").expect_err("syntax");
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn missing_explicit_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.toml");
    let err = config::load(&ConfigSources {
        path: Some(missing.clone()),
        ..ConfigSources::default()
    })
    .expect_err("missing");
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                origin: "--config",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.toml"));

    let err = config::load(&ConfigSources {
        env: env(&[("ROWSMITH_CONFIG", missing.to_str().unwrap_or_default())]),
        ..ConfigSources::default()
    })
    .expect_err("missing");
    assert!(
        matches!(
            err,
            ConfigError::Missing {
                origin: "ROWSMITH_CONFIG",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn missing_default_file_gives_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = config::load(&ConfigSources {
        default_path: Some(dir.path().join("config.toml")),
        ..ConfigSources::default()
    })
    .expect("config");
    assert_eq!(c, Config::default());
}

#[test]
fn file_order_is_flag_then_env_then_default_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let default = write(dir.path(), "default.toml", "model = \"from-default\"\n");
    let via_env = write(dir.path(), "env.toml", "model = \"from-env\"\n");
    let via_flag = write(dir.path(), "flag.toml", "model = \"from-flag\"\n");
    let mut sources = ConfigSources {
        default_path: Some(default),
        ..ConfigSources::default()
    };
    let model = |s: &ConfigSources| config::load(s).expect("config").model;
    assert_eq!(model(&sources).as_deref(), Some("from-default"));
    sources.env = env(&[("ROWSMITH_CONFIG", via_env.to_str().unwrap_or_default())]);
    assert_eq!(model(&sources).as_deref(), Some("from-env"));
    sources.path = Some(via_flag.clone());
    assert_eq!(model(&sources).as_deref(), Some("from-flag"));
    assert_eq!(
        config::load(&sources).expect("config").loaded_from,
        Some(via_flag)
    );
}

#[test]
fn bad_env_and_flag_values_name_their_source() {
    let err = config::load(&ConfigSources {
        env: env(&[("ROWSMITH_PROVIDER", "gemini")]),
        ..ConfigSources::default()
    })
    .expect_err("env");
    assert!(
        err.to_string()
            .starts_with("The environment variable ROWSMITH_PROVIDER"),
        "{err}"
    );
    let err = config::load(&ConfigSources {
        env: env(&[("OPENAI_BASE_URL", "api.openai.com")]),
        ..ConfigSources::default()
    })
    .expect_err("env");
    assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
    let err = config::load(&ConfigSources {
        flags: Overrides {
            base_url: Some("ftp://x".into()),
            ..Overrides::default()
        },
        ..ConfigSources::default()
    })
    .expect_err("flag");
    assert!(err.to_string().starts_with("The flag --base-url"), "{err}");
}

#[test]
fn debug_never_shows_keys() {
    let c = load_text("[openai]\napi_key = \"sk-file-secret-1234567\"\n[compatible]\napi_key = \"local-secret-999\"\n")
        .expect("config");
    let text = format!("{c:?}");
    assert!(!text.contains("sk-file-secret-1234567"), "{text}");
    assert!(!text.contains("local-secret-999"), "{text}");
    assert!(text.contains("***"));
}

#[test]
fn example_file_documents_every_key_with_its_default() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
        .expect("config.example.toml");
    // As shipped, it holds the defaults.
    let parsed = config::parse(&text, Path::new("config.example.toml")).expect("example parses");
    assert_eq!(parsed, Config::default());
    // Every commented-out `# key = value` line is a real key with a valid value.
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let all = config::parse(&uncommented, Path::new("uncommented")).expect("all keys parse");
    assert!(all.provider.is_some());
    assert!(all.openai.api_key.is_some());
    for key in [
        "provider",
        "model",
        "base_url",
        "timeout_secs",
        "max_retries",
        "temperature",
        "max_output_tokens",
        "api_key",
        "reasoning_effort",
        "busy_timeout_ms",
        "batch_size",
        "concurrency",
        "default_rows",
    ] {
        assert!(
            text.contains(&format!("{key} = ")),
            "{key} is not documented"
        );
    }
}
