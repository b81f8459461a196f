//! What an LLM run will cost, worked out before the first request is sent.
//!
//! Tokens are counted as characters / 4 (the usual rule of thumb for English and JSON with
//! OpenAI's and Anthropic's tokenizers), so the figures are estimates, not quotes. The
//! static prefix of every request after the first is assumed to come from the prompt cache.

use serde::Serialize;

use super::fit::PromptSize;
use crate::llm::pricing::{dollars, price_of};
use crate::llm::{Client, Usage};

/// Characters per token, for the estimate.
const CHARS_PER_TOKEN: usize = 4;
/// OpenAI caches only prefixes of at least this many tokens (prompt caching guide).
const MIN_CACHED_PREFIX: u64 = 1_024;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub requests: u64,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<f64>,
    pub model: String,
}

impl Estimate {
    /// `rows` in batches of `batch_size`, each request the size of the run's first one.
    pub(super) fn new(client: &Client, rows: u64, batch_size: usize, size: &PromptSize) -> Self {
        let requests = rows.div_ceil(batch_size.max(1) as u64).max(1);
        let prefix = (size.prefix_chars / CHARS_PER_TOKEN) as u64;
        let varying = (size.varying_chars / CHARS_PER_TOKEN) as u64;
        let row_chars = size.row_chars;
        let cacheable = if prefix >= MIN_CACHED_PREFIX {
            prefix
        } else {
            0
        };
        let input_tokens = requests * (prefix + varying);
        let cached_input_tokens = (requests - 1) * cacheable;
        // Each row is written once, plus the envelope; reasoning models think first, which
        // is not counted here.
        let output_tokens = rows * (row_chars / CHARS_PER_TOKEN).max(8) as u64 + requests * 10;
        let usage = Usage {
            input_tokens,
            cached_input_tokens,
            cache_write_tokens: 0,
            output_tokens,
        };
        Self {
            requests,
            input_tokens,
            cached_input_tokens,
            output_tokens,
            cost_usd: price_of(client.model()).map(|p| p.cost(&usage)),
            model: client.model().to_string(),
        }
    }

    /// "Estimate: 40 requests, about 62,000 input tokens (48,000 cached) and 21,000 output
    /// tokens; about $0.13 with gpt-6.1-terra."
    pub fn sentence(&self) -> String {
        use super::thousands;
        let cached = if self.cached_input_tokens > 0 {
            format!(" ({} cached)", thousands(self.cached_input_tokens))
        } else {
            String::new()
        };
        let cost = match self.cost_usd {
            Some(c) => format!("; about {} with {}", dollars(c), self.model),
            None => format!("; no published price for {}", self.model),
        };
        format!(
            "Estimate: {} request{}, about {} input tokens{cached} and {} output tokens{cost}.",
            self.requests,
            crate::output::plural(self.requests, "", "s"),
            thousands(self.input_tokens),
            thousands(self.output_tokens)
        )
    }
}
