//! Judging candidate rows and writing them as one batch.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;

use super::prepare::{Shared, prepare};
use super::{
    Event, GATED_SHOWN, GenerateError, GenerateRequest, RejectedRow, Source, Stage, Summary,
    UsageSummary, shortfall_sentence,
};
use crate::db::journal::Journal;
use crate::db::value::to_json;
use crate::db::write::{JournalTarget, WriteOptions, fingerprint_columns};
use crate::db::{CancelFlag, DbError};
use crate::generate::parse::{Candidate, candidate};
use crate::generate::plan::Plan;

/// What one batch did.
pub(super) struct BatchResult {
    pub(super) accepted: usize,
    pub(super) rejected: Vec<String>,
    pub(super) preview: Vec<serde_json::Map<String, Json>>,
    /// In a dry run: the rows the realism gate turned away, each with its reason.
    pub(super) gated: Vec<RejectedRow>,
}

/// Reasons the model is told in its next request, at most.
const FEEDBACK_REASONS: usize = 6;

/// Parses, checks and inserts one answer's rows (at most `needed`).
/// In a whole-database run `slots[i]` is the slot answer row `i` fills: its keys and the
/// values it copies from its parents are filled in from the slot (the model's content is
/// what it writes).
pub(super) fn judge_and_write(
    shared: &Shared,
    rows: Vec<Json>,
    slots: &[usize],
    needed: usize,
    events: &UnboundedSender<Event>,
) -> Result<BatchResult, DbError> {
    let mut rejected = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut kept_slots = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let slot = slots.get(i).copied();
        match candidate(row, &shared.plan, &shared.text_allowed) {
            Ok(mut c) => {
                if let (Some(lineage), Some(slot)) = (&shared.lineage, slot) {
                    lineage.fill_from_parents(&shared.plan, slot, &mut c);
                }
                candidates.push(c);
                kept_slots.extend(slot);
            }
            Err(reason) => rejected.push(reason),
        }
    }
    if let Some(lineage) = &shared.lineage {
        // Slots of rows that did not parse, or that the answer left out, come back.
        let used: std::collections::HashSet<usize> = kept_slots.iter().copied().collect();
        lineage.give_back(slots.iter().copied().filter(|s| !used.contains(s)));
    }
    write_candidates(
        shared,
        candidates,
        &kept_slots,
        rejected,
        events,
        true,
        needed,
    )
}

/// Checks candidates (UNIQUE and foreign keys, when `guarded`), keeps at
/// most `limit`, and writes them as one batch with the undo journal. In a whole-database
/// run, `slots[i]` is the slot candidate `i` fills: written slots are recorded, the
/// others given back to be filled again.
pub(super) fn write_candidates(
    shared: &Shared,
    candidates: Vec<Candidate>,
    slots: &[usize],
    mut rejected: Vec<String>,
    events: &UnboundedSender<Event>,
    guarded: bool,
    limit: usize,
) -> Result<BatchResult, DbError> {
    let poisoned = || DbError::GenerationUnusable;
    let mut db = shared.db.lock().map_err(|_| poisoned())?;
    // On a server a refused row costs the batch's multi-row insert: UNIQUE values and
    // parent keys are asked about first, once per batch.
    let guarded = guarded || db.remote();
    let mut gated = Vec::new();
    let candidates = {
        let mut gate = shared.gate.lock().map_err(|_| poisoned())?;
        let mut guard = shared.guard.lock().map_err(|_| poisoned())?;
        // A server is asked once per batch, not once per row; SQLite's lookups are calls
        // in this process, asked only for the rows that get that far.
        if guarded && db.remote() {
            guard.prefetch(&db, &shared.plan, &candidates)?;
        }
        let mut kept = Vec::with_capacity(candidates.len().min(limit));
        let mut kept_slots: Vec<usize> = Vec::new();
        let mut reasons = Vec::new();
        let offered = slots.to_vec();
        for (i, parsed) in candidates.into_iter().enumerate() {
            if kept.len() == limit {
                break;
            }
            let slot = slots.get(i).copied();
            // What the row must keep from its parents (a model may not have).
            if let (Some(lineage), Some(slot)) = (&shared.lineage, slot)
                && let Err(reason) = lineage.check(&shared.plan, slot, &parsed)
            {
                rejected.push(reason.clone());
                reasons.push(reason);
                continue;
            }
            // The realism gate first: it needs no database work.
            if let Some(gate) = gate.as_mut()
                && let Err(r) = gate.check(&shared.plan, &parsed)
            {
                if shared.dry_run && gated.len() < GATED_SHOWN {
                    gated.push(RejectedRow {
                        row: preview_row(&shared.plan, &parsed),
                        reason: r.detail,
                    });
                }
                rejected.push(r.reason.clone());
                reasons.push(r.reason);
                continue;
            }
            if guarded && let Err(reason) = guard.check(&db, &shared.plan, &parsed)? {
                rejected.push(reason);
                continue;
            }
            // Never a real person, whatever judges the rest (a copied UNIQUE value was
            // already turned away above, with the constraint named).
            if let Err(r) = shared.real_people.check(&parsed, &shared.identity) {
                if shared.dry_run && gated.len() < GATED_SHOWN {
                    gated.push(RejectedRow {
                        row: preview_row(&shared.plan, &parsed),
                        reason: r.reason.clone(),
                    });
                }
                rejected.push(r.reason.clone());
                reasons.push(r.reason);
                continue;
            }
            kept.push(parsed);
            kept_slots.extend(slot);
        }
        if !reasons.is_empty()
            && let Ok(mut feedback) = shared.feedback.lock()
        {
            for reason in reasons {
                feedback.retain(|r| *r != reason);
                feedback.push(reason);
            }
            let extra = feedback.len().saturating_sub(FEEDBACK_REASONS);
            feedback.drain(..extra);
        }
        if let Some(lineage) = &shared.lineage {
            // Slots turned away above (or not reached) are filled again later.
            let kept_set: std::collections::HashSet<usize> = kept_slots.iter().copied().collect();
            lineage.give_back(offered.iter().copied().filter(|s| !kept_set.contains(s)));
        }
        (kept, kept_slots)
    };
    let (candidates, kept_slots) = candidates;
    if candidates.is_empty() {
        return Ok(BatchResult {
            accepted: 0,
            rejected,
            preview: Vec::new(),
            gated,
        });
    }
    let _ = events.send(Event::Stage(Stage::Inserting));
    let columns = shared.plan.column_names();
    let fingerprint_columns = fingerprint_columns(&shared.plan.table);
    let mut journal_slot = shared.journal.lock().map_err(|_| poisoned())?;
    if journal_slot.is_none() && !shared.dry_run {
        let journal = match &shared.journal_path {
            Some(path) => Journal::open(path)?,
            None => Journal::open_default()?,
        };
        let op = match shared.lineage.as_ref().and_then(|l| l.run) {
            Some(run) => journal.begin_operation_in_run(
                run,
                db.address(),
                &shared.plan.table.name,
                &shared.source_name,
                &fingerprint_columns,
            )?,
            None => journal.begin_operation(
                db.address(),
                &shared.plan.table.name,
                &shared.source_name,
                &fingerprint_columns,
            )?,
        };
        if let Some(lineage) = &shared.lineage
            && let Ok(mut slot) = lineage.operation.lock()
        {
            *slot = Some(op);
        }
        *journal_slot = Some((journal, op));
    }
    let target = journal_slot
        .as_ref()
        .map(|(journal, operation)| JournalTarget {
            journal,
            operation: *operation,
        });
    let outcome = db.write_rows(
        &shared.plan.table,
        &columns,
        &candidates,
        &WriteOptions {
            journal: target.as_ref(),
            cancel: &shared.stop,
            dry_run: shared.dry_run,
        },
    )?;
    rejected.extend(outcome.rejected.iter().map(|r| r.reason.clone()));
    if let Some(lineage) = &shared.lineage {
        lineage.wrote(
            outcome
                .accepted
                .iter()
                .filter_map(|a| Some((*kept_slots.get(a.index)?, a.key.clone()))),
        );
        lineage.give_back(
            outcome
                .rejected
                .iter()
                .filter_map(|r| kept_slots.get(r.index).copied()),
        );
    }
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
        gated,
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

pub(super) fn count_rows(shared: &Shared) -> Result<u64, DbError> {
    let db = shared.db.lock().map_err(|_| DbError::ConnectionUnusable)?;
    db.count(&shared.plan.table)
}

/// Inserts rows the user already saw (a preview they accepted), through the
/// same checks, writer and undo journal as a generation. Blocking: call it
/// from a worker thread.
pub fn insert_previewed(
    request: &GenerateRequest,
    source: &Source,
    rows: &[serde_json::Map<String, Json>],
) -> Result<Summary, GenerateError> {
    let started = Instant::now();
    let mut preview_request = request.clone();
    preview_request.dry_run = false;
    preview_request.from_schema = true;
    // The user saw these rows, already judged by the gate, and chose them.
    preview_request.gate = crate::generate::gate::GateMode::Constraints;
    let shared = prepare(&preview_request, source, CancelFlag::new())?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let json_rows: Vec<Json> = rows.iter().cloned().map(Json::Object).collect();
    let batch = judge_and_write(&shared, json_rows, &[], rows.len(), &tx)?;
    let mut rejected = BTreeMap::new();
    for reason in &batch.rejected {
        *rejected.entry(reason.clone()).or_default() += 1;
    }
    let accepted = batch.accepted as u64;
    Ok(Summary {
        table: shared.plan.table.name.clone(),
        requested: rows.len() as u64,
        rows_added: accepted,
        new_row_count: count_rows(&shared)?,
        shortfall: (accepted < rows.len() as u64)
            .then(|| shortfall_sentence(accepted, rows.len() as u64, 0, &rejected, source)),
        rejected,
        provider: source.provider(),
        model: source.model(),
        usage: UsageSummary::default(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        dry_run: false,
        preview: Vec::new(),
        rejected_rows: Vec::new(),
    })
}
