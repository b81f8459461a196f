//! `rowsmith generate DB --all [--scale F | -n N] [--tables A,B]`: the plan on stderr
//! first, per-table progress, then one summary (one JSON object with `--json`).

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::CommandResult;
use super::live_line::LiveLine;
use crate::config::Config;
use crate::generate::job::{Event, Source};
use crate::generate::whole::graph::KeyFill;
use crate::generate::whole::{
    Size, WholeEvent, WholeOutcome, WholePlan, WholeRequest, WholeSummary, plan_whole, run_whole,
};
use crate::output::{rows_word, thousands};

pub struct Args {
    pub db: PathBuf,
    pub rows: Option<u64>,
    pub scale: Option<f64>,
    pub tables: Option<Vec<String>>,
    pub seed: Option<u64>,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

/// Exit status when a table got fewer rows than planned.
const SHORTFALL_EXIT: u8 = 3;
/// Exit status after Ctrl-C, as shells report it.
const CANCELLED_EXIT: u8 = 130;

/// The size of a run from the flags: `--scale F` (F > 1), `-n N`, or doubling.
fn size(args: &Args) -> Result<Size, String> {
    match (args.scale, args.rows) {
        (Some(f), _) if !(f.is_finite() && f > 1.0 && f <= 1_000.0) => Err(format!(
            "--scale {f} cannot grow a table: give the size each table should reach as a multiple of today's, more than 1 (2 doubles it) and at most 1000."
        )),
        (Some(f), _) => Ok(Size::Scale(f)),
        (None, Some(0)) => Err("Nothing to do: --rows must be at least 1.".into()),
        (None, Some(n)) => Ok(Size::Rows(n)),
        (None, None) => Ok(Size::Scale(2.0)),
    }
}

pub fn run(args: Args, config: &Config) -> CommandResult {
    let size = size(&args)?;
    let (source, note) = crate::generate::select_source(config)?;
    let mut request = WholeRequest::new(args.db.clone(), size);
    request.tables = args.tables.clone();
    request.seed = args.seed;
    request.dry_run = args.dry_run;
    request.each = request.each.with_settings(config);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let plan = runtime.block_on(plan_whole(&request))?;
    let total = plan.rows();
    if total > config.generate.max_rows {
        return Err(format!(
            "The run would add about {} rows, more than one run may add (generate.max_rows = {}). Use a smaller --scale or --rows, or raise generate.max_rows in the config file.",
            thousands(total),
            thousands(config.generate.max_rows)
        )
        .into());
    }
    if !args.json {
        if let Some(note) = note {
            crate::say_err!("{note}");
        }
        show_plan(&plan, &source, args.dry_run);
    }
    if let Source::Llm(client) = &source
        && total > config.generate.confirm_rows
        && !args.yes
    {
        return Err(format!(
            "The run would ask {} for about {} rows, more than generate.confirm_rows ({}). Pass --yes to go ahead.",
            client.describe(),
            thousands(total),
            thousands(config.generate.confirm_rows)
        )
        .into());
    }
    request.plan = Some(plan);
    let outcome = runtime.block_on(drive(request, source, args.json));
    match outcome {
        WholeOutcome::Done(summary) => report(&summary, args.json),
        WholeOutcome::Cancelled { .. } => {
            crate::say_err!("{}", outcome.failure_sentence().unwrap_or_default());
            Err(super::ExitStatus(CANCELLED_EXIT).into())
        }
        WholeOutcome::Failed { .. } => Err(outcome.failure_sentence().unwrap_or_default().into()),
    }
}

fn show_plan(plan: &WholePlan, source: &Source, dry_run: bool) {
    let with = match source {
        Source::Offline => "the offline generator".to_string(),
        Source::Llm(c) => c.describe(),
    };
    let what = if dry_run {
        "Dry run on a copy of the database"
    } else {
        "Plan"
    };
    crate::say_err!(
        "{what}: about {} rows in {} {} with {with}, parents first:",
        thousands(plan.rows()),
        plan.tables.len(),
        if plan.tables.len() == 1 {
            "table"
        } else {
            "tables"
        }
    );
    for line in plan.lines() {
        crate::say_err!("  {line}");
    }
}

async fn drive(request: WholeRequest, source: Source, json: bool) -> WholeOutcome {
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
    let job = tokio::spawn(run_whole(request, source, tx, cancel));
    let mut progress = Progress::new(json);
    let mut outcome = None;
    while let Some(event) = rx.recv().await {
        match event {
            WholeEvent::Finished(o) => outcome = Some(o),
            other => progress.show(&other),
        }
    }
    progress.line.clear();
    match job.await {
        Ok(o) => outcome.unwrap_or(o),
        Err(e) => outcome.unwrap_or(WholeOutcome::Failed {
            error: crate::generate::whole::WholeError::Internal(e.to_string()),
            rollback: crate::generate::whole::Rollback::Kept {
                why: "the run stopped unexpectedly".into(),
            },
        }),
    }
}

/// Per-table progress: a live line on a terminal, a line per finished table otherwise.
struct Progress {
    line: LiveLine,
    quiet: bool,
    table: String,
    tables: usize,
    index: usize,
    wanted: u64,
    added: u64,
    /// Per table of the plan: its rows have parents a model request shows.
    with_parents: Vec<bool>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Self {
            line: LiveLine::new(),
            quiet,
            table: String::new(),
            tables: 0,
            index: 0,
            wanted: 0,
            added: 0,
            with_parents: Vec::new(),
        }
    }

    fn done_line(&self) -> String {
        format!(
            "{}: +{} {}",
            self.table,
            thousands(self.added),
            rows_word(self.added)
        )
    }

    fn show(&mut self, event: &WholeEvent) {
        if self.quiet {
            return;
        }
        match event {
            WholeEvent::Planned { plan } => {
                self.tables = plan.tables.len();
                self.with_parents = plan
                    .tables
                    .iter()
                    .map(|t| {
                        t.keys
                            .iter()
                            .any(|k| k.fill != KeyFill::Later && k.fill != KeyFill::Null)
                    })
                    .collect();
                self.line.keep_turning();
            }
            WholeEvent::TableStarted { index, table, rows } => {
                if !self.table.is_empty() {
                    self.line.say(&format!("rowsmith: {}", self.done_line()));
                }
                self.index = *index;
                self.table = table.clone();
                self.wanted = *rows;
                self.added = 0;
            }
            WholeEvent::Table { event, .. } => {
                if let Event::RowsAccepted { total, .. } = event {
                    self.added = *total;
                }
                if let Event::Notice { text } = event {
                    self.line.say(&format!("rowsmith: note: {text}"));
                }
                // What leaves the machine, once per table a model writes.
                if let Event::Started {
                    table,
                    sending: Some(sending),
                    ..
                } = event
                {
                    let parents = if self.with_parents.get(self.index).copied().unwrap_or(false) {
                        ", and the parent rows of the rows it asks for, shown the same way"
                    } else {
                        ""
                    };
                    self.line.say(&format!(
                        "rowsmith: {table}: each request sends {sending}{parents}"
                    ));
                }
            }
            WholeEvent::Completing => {
                if !self.table.is_empty() {
                    self.line.say(&format!("rowsmith: {}", self.done_line()));
                    self.table.clear();
                }
                self.line
                    .show("linking keys of cycles and setting parents' totals");
                return;
            }
            WholeEvent::Finished(_) => return,
        }
        if !self.table.is_empty() {
            self.line.show(&format!(
                "{} ({}/{}): {}/{} rows",
                self.table,
                self.index + 1,
                self.tables,
                thousands(self.added),
                thousands(self.wanted)
            ));
        }
    }
}

fn report(summary: &WholeSummary, json: bool) -> CommandResult {
    if json {
        println!("{}", serde_json::to_string(summary)?);
    } else {
        if summary.dry_run {
            let shown: serde_json::Map<String, serde_json::Value> = summary
                .tables
                .iter()
                .map(|t| {
                    (
                        t.table.clone(),
                        serde_json::Value::Array(
                            t.preview
                                .iter()
                                .cloned()
                                .map(serde_json::Value::Object)
                                .collect(),
                        ),
                    )
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        crate::say!("{}", summary.sentence());
        if let Some(second) = summary.second_pass_sentence() {
            crate::say_err!("{second}");
        }
        if let Some(tokens) = summary.usage.sentence() {
            crate::say_err!("{tokens}");
        }
    }
    let short = summary.shortfalls();
    if !short.is_empty() {
        for s in &short {
            crate::say_err!("{s}");
        }
        return Err(super::ExitStatus(SHORTFALL_EXIT).into());
    }
    Ok(())
}
