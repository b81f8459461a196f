//! The CLI's one live status line on stderr, drawn by indicatif: only when stderr is a
//! terminal, as wide as the terminal is now, redrawn in place at a bounded rate; lines
//! said meanwhile go above it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{SPINNER, printable_lines};

pub struct LiveLine {
    bar: ProgressBar,
}

impl LiveLine {
    /// A line on stderr; hidden (every call a no-op) when stderr is not a terminal.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let frames: String = SPINNER.iter().collect();
        // The template is a literal every test run parses; a bad one falls back to the
        // default style rather than failing a command.
        let style = ProgressStyle::with_template("{spinner} {wide_msg}")
            .map(|s| s.tick_chars(&format!("{frames} ")))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        Self { bar }
    }

    /// Whether the line is drawn (stderr is a terminal).
    pub fn is_live(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Replaces the line's text and turns the spinner.
    pub fn show(&self, text: &str) {
        self.bar
            .set_message(printable_lines(text).replace('\n', " "));
        self.bar.tick();
    }

    /// Keeps the spinner turning on its own while nothing new is said.
    pub fn keep_turning(&self) {
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    /// Says a line of its own above the live one (or just says it when not live).
    pub fn say(&self, text: &str) {
        self.bar.suspend(|| crate::say_err!("{text}"));
    }

    /// Takes the line off the screen.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for LiveLine {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
