use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A bug must still end in one readable sentence, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!("internal error: {what}{place}");
        let log = rowsmith::paths::data_dir()
            .map(|d| format!(" Details: {}.", rowsmith::log::today_path(&d).display()))
            .unwrap_or_default();
        eprintln!("error: rowsmith hit an internal error ({what}{place}). Please report it.{log}");
    }));
    let cli = rowsmith::cli::Cli::parse();
    if let Ok(dir) = rowsmith::paths::data_dir() {
        rowsmith::log::init(&dir);
    }
    // The subcommand's name only: its arguments may hold SQL with values in it.
    let command = cli.command_name();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command, "started");
    let started = std::time::Instant::now();
    let result = rowsmith::commands::run(cli);
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(()) => tracing::info!(command, elapsed_ms, "finished"),
        Err(e) => tracing::warn!(command, elapsed_ms, "ended: {e}"),
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `| head` stopped reading: like any Unix tool, end quietly.
        Err(e)
            if matches!(
                e.downcast_ref::<rowsmith::db::DbError>(),
                Some(rowsmith::db::DbError::OutputClosed)
            ) =>
        {
            ExitCode::SUCCESS
        }
        // The command has said what it had to; only the status is left.
        Err(e) if e.downcast_ref::<rowsmith::exit::ExitStatus>().is_some() => e
            .downcast_ref::<rowsmith::exit::ExitStatus>()
            .map_or(ExitCode::FAILURE, |s| ExitCode::from(s.0)),
        Err(e) => {
            // Errors quote table names and server text: never let them drive the terminal.
            eprintln!("error: {}", rowsmith::output::printable(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
