//! What each model family accepts, from the providers' own model pages (checked 2026-12-04).
//!
//! These rules keep rowsmith from sending a parameter a model refuses. They are a first
//! line only: when a service still answers 400 about an optional parameter, the client drops
//! it and remembers (see `client.rs`), so a family this table does not know yet still works.

/// `reasoning_effort` values from the lowest to the highest.
pub const EFFORTS: [&str; 7] = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/// Default OpenAI model: the current low-cost model with strict structured outputs on Chat
/// Completions. Source: developers.openai.com/api/docs/models/gpt-6.1-terra, and the
/// deprecations page, which names it the replacement of gpt-5-mini (shut down 2026-12-11).
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-6.1-terra";
/// Default Anthropic model: the current Haiku ("Latest" on its model page, released
/// 2026-10-07); claude-haiku-4-5 is legacy. Source: platform.claude.com/docs/en/about-claude/models.
pub const ANTHROPIC_DEFAULT_MODEL: &str = "claude-haiku-5-5";

/// What one model accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelRules {
    /// A reasoning model: `max_completion_tokens`, and no `temperature` or `top_p`
    /// ("When reasoning effort is not none, remove temperature, top_p" — OpenAI's
    /// deployment checklist; GPT-5 answers 400 "Only the default (1) value is supported").
    pub reasoning: bool,
    /// The `reasoning_effort` values the model accepts; empty when it refuses the parameter.
    pub efforts: &'static [&'static str],
    /// Whether `temperature` may be sent.
    pub temperature: bool,
}

const NO_EFFORT: &[&str] = &[];
/// gpt-5, gpt-5-mini, gpt-5-nano (platform.openai.com/docs/guides/reasoning).
const GPT5_EFFORTS: &[&str] = &["minimal", "low", "medium", "high"];
/// gpt-5.1 ("supported reasoning values for gpt-5.1 are none, low, medium, and high").
const GPT51_EFFORTS: &[&str] = &["none", "low", "medium", "high"];
/// gpt-5.2 to gpt-5.5 add xhigh.
const GPT52_EFFORTS: &[&str] = &["none", "low", "medium", "high", "xhigh"];
/// gpt-5.6 and the gpt-6 family (gpt-6.1-terra, gpt-6-luna model pages: "none, low, medium
/// (default), high, xhigh and max"; "minimal" is refused).
const GPT6_EFFORTS: &[&str] = &["none", "low", "medium", "high", "xhigh", "max"];
/// gpt-6.1-sol, gpt-6.2-sol, gpt-6-astra: "The API rejects requests that set reasoning effort
/// to none".
const SOL_EFFORTS: &[&str] = &["low", "medium", "high", "xhigh", "max"];
/// o1, o3, o4-mini.
const O_SERIES_EFFORTS: &[&str] = &["low", "medium", "high"];

/// The rules for an OpenAI model id (a `provider/` prefix, as gateways write it, is ignored).
pub fn openai(model: &str) -> ModelRules {
    let m = bare(model);
    let reasoning = |efforts| ModelRules {
        reasoning: true,
        efforts,
        temperature: false,
    };
    if m.contains("chat-latest") {
        // Chat variants are not reasoning models and refuse reasoning_effort.
        return ModelRules {
            reasoning: false,
            efforts: NO_EFFORT,
            temperature: true,
        };
    }
    if m.starts_with("gpt-5") && m.contains("-pro") {
        // "gpt-5-pro defaults to (and only supports) high reasoning effort": sending it is
        // pointless and other values are refused.
        return reasoning(NO_EFFORT);
    }
    if m.starts_with("gpt-6") {
        if m.contains("-sol") || m.contains("-astra") {
            return reasoning(SOL_EFFORTS);
        }
        return reasoning(GPT6_EFFORTS);
    }
    if let Some(rest) = m.strip_prefix("gpt-5") {
        let minor = rest
            .strip_prefix('.')
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|d| d.parse::<u32>().ok());
        return reasoning(match minor {
            None => GPT5_EFFORTS,
            Some(1) => GPT51_EFFORTS,
            Some(2..=5) => GPT52_EFFORTS,
            Some(_) => GPT6_EFFORTS,
        });
    }
    let o_series = ["o1", "o3", "o4"]
        .iter()
        .any(|p| m.starts_with(p) && m[p.len()..].chars().next().is_none_or(|c| c == '-'));
    if o_series {
        return reasoning(O_SERIES_EFFORTS);
    }
    ModelRules {
        reasoning: false,
        efforts: NO_EFFORT,
        temperature: true,
    }
}

/// The rules for an Anthropic model id. The Claude 5 generation (Haiku 5.5, Sonnet 5 and
/// later, Opus 5 and later, Fable) answers 400 "`temperature` is deprecated for this model".
pub fn anthropic(model: &str) -> ModelRules {
    let m = bare(model);
    let generation_5 = m.starts_with("claude-fable")
        || ["claude-haiku-", "claude-sonnet-", "claude-opus-"]
            .iter()
            .filter_map(|p| m.strip_prefix(p))
            .filter_map(|rest| rest.split('-').next())
            .filter_map(|major| major.parse::<u32>().ok())
            .any(|major| major >= 5);
    ModelRules {
        reasoning: false,
        efforts: NO_EFFORT,
        temperature: !generation_5,
    }
}

/// The effort to send for `asked`: itself when accepted, else the nearest accepted value at
/// or above it, else the highest accepted one; `None` when the model takes no effort.
pub fn effort_for(rules: &ModelRules, asked: &str) -> Option<&'static str> {
    let rank = |e: &str| EFFORTS.iter().position(|x| *x == e);
    let asked_rank = rank(asked)?;
    rules
        .efforts
        .iter()
        .copied()
        .find(|e| rank(e).is_some_and(|r| r >= asked_rank))
        .or_else(|| rules.efforts.last().copied())
}

fn bare(model: &str) -> String {
    let m = model.trim().to_ascii_lowercase();
    m.rsplit('/').next().unwrap_or(&m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_families_are_recognised() {
        for m in [
            "gpt-5-mini",
            "gpt-5.4-mini",
            "gpt-6.1-terra",
            "gpt-6-luna",
            "openai/gpt-6.2-sol",
            "o3",
            "o4-mini",
            "gpt-5-pro",
        ] {
            let r = openai(m);
            assert!(r.reasoning && !r.temperature, "{m}");
        }
        for m in ["gpt-4.1-mini", "gpt-5.3-chat-latest", "smollm2", "omni-x"] {
            assert!(!openai(m).reasoning, "{m}");
        }
    }

    #[test]
    fn efforts_follow_each_family() {
        assert_eq!(effort_for(&openai("gpt-6.1-terra"), "max"), Some("max"));
        assert_eq!(effort_for(&openai("gpt-6.1-terra"), "minimal"), Some("low"));
        assert_eq!(effort_for(&openai("gpt-6.1-sol"), "none"), Some("low"));
        assert_eq!(effort_for(&openai("gpt-5-mini"), "none"), Some("minimal"));
        assert_eq!(effort_for(&openai("gpt-5-mini"), "max"), Some("high"));
        assert_eq!(effort_for(&openai("gpt-5.1"), "xhigh"), Some("high"));
        assert_eq!(effort_for(&openai("gpt-5.2"), "xhigh"), Some("xhigh"));
        assert_eq!(effort_for(&openai("gpt-5-pro"), "low"), None);
        assert_eq!(effort_for(&openai("gpt-5.1-chat-latest"), "low"), None);
        assert_eq!(effort_for(&openai("gpt-4.1-mini"), "low"), None);
    }

    #[test]
    fn claude_5_takes_no_temperature() {
        assert!(!anthropic("claude-haiku-5-5").temperature);
        assert!(!anthropic("claude-sonnet-5").temperature);
        assert!(!anthropic("claude-fable-5-1").temperature);
        assert!(anthropic("claude-haiku-4-5").temperature);
        assert!(anthropic("claude-3-5-haiku-latest").temperature);
    }
}
