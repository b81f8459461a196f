//! Sizing requests to a local server's context window: the batch and the output cap shrink
//! until the prompt and the answer fit, and a prompt that cannot fit one row is an error
//! before any request is sent.

use crate::llm::context::ContextWindow;

/// Characters a token, counted on the safe side: small local models' tokenizers split JSON
/// and names finer than the 4 characters a token of English prose.
const CHARS_PER_TOKEN: usize = 3;
/// The same for the answer, which small models also indent and break over lines:
/// SmolLM2 on llama.cpp wrote about 110 tokens for a 240-character demo customer.
const ANSWER_CHARS_PER_TOKEN: usize = 2;
/// Tokens of the answer's envelope (`{"rows": [...]}`) and the chat template.
const OVERHEAD_TOKENS: u32 = 64;

/// How big one request's parts are, from the run's first prompt.
#[derive(Clone, Copy, Debug)]
pub(super) struct PromptSize {
    /// Instructions, context and schema: the same in every request.
    pub prefix_chars: usize,
    /// Fresh rows, values taken, the row count.
    pub varying_chars: usize,
    /// One row of the answer, as JSON.
    pub row_chars: usize,
}

/// What fits.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fit {
    pub batch_size: usize,
    pub max_tokens: u32,
    /// Rows per request had to shrink.
    pub shrunk: bool,
}

/// Fits `batch_size` rows and `max_tokens` into `window`; `Err` with the tokens a single
/// row would need when even that does not fit.
pub(super) fn fit(
    window: &ContextWindow,
    size: &PromptSize,
    batch_size: usize,
    max_tokens: u32,
) -> Result<Fit, u32> {
    let tokens = |chars: usize| chars.div_ceil(CHARS_PER_TOKEN) as u32;
    // The varying part changes from request to request: leave it a quarter more room.
    let prompt = tokens(size.prefix_chars) + tokens(size.varying_chars) * 5 / 4 + OVERHEAD_TOKENS;
    let per_row = (size.row_chars.div_ceil(ANSWER_CHARS_PER_TOKEN) as u32).max(8) + 4;
    let available = window.tokens.saturating_sub(prompt);
    if available < per_row + OVERHEAD_TOKENS {
        return Err(prompt + per_row + OVERHEAD_TOKENS);
    }
    let rows = ((available - OVERHEAD_TOKENS) / per_row) as usize;
    let batch = batch_size.min(rows).max(1);
    Ok(Fit {
        batch_size: batch,
        max_tokens: max_tokens.min(available),
        shrunk: batch < batch_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::context::ServerKind;

    fn window(tokens: u32) -> ContextWindow {
        ContextWindow {
            tokens,
            server: ServerKind::LlamaCpp,
            assumed: false,
        }
    }

    const SIZE: PromptSize = PromptSize {
        prefix_chars: 6_000,
        varying_chars: 900,
        row_chars: 240,
    };

    #[test]
    fn a_big_window_changes_only_the_output_cap() {
        let f = fit(&window(131_072), &SIZE, 25, 16_384).unwrap();
        assert_eq!((f.batch_size, f.max_tokens, f.shrunk), (25, 16_384, false));
    }

    #[test]
    fn a_small_window_shrinks_the_batch_and_the_cap() {
        let f = fit(&window(4_096), &SIZE, 25, 16_384).unwrap();
        assert!(f.shrunk && f.batch_size < 25 && f.batch_size >= 1, "{f:?}");
        assert!(f.max_tokens < 4_096 - 2_000);
        let per_row = 124;
        assert!(f.batch_size as u32 * per_row + 64 <= f.max_tokens);
    }

    #[test]
    fn a_window_without_room_for_one_row_is_refused() {
        let need = fit(&window(1_024), &SIZE, 25, 16_384).unwrap_err();
        assert!(need > 1_024);
    }
}
