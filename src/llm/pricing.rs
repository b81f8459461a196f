//! What a run costs, for the models whose prices are published (checked 2026-12-04).
//!
//! Prices are US dollars per million tokens from the providers' model and pricing pages:
//! developers.openai.com/api/docs/models/<model> and platform.claude.com/docs/en/about-
//! claude/pricing. A model not in the table gets no estimate rather than a wrong one.

use super::client::Usage;

/// Dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    pub input: f64,
    /// Input read from the prompt cache.
    pub cached_input: f64,
    /// Input written to the prompt cache (OpenAI's 30-minute retention from GPT-5.6 on,
    /// Anthropic's 5-minute cache write).
    pub cache_write: f64,
    pub output: f64,
}

const fn price(input: f64, cached_input: f64, cache_write: f64, output: f64) -> Price {
    Price {
        input,
        cached_input,
        cache_write,
        output,
    }
}

/// (model id, price). Dated snapshots (`claude-haiku-4-5-20251001`) match their alias.
const PRICES: &[(&str, Price)] = &[
    // "Input $1.00 / Cached input $0.05 / Cache writes $1.25 / Output $5.00"
    ("gpt-6.1-terra", price(1.00, 0.05, 1.25, 5.00)),
    ("gpt-6-luna", price(0.10, 0.01, 0.125, 0.50)),
    ("gpt-6.1-sol", price(2.00, 0.10, 2.50, 10.00)),
    ("gpt-6.2-sol", price(2.00, 0.10, 2.50, 10.00)),
    // GPT-5.x bills no cache writes: a write costs what input costs.
    ("gpt-5.1", price(1.25, 0.125, 1.25, 10.00)),
    ("gpt-5-mini", price(0.25, 0.025, 0.25, 2.00)),
    // Haiku 5.5 for prompts up to 100K tokens: input, 5-minute cache write, cache read,
    // output.
    ("claude-haiku-5-5", price(0.10, 0.01, 0.125, 0.50)),
    ("claude-sonnet-5-5", price(2.00, 0.20, 2.50, 10.00)),
    ("claude-opus-5-5", price(4.00, 0.20, 5.00, 20.00)),
    ("claude-haiku-4-5", price(1.00, 0.10, 1.25, 5.00)),
];

/// The published price of a model, if the table has it.
pub fn price_of(model: &str) -> Option<Price> {
    let m = model.trim().to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    PRICES
        .iter()
        .find(|(id, _)| {
            m == *id
                || m.strip_prefix(id)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '-'))
        })
        .map(|(_, p)| *p)
}

impl Price {
    /// The cost of `usage` in dollars.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let written = usage.cache_write_tokens.min(usage.input_tokens - cached);
        let plain = usage.input_tokens - cached - written;
        (plain as f64 * self.input
            + cached as f64 * self.cached_input
            + written as f64 * self.cache_write
            + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

/// Dollars as the user reads them: "$0.0042", "$1.27".
pub fn dollars(amount: f64) -> String {
    if amount < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_match_aliases_and_snapshots_only() {
        assert!(price_of("gpt-6.1-terra").is_some());
        assert!(price_of("claude-haiku-4-5-20251001").is_some());
        assert!(price_of("openai/gpt-6-luna").is_some());
        assert!(price_of("gpt-6.1-terra-mini").is_none());
        assert!(price_of("smollm2").is_none());
    }

    #[test]
    fn cached_and_written_tokens_are_billed_at_their_rates() {
        let p = price_of("gpt-6.1-terra").unwrap();
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 600_000,
            cache_write_tokens: 100_000,
            output_tokens: 100_000,
        };
        // 300k × $1 + 600k × $0.05 + 100k × $1.25 + 100k × $5
        let cost = p.cost(&usage);
        assert!((cost - (0.30 + 0.03 + 0.125 + 0.50)).abs() < 1e-9, "{cost}");
        assert_eq!(dollars(0.004_23), "$0.0042");
        assert_eq!(dollars(1.266), "$1.27");
    }
}
