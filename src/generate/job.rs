//! The generation job: sample, profile, ask, validate, insert, top up.
//!
//! It runs on tokio, off the caller's thread. Database work happens in
//! blocking tasks on one connection; model requests run concurrently (up to
//! the configured limit), each with a fresh sample and the values already
//! taken. Every batch is committed whole, and the job ends with exactly one
//! `Event::Finished`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rusqlite::types::Value;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::offline::{Learning, OfflineModel};
use super::parse::{Candidate, candidate, row_list};
use super::plan::Plan;
use super::prompt::{PromptInput, SYSTEM, answer_schema, user_message};
use super::validate::Guard;
use crate::db::catalog::table_info;
use crate::db::journal::{Journal, OperationId};
use crate::db::profile::{ProfileOptions, TableProfile, profile_table};
use crate::db::sample::{sample_columns, sample_rows};
use crate::db::value::to_json;
use crate::db::write::{BatchWriter, JournalTarget, WriteOptions};
use crate::db::{CancelFlag, Database, DbError, OpenOptions};
use crate::llm::{Client, JsonRequest, LlmError, Usage};

/// The message for an empty table, word for word.
pub const EMPTY_TABLE: &str =
    "Cannot generate data for empty table. Please add at least one row first.";

/// Random existing rows shown to the model per request.
const SAMPLE_ROWS: usize = 10;
/// Parent keys offered per foreign key.
const PARENT_KEYS: usize = 50;
/// Stop asking after this many requests in a row that added nothing.
const FRUITLESS_LIMIT: u32 = 3;

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
}

impl GenerateRequest {
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
    },
    Stage(Stage),
    RowsReceived {
        rows: usize,
    },
    RowsAccepted {
        rows: usize,
        total: u64,
    },
    RowsRejected {
        reasons: Vec<String>,
    },
    Finished(Outcome),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    Done(Summary),
    /// One plain sentence; `kept` rows of earlier batches stay committed.
    Failed {
        message: String,
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
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Summary {
    /// `Generated 10 rows for table 'users'. New total: 60 rows.`
    pub fn sentence(&self) -> String {
        if self.dry_run {
            return format!(
                "Dry run: {} {} for table '{}' passed every check; nothing was written.",
                self.rows_added,
                rows_word(self.rows_added),
                self.table
            );
        }
        format!(
            "Generated {} {} for table '{}'. New total: {} {}.",
            self.rows_added,
            rows_word(self.rows_added),
            self.table,
            self.new_row_count,
            rows_word(self.new_row_count)
        )
    }
}

pub fn rows_word(n: u64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// Starts a job. Events arrive on `events`; `cancel` stops it at any point.
pub fn spawn(
    request: GenerateRequest,
    source: Source,
    events: UnboundedSender<Event>,
    cancel: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let outcome = run(request, source, &events, cancel).await;
        let _ = events.send(Event::Finished(outcome));
    })
}

/// Everything the batches share.
struct Shared {
    db: Mutex<Database>,
    plan: Plan,
    profile: Option<TableProfile>,
    parent_keys: Vec<Vec<Vec<Value>>>,
    guard: Mutex<Guard>,
    /// Per planned column: it already holds text although its type is numeric.
    text_allowed: Vec<bool>,
    rng: Mutex<StdRng>,
    table_rows: u64,
    journal: Mutex<Option<(Journal, OperationId)>>,
    journal_path: Option<PathBuf>,
    source_name: String,
    dry_run: bool,
    /// Set when the job is cancelled, so a write in progress rolls back.
    stop: CancelFlag,
    /// The offline generator, when it is the source.
    offline: Mutex<Option<OfflineModel>>,
}

/// What one batch did.
struct BatchResult {
    accepted: usize,
    rejected: Vec<String>,
    preview: Vec<serde_json::Map<String, Json>>,
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
        Ok(Err(message)) => return Outcome::Failed { message, kept: 0 },
        Err(message) => return Outcome::Failed { message, kept: 0 },
    };
    if cancel.is_cancelled() {
        return Outcome::Cancelled { kept: 0 };
    }
    send(Event::Started {
        table: shared.plan.table.name.clone(),
        provider: source.provider(),
        model: source.model(),
        rows: request.rows,
    });

    if let Source::Offline = source {
        return run_offline(&request, &source, &shared, events, &cancel, started).await;
    }
    let wanted = request.rows;
    let mut batch_size = request.batch_size.max(1);
    let concurrency = request.concurrency.max(1);
    let batches_needed = wanted.div_ceil(batch_size as u64).max(1);
    // Room to top up rejected rows, bounded so a hopeless table stops.
    let max_requests = (batches_needed * 2 + 3) as u32;

    let mut tally = Tally::new(&source);
    let mut in_flight_rows: u64 = 0;
    let mut fruitless: u32 = 0;
    let mut tasks: JoinSet<(u64, Result<Answer, AskError>)> = JoinSet::new();

    loop {
        while tasks.len() < concurrency
            && tally.accepted + in_flight_rows < wanted
            && tally.requests < max_requests
            && fruitless < FRUITLESS_LIMIT
        {
            let want = (wanted - tally.accepted - in_flight_rows).min(batch_size as u64);
            tally.requests += 1;
            in_flight_rows += want;
            send(Event::Stage(Stage::AskingModel {
                request: tally.requests,
            }));
            let shared = shared.clone();
            let source = source.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move { (want, ask(shared, source, want as usize, cancel).await) });
        }
        let next = tokio::select! {
            _ = cancel.cancelled() => {
                tasks.abort_all();
                return Outcome::Cancelled { kept: tally.accepted };
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = next else { break };
        let (want, answer) = match joined {
            Ok(result) => result,
            Err(e) => {
                tasks.abort_all();
                return Outcome::Failed {
                    message: format!("A generation task stopped unexpectedly ({e})."),
                    kept: tally.accepted,
                };
            }
        };
        in_flight_rows -= want;
        let (rows, answer_usage, answer_model) = match answer {
            Ok(answer) => answer,
            Err(AskError::Llm(LlmError::Cancelled)) => {
                tasks.abort_all();
                return Outcome::Cancelled {
                    kept: tally.accepted,
                };
            }
            Err(AskError::Llm(e)) => match unusable_answer(&e) {
                // A bad answer is one failed request, not a failed job: ask again.
                Some(reason) => {
                    if matches!(e, LlmError::Truncated { .. }) {
                        batch_size = (batch_size / 2).max(1);
                    }
                    *tally.rejected.entry(reason.to_string()).or_default() += 1;
                    fruitless += 1;
                    send(Event::RowsRejected {
                        reasons: vec![reason.to_string()],
                    });
                    continue;
                }
                None => {
                    tasks.abort_all();
                    return Outcome::Failed {
                        message: with_kept(&e.to_string(), tally.accepted),
                        kept: tally.accepted,
                    };
                }
            },
            Err(AskError::Local(message)) => {
                tasks.abort_all();
                return Outcome::Failed {
                    message: with_kept(&message, tally.accepted),
                    kept: tally.accepted,
                };
            }
        };
        tally.usage += answer_usage;
        tally.model = answer_model;
        send(Event::RowsReceived { rows: rows.len() });
        send(Event::Stage(Stage::Validating));
        let needed = (wanted - tally.accepted) as usize;
        let result = {
            let shared = shared.clone();
            let events = events.clone();
            blocking(move || judge_and_write(&shared, rows, needed, &events)).await
        };
        let batch = match result {
            Ok(Ok(batch)) => batch,
            Ok(Err(DbError::Cancelled)) => {
                return Outcome::Cancelled {
                    kept: tally.accepted,
                };
            }
            Ok(Err(e)) => {
                tasks.abort_all();
                return Outcome::Failed {
                    message: with_kept(&e.to_string(), tally.accepted),
                    kept: tally.accepted,
                };
            }
            Err(message) => {
                tasks.abort_all();
                return Outcome::Failed {
                    message,
                    kept: tally.accepted,
                };
            }
        };
        fruitless = if tally.record(batch, events) == 0 {
            fruitless + 1
        } else {
            0
        };
        if tally.accepted >= wanted {
            tasks.abort_all();
            break;
        }
    }

    finish(&shared, &request, &source, tally, started).await
}

/// What a run added and met along the way.
struct Tally {
    accepted: u64,
    rejected: BTreeMap<String, u64>,
    usage: Usage,
    model: String,
    requests: u32,
    preview: Vec<serde_json::Map<String, Json>>,
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
        }
    }

    /// Counts a written batch and reports it; returns the rows it added.
    fn record(&mut self, batch: BatchResult, events: &UnboundedSender<Event>) -> usize {
        let added = batch.accepted;
        self.accepted += added as u64;
        self.preview.extend(batch.preview);
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
            let mut reasons = batch.rejected;
            reasons.sort();
            reasons.dedup();
            let _ = events.send(Event::RowsRejected { reasons });
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
    let new_row_count = {
        let shared = shared.clone();
        blocking(move || count_rows(&shared))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0)
    };
    let wanted = request.rows;
    let shortfall = (tally.accepted < wanted).then(|| {
        shortfall_sentence(
            tally.accepted,
            wanted,
            tally.requests,
            &tally.rejected,
            source,
        )
    });
    Outcome::Done(Summary {
        table: shared.plan.table.name.clone(),
        requested: wanted,
        rows_added: tally.accepted,
        new_row_count,
        rejected: tally.rejected,
        provider: source.provider(),
        model: tally.model,
        usage: UsageSummary {
            input_tokens: tally.usage.input_tokens,
            output_tokens: tally.usage.output_tokens,
        },
        elapsed_ms: started.elapsed().as_millis() as u64,
        shortfall,
        dry_run: request.dry_run,
        preview: tally.preview,
    })
}

/// Offline rows per batch: big enough to insert fast, small enough that
/// memory stays flat however many rows are asked for.
const OFFLINE_BATCH: u64 = 20_000;

/// The offline generator's run: generate and insert batch after batch on a
/// blocking thread, topping up rejected rows, until N are in.
async fn run_offline(
    request: &GenerateRequest,
    source: &Source,
    shared: &Arc<Shared>,
    events: &UnboundedSender<Event>,
    cancel: &CancellationToken,
    started: Instant,
) -> Outcome {
    let send = |e: Event| {
        let _ = events.send(e);
    };
    let wanted = request.rows;
    let mut tally = Tally::new(source);
    let mut fruitless = 0;
    // Enough rounds to top up what CHECKs and UNIQUE reject, bounded.
    let max_rounds = wanted.div_ceil(OFFLINE_BATCH) as u32 * 2 + 8;
    // The next batch is generated on a second thread while this one is
    // written: generating and inserting overlap, in a fixed order, so a
    // seed still gives the same rows.
    let generate = |want: usize| {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || offline_rows(&shared, want))
    };
    send(Event::Stage(Stage::Generating));
    let mut pending = Some(generate((wanted.min(OFFLINE_BATCH)) as usize));
    let mut in_hand: u64 = wanted.min(OFFLINE_BATCH);
    while tally.accepted < wanted && tally.requests < max_rounds && fruitless < FRUITLESS_LIMIT {
        if cancel.is_cancelled() {
            return Outcome::Cancelled {
                kept: tally.accepted,
            };
        }
        tally.requests += 1;
        let next = match pending.take() {
            Some(task) => task,
            None => {
                in_hand = (wanted - tally.accepted).min(OFFLINE_BATCH);
                generate(in_hand as usize)
            }
        };
        let candidates = match next.await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                return Outcome::Failed {
                    message: with_kept(&e.to_string(), tally.accepted),
                    kept: tally.accepted,
                };
            }
            Err(e) => {
                return Outcome::Failed {
                    message: with_kept(
                        &format!("The generator stopped unexpectedly ({e})."),
                        tally.accepted,
                    ),
                    kept: tally.accepted,
                };
            }
        };
        send(Event::RowsReceived {
            rows: candidates.len(),
        });
        // If every row of this batch goes in, this much is still wanted.
        let after = wanted.saturating_sub(tally.accepted + in_hand);
        if after > 0 {
            in_hand = after.min(OFFLINE_BATCH);
            pending = Some(generate(in_hand as usize));
        }
        let result = {
            let shared = shared.clone();
            let events = events.clone();
            let want = candidates.len();
            // Committed batches are checked by SQLite itself; a dry run
            // commits nothing, so the guard catches repeats across batches.
            blocking(move || {
                write_candidates(
                    &shared,
                    candidates,
                    Vec::new(),
                    &events,
                    shared.dry_run,
                    want,
                )
            })
            .await
        };
        let batch = match result {
            Ok(Ok(batch)) => batch,
            Ok(Err(DbError::Cancelled)) => {
                return Outcome::Cancelled {
                    kept: tally.accepted,
                };
            }
            Ok(Err(e)) => {
                return Outcome::Failed {
                    message: with_kept(&e.to_string(), tally.accepted),
                    kept: tally.accepted,
                };
            }
            Err(message) => {
                return Outcome::Failed {
                    message,
                    kept: tally.accepted,
                };
            }
        };
        fruitless = if tally.record(batch, events) == 0 {
            fruitless + 1
        } else {
            0
        };
    }
    finish(shared, request, source, tally, started).await
}

/// Generates `want` rows with the offline model.
fn offline_rows(shared: &Shared, want: usize) -> Result<Vec<Candidate>, DbError> {
    let poisoned =
        || DbError::Refused("An earlier failure left the generation unusable. Try again.".into());
    let mut model = shared.offline.lock().map_err(|_| poisoned())?;
    let mut rng = shared.rng.lock().map_err(|_| poisoned())?;
    let Some(model) = model.as_mut() else {
        return Err(DbError::Refused(
            "The offline generator was not prepared.".into(),
        ));
    };
    Ok((0..want).map(|_| model.generate(&mut *rng)).collect())
}

/// Answers that failed on their own (the model wrote something unusable),
/// as a short reason; `None` for failures asking again cannot fix.
fn unusable_answer(e: &LlmError) -> Option<&'static str> {
    match e {
        LlmError::NotJson { .. } => Some("the model's answer was not JSON"),
        LlmError::WrongShape { .. } => Some("the model's answer had the wrong shape"),
        LlmError::Truncated { .. } => Some("the model's answer was cut off at the output limit"),
        LlmError::TooLarge { .. } => Some("the model's answer was too large"),
        _ => None,
    }
}

fn with_kept(message: &str, kept: u64) -> String {
    if kept == 0 {
        format!("{message} Nothing was written.")
    } else {
        format!(
            "{message} Kept the {kept} {} already added.",
            rows_word(kept)
        )
    }
}

fn shortfall_sentence(
    accepted: u64,
    wanted: u64,
    requests: u32,
    rejected: &BTreeMap<String, u64>,
    source: &Source,
) -> String {
    let mut reasons: Vec<(&String, &u64)> = rejected.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    let top: Vec<String> = reasons
        .iter()
        .take(3)
        .map(|(r, n)| format!("{r} ({n})"))
        .collect();
    let why = if top.is_empty() {
        "the model returned too few rows".to_string()
    } else {
        top.join("; ")
    };
    let attempts = match source {
        Source::Llm(_) => format!(
            "{requests} model {}",
            if requests == 1 { "request" } else { "requests" }
        ),
        Source::Offline => format!(
            "{requests} {}",
            if requests == 1 { "round" } else { "rounds" }
        ),
    };
    format!("Only {accepted} of {wanted} rows could be added after {attempts}; rejected: {why}.")
}

/// Runs database work on a blocking thread; a panic there becomes a message.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        format!("The database task stopped unexpectedly ({e}). Nothing more was written.")
    })
}

/// Existing rows the offline generator learns from, at most.
const TRAINING_ROWS: usize = 5_000;

/// Learns the offline model from a random sample of the table and the true
/// maxima of its sequences (through their indexes).
fn learn_offline(
    db: &Database,
    plan: &Plan,
    profile: Option<&TableProfile>,
    parent_keys: &[Vec<Vec<Value>>],
    rng: &mut StdRng,
) -> Result<OfflineModel, String> {
    let sample = sample_rows(db, &plan.table, TRAINING_ROWS, rng).map_err(|e| e.to_string())?;
    let sequence_max: Vec<Option<i64>> = plan
        .columns
        .iter()
        .map(|c| {
            if !c.unique {
                return None;
            }
            let code = profile
                .and_then(|p| p.columns.iter().find(|pc| pc.name == c.name))
                .and_then(|pc| pc.code.as_ref());
            crate::db::lookup::sequence_max(
                db,
                &plan.table,
                &c.name,
                code.map(|k| k.prefix.as_str()),
            )
        })
        .collect();
    Ok(OfflineModel::learn(&Learning {
        plan,
        profile,
        columns: &sample.columns,
        rows: &sample.rows,
        parent_keys,
        sequence_max: &sequence_max,
    }))
}

/// Opens the database and learns the table: plan, row count, profile and
/// parent keys.
fn prepare(request: &GenerateRequest, source: &Source, stop: CancelFlag) -> Result<Shared, String> {
    let source_name = source.describe();
    let options = OpenOptions::read_write().busy_timeout(request.busy_timeout);
    let db = Database::open(&request.db_path, &options).map_err(|e| e.to_string())?;
    let table = table_info(&db, &request.table).map_err(|e| e.to_string())?;
    table.require_generatable().map_err(|e| e.to_string())?;
    let plan = Plan::new(&table);
    let table_rows = crate::db::lookup::count(&db, &table).map_err(|e| e.to_string())?;
    if table_rows == 0 && !request.from_schema {
        return Err(EMPTY_TABLE.into());
    }
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let profile = if table_rows > 0 {
        Some(
            profile_table(&db, &table, &ProfileOptions::default(), &mut rng)
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let mut parent_keys = Vec::with_capacity(plan.foreign_keys.len());
    for fk in &plan.foreign_keys {
        let parent = table_info(&db, &fk.parent).map_err(|e| e.to_string())?;
        let keys = sample_columns(&db, &parent, &fk.parent_columns, PARENT_KEYS, &mut rng)
            .map_err(|e| e.to_string())?;
        let nullable = fk.columns.iter().all(|&i| !plan.columns[i].not_null);
        if keys.rows.is_empty() && !nullable {
            return Err(format!(
                "Table '{}' points at '{}' through {}, but '{}' has no rows yet. Add rows to '{}' first.",
                table.name,
                parent.name,
                fk.columns
                    .iter()
                    .map(|&i| plan.columns[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                parent.name,
                parent.name
            ));
        }
        parent_keys.push(keys.rows);
    }
    let text_allowed = plan
        .columns
        .iter()
        .map(|c| {
            profile
                .as_ref()
                .and_then(|p| p.columns.iter().find(|pc| pc.name == c.name))
                .is_some_and(|pc| pc.storage.text > 0)
        })
        .collect();
    let offline = match source {
        Source::Offline => Some(learn_offline(
            &db,
            &plan,
            profile.as_ref(),
            &parent_keys,
            &mut rng,
        )?),
        Source::Llm(_) => None,
    };
    Ok(Shared {
        offline: Mutex::new(offline),
        guard: Mutex::new(Guard::new(&plan)),
        db: Mutex::new(db),
        plan,
        profile,
        parent_keys,
        text_allowed,
        rng: Mutex::new(rng),
        table_rows,
        journal: Mutex::new(None),
        journal_path: request.journal_path.clone(),
        source_name,
        dry_run: request.dry_run,
        stop,
    })
}

/// Why one model request produced no rows.
enum AskError {
    Llm(LlmError),
    /// Preparing the request failed on our side (one plain sentence).
    Local(String),
}

type Answer = (Vec<Json>, Usage, String);

/// One model request, with a fresh sample and the values taken so far.
async fn ask(
    shared: Arc<Shared>,
    source: Source,
    want: usize,
    cancel: CancellationToken,
) -> Result<Answer, AskError> {
    let Source::Llm(client) = source else {
        return Err(AskError::Local(
            "The offline generator does not take model requests.".into(),
        ));
    };
    let context = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || prompt_for(&shared, want)).await
    };
    let (user, schema) = match context {
        Ok(Ok(parts)) => parts,
        Ok(Err(message)) => return Err(AskError::Local(message)),
        Err(e) => {
            return Err(AskError::Local(format!(
                "Preparing the model request failed ({e})."
            )));
        }
    };
    let request = JsonRequest {
        name: "rows".into(),
        system: SYSTEM.into(),
        user,
        schema,
        max_output_tokens: None,
    };
    let answer = client
        .complete_json(request, &cancel)
        .await
        .map_err(AskError::Llm)?;
    let rows = row_list(&answer.value).unwrap_or_default();
    Ok((rows, answer.usage, answer.model))
}

/// Builds the user message and schema from a fresh sample.
fn prompt_for(shared: &Shared, want: usize) -> Result<(String, Json), String> {
    let db = shared
        .db
        .lock()
        .map_err(|_| "The database connection is unusable.".to_string())?;
    let sample = if shared.table_rows > 0 {
        let mut rng = shared
            .rng
            .lock()
            .map_err(|_| "The random source is unusable.".to_string())?;
        sample_rows(&db, &shared.plan.table, SAMPLE_ROWS, &mut *rng).map_err(|e| e.to_string())?
    } else {
        crate::db::sample::Sample {
            columns: Vec::new(),
            rows: Vec::new(),
            method: crate::db::sample::SampleMethod::AllRows,
        }
    };
    drop(db);
    let guard = shared
        .guard
        .lock()
        .map_err(|_| "The validation state is unusable.".to_string())?;
    let input = PromptInput {
        plan: &shared.plan,
        profile: shared.profile.as_ref(),
        sample_columns: &sample.columns,
        sample_rows: &sample.rows,
        table_rows: shared.table_rows,
        parent_keys: &shared.parent_keys,
        avoid: guard.avoid_lists(),
        rows_wanted: want,
    };
    Ok((
        user_message(&input),
        answer_schema(
            &shared.plan,
            shared.profile.as_ref(),
            &shared.parent_keys,
            want,
        ),
    ))
}

/// Parses, checks and inserts one answer's rows (at most `needed`).
fn judge_and_write(
    shared: &Shared,
    rows: Vec<Json>,
    needed: usize,
    events: &UnboundedSender<Event>,
) -> Result<BatchResult, DbError> {
    let mut rejected = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in &rows {
        match candidate(row, &shared.plan, &shared.text_allowed) {
            Ok(c) => candidates.push(c),
            Err(reason) => rejected.push(reason),
        }
    }
    write_candidates(shared, candidates, rejected, events, true, needed)
}

/// Checks candidates (UNIQUE and foreign keys, when `guarded`), keeps at
/// most `limit`, and writes them as one batch with the undo journal.
fn write_candidates(
    shared: &Shared,
    candidates: Vec<Candidate>,
    mut rejected: Vec<String>,
    events: &UnboundedSender<Event>,
    guarded: bool,
    limit: usize,
) -> Result<BatchResult, DbError> {
    let poisoned =
        || DbError::Refused("An earlier failure left the generation unusable. Try again.".into());
    let mut db = shared.db.lock().map_err(|_| poisoned())?;
    let candidates = if guarded {
        let mut guard = shared.guard.lock().map_err(|_| poisoned())?;
        let mut kept = Vec::with_capacity(candidates.len().min(limit));
        for parsed in candidates {
            if kept.len() == limit {
                break;
            }
            match guard.check(&db, &shared.plan, &parsed)? {
                Ok(()) => kept.push(parsed),
                Err(reason) => rejected.push(reason),
            }
        }
        kept
    } else {
        candidates.into_iter().take(limit).collect()
    };
    if candidates.is_empty() {
        return Ok(BatchResult {
            accepted: 0,
            rejected,
            preview: Vec::new(),
        });
    }
    let _ = events.send(Event::Stage(Stage::Inserting));
    let writer = BatchWriter::new(&shared.plan.table, &shared.plan.column_names())?;
    let mut journal_slot = shared.journal.lock().map_err(|_| poisoned())?;
    if journal_slot.is_none() && !shared.dry_run {
        let journal = match &shared.journal_path {
            Some(path) => Journal::open(path)?,
            None => Journal::open_default()?,
        };
        let op = journal.begin_operation(
            db.path(),
            &shared.plan.table.name,
            &shared.source_name,
            writer.fingerprint_columns(),
        )?;
        *journal_slot = Some((journal, op));
    }
    let target = journal_slot
        .as_ref()
        .map(|(journal, operation)| JournalTarget {
            journal,
            operation: *operation,
        });
    let outcome = writer.write_with(
        &mut db,
        &candidates,
        &WriteOptions {
            journal: target.as_ref(),
            cancel: &shared.stop,
            dry_run: shared.dry_run,
        },
    )?;
    rejected.extend(outcome.rejected.iter().map(|r| r.reason.clone()));
    if !shared.dry_run
        && let Ok(mut guard) = shared.guard.lock()
    {
        // Committed rows are in the table now, where the UNIQUE check finds
        // them: forgetting them keeps memory flat on large runs.
        guard.forget_generated();
    }
    let preview = if shared.dry_run {
        outcome
            .accepted
            .iter()
            .map(|a| preview_row(&shared.plan, &candidates[a.index]))
            .collect()
    } else {
        Vec::new()
    };
    Ok(BatchResult {
        accepted: outcome.accepted.len(),
        rejected,
        preview,
    })
}

fn preview_row(plan: &Plan, row: &Candidate) -> serde_json::Map<String, Json> {
    plan.columns
        .iter()
        .zip(row)
        .map(|(c, v)| {
            (
                c.name.clone(),
                v.as_ref().map(to_json).unwrap_or(Json::Null),
            )
        })
        .collect()
}

fn count_rows(shared: &Shared) -> Result<u64, DbError> {
    let db = shared
        .db
        .lock()
        .map_err(|_| DbError::Refused("The database connection is unusable.".into()))?;
    crate::db::lookup::count(&db, &shared.plan.table)
}

/// Inserts rows the user already saw (a preview they accepted), through the
/// same checks, writer and undo journal as a generation. Blocking: call it
/// from a worker thread.
pub fn insert_previewed(
    request: &GenerateRequest,
    source: &Source,
    rows: &[serde_json::Map<String, Json>],
) -> Result<Summary, String> {
    let started = Instant::now();
    let mut preview_request = request.clone();
    preview_request.dry_run = false;
    preview_request.from_schema = true;
    let shared = prepare(&preview_request, source, CancelFlag::new())?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let json_rows: Vec<Json> = rows.iter().cloned().map(Json::Object).collect();
    let batch = judge_and_write(&shared, json_rows, rows.len(), &tx).map_err(|e| e.to_string())?;
    let mut rejected = BTreeMap::new();
    for reason in &batch.rejected {
        *rejected.entry(reason.clone()).or_default() += 1;
    }
    let accepted = batch.accepted as u64;
    Ok(Summary {
        table: shared.plan.table.name.clone(),
        requested: rows.len() as u64,
        rows_added: accepted,
        new_row_count: count_rows(&shared).map_err(|e| e.to_string())?,
        shortfall: (accepted < rows.len() as u64)
            .then(|| shortfall_sentence(accepted, rows.len() as u64, 0, &rejected, source)),
        rejected,
        provider: source.provider(),
        model: source.model(),
        usage: UsageSummary::default(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        dry_run: false,
        preview: Vec::new(),
    })
}
