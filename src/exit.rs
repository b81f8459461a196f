//! How a run ends when it has said everything already: only its exit status is left.

/// A command that has said everything it had to and ends with this exit status (a
/// generation that fell short: 3; cancelled: 130; a signal: 128 + its number). `main`
/// turns it into the status without another word; nothing else calls `process::exit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub u8);

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for ExitStatus {}
