//! Carrying out a whole-database run: each table of the plan through the same job a
//! single table uses (its rows attached to the parents chosen for them), then a second
//! pass for what needs every table's new rows (keys that close a cycle, parents' totals
//! of their new children). All of it is one operation in the undo journal; a run that is
//! cancelled or fails midway is taken back whole, since a partial run would leave parents
//! without their children.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::graph::KeyFill;
use super::plan::{Size, TablePlan, WholePlan, learn, unattached_rows};
use crate::config::Privacy;
use crate::db::journal::{Journal, RowKey, RunId};
use crate::db::lineage::{Link, Rows, parents_with_counts, rows_by_key};
use crate::db::revise::{self, ChildSum, Pass, SetValues};
use crate::db::undo::{self, Target};
use crate::db::value::to_json;
use crate::db::write::{BatchWriter, fingerprints_now};
use crate::db::{CancelFlag, Database, DbError, OpenOptions};
use crate::generate::gate::GateMode;
use crate::generate::job::{
    self, Event, GenerateError, GenerateRequest, Outcome, Source, UsageSummary, failure_sentence,
};
use crate::generate::lineage::{KeySource, Lineage, Pool, Slot};
use crate::output::{rows_word, thousands};

/// Existing parents a key draws from at most (a random sample of a bigger table).
const EXISTING_PARENTS: usize = 50_000;
/// New rows of each table a dry run shows.
const DRY_RUN_SHOWN: usize = 5;

/// What to fill.
#[derive(Debug, Clone)]
pub struct WholeRequest {
    pub db_path: PathBuf,
    pub size: Size,
    /// Only these tables (their parents lend existing rows); `None`: every table.
    pub tables: Option<Vec<String>>,
    pub seed: Option<u64>,
    /// Run on a copy of the database, report, and leave the database untouched.
    pub dry_run: bool,
    pub batch_size: usize,
    pub concurrency: usize,
    pub busy_timeout: Duration,
    /// Where undo records go; `None` uses rowsmith's data directory.
    pub journal_path: Option<PathBuf>,
    pub gate: GateMode,
    pub privacy: Option<Privacy>,
    /// The plan already made and shown (`plan_whole`); `None`: made at the start.
    pub plan: Option<WholePlan>,
}

impl WholeRequest {
    pub fn new(db_path: impl Into<PathBuf>, size: Size) -> Self {
        let one = GenerateRequest::new("", "", 0);
        Self {
            db_path: db_path.into(),
            size,
            tables: None,
            seed: None,
            dry_run: false,
            batch_size: one.batch_size,
            concurrency: one.concurrency,
            busy_timeout: one.busy_timeout,
            journal_path: None,
            gate: one.gate,
            privacy: None,
            plan: None,
        }
    }
}

/// Makes the plan of a run without writing anything (to show it, or to ask first).
pub async fn plan_whole(request: &WholeRequest) -> Result<WholePlan, WholeError> {
    let request = request.clone();
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed ^ 0x706c_616e),
        None => StdRng::from_os_rng(),
    };
    blocking(move || {
        let db = Database::open(
            &request.db_path,
            &OpenOptions::read_only().busy_timeout(request.busy_timeout),
        )?;
        Ok(learn(
            &db,
            request.size,
            request.tables.as_deref(),
            &mut rng,
        )?)
    })
    .await
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
// One Finished ends a run: its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum WholeEvent {
    /// The plan, before anything is written.
    Planned {
        plan: WholePlan,
    },
    /// Table `index` of the plan starts: `rows` rows to add.
    TableStarted {
        index: usize,
        table: String,
        rows: u64,
    },
    /// An event of the table's job.
    Table {
        index: usize,
        event: Event,
    },
    /// The second pass: keys that close cycles, parents' totals.
    Completing,
    Finished(WholeOutcome),
}

/// What one table got.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableResult {
    pub table: String,
    pub before: u64,
    pub requested: u64,
    pub added: u64,
    pub after: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
    /// A dry run's first new rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<serde_json::Map<String, Json>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WholeSummary {
    pub tables: Vec<TableResult>,
    pub rows_added: u64,
    /// Keys set in the second pass, and parents whose totals were set from their children.
    pub keys_linked: u64,
    pub totals_set: u64,
    pub provider: String,
    pub model: String,
    pub usage: UsageSummary,
    pub elapsed_ms: u64,
    pub dry_run: bool,
    /// Tables the run left out, with why.
    pub skipped: Vec<super::plan::Skipped>,
}

impl WholeSummary {
    /// "Generated 2,450 rows in 4 tables: customers +240, …; `rowsmith undo` removes them all."
    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .tables
            .iter()
            .map(|t| format!("{} +{}", t.table, thousands(t.added)))
            .collect();
        let tables = self.tables.len();
        if self.dry_run {
            return format!(
                "Dry run: {} {} in {tables} {} passed every check ({}); nothing was written.",
                thousands(self.rows_added),
                rows_word(self.rows_added),
                if tables == 1 { "table" } else { "tables" },
                parts.join(", ")
            );
        }
        if self.rows_added == 0 {
            return format!(
                "No rows were added to the {tables} {} of the run ({}).",
                if tables == 1 { "table" } else { "tables" },
                parts.join(", ")
            );
        }
        format!(
            "Generated {} {} in {tables} {} ({}). One undo removes them all.",
            thousands(self.rows_added),
            rows_word(self.rows_added),
            if tables == 1 { "table" } else { "tables" },
            parts.join(", ")
        )
    }

    /// "Then 12 keys that close a cycle were linked and 800 parents' totals set from
    /// their new children." — `None` when the second pass had nothing to do.
    pub fn second_pass_sentence(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.keys_linked > 0 {
            parts.push(format!(
                "{} {} that close a cycle or point into their own table were linked",
                thousands(self.keys_linked),
                if self.keys_linked == 1 { "key" } else { "keys" }
            ));
        }
        if self.totals_set > 0 {
            parts.push(format!(
                "{} parents' totals were set from their new children",
                thousands(self.totals_set)
            ));
        }
        (!parts.is_empty()).then(|| format!("Then {}.", parts.join(", and ")))
    }

    /// Tables that got fewer rows than planned, with why.
    pub fn shortfalls(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter_map(|t| t.shortfall.as_ref().map(|s| format!("{}: {s}", t.table)))
            .collect()
    }
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WholeError {
    #[error("{0}")]
    Plan(#[from] super::PlanError),
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("Filling table '{table}' failed: {}", failure_sentence(.error, 0).trim_end_matches(" Nothing was written."))]
    Table {
        table: String,
        error: Box<GenerateError>,
    },
    #[error("{0}")]
    Internal(String),
}

impl Serialize for WholeError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// What became of the rows of a run that did not finish.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum Rollback {
    /// Nothing had been written.
    NothingWritten,
    /// Everything the run had written was removed.
    Removed { rows: u64 },
    /// The rows could not be removed; undo can try again.
    Kept { why: String },
}

impl Rollback {
    pub fn sentence(&self) -> String {
        match self {
            Rollback::NothingWritten => "Nothing was written.".into(),
            Rollback::Removed { rows } => format!(
                "The {} {} it had added were removed, so that no parent is left without its children; the database is as it was.",
                thousands(*rows),
                rows_word(*rows)
            ),
            Rollback::Kept { why } => {
                format!("Its rows could not be removed ({why}); `rowsmith undo` removes them.")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[allow(clippy::large_enum_variant)]
pub enum WholeOutcome {
    Done(WholeSummary),
    Failed {
        error: WholeError,
        rollback: Rollback,
    },
    Cancelled {
        rollback: Rollback,
    },
}

impl WholeOutcome {
    /// The one sentence for a run that did not finish.
    pub fn failure_sentence(&self) -> Option<String> {
        match self {
            WholeOutcome::Done(_) => None,
            WholeOutcome::Failed { error, rollback } => {
                Some(format!("{error} {}", rollback.sentence()))
            }
            WholeOutcome::Cancelled { rollback } => {
                Some(format!("Cancelled. {}", rollback.sentence()))
            }
        }
    }
}

/// The new rows of one table, read back after it was filled.
struct NewRows {
    rows: Arc<Rows>,
    keys: Vec<RowKey>,
    lineage: Arc<Lineage>,
}

/// Where the run writes: the database, or (dry run) a copy in a temporary folder with a
/// journal of its own.
struct Destination {
    db: PathBuf,
    journal: Option<PathBuf>,
    _copy: Option<tempfile::TempDir>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WholeError> + Send + 'static,
) -> Result<T, WholeError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WholeError::Internal(format!("A database task stopped unexpectedly ({e}).")))?
}

/// Runs a whole-database generation to its end; the outcome is also the last event.
pub async fn run_whole(
    request: WholeRequest,
    source: Source,
    events: UnboundedSender<WholeEvent>,
    cancel: CancellationToken,
) -> WholeOutcome {
    let outcome = run(&request, &source, &events, &cancel).await;
    match &outcome {
        WholeOutcome::Done(s) => tracing::info!(
            tables = s.tables.len(),
            added = s.rows_added,
            elapsed_ms = s.elapsed_ms,
            dry_run = s.dry_run,
            "whole-database generation finished"
        ),
        other => tracing::warn!(
            "whole-database generation ended: {}",
            other.failure_sentence().unwrap_or_default()
        ),
    }
    let _ = events.send(WholeEvent::Finished(outcome.clone()));
    outcome
}

fn open(path: &Path, busy: Duration) -> Result<Database, DbError> {
    Database::open(path, &OpenOptions::read_write().busy_timeout(busy))
}

async fn run(
    request: &WholeRequest,
    source: &Source,
    events: &UnboundedSender<WholeEvent>,
    cancel: &CancellationToken,
) -> WholeOutcome {
    let started = Instant::now();
    let send = |e: WholeEvent| {
        let _ = events.send(e);
    };
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed ^ 0x7768_6f6c),
        None => StdRng::from_os_rng(),
    };
    let planned = match &request.plan {
        Some(plan) => Ok(plan.clone()),
        None => plan_whole(request).await,
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(error) => {
            return WholeOutcome::Failed {
                error,
                rollback: Rollback::NothingWritten,
            };
        }
    };
    send(WholeEvent::Planned { plan: plan.clone() });
    if cancel.is_cancelled() {
        return WholeOutcome::Cancelled {
            rollback: Rollback::NothingWritten,
        };
    }
    let target = match prepare_target(request).await {
        Ok(t) => t,
        Err(error) => {
            return WholeOutcome::Failed {
                error,
                rollback: Rollback::NothingWritten,
            };
        }
    };
    let journal_path = target.journal.clone().or(request.journal_path.clone());
    let begun = {
        let (db, journal_path, describe) =
            (target.db.clone(), journal_path.clone(), source.describe());
        blocking(move || {
            let journal = open_journal(journal_path.as_deref())?;
            Ok(journal.begin_run(&db, &describe)?)
        })
        .await
    };
    let run_id = match begun {
        Ok(id) => id,
        Err(error) => {
            return WholeOutcome::Failed {
                error,
                rollback: Rollback::NothingWritten,
            };
        }
    };
    let stop = |error: Option<WholeError>| {
        let (db, journal_path, busy) = (
            target.db.clone(),
            journal_path.clone(),
            request.busy_timeout,
        );
        async move {
            let rollback = roll_back(db, journal_path, busy, run_id).await;
            match error {
                Some(error) => WholeOutcome::Failed { error, rollback },
                None => WholeOutcome::Cancelled { rollback },
            }
        }
    };

    let mut written: HashMap<String, NewRows> = HashMap::new();
    let mut results = Vec::with_capacity(plan.tables.len());
    let mut usage = UsageSummary::default();
    let mut model = source.model();
    for (index, table) in plan.tables.iter().enumerate() {
        if cancel.is_cancelled() {
            return stop(None).await;
        }
        let lineage = {
            let (db, busy, table) = (target.db.clone(), request.busy_timeout, table.clone());
            // Shared, not copied: a parent table's new rows may be many.
            let parents: HashMap<String, Arc<Rows>> = table
                .keys
                .iter()
                .filter(|k| k.fill == KeyFill::New)
                .filter_map(|k| {
                    let w = written.get(&k.parent.to_ascii_lowercase())?;
                    Some((k.parent.to_ascii_lowercase(), w.rows.clone()))
                })
                .collect();
            let mut rng = StdRng::seed_from_u64(rng.random());
            blocking(move || {
                let db = open(&db, busy)?;
                Ok(lineage_for(&db, &table, &parents, run_id, &mut rng)?)
            })
            .await
        };
        let lineage = match lineage {
            Ok(l) => Arc::new(l),
            Err(error) => return stop(Some(error)).await,
        };
        let rows = lineage.len() as u64;
        send(WholeEvent::TableStarted {
            index,
            table: table.table.clone(),
            rows,
        });
        let mut one = GenerateRequest::new(target.db.clone(), table.table.clone(), rows);
        one.seed = request
            .seed
            .map(|s| s.wrapping_add((index as u64 + 1).wrapping_mul(0x9e37_79b9)));
        one.batch_size = request.batch_size;
        one.concurrency = request.concurrency;
        one.busy_timeout = request.busy_timeout;
        one.journal_path = journal_path.clone();
        one.gate = request.gate;
        one.privacy = request.privacy;
        one.lineage = Some(lineage.clone());
        let outcome = if rows == 0 {
            None
        } else {
            Some(run_table(one, source, index, events, cancel).await)
        };
        let (added, shortfall) = match outcome {
            None => (0, None),
            Some(Outcome::Done(summary)) => {
                usage = add_usage(usage, &summary.usage);
                model = summary.model.clone();
                (summary.rows_added, summary.shortfall)
            }
            Some(Outcome::Failed { error, .. }) => {
                return stop(Some(WholeError::Table {
                    table: table.table.clone(),
                    error: Box::new(error),
                }))
                .await;
            }
            Some(Outcome::Cancelled { .. }) => return stop(None).await,
        };
        let read = {
            let (db, busy, info) = (target.db.clone(), request.busy_timeout, table.info.clone());
            let keys: Vec<RowKey> = lineage.written().into_iter().map(|(_, k)| k).collect();
            // The rows themselves are read back only where children (or the second pass)
            // point at them; a dry run shows the first few of every table.
            let wanted = if is_parent(&plan, &table.table) {
                keys.len()
            } else if request.dry_run {
                DRY_RUN_SHOWN.min(keys.len())
            } else {
                0
            };
            blocking(move || {
                let db = open(&db, busy)?;
                let rows = rows_by_key(&db, &info, &keys[..wanted])?;
                Ok((rows, keys))
            })
            .await
        };
        let (rows, keys) = match read {
            Ok(r) => r,
            Err(error) => return stop(Some(error)).await,
        };
        results.push(TableResult {
            table: table.table.clone(),
            before: table.before,
            requested: lineage.len() as u64,
            added,
            after: table.before + added,
            shortfall,
            preview: if request.dry_run {
                preview(&rows)
            } else {
                Vec::new()
            },
        });
        written.insert(
            table.table.to_ascii_lowercase(),
            NewRows {
                rows: Arc::new(rows),
                keys,
                lineage,
            },
        );
    }

    if cancel.is_cancelled() {
        return stop(None).await;
    }
    send(WholeEvent::Completing);
    let second = {
        let (db, busy, journal_path) = (
            target.db.clone(),
            request.busy_timeout,
            journal_path.clone(),
        );
        let plan = plan.clone();
        let mut rng = StdRng::seed_from_u64(rng.random());
        let stop_flag = CancelFlag::new();
        {
            let (flag, cancel) = (stop_flag.clone(), cancel.clone());
            tokio::spawn(async move {
                cancel.cancelled().await;
                flag.cancel();
            });
        }
        blocking(move || {
            let mut db = open(&db, busy)?;
            let journal = open_journal(journal_path.as_deref())?;
            let done = second_pass(&mut db, &journal, &plan, &written, &stop_flag, &mut rng)?;
            journal.finish_run(run_id)?;
            Ok(done)
        })
        .await
    };
    let (keys_linked, totals_set) = match second {
        Ok(done) => done,
        Err(WholeError::Database(DbError::Cancelled)) => return stop(None).await,
        Err(error) => return stop(Some(error)).await,
    };
    let rows_added = results.iter().map(|t| t.added).sum();
    WholeOutcome::Done(WholeSummary {
        tables: results,
        rows_added,
        keys_linked,
        totals_set,
        provider: source.provider(),
        model,
        usage,
        elapsed_ms: started.elapsed().as_millis() as u64,
        dry_run: request.dry_run,
        skipped: plan.skipped.clone(),
    })
}

/// Whether a table's new rows are parents in the run: a later table points at them, or
/// the second pass links to them.
fn is_parent(plan: &WholePlan, table: &str) -> bool {
    plan.tables.iter().any(|t| {
        t.keys.iter().any(|k| {
            matches!(k.fill, KeyFill::New | KeyFill::Later) && k.parent.eq_ignore_ascii_case(table)
        })
    })
}

fn add_usage(a: UsageSummary, b: &UsageSummary) -> UsageSummary {
    UsageSummary {
        input_tokens: a.input_tokens + b.input_tokens,
        cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
        cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
        output_tokens: a.output_tokens + b.output_tokens,
        estimated_cost_usd: match (a.estimated_cost_usd, b.estimated_cost_usd) {
            (Some(x), Some(y)) => Some(x + y),
            (x, y) => x.or(y),
        },
    }
}

fn open_journal(path: Option<&Path>) -> Result<Journal, DbError> {
    match path {
        Some(p) => Journal::open(p),
        None => Journal::open_default(),
    }
}

/// The database to write: the user's, or for a dry run a copy (`VACUUM INTO`, which
/// copies a consistent snapshot even while others write) with a journal of its own.
async fn prepare_target(request: &WholeRequest) -> Result<Destination, WholeError> {
    if !request.dry_run {
        return Ok(Destination {
            db: request.db_path.clone(),
            journal: None,
            _copy: None,
        });
    }
    let (path, busy) = (request.db_path.clone(), request.busy_timeout);
    blocking(move || {
        let dir = tempfile::tempdir().map_err(|e| DbError::Io {
            path: std::env::temp_dir().display().to_string(),
            detail: e.to_string(),
        })?;
        let copy = dir.path().join("dry-run.sqlite");
        let db = Database::open(&path, &OpenOptions::read_only().busy_timeout(busy))?;
        db.conn()
            .execute("VACUUM INTO ?1", [copy.display().to_string()])
            .map_err(|e| db.err(e))?;
        Ok(Destination {
            journal: Some(dir.path().join("journal.sqlite")),
            db: copy,
            _copy: Some(dir),
        })
    })
    .await
}

/// Runs one table's job, passing its events on.
async fn run_table(
    request: GenerateRequest,
    source: &Source,
    index: usize,
    events: &UnboundedSender<WholeEvent>,
    cancel: &CancellationToken,
) -> Outcome {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = job::spawn(request, source.clone(), tx, cancel.clone());
    let mut outcome = None;
    while let Some(event) = rx.recv().await {
        match event {
            Event::Finished(o) => outcome = Some(o),
            event => {
                let _ = events.send(WholeEvent::Table { index, event });
            }
        }
    }
    let _ = handle.await;
    outcome.unwrap_or(Outcome::Failed {
        error: GenerateError::Vanished,
        kept: 0,
    })
}

/// Takes back everything the run wrote, in one transaction.
async fn roll_back(db: PathBuf, journal: Option<PathBuf>, busy: Duration, run: RunId) -> Rollback {
    let result = tokio::task::spawn_blocking(move || -> Result<Rollback, DbError> {
        let journal = open_journal(journal.as_deref())?;
        journal.finish_run(run)?;
        let mut db = open(&db, busy)?;
        match undo::undo(&mut db, &journal, Target::Run(run)) {
            Ok(done) => Ok(Rollback::Removed { rows: done.removed }),
            // A run that failed before its first row: nothing to take back.
            Err(DbError::UndoBlocked {
                why: undo::UndoBlock::RunNoneLeft { .. },
                ..
            })
            | Err(DbError::Undo(undo::UndoRefusal::RunAddedNothing { .. })) => {
                Ok(Rollback::NothingWritten)
            }
            Err(e) => Err(e),
        }
    })
    .await;
    match result {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Rollback::Kept { why: e.to_string() },
        Err(e) => Rollback::Kept { why: e.to_string() },
    }
}

/// A dry run's first new rows of a table, as JSON objects.
fn preview(rows: &Rows) -> Vec<serde_json::Map<String, Json>> {
    rows.rows
        .iter()
        .take(DRY_RUN_SHOWN)
        .map(|r| {
            rows.columns
                .iter()
                .cloned()
                .zip(r.iter().map(to_json))
                .collect()
        })
        .collect()
}

/// The parents and the slots of one table: which parent row each new row points at.
fn lineage_for<R: Rng + ?Sized>(
    db: &Database,
    table: &TablePlan,
    written: &HashMap<String, Arc<Rows>>,
    run: RunId,
    rng: &mut R,
) -> Result<Lineage, DbError> {
    let plan = table.plan();
    let mut keys = Vec::with_capacity(table.keys.len());
    for key in &table.keys {
        let pool = match key.fill {
            KeyFill::New => written.get(&key.parent.to_ascii_lowercase()).map(|rows| {
                let key_positions = positions(rows, &key.parent_columns);
                let mut dealer = key.fan_out.dealer();
                Pool {
                    weights: (0..rows.rows.len())
                        .map(|_| dealer.deal(rng) as f64)
                        .collect(),
                    rows: Arc::clone(rows),
                    key_positions,
                }
            }),
            KeyFill::Existing => {
                let parent = crate::db::catalog::table_info(db, &key.parent)?;
                let link = Link {
                    child: &table.info,
                    from: &key.columns,
                    parent: &parent,
                    to: &key.parent_columns,
                };
                let (rows, counts) = parents_with_counts(db, link, EXISTING_PARENTS, rng)?;
                Some(Pool {
                    key_positions: positions(&rows, &key.parent_columns),
                    weights: counts.iter().map(|c| *c as f64).collect(),
                    rows: Arc::new(rows),
                })
            }
            KeyFill::Later | KeyFill::Null => None,
        };
        let rules = if pool.is_some() {
            key.rules.clone()
        } else {
            Vec::new()
        };
        keys.push(KeySource { pool, rules });
    }
    let slots = slots_for(&plan, table, &keys, rng);
    Ok(Lineage::new(keys, slots, table.driving, rng.random()).in_run(run))
}

fn positions(rows: &Rows, columns: &[String]) -> Vec<usize> {
    columns
        .iter()
        .map(|c| rows.position(c).unwrap_or(0))
        .collect()
}

/// One slot per row to make. With a driving key, each new parent gets as many children
/// as a parent today may have (drawn from the observed counts, none included), plus
/// parentless rows in their share; other keys draw parents by popularity, and a link
/// table's other side is drawn without repeats within one parent.
fn slots_for<R: Rng + ?Sized>(
    plan: &crate::generate::plan::Plan,
    table: &TablePlan,
    keys: &[KeySource],
    rng: &mut R,
) -> Vec<Slot> {
    let width = keys.len();
    let mut choosers: Vec<Chooser<'_>> = keys
        .iter()
        .zip(&table.keys)
        .map(|(source, key)| match (&source.pool, key.fill) {
            (Some(pool), KeyFill::New) => Tickets::new(&pool.weights)
                .map(Chooser::Tickets)
                .unwrap_or(Chooser::Weighted(pool)),
            (Some(pool), _) => Chooser::Weighted(pool),
            (None, _) => Chooser::Nothing,
        })
        .collect();
    let draw_others =
        |choosers: &mut [Chooser<'_>], slot: &mut Slot, skip: Option<usize>, rng: &mut R| {
            for (k, chooser) in choosers.iter_mut().enumerate() {
                if Some(k) != skip {
                    slot.parents[k] = chooser.one(rng).map(|i| i as u32);
                }
            }
        };
    let mut slots = Vec::new();
    let Some(d) = table.driving else {
        for _ in 0..table.rows {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            draw_others(&mut choosers, &mut slot, None, rng);
            slots.push(slot);
        }
        return slots;
    };
    let Some(driving) = keys[d].pool.as_ref() else {
        return slots;
    };
    // Keys that form a UNIQUE set together with the driving key: no repeats per parent.
    let distinct: Vec<bool> = (0..width)
        .map(|k| {
            k != d && keys[k].pool.is_some() && {
                let mut union: Vec<usize> = plan.foreign_keys[d].columns.clone();
                union.extend(&plan.foreign_keys[k].columns);
                union.sort_unstable();
                plan.unique_sets.iter().any(|set| {
                    let mut s = set.clone();
                    s.sort_unstable();
                    s == union
                })
            }
        })
        .collect();
    let fan = &table.keys[d].fan_out;
    let mut dealer = fan.dealer();
    for r in 0..driving.len() {
        let mut n = dealer.deal(rng) as usize;
        let mut picks: Vec<Vec<usize>> = vec![Vec::new(); width];
        for k in (0..width).filter(|&k| distinct[k]) {
            picks[k] = choosers[k].distinct(n, rng);
            n = n.min(picks[k].len());
        }
        for t in 0..n {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            slot.parents[d] = Some(r as u32);
            for (k, chooser) in choosers.iter_mut().enumerate() {
                if k == d {
                    continue;
                }
                slot.parents[k] = if distinct[k] {
                    picks[k].get(t).map(|&i| i as u32)
                } else {
                    chooser.one(rng).map(|i| i as u32)
                };
            }
            slots.push(slot);
        }
    }
    let nullable = plan.foreign_keys[d]
        .columns
        .iter()
        .all(|&c| !plan.columns[c].not_null);
    if nullable {
        let extra = unattached_rows(slots.len() as f64, fan.null_share).round() as usize;
        for _ in 0..extra {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            draw_others(&mut choosers, &mut slot, Some(d), rng);
            slots.push(slot);
        }
    }
    slots
}

/// How a key's parent is chosen for each new row.
enum Chooser<'a> {
    /// New parents, each as often as its dealt count of children says.
    Tickets(Tickets),
    /// Existing parents, by how often they are referenced today.
    Weighted(&'a Pool),
    /// NULL.
    Nothing,
}

impl Chooser<'_> {
    fn one<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<usize> {
        match self {
            Chooser::Tickets(t) => Some(t.one(rng)),
            Chooser::Weighted(pool) => pool.draw(rng),
            Chooser::Nothing => None,
        }
    }

    fn distinct<R: Rng + ?Sized>(&mut self, k: usize, rng: &mut R) -> Vec<usize> {
        match self {
            Chooser::Tickets(t) => t.distinct(k, rng),
            Chooser::Weighted(pool) => pool.draw_distinct(k, rng),
            Chooser::Nothing => Vec::new(),
        }
    }
}

/// A shuffled deck holding each new parent as many times as children it was dealt: the
/// rows that point at those parents take one ticket each, so every new parent ends with
/// its dealt number of children (drawing by weight instead would pile children on some
/// and leave others without any). Reshuffled when it runs out.
struct Tickets {
    template: Vec<u32>,
    deck: Vec<u32>,
    next: usize,
}

impl Tickets {
    fn new(weights: &[f64]) -> Option<Self> {
        let template: Vec<u32> = weights
            .iter()
            .enumerate()
            .flat_map(|(i, w)| std::iter::repeat_n(i as u32, w.max(0.0) as usize))
            .collect();
        (!template.is_empty()).then(|| Self {
            template,
            deck: Vec::new(),
            next: 0,
        })
    }

    fn one<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        use rand::seq::SliceRandom;
        if self.next >= self.deck.len() {
            self.deck.clone_from(&self.template);
            self.deck.shuffle(rng);
            self.next = 0;
        }
        self.next += 1;
        self.deck[self.next - 1] as usize
    }

    /// `k` tickets of different parents (fewer when the deck cannot give them).
    fn distinct<R: Rng + ?Sized>(&mut self, k: usize, rng: &mut R) -> Vec<usize> {
        let mut seen = std::collections::HashSet::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        let mut tries = 0;
        while out.len() < k && tries < k * 4 + 16 {
            let t = self.one(rng);
            if seen.insert(t) {
                out.push(t);
            }
            tries += 1;
        }
        out
    }
}

/// Sets what needed every table's new rows: keys left NULL that close a cycle or point at
/// their own table (drawn by popularity; a row points only at rows made before it, so a
/// hierarchy has no loops), and parents' totals of their new children. One transaction;
/// then the undo journal learns the rows' new values. Returns (keys set, totals set).
fn second_pass<R: Rng + ?Sized>(
    db: &mut Database,
    journal: &Journal,
    plan: &WholePlan,
    written: &HashMap<String, NewRows>,
    cancel: &CancelFlag,
    rng: &mut R,
) -> Result<(u64, u64), WholeError> {
    let mut changed: HashMap<String, Vec<RowKey>> = HashMap::new();
    let mut linked = 0u64;
    let mut totals = 0u64;
    let infos: HashMap<String, crate::db::catalog::TableInfo> = plan
        .tables
        .iter()
        .map(|t| (t.table.to_ascii_lowercase(), t.info.clone()))
        .collect();
    Pass { db, cancel }.run(|conn, cancel| {
        for table in &plan.tables {
            let name = table.table.to_ascii_lowercase();
            let Some(mine) = written.get(&name) else {
                continue;
            };
            for key in table.keys.iter().filter(|k| k.fill == KeyFill::Later) {
                let parent_name = key.parent.to_ascii_lowercase();
                let Some(parents) = written.get(&parent_name) else {
                    continue;
                };
                let own = parent_name == name;
                let key_positions = positions(&parents.rows, &key.parent_columns);
                let mut cumulative = Vec::with_capacity(parents.rows.rows.len() + 1);
                cumulative.push(0.0);
                let mut dealer = key.fan_out.dealer();
                for _ in &parents.rows.rows {
                    let w = dealer.deal(rng) as f64;
                    cumulative.push(cumulative.last().copied().unwrap_or(0.0) + w);
                }
                let mut changes = Vec::new();
                for (i, row_key) in mine.keys.iter().enumerate() {
                    if rng.random::<f64>() < key.fan_out.null_share {
                        continue;
                    }
                    let limit = if own { i } else { parents.rows.rows.len() };
                    if limit == 0 {
                        continue;
                    }
                    let total = cumulative[limit];
                    let r = if total > 0.0 {
                        let at = rng.random::<f64>() * total;
                        cumulative[1..=limit]
                            .partition_point(|c| *c <= at)
                            .min(limit - 1)
                    } else {
                        rng.random_range(0..limit)
                    };
                    let values: Vec<Value> = key_positions
                        .iter()
                        .map(|&p| parents.rows.rows[r].get(p).cloned().unwrap_or(Value::Null))
                        .collect();
                    changes.push(SetValues {
                        key: row_key.clone(),
                        values,
                    });
                }
                revise::set_values(conn, &table.info, &key.columns, &changes, cancel)?;
                linked += changes.len() as u64;
                changed
                    .entry(name.clone())
                    .or_default()
                    .extend(changes.into_iter().map(|c| c.key));
            }
        }
        for (child, k, sum) in plan.sums() {
            let key = &child.keys[k];
            let parent_name = key.parent.to_ascii_lowercase();
            let (Some(parents), Some(parent_info)) =
                (written.get(&parent_name), infos.get(&parent_name))
            else {
                continue;
            };
            let link = Link {
                child: &child.info,
                from: &key.columns,
                parent: parent_info,
                to: &key.parent_columns,
            };
            revise::sum_children(
                conn,
                link,
                &ChildSum {
                    parent_column: sum.parent_column.clone(),
                    terms: sum.terms.clone(),
                    decimals: sum.decimals,
                },
                &parents.keys,
                cancel,
            )?;
            totals += parents.keys.len() as u64;
            changed
                .entry(parent_name)
                .or_default()
                .extend(parents.keys.iter().cloned());
        }
        Ok(())
    })?;
    for (name, mut keys) in changed {
        let (Some(info), Some(mine)) = (infos.get(&name), written.get(&name)) else {
            continue;
        };
        let Some(op) = mine.lineage.operation.lock().ok().and_then(|o| *o) else {
            continue;
        };
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        let plan = crate::generate::plan::Plan::new(info);
        let writer = BatchWriter::new(info, &plan.column_names())?;
        let rows = fingerprints_now(db, info, writer.fingerprint_columns(), &keys)?;
        journal.update_fingerprints(op, &rows)?;
    }
    Ok((linked, totals))
}
