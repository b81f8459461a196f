//! The log file, for the details a one-sentence message leaves out: which command ran,
//! what a generation did (rows, rejections by rule, tokens, retries, time) and what a
//! provider answered when it failed.
//!
//! `rowsmith.YYYY-MM-DD.log` in the data directory, a new file each day, the last
//! [`KEPT_FILES`] kept. Call sites log names, counts, statuses and timings: never an API
//! key (the HTTP layer cleans keys out of every server message) and never a row's values.

use std::path::{Path, PathBuf};

use tracing::level_filters::LevelFilter;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// Environment variable for how much is written: `off`, `error`, `warn`, `info` (the
/// default), `debug` or `trace`.
pub const LOG_ENV: &str = "ROWSMITH_LOG";
/// Daily files kept; older ones are removed.
pub const KEPT_FILES: usize = 7;
const PREFIX: &str = "rowsmith";
const SUFFIX: &str = "log";

/// Starts writing the log into `dir`. A log that cannot be written (a read-only data
/// folder) is no reason to stop: rowsmith runs on without one.
pub fn init(dir: &Path) {
    let level = level_from(std::env::var(LOG_ENV).ok().as_deref());
    if level == LevelFilter::OFF {
        return;
    }
    let Ok(appender) = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES)
        .build(dir)
    else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(appender)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(level)
        .try_init();
}

/// Where today's log is (or would be), for messages that point to it.
pub fn today_path(dir: &Path) -> PathBuf {
    let date =
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).format("%Y-%m-%d");
    dir.join(format!("{PREFIX}.{date}.{SUFFIX}"))
}

/// The level `ROWSMITH_LOG` asks for; unknown text keeps the default.
fn level_from(text: Option<&str>) -> LevelFilter {
    match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("off") => LevelFilter::OFF,
        Some("error") => LevelFilter::ERROR,
        Some("warn") => LevelFilter::WARN,
        Some("debug") => LevelFilter::DEBUG,
        Some("trace") => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_comes_from_the_environment_with_info_by_default() {
        assert_eq!(level_from(None), LevelFilter::INFO);
        assert_eq!(level_from(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some("off")), LevelFilter::OFF);
        assert_eq!(level_from(Some("loud")), LevelFilter::INFO);
    }

    #[test]
    fn todays_file_is_named_by_date() {
        let path = today_path(Path::new("/data"));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            name.starts_with("rowsmith.") && name.ends_with(".log"),
            "{name}"
        );
        assert_eq!(name.len(), "rowsmith.2026-12-04.log".len());
    }
}
