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
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::graph::KeyFill;
use super::outcome::{Rollback, TableResult, WholeError, WholeEvent, WholeOutcome, WholeSummary};
use super::plan::{Size, WholePlan, learn};
use super::second_pass::{NewRows, second_pass};
use super::slots::lineage_for;
use crate::db::journal::{Journal, RowKey, RunId};
use crate::db::lineage::Rows;
use crate::db::undo::{self, Target};
use crate::db::value::to_json;
use crate::db::{CancelFlag, Database, DbError, OpenOptions};
use crate::generate::job::{
    self, Event, GenerateError, GenerateRequest, Outcome, Source, UsageSummary,
};

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
    /// What every table's job starts from (batch size, requests in flight, lock wait,
    /// undo journal, gate, privacy); its database, table and rows are the run's.
    pub each: GenerateRequest,
    /// The plan already made and shown (`plan_whole`); `None`: made at the start.
    pub plan: Option<WholePlan>,
}

impl WholeRequest {
    pub fn new(db_path: impl Into<PathBuf>, size: Size) -> Self {
        let db_path = db_path.into();
        Self {
            each: GenerateRequest::new(db_path.clone(), "", 0),
            db_path,
            size,
            tables: None,
            seed: None,
            dry_run: false,
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
            &OpenOptions::read_only().busy_timeout(request.each.busy_timeout),
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
    let journal_path = target.journal.clone().or(request.each.journal_path.clone());
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
            request.each.busy_timeout,
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
            let (db, busy, table) = (target.db.clone(), request.each.busy_timeout, table.clone());
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
        let mut one = request.each.clone();
        one.db_path = target.db.clone();
        one.table = table.table.clone();
        one.rows = rows;
        one.dry_run = false;
        one.seed = request
            .seed
            .map(|s| s.wrapping_add((index as u64 + 1).wrapping_mul(0x9e37_79b9)));
        one.journal_path = journal_path.clone();
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
            let (db, busy, info) = (
                target.db.clone(),
                request.each.busy_timeout,
                table.info.clone(),
            );
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
                let rows = db.rows_by_key(&info, &keys[..wanted])?;
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
            request.each.busy_timeout,
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
    let (path, busy) = (request.db_path.clone(), request.each.busy_timeout);
    blocking(move || {
        let dir = tempfile::tempdir().map_err(|e| DbError::Io {
            path: std::env::temp_dir().display().to_string(),
            detail: e.to_string(),
        })?;
        let copy = dir.path().join("dry-run.sqlite");
        let db = Database::open(&path, &OpenOptions::read_only().busy_timeout(busy))?;
        db.copy_into(&copy)?;
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
        match undo::undo(&mut *db, &journal, Target::Run(run)) {
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
