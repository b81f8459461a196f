//! The generation job: sample, profile, ask, validate, insert, top up.
//!
//! It runs on tokio, off the caller's thread. Database work happens in
//! blocking tasks on one connection; model requests run concurrently (up to
//! the configured limit), each with a fresh sample and the values already
//! taken. Every batch is committed whole, and the job ends with exactly one
//! `Event::Finished`.

mod batch;
mod estimate;
mod fit;
mod llm;
mod offline;
mod pace;
mod parents;
mod prepare;
mod show;

use crate::db::DbError;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::db::CancelFlag;
use crate::generate::gate::GateMode;
use crate::generate::lineage::Lineage;
use crate::generate::privacy::{self, Privacy};
use crate::llm::{Client, LlmError, Usage};
use batch::{BatchResult, count_rows};
use llm::run_llm;
use offline::run_offline;
use prepare::{Shared, prepare};

pub use batch::insert_previewed;
pub use estimate::Estimate;
pub use show::{ModelPreview, PromptPreview, offline_sentence, show_prompt};

/// The message for an empty table, word for word.
pub const EMPTY_TABLE: &str =
    "Cannot generate data for empty table. Please add at least one row first.";

/// Why a generation failed: the kind for whoever decides what comes next (the app offers
/// to generate from the schema for an empty table), the sentence for whoever shows it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// The table has no rows to learn from.
    #[error("{}", EMPTY_TABLE)]
    EmptyTable,
    /// A foreign key that must be filled points at a table with no rows.
    #[error(
        "Table '{table}' points at '{parent}' through {}, but '{parent}' has no rows yet. Add rows to '{parent}' first.",
        columns.join(", ")
    )]
    ParentEmpty {
        table: String,
        parent: String,
        columns: Vec<String>,
    },
    /// The configuration names no usable provider.
    #[error("{0}")]
    Source(LlmError),
    /// The database could not be read or written.
    #[error("{0}")]
    Database(DbError),
    /// The model or its service failed.
    #[error("{0}")]
    Provider(LlmError),
    /// A local server's context window cannot hold a request for even one row.
    #[error(
        "{provider} reads at most {} tokens at a time, but a request for one row of this table needs about {}. To fix it, {}.",
        crate::output::thousands(u64::from(*window)),
        crate::output::thousands(u64::from(*needed)),
        server.how_to_raise(needed.next_power_of_two())
    )]
    ContextTooSmall {
        provider: String,
        window: u32,
        needed: u32,
        server: crate::llm::context::ServerKind,
    },
    /// A task of the job stopped unexpectedly (its panic or join error, as told).
    #[error("{0}")]
    Internal(String),
    /// The job ended without its last word; finished batches may have been kept.
    #[error(
        "The generation stopped unexpectedly. Rows of finished batches may have been kept; reload to see them."
    )]
    Vanished,
}

impl GenerateError {
    /// Whether the run may have written rows before this failure (so the sentence says
    /// what was kept). Refusals before the start never wrote anything.
    fn after_start(&self) -> bool {
        matches!(
            self,
            Self::Database(_)
                | Self::Provider(_)
                | Self::ContextTooSmall { .. }
                | Self::Internal(_)
        )
    }
}

impl From<DbError> for GenerateError {
    fn from(e: DbError) -> Self {
        Self::Database(e)
    }
}

/// The one sentence for a failed run: why it failed, then what it kept.
pub fn failure_sentence(error: &GenerateError, kept: u64) -> String {
    let message = error.to_string();
    if !error.after_start() {
        return message;
    }
    if kept == 0 {
        // A trigger's RAISE(ROLLBACK) already says that nothing was written.
        if matches!(
            error,
            GenerateError::Database(DbError::TriggerRolledBack { .. })
        ) {
            return message;
        }
        format!("{message} Nothing was written.")
    } else {
        format!(
            "{message} Kept the {kept} {} already added.",
            rows_word(kept)
        )
    }
}

impl Serialize for GenerateError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The most rows a dry run keeps to show (the app's preview, `--dry-run` output); every
/// row is still generated and checked.
pub const PREVIEW_MAX: usize = 10_000;

/// Stop asking after this many requests in a row that added nothing.
const FRUITLESS_LIMIT: u32 = 3;

/// Stop early after this many answers in a row that were mostly rejected: a model that
/// writes degenerate rows will not write better ones for being asked again.
const POOR_ROUNDS: u32 = 3;

/// Rows a dry run keeps of those the realism gate turned away, to show with their reasons.
pub const GATED_SHOWN: usize = 1_000;

/// A row the realism gate turned away, with why (dry runs show them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedRow {
    pub row: serde_json::Map<String, Json>,
    pub reason: String,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub db_path: PathBuf,
    pub table: String,
    pub rows: u64,
    pub seed: Option<u64>,
    /// Generate and judge rows, then roll back and report them.
    pub dry_run: bool,
    /// Allow an empty table, generating from the schema alone.
    pub from_schema: bool,
    /// Rows asked for per model request.
    pub batch_size: usize,
    /// Model requests in flight at once.
    pub concurrency: usize,
    pub busy_timeout: Duration,
    /// Where undo records go; `None` uses rowsmith's data directory.
    pub journal_path: Option<PathBuf>,
    /// What judges the rows before SQLite does.
    pub gate: GateMode,
    /// What of the table's rows model requests carry; `None`: by where the model runs.
    pub privacy: Option<Privacy>,
    /// The table's place in a whole-database run: the parent of each row to make, and
    /// what rows keep from their parents. `rows` is then the number of its slots.
    pub lineage: Option<Arc<Lineage>>,
}

impl GenerateRequest {
    /// The settings every job takes from the config file: batch size, requests in
    /// flight, how long to wait for a locked database, the gate, the privacy.
    pub fn with_settings(mut self, config: &crate::config::Config) -> Self {
        self.batch_size = config.generate.batch_size as usize;
        self.concurrency = config.generate.concurrency as usize;
        self.busy_timeout = Duration::from_millis(config.database.busy_timeout_ms);
        self.gate = config.generate.gate;
        self.privacy = config.generate.privacy;
        self
    }

    pub fn new(db_path: impl Into<PathBuf>, table: impl Into<String>, rows: u64) -> Self {
        Self {
            db_path: db_path.into(),
            table: table.into(),
            rows,
            seed: None,
            dry_run: false,
            from_schema: false,
            batch_size: 25,
            concurrency: 4,
            busy_timeout: crate::db::DEFAULT_BUSY_TIMEOUT,
            journal_path: None,
            gate: GateMode::Realism,
            privacy: None,
            lineage: None,
        }
    }
}

/// Where rows come from.
#[derive(Debug, Clone)]
pub enum Source {
    Llm(Client),
    /// The offline generator, learned from the table (no network).
    Offline,
}

impl Source {
    pub fn provider(&self) -> String {
        match self {
            Source::Llm(c) => c.kind().config_name().to_string(),
            Source::Offline => "offline".into(),
        }
    }

    pub fn model(&self) -> String {
        match self {
            Source::Llm(c) => c.model().to_string(),
            Source::Offline => "learned from the table".into(),
        }
    }

    /// How the source is named to the user and in the undo journal.
    pub fn describe(&self) -> String {
        match self {
            Source::Llm(c) => c.describe(),
            Source::Offline => "offline generator".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
pub enum Stage {
    Sampling,
    Profiling,
    /// A model request; `request` counts from 1 across the job.
    AskingModel {
        request: u32,
    },
    /// The offline generator making rows.
    Generating,
    Validating,
    Inserting,
}

impl Stage {
    pub fn label(&self) -> String {
        match self {
            Stage::Sampling => "sampling rows".into(),
            Stage::Profiling => "profiling columns".into(),
            Stage::AskingModel { request } => format!("asking the model (request {request})"),
            Stage::Generating => "generating rows".into(),
            Stage::Validating => "validating".into(),
            Stage::Inserting => "inserting".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    Started {
        table: String,
        provider: String,
        model: String,
        rows: u64,
        /// What each model request carries of the table's rows ("11 masked sample rows");
        /// `None` for the offline generator, which sends nothing.
        sending: Option<String>,
    },
    Stage(Stage),
    RowsReceived {
        rows: usize,
    },
    RowsAccepted {
        rows: usize,
        total: u64,
    },
    /// `rows` rows were turned away (0: a whole answer was unusable), for these reasons.
    RowsRejected {
        rows: usize,
        reasons: Vec<String>,
    },
    /// What an LLM run is expected to cost, sent before its first request.
    Estimate(Estimate),
    /// Something the user should hear that does not stop the run (one sentence).
    Notice {
        text: String,
    },
    /// What an LLM run has used so far (running totals), sent when it changes.
    Usage {
        input_tokens: u64,
        output_tokens: u64,
        /// Requests asked again after a timeout, a network error or a server error.
        retries: u32,
    },
    Finished(Outcome),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
// One Outcome ends a run: its size costs nothing, and boxing would touch every match.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Done(Summary),
    /// Why, in one plain sentence; `kept` rows of earlier batches stay committed.
    Failed {
        error: GenerateError,
        kept: u64,
    },
    Cancelled {
        kept: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub table: String,
    pub requested: u64,
    pub rows_added: u64,
    pub new_row_count: u64,
    /// Rejected rows by reason.
    pub rejected: BTreeMap<String, u64>,
    pub provider: String,
    pub model: String,
    pub usage: UsageSummary,
    pub elapsed_ms: u64,
    /// Why fewer rows than requested were added, when that happened.
    pub shortfall: Option<String>,
    pub dry_run: bool,
    /// The rows a dry run would have inserted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<serde_json::Map<String, Json>>,
    /// In a dry run, rows the realism gate turned away, with their reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_rows: Vec<RejectedRow>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    /// Every input token, cached or not.
    pub input_tokens: u64,
    /// Input tokens read from the provider's prompt cache.
    pub cached_input_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
    /// Dollars, where the model's price is known (`llm::pricing`).
    pub estimated_cost_usd: Option<f64>,
}

impl UsageSummary {
    pub fn new(usage: &Usage, model: &str) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            cached_input_tokens: usage.cached_input_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            output_tokens: usage.output_tokens,
            estimated_cost_usd: crate::llm::pricing::price_of(model).map(|p| p.cost(usage)),
        }
    }

    /// "Tokens: 48,210 input (41,900 cached), 9,870 output; about $0.06." — `None` when no
    /// model was asked.
    pub fn sentence(&self) -> Option<String> {
        if self.input_tokens == 0 && self.output_tokens == 0 {
            return None;
        }
        let cached = if self.cached_input_tokens > 0 {
            format!(" ({} cached)", thousands(self.cached_input_tokens))
        } else {
            String::new()
        };
        let cost = self
            .estimated_cost_usd
            .map(|c| format!("; about {}", crate::llm::pricing::dollars(c)))
            .unwrap_or_default();
        Some(format!(
            "Tokens: {} input{cached}, {} output{cost}.",
            thousands(self.input_tokens),
            thousands(self.output_tokens)
        ))
    }
}

pub use crate::output::thousands;

impl Summary {
    /// `Generated 10 rows for table 'users'. New total: 60 rows.`
    pub fn sentence(&self) -> String {
        if self.dry_run {
            return format!(
                "Dry run: {} {} for table '{}' passed every check; nothing was written.",
                thousands(self.rows_added),
                rows_word(self.rows_added),
                self.table
            );
        }
        format!(
            "Generated {} {} for table '{}'. New total: {} {}.",
            thousands(self.rows_added),
            rows_word(self.rows_added),
            self.table,
            thousands(self.new_row_count),
            rows_word(self.new_row_count)
        )
    }
}

pub use crate::output::rows_word;

/// What an LLM run would cost, worked out as the run would start (the table is read and
/// profiled) without sending a request.
async fn estimate(request: GenerateRequest, client: &Client) -> Option<Estimate> {
    let prepared = {
        let request = request.clone();
        let source = Source::Llm(client.clone());
        blocking(move || prepare(&request, &source, CancelFlag::new())).await
    };
    let shared = Arc::new(prepared.ok()?.ok()?);
    llm::estimate_for(&shared, client, request.rows, request.batch_size.max(1)).await
}

/// One sentence on what an LLM run of `request.rows` would cost: the estimate, or, when
/// the table cannot be prepared, at least the number of requests.
pub async fn cost_sentence(request: GenerateRequest, source: Source) -> String {
    let requests = request.rows.div_ceil(request.batch_size.max(1) as u64);
    let Source::Llm(client) = &source else {
        return "The offline generator costs nothing.".into();
    };
    match estimate(request, client).await {
        Some(e) => e.sentence(),
        None => format!(
            "It would make about {} requests to {}.",
            thousands(requests),
            client.describe()
        ),
    }
}

/// Starts a job. Events arrive on `events`; `cancel` stops it at any point.
pub fn spawn(
    request: GenerateRequest,
    source: Source,
    events: UnboundedSender<Event>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let table = request.table.clone();
        let outcome = run(request, source, &events, cancel).await;
        log_outcome(&table, &outcome);
        let _ = events.send(Event::Finished(outcome));
    })
}

/// One line in the log file per job: counts, rules and timings, never a row's values (the
/// rejection reasons are the rules' names; the values are only in the summary's rows).
fn log_outcome(table: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Done(s) => tracing::info!(
            table,
            provider = %s.provider,
            model = %s.model,
            requested = s.requested,
            added = s.rows_added,
            rejected = s.rejected.values().sum::<u64>(),
            input_tokens = s.usage.input_tokens,
            output_tokens = s.usage.output_tokens,
            elapsed_ms = s.elapsed_ms,
            dry_run = s.dry_run,
            short = s.shortfall.is_some(),
            "generation finished; rejected by rule: {:?}",
            s.rejected
        ),
        Outcome::Failed { error, kept } => {
            tracing::warn!(
                table,
                kept,
                "generation failed: {}",
                failure_sentence(error, *kept)
            )
        }
        Outcome::Cancelled { kept } => tracing::info!(table, kept, "generation cancelled"),
    }
}

/// Runs a job to its end on the caller's task (a whole-database run runs its tables one
/// after the other); events as for [`spawn`], the outcome returned and logged.
pub async fn run_to_end(
    request: GenerateRequest,
    source: Source,
    events: &UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Outcome {
    let table = request.table.clone();
    let outcome = run(request, source, events, cancel).await;
    log_outcome(&table, &outcome);
    outcome
}

async fn run(
    request: GenerateRequest,
    source: Source,
    events: &UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Outcome {
    let started = Instant::now();
    let send = |e: Event| {
        let _ = events.send(e);
    };
    let stop = CancelFlag::new();
    {
        let stop = stop.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            stop.cancel();
        });
    }

    send(Event::Stage(Stage::Sampling));
    let prepared = {
        let request = request.clone();
        let stop = stop.clone();
        let source = source.clone();
        blocking(move || prepare(&request, &source, stop)).await
    };
    let shared = match prepared {
        Ok(Ok(shared)) => Arc::new(shared),
        Ok(Err(error)) => return Outcome::Failed { error, kept: 0 },
        Err(message) => {
            return Outcome::Failed {
                error: GenerateError::Internal(message),
                kept: 0,
            };
        }
    };
    if cancel.is_cancelled() {
        return Outcome::Cancelled { kept: 0 };
    }
    send(Event::Started {
        table: shared.plan.table.name.clone(),
        provider: source.provider(),
        model: source.model(),
        rows: request.rows,
        sending: shared
            .privacy
            .map(|privacy| privacy::carried(privacy, llm::rows_shown(&shared))),
    });

    let run = Run {
        request: &request,
        source: &source,
        shared: &shared,
        events,
        cancel: &cancel,
        started,
    };
    match source {
        Source::Offline => run_offline(run).await,
        Source::Llm(_) => run_llm(run).await,
    }
}

/// What a prepared run works with, whichever source writes its rows.
struct Run<'a> {
    request: &'a GenerateRequest,
    source: &'a Source,
    shared: &'a Arc<Shared>,
    events: &'a UnboundedSender<Event>,
    cancel: &'a CancellationToken,
    started: Instant,
}

/// What a run added and met along the way.
struct Tally {
    accepted: u64,
    rejected: BTreeMap<String, u64>,
    usage: Usage,
    model: String,
    requests: u32,
    preview: Vec<serde_json::Map<String, Json>>,
    rejected_rows: Vec<RejectedRow>,
    /// Answers in a row of which more than 80% of the rows were rejected.
    poor_rounds: u32,
    /// Requests the client asked again (from its retry notices).
    retries: u32,
    /// The usage last sent as an event.
    usage_told: Usage,
}

impl Tally {
    fn new(source: &Source) -> Self {
        Self {
            accepted: 0,
            rejected: BTreeMap::new(),
            usage: Usage::default(),
            model: source.model(),
            requests: 0,
            preview: Vec::new(),
            rejected_rows: Vec::new(),
            poor_rounds: 0,
            retries: 0,
            usage_told: Usage::default(),
        }
    }

    /// The run should stop: its source keeps writing rows that are turned away.
    fn hopeless(&self) -> bool {
        self.poor_rounds >= POOR_ROUNDS
    }

    /// A batch's write, or the outcome that ends the run: cancelled, or
    /// failed with the rows kept so far.
    fn written(
        &self,
        result: Result<Result<batch::BatchResult, DbError>, String>,
    ) -> Result<batch::BatchResult, Box<Outcome>> {
        let kept = self.accepted;
        match result {
            Ok(Ok(batch)) => Ok(batch),
            Ok(Err(DbError::Cancelled)) => Err(Box::new(Outcome::Cancelled { kept })),
            Ok(Err(e)) => Err(Box::new(Outcome::Failed {
                error: GenerateError::Database(e),
                kept,
            })),
            Err(message) => Err(Box::new(Outcome::Failed {
                error: GenerateError::Internal(message),
                kept,
            })),
        }
    }

    /// Counts a written batch and reports it; returns the rows it added.
    fn record(&mut self, batch: BatchResult, events: &UnboundedSender<Event>) -> usize {
        let added = batch.accepted;
        self.accepted += added as u64;
        // A dry run of a million rows checks them all but keeps only the first few
        // thousand to show: the rest would only fill memory.
        let room = PREVIEW_MAX.saturating_sub(self.preview.len());
        self.preview.extend(batch.preview.into_iter().take(room));
        let room = GATED_SHOWN.saturating_sub(self.rejected_rows.len());
        self.rejected_rows
            .extend(batch.gated.into_iter().take(room));
        let received = added + batch.rejected.len();
        self.poor_rounds = if received > 0 && batch.rejected.len() * 5 > received * 4 {
            self.poor_rounds + 1
        } else {
            0
        };
        if added > 0 {
            let _ = events.send(Event::RowsAccepted {
                rows: added,
                total: self.accepted,
            });
        }
        if !batch.rejected.is_empty() {
            for reason in &batch.rejected {
                *self.rejected.entry(reason.clone()).or_default() += 1;
            }
            // A batch may reject many rows for one reason: report each once.
            let rows = batch.rejected.len();
            let mut reasons = batch.rejected;
            reasons.sort();
            reasons.dedup();
            let _ = events.send(Event::RowsRejected { rows, reasons });
        }
        added
    }
}

/// The summary of a finished run, with the table's new row count.
async fn finish(
    shared: &Arc<Shared>,
    request: &GenerateRequest,
    source: &Source,
    tally: Tally,
    started: Instant,
) -> Outcome {
    // A dry run wrote nothing: the count it started from is still the total, and
    // counting a big table again would cost as much as the rest of a small run.
    let new_row_count = if request.dry_run {
        shared.table_rows
    } else {
        let shared = shared.clone();
        blocking(move || count_rows(&shared))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0)
    };
    let wanted = request.rows;
    let shortfall = (tally.accepted < wanted).then(|| {
        if tally.hopeless() {
            hopeless_sentence(
                tally.accepted,
                wanted,
                tally.requests,
                &tally.rejected,
                source,
            )
        } else {
            shortfall_sentence(
                tally.accepted,
                wanted,
                tally.requests,
                &tally.rejected,
                source,
            )
        }
    });
    Outcome::Done(Summary {
        table: shared.plan.table.name.clone(),
        requested: wanted,
        rows_added: tally.accepted,
        new_row_count,
        rejected: tally.rejected,
        provider: source.provider(),
        usage: UsageSummary::new(&tally.usage, &tally.model),
        model: tally.model,
        elapsed_ms: started.elapsed().as_millis() as u64,
        shortfall,
        dry_run: request.dry_run,
        preview: tally.preview,
        rejected_rows: tally.rejected_rows,
    })
}

/// The run stopped early because its source kept writing rows that were turned away:
/// what went wrong and what to try, in one sentence.
fn hopeless_sentence(
    accepted: u64,
    wanted: u64,
    requests: u32,
    rejected: &BTreeMap<String, u64>,
    source: &Source,
) -> String {
    let (who, advice) = match source {
        Source::Llm(c) => (
            c.model().to_string(),
            "try a larger model, or the offline generator (--provider offline)",
        ),
        Source::Offline => (
            "the offline generator".to_string(),
            "check the table's rules with `rowsmith profile`, or pass --gate constraints to let SQLite alone judge",
        ),
    };
    format!(
        "Stopped early after {}: most rows {who} wrote were rejected ({}), so only {accepted} of {wanted} rows were added; {advice}.",
        attempts(requests, source),
        top_reasons(rejected).join("; ")
    )
}

fn shortfall_sentence(
    accepted: u64,
    wanted: u64,
    requests: u32,
    rejected: &BTreeMap<String, u64>,
    source: &Source,
) -> String {
    let top = top_reasons(rejected);
    let why = if top.is_empty() {
        "the model returned too few rows".to_string()
    } else {
        top.join("; ")
    };
    format!(
        "Only {accepted} of {wanted} rows could be added after {}; rejected: {why}.",
        attempts(requests, source)
    )
}

/// The three most frequent reasons, with their counts: "email is already in the table (4)".
fn top_reasons(rejected: &BTreeMap<String, u64>) -> Vec<String> {
    let mut reasons: Vec<(&String, &u64)> = rejected.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    reasons
        .iter()
        .take(3)
        .map(|(r, n)| format!("{r} ({n})"))
        .collect()
}

/// "3 model requests" or "3 rounds" (the offline generator's).
fn attempts(requests: u32, source: &Source) -> String {
    let (one, many) = match source {
        Source::Llm(_) => ("model request", "model requests"),
        Source::Offline => ("round", "rounds"),
    };
    format!("{requests} {}", if requests == 1 { one } else { many })
}

/// Runs database work on a blocking thread; a panic there becomes a message.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        format!("The database task stopped unexpectedly ({e}). Nothing more was written.")
    })
}
