//! What a local server can read and write in one request, and which kind of server it is:
//! kept by the client, learned by `context`.

/// Which kind of server answered, for the advice on raising the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    LlamaCpp,
    Ollama,
    Vllm,
    LmStudio,
}

impl ServerKind {
    /// How to give the server a bigger context.
    pub fn how_to_raise(self, tokens: u32) -> String {
        match self {
            Self::LlamaCpp => format!("start llama-server with -c {tokens} (or more)"),
            Self::Ollama => format!(
                "start Ollama with OLLAMA_CONTEXT_LENGTH={tokens}, or create a model with PARAMETER num_ctx {tokens}"
            ),
            Self::Vllm => format!("start vLLM with --max-model-len {tokens}"),
            Self::LmStudio => {
                format!("load the model in LM Studio with a context length of {tokens}")
            }
        }
    }
}

/// A server's context window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextWindow {
    pub tokens: u32,
    pub server: ServerKind,
    /// Whether the window was assumed (Ollama's default) rather than read.
    pub assumed: bool,
}
