//! What the app tells the user: a message with its level and time, as the message area
//! and the log show it. Shared by the app, the theme and the views.

/// How a message reads: a result, a note, a warning or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

/// One message: shown under the grid for a while (`ttl` ticks), kept in the log for good.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub level: Level,
    pub ttl: u32,
    /// When it was said (`HH:MM:SS`, from the app's clock).
    pub at: String,
}

/// One message of the log as shown: its time, a mark, the text.
pub fn log_line(toast: &Toast) -> String {
    let mark = match toast.level {
        Level::Success => "✓",
        Level::Info => "·",
        Level::Warning => "!",
        Level::Error => "✗",
    };
    format!("{} {mark} {}", toast.at, toast.text.replace('\n', " "))
}
