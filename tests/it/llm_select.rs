//! Provider selection from the configuration.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use rowsmith::config::{self, Config, ConfigSources, Overrides};
use rowsmith::config::{OfflineReason, Selection, select};
use rowsmith::llm::{self, LlmError, ProviderChoice, ProviderKind};

const KEY: &str = "sk-select-test-987654321";

fn config_with_env(pairs: &[(&str, &str)], flags: Overrides) -> Config {
    let sources = ConfigSources {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        flags,
        ..ConfigSources::default()
    };
    match config::load(&sources) {
        Ok(c) => c,
        Err(e) => panic!("config: {e}"),
    }
}

fn client_of(selection: Result<Selection, LlmError>) -> llm::Client {
    match selection {
        Ok(Selection::Client(c)) => c,
        other => panic!("expected a client, got {other:?}"),
    }
}

#[test]
fn nothing_configured_is_offline_with_a_hint() {
    let selection = select(&Config::default()).expect("selection");
    assert!(matches!(
        selection,
        Selection::Offline(OfflineReason::NothingConfigured)
    ));
    assert_eq!(selection.describe(), "offline generator");
    assert!(
        selection
            .hint()
            .is_some_and(|h| h.contains("OPENAI_API_KEY"))
    );
}

#[test]
fn auto_prefers_openai_then_anthropic() {
    let both = config_with_env(
        &[("OPENAI_API_KEY", KEY), ("ANTHROPIC_API_KEY", KEY)],
        Overrides::default(),
    );
    let c = client_of(select(&both));
    assert_eq!(c.kind(), ProviderKind::OpenAi);
    assert_eq!(c.describe(), "OpenAI gpt-6.1-terra");
    assert_eq!(c.base_url(), "https://api.openai.com/v1");
    assert_eq!(c.settings().timeout, std::time::Duration::from_secs(120));

    let anthropic_only = config_with_env(&[("ANTHROPIC_API_KEY", KEY)], Overrides::default());
    let c = client_of(select(&anthropic_only));
    assert_eq!(c.describe(), "Anthropic claude-haiku-5-5");
    assert_eq!(c.base_url(), "https://api.anthropic.com");
}

#[test]
fn offline_can_be_chosen_even_with_keys() {
    let c = config_with_env(
        &[("OPENAI_API_KEY", KEY), ("ROWSMITH_PROVIDER", "offline")],
        Overrides::default(),
    );
    assert!(matches!(
        select(&c),
        Ok(Selection::Offline(OfflineReason::Chosen))
    ));
}

#[test]
fn a_chosen_provider_without_key_says_which_variable() {
    let c = config_with_env(
        &[("ANTHROPIC_API_KEY", KEY)],
        Overrides {
            provider: Some(ProviderChoice::OpenAi),
            ..Overrides::default()
        },
    );
    let err = select(&c).expect_err("no key");
    assert_eq!(
        err.to_string(),
        "OpenAI needs an API key. Set OPENAI_API_KEY or openai.api_key in the config file."
    );
}

#[test]
fn compatible_needs_base_url_and_model_and_names_the_keys() {
    let flags = Overrides {
        provider: Some(ProviderChoice::Compatible),
        ..Overrides::default()
    };
    let err = select(&config_with_env(&[], flags.clone())).expect_err("no url");
    assert!(err.to_string().contains("compatible.base_url"), "{err}");
    assert!(err.to_string().contains("--base-url"), "{err}");

    let with_url = Overrides {
        base_url: Some("http://127.0.0.1:8089/v1".into()),
        ..flags.clone()
    };
    let err = select(&config_with_env(&[], with_url.clone())).expect_err("no model");
    assert!(err.to_string().contains("compatible.model"), "{err}");

    let complete = Overrides {
        model: Some("smollm2".into()),
        ..with_url
    };
    let c = client_of(select(&config_with_env(&[], complete)));
    assert_eq!(
        c.describe(),
        "compatible smollm2 at http://127.0.0.1:8089/v1"
    );
    assert!(c.settings().api_key.is_none());
    // Local servers are slow: a longer default timeout than for hosted APIs.
    assert_eq!(c.settings().timeout, std::time::Duration::from_secs(600));
}

#[test]
fn flags_beat_sections_and_settings_flow_into_the_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "timeout_secs = 30\nmax_retries = 1\ntemperature = 0.4\nmax_output_tokens = 2000\n\
         [openai]\nmodel = \"gpt-4.1-mini\"\nbase_url = \"https://proxy.example.com/v1\"\nreasoning_effort = \"minimal\"\n",
    )
    .expect("write");
    let sources = ConfigSources {
        path: Some(file),
        env: [("OPENAI_API_KEY".to_string(), KEY.to_string())].into(),
        ..ConfigSources::default()
    };
    let cfg = config::load(&sources).expect("config");
    let c = client_of(select(&cfg));
    assert_eq!(
        c.describe(),
        "OpenAI gpt-4.1-mini at https://proxy.example.com/v1"
    );
    let s = c.settings();
    assert_eq!(s.timeout, std::time::Duration::from_secs(30));
    assert_eq!(s.retry.max_retries, 1);
    assert_eq!(s.temperature, Some(0.4));
    assert_eq!(s.max_output_tokens, 2000);
    assert_eq!(s.reasoning_effort.as_deref(), Some("minimal"));

    let sources = ConfigSources {
        flags: Overrides {
            model: Some("gpt-5-nano".into()),
            ..Overrides::default()
        },
        ..sources
    };
    let c = client_of(select(&config::load(&sources).expect("config")));
    assert_eq!(c.model(), "gpt-5-nano");
}

#[test]
fn keys_never_show_in_debug_output() {
    let c = config_with_env(
        &[("OPENAI_API_KEY", KEY), ("ANTHROPIC_API_KEY", KEY)],
        Overrides::default(),
    );
    let client = client_of(select(&c));
    for text in [
        format!("{c:?}"),
        format!("{client:?}"),
        format!("{:?}", client.settings()),
        format!("{:?}", select(&c)),
    ] {
        assert!(!text.contains(KEY), "key leaked: {text}");
        assert!(text.contains("***"));
    }
}
