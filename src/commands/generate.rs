//! `rowsmith generate DB TABLE`: the generation job with progress on stderr
//! and the result on stdout.

use std::io::Write;
use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::CommandResult;
use super::live_line::LiveLine;
use crate::config::Config;
use crate::generate::job::{
    Event, GenerateError, GenerateRequest, Outcome, PromptPreview, Source, Summary,
    failure_sentence, rows_word, spawn,
};

pub struct Args {
    pub db: PathBuf,
    pub table: String,
    pub rows: Option<u64>,
    pub seed: Option<u64>,
    pub dry_run: bool,
    /// Print the first request the model would get; send nothing.
    pub show_prompt: bool,
    pub from_schema: bool,
    /// Go ahead with an LLM run above generate.confirm_rows.
    pub yes: bool,
    pub json: bool,
}

/// Rows the gate turned away that a dry run lists on stderr (`--json` has them all).
const GATED_LISTED: usize = 10;

/// Exit status when fewer rows than requested could be added.
const SHORTFALL_EXIT: u8 = 3;
/// Exit status after Ctrl-C, as shells report it.
const CANCELLED_EXIT: u8 = 130;

pub fn run(args: Args, config: &Config) -> CommandResult {
    let (source, note) = crate::generate::select_source(config)?;
    // Said once the run has started, so that an error (a missing table) stands alone.
    let note = note.filter(|_| !args.json).map(str::to_string);
    let rows = args.rows.unwrap_or(config.generate.default_rows);
    if rows == 0 {
        return Err("Nothing to do: --rows must be at least 1.".into());
    }
    if rows > config.generate.max_rows {
        return Err(format!(
            "{} rows is more than one run may add (generate.max_rows = {}). Ask for fewer, or raise generate.max_rows in the config file.",
            crate::output::thousands(rows),
            crate::output::thousands(config.generate.max_rows)
        )
        .into());
    }
    let mut request =
        GenerateRequest::new(args.db.clone(), args.table.clone(), rows).with_settings(config);
    request.seed = args.seed;
    request.dry_run = args.dry_run;
    request.from_schema = args.from_schema;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.show_prompt {
        // Sends nothing, so no run is too large to show.
        let shown = runtime.block_on(crate::generate::job::show_prompt(request, source))?;
        return show(&shown, note.as_deref(), args.json);
    }
    if let Source::Llm(_) = &source
        && rows > config.generate.confirm_rows
        && !args.yes
    {
        // A typo in -n must not turn into thousands of paid requests: say what the run
        // would cost and let the user decide.
        let what = runtime.block_on(crate::generate::job::cost_sentence(
            request.clone(),
            source.clone(),
        ));
        return Err(format!(
            "{} rows is more than generate.confirm_rows ({}) for a model. {what} Pass --yes to go ahead.",
            crate::output::thousands(rows),
            crate::output::thousands(config.generate.confirm_rows)
        )
        .into());
    }
    let outcome = runtime.block_on(drive(request, source, note));
    match outcome {
        Outcome::Done(summary) => report(&summary, args.json),
        Outcome::Failed { error, kept } => Err(failure_sentence(&error, kept).into()),
        Outcome::Cancelled { kept } => {
            eprintln!(
                "Cancelled. {}",
                if kept == 0 {
                    "Nothing was written.".to_string()
                } else {
                    format!(
                        "Kept the {kept} {} already added; `rowsmith undo` removes them.",
                        rows_word(kept)
                    )
                }
            );
            Err(super::ExitStatus(CANCELLED_EXIT).into())
        }
    }
}

async fn drive(request: GenerateRequest, source: Source, note: Option<String>) -> Outcome {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let mut progress = Progress::new(request.rows, request.dry_run);
    progress.note = note;
    let job = spawn(request, source, tx, cancel);
    let mut outcome = None;
    while let Some(event) = rx.recv().await {
        match event {
            Event::Finished(o) => outcome = Some(o),
            other => progress.show(&other),
        }
    }
    progress.finish();
    let _ = job.await;
    outcome.unwrap_or(Outcome::Failed {
        error: GenerateError::Vanished,
        kept: 0,
    })
}

/// `--show-prompt`: the request on stdout, as JSON with `--json`.
fn show(shown: &PromptPreview, note: Option<&str>, json: bool) -> CommandResult {
    if json {
        println!("{}", serde_json::to_string(&shown.to_json())?);
        return Ok(());
    }
    // Why the offline generator is in use, when nothing chose it.
    if let (PromptPreview::Offline { .. }, Some(note)) = (shown, note) {
        crate::say_err!("{note}");
    }
    crate::say!("{}", shown.text());
    Ok(())
}

fn report(summary: &Summary, json: bool) -> CommandResult {
    if summary.dry_run && !json {
        println!("{}", serde_json::to_string_pretty(&summary.preview)?);
        if summary.rows_added > summary.preview.len() as u64 {
            crate::say_err!(
                "Showing the first {} of the {} rows.",
                crate::output::thousands(summary.preview.len() as u64),
                crate::output::thousands(summary.rows_added)
            );
        }
        if !summary.rejected_rows.is_empty() {
            crate::say_err!(
                "The realism gate turned away {} {} (not shown above):",
                summary.rejected_rows.len(),
                rows_word(summary.rejected_rows.len() as u64)
            );
            for r in summary.rejected_rows.iter().take(GATED_LISTED) {
                crate::say_err!(
                    "  ✗ {}: {}",
                    r.reason,
                    serde_json::Value::Object(r.row.clone())
                );
            }
            if summary.rejected_rows.len() > GATED_LISTED {
                crate::say_err!(
                    "  … and {} more (--json lists them all).",
                    summary.rejected_rows.len() - GATED_LISTED
                );
            }
        }
        crate::say_err!("{}", summary.sentence());
    } else if json {
        println!("{}", serde_json::to_string(summary)?);
    } else {
        crate::say!("{}", summary.sentence());
    }
    if !json && let Some(tokens) = summary.usage.sentence() {
        eprintln!("{tokens}");
    }
    if let Some(shortfall) = &summary.shortfall {
        crate::say_err!("{shortfall}");
        std::io::stdout().flush()?;
        return Err(super::ExitStatus(SHORTFALL_EXIT).into());
    }
    Ok(())
}

/// Progress on stderr: one live line on a terminal, plain lines otherwise.
struct Progress {
    /// Said when the run starts (which provider is in use and why).
    note: Option<String>,
    line: LiveLine,
    live: bool,
    wanted: u64,
    dry_run: bool,
    added: u64,
    stage: String,
}

impl Progress {
    fn new(wanted: u64, dry_run: bool) -> Self {
        let line = LiveLine::new();
        Self {
            note: None,
            live: line.is_live(),
            line,
            wanted,
            dry_run,
            added: 0,
            stage: String::new(),
        }
    }

    fn show(&mut self, event: &Event) {
        let line = match event {
            Event::Started {
                table,
                provider,
                model,
                rows,
                sending,
            } => {
                if let Some(note) = self.note.take() {
                    self.line.say(&note);
                }
                self.line.keep_turning();
                let with = if provider == "offline" {
                    "the offline generator".to_string()
                } else {
                    format!("{provider} {model}")
                };
                let sends = sending
                    .as_ref()
                    .map(|s| format!("; each request sends {s}"))
                    .unwrap_or_default();
                format!(
                    "Generating {rows} {} for '{table}' with {with}{sends}",
                    rows_word(*rows)
                )
            }
            Event::Stage(stage) => {
                self.stage = stage.label();
                if self.live {
                    String::new()
                } else {
                    return;
                }
            }
            Event::RowsReceived { rows } => format!("received {rows} {}", rows_word(*rows as u64)),
            Event::RowsAccepted { total, .. } => {
                self.added = *total;
                format!("{}/{} rows added", self.added, self.wanted)
            }
            Event::RowsRejected { rows, reasons } => {
                let more = match reasons.len() {
                    0 | 1 => String::new(),
                    n => format!(
                        "; and {} more reason{}",
                        n - 1,
                        if n == 2 { "" } else { "s" }
                    ),
                };
                let first = reasons
                    .first()
                    .map(String::as_str)
                    .unwrap_or("no reason given");
                if *rows == 0 {
                    format!("answer rejected: {first}")
                } else {
                    format!("{rows} {} rejected: {first}{more}", rows_word(*rows as u64))
                }
            }
            Event::Estimate(estimate) => {
                // A dry run says what the real run would cost before any request goes out.
                if self.dry_run {
                    self.line.say(&format!("rowsmith: {}", estimate.sentence()));
                }
                return;
            }
            Event::Notice { text } => {
                // A notice gets a line of its own, above the live progress line.
                self.line.say(&format!("rowsmith: note: {text}"));
                return;
            }
            // The summary says it all at the end.
            Event::Usage { .. } | Event::Finished(_) => return,
        };
        if self.live {
            let status = format!("{} · {}/{} rows", self.stage, self.added, self.wanted);
            if line.is_empty() {
                self.line.show(&status);
            } else {
                self.line.show(&format!("{status} · {line}"));
            }
        } else if !line.is_empty() {
            crate::say_err!("rowsmith: {line}");
        }
    }

    fn finish(&mut self) {
        self.line.clear();
    }
}
