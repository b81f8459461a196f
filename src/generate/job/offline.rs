//! The offline generator's run: batches generated and written in turn.

use super::batch::write_candidates;
use super::prepare::Shared;
use super::{Event, FRUITLESS_LIMIT, GenerateError, Outcome, Run, Stage, Tally, blocking, finish};
use crate::db::DbError;
use crate::generate::parse::Candidate;

/// Offline rows per batch: big enough to insert fast, small enough that
/// memory stays flat however many rows are asked for.
const OFFLINE_BATCH: u64 = 20_000;

/// The offline generator's run: generate and insert batch after batch on a
/// blocking thread, topping up rejected rows, until N are in.
pub(super) async fn run_offline(run: Run<'_>) -> Outcome {
    let Run {
        request,
        source,
        shared,
        events,
        cancel,
        started,
    } = run;
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
    while tally.accepted < wanted
        && tally.requests < max_rounds
        && fruitless < FRUITLESS_LIMIT
        && !tally.hopeless()
    {
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
        let (candidates, slots) = match next.await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                return Outcome::Failed {
                    error: GenerateError::Database(e),
                    kept: tally.accepted,
                };
            }
            Err(e) => {
                return Outcome::Failed {
                    error: GenerateError::Internal(format!(
                        "The generator stopped unexpectedly ({e})."
                    )),
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
                    &slots,
                    Vec::new(),
                    &events,
                    shared.dry_run,
                    want,
                )
            })
            .await
        };
        let batch = match tally.written(result) {
            Ok(batch) => batch,
            Err(outcome) => return *outcome,
        };
        fruitless = if tally.record(batch, events) == 0 {
            fruitless + 1
        } else {
            0
        };
    }
    finish(shared, request, source, tally, started).await
}

/// Generates `want` rows with the offline model; in a whole-database run, one per slot
/// taken (the slots come back with the rows).
fn offline_rows(shared: &Shared, want: usize) -> Result<(Vec<Candidate>, Vec<usize>), DbError> {
    let poisoned = || DbError::GenerationUnusable;
    let mut model = shared.offline.lock().map_err(|_| poisoned())?;
    let mut rng = shared.rng.lock().map_err(|_| poisoned())?;
    let Some(model) = model.as_mut() else {
        return Err(DbError::OfflineNotPrepared);
    };
    let Some(lineage) = &shared.lineage else {
        return Ok((
            (0..want).map(|_| model.generate(&mut *rng)).collect(),
            Vec::new(),
        ));
    };
    let slots = lineage.take(want);
    let rows = slots
        .iter()
        .map(|&slot| {
            let given = lineage.given(&shared.plan, slot, &mut *rng);
            model.generate_given(&mut *rng, Some(&given))
        })
        .collect();
    Ok((rows, slots))
}
