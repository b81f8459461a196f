//! The model's run: concurrent requests, each answer judged and written.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::types::Value;
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::batch::judge_and_write;
use super::fit::{self, PromptSize};
use super::pace::Pace;
use super::prepare::{Anchor, Shared};
use super::{Estimate, GenerateError, thousands};
use super::{Event, FRUITLESS_LIMIT, Outcome, Run, Source, Stage, Tally, blocking, finish};
use crate::db::sample::Sample;
use crate::generate::parse::row_list;
use crate::generate::privacy::Privacy;
use crate::generate::prompt::{PromptInput, SYSTEM, answer_schema, context_message, user_message};
use crate::llm::Client;
use crate::llm::Notice;
use crate::llm::context::ServerKind;
use crate::llm::rate::RateState;
use crate::llm::{JsonRequest, LlmError, Usage};

/// How often notices are passed on while requests are out.
const NOTICE_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Random existing rows in the static prefix of every request of a run: drawn once, so the
/// prefix is cacheable, and enough to show formats and relationships between columns.
const ANCHOR_ROWS: usize = 8;
/// Random existing rows drawn afresh for each request, so the model sees more of the table
/// over a long run than the anchor alone.
const FRESH_ROWS: usize = 3;

/// The model's run: requests in flight up to the concurrency limit, each
/// answer judged and written as one batch, topping up rejected rows.
pub(super) async fn run_llm(run: Run<'_>) -> Outcome {
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
    let mut batch_size = request.batch_size.max(1);
    let concurrency = request.concurrency.max(1);

    // The model's shutdown date, asked beside the first request; never waited for.
    let lifecycle = match source {
        Source::Llm(client) => {
            let client = client.clone();
            let dir = request
                .journal_path
                .as_ref()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()))
                .or_else(|| crate::paths::data_dir().ok());
            Some(tokio::spawn(async move {
                crate::llm::lifecycle::check(&client, dir.as_deref()).await;
            }))
        }
        Source::Offline => None,
    };
    let size = first_prompt(shared, wanted, batch_size).await;
    let mut max_tokens = None;
    if let (Source::Llm(client), Some(size)) = (source, &size) {
        let batch = batch_size.min(usize::try_from(wanted).unwrap_or(usize::MAX));
        match fit_to_server(client, size, batch, events).await {
            Ok(Some(fitted)) => {
                batch_size = fitted.batch_size;
                max_tokens = Some(fitted.max_tokens);
            }
            Ok(None) => {}
            Err(error) => {
                if let Some(check) = lifecycle {
                    check.abort();
                }
                return Outcome::Failed { error, kept: 0 };
            }
        }
        send(Event::Estimate(Estimate::new(
            client, wanted, batch_size, size,
        )));
    }
    let batches_needed = wanted.div_ceil(batch_size as u64).max(1);
    // Room to top up rejected rows, bounded so a hopeless table stops (three requests in a
    // row that add nothing stop it sooner).
    let max_requests = (batches_needed * 2 + 5) as u32;
    let rates = || match source {
        Source::Llm(client) => client.rates(),
        Source::Offline => RateState::default(),
    };
    let mut pace = Pace::new(concurrency, &rates());
    let mut tally = Tally::new(source);
    let mut in_flight_rows: u64 = 0;
    let mut fruitless: u32 = 0;
    let mut tasks: JoinSet<(u64, Result<Answer, AskError>)> = JoinSet::new();

    loop {
        let hold = pace.hold(&rates(), Instant::now());
        if let Some(wait) = hold.filter(|_| tasks.is_empty()) {
            tokio::select! {
                _ = cancel.cancelled() => return Outcome::Cancelled { kept: tally.accepted },
                () = tokio::time::sleep(wait) => {}
            }
            continue;
        }
        while hold.is_none()
            && tasks.len() < pace.limit()
            && tally.accepted + in_flight_rows < wanted
            && tally.requests < max_requests + pace.extra_requests()
            && fruitless < FRUITLESS_LIMIT
            && !tally.hopeless()
        {
            let want = (wanted - tally.accepted - in_flight_rows).min(batch_size as u64);
            // Once rows have been rejected, a top-up asks for half as many again (within
            // the batch size): a model that loses a third of its rows to duplicates would
            // otherwise need round after round for the last few.
            let ask_rows = if tally.rejected.is_empty() {
                want
            } else {
                (want + want.div_ceil(2)).min((batch_size as u64).max(want))
            };
            tally.requests += 1;
            in_flight_rows += want;
            send(Event::Stage(Stage::AskingModel {
                request: tally.requests,
            }));
            let shared = shared.clone();
            let source = source.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move {
                (
                    want,
                    ask(shared, source, ask_rows as usize, max_tokens, cancel).await,
                )
            });
        }
        let next = tokio::select! {
            _ = cancel.cancelled() => {
                tasks.abort_all();
                return Outcome::Cancelled { kept: tally.accepted };
            }
            joined = tasks.join_next() => joined,
            // While requests are out, pass on what the client has to say (a retry after a
            // timeout) instead of looking hung.
            () = tokio::time::sleep(NOTICE_TICK) => {
                pass_on_notices(source, events, &mut tally);
                continue;
            }
        };
        let Some(joined) = next else { break };
        let (want, answer) = match joined {
            Ok(result) => result,
            Err(e) => {
                tasks.abort_all();
                return Outcome::Failed {
                    error: GenerateError::Internal(format!(
                        "A generation task stopped unexpectedly ({e})."
                    )),
                    kept: tally.accepted,
                };
            }
        };
        in_flight_rows -= want;
        let slower = match &answer {
            Err(AskError::Llm(LlmError::RateLimited { .. })) => pace
                .rate_limited(&rates(), Instant::now())
                .unwrap_or_default(),
            _ => pace.after_answer(&rates()),
        };
        if let (Some(in_flight), Source::Llm(client)) = (slower, source) {
            client.notify(Notice::SlowedDown {
                provider: client.provider().subject(),
                in_flight,
            });
        }
        pass_on_notices(source, events, &mut tally);
        let (rows, answer_usage, answer_model, slots) = match answer {
            Ok(answer) => answer,
            Err(AskError::Llm(LlmError::Cancelled)) => {
                tasks.abort_all();
                return Outcome::Cancelled {
                    kept: tally.accepted,
                };
            }
            // Still rate-limited after the client's retries: ask again later, slower,
            // unless that has happened too often.
            Err(AskError::Llm(LlmError::RateLimited { .. })) if pace.may_retry() => {
                continue;
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
                        rows: 0,
                        reasons: vec![reason.to_string()],
                    });
                    continue;
                }
                None => {
                    tasks.abort_all();
                    return Outcome::Failed {
                        error: GenerateError::Provider(e),
                        kept: tally.accepted,
                    };
                }
            },
            Err(AskError::Local(error)) => {
                tasks.abort_all();
                return Outcome::Failed {
                    error,
                    kept: tally.accepted,
                };
            }
        };
        tally.usage += answer_usage;
        tally.model = answer_model;
        pass_on_notices(source, events, &mut tally);
        send(Event::RowsReceived { rows: rows.len() });
        send(Event::Stage(Stage::Validating));
        let needed = (wanted - tally.accepted) as usize;
        let result = {
            let shared = shared.clone();
            let events = events.clone();
            blocking(move || judge_and_write(&shared, rows, &slots, needed, &events)).await
        };
        let batch = match tally.written(result) {
            Ok(batch) => batch,
            Err(outcome) => {
                tasks.abort_all();
                return *outcome;
            }
        };
        fruitless = if tally.record(batch, events) == 0 {
            fruitless + 1
        } else {
            0
        };
        if tally.accepted >= wanted || tally.hopeless() {
            tasks.abort_all();
            break;
        }
    }

    if let Some(check) = lifecycle {
        check.abort();
    }
    pass_on_notices(source, events, &mut tally);
    finish(shared, request, source, tally, started).await
}

/// The estimate for `wanted` rows, from the run's first prompt; nothing is sent.
pub(super) async fn estimate_for(
    shared: &Arc<Shared>,
    client: &Client,
    wanted: u64,
    batch_size: usize,
) -> Option<Estimate> {
    let size = first_prompt(shared, wanted, batch_size).await?;
    Some(Estimate::new(client, wanted, batch_size, &size))
}

/// The sizes of the run's first prompt, before anything is sent.
pub(super) async fn first_prompt(
    shared: &Arc<Shared>,
    wanted: u64,
    batch_size: usize,
) -> Option<PromptSize> {
    let want = (batch_size as u64).min(wanted) as usize;
    let (context, user, schema) = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || prompt_for(&shared, want, &[]))
            .await
            .ok()?
            .ok()?
    };
    let samples: Vec<&str> = context
        .lines()
        .chain(user.lines())
        .filter(|l| l.starts_with('{'))
        .collect();
    let row_chars = if samples.is_empty() {
        shared.plan.columns.len() * 24
    } else {
        samples.iter().map(|l| l.len()).sum::<usize>() / samples.len()
    };
    Some(PromptSize {
        prefix_chars: SYSTEM.len() + context.len() + schema.to_string().len(),
        varying_chars: user.len(),
        row_chars,
    })
}

/// Shrinks the batch and the output cap to a local server's context window. `Err` with the
/// sentence for the user when not even one row fits.
async fn fit_to_server(
    client: &Client,
    size: &PromptSize,
    batch_size: usize,
    events: &UnboundedSender<Event>,
) -> Result<Option<fit::Fit>, GenerateError> {
    let Some(window) = client.context_window().await else {
        return Ok(None);
    };
    let configured = client.settings().max_output_tokens;
    match fit::fit(&window, size, batch_size, configured) {
        Ok(fitted) => {
            if fitted.shrunk {
                let cut = if window.server == ServerKind::Ollama {
                    " (Ollama would silently cut a longer prompt)"
                } else {
                    ""
                };
                let _ = events.send(Event::Notice {
                    text: format!(
                        "{} reads at most {} tokens at a time{cut}, so rowsmith asks for {} row{} per request. For bigger batches, {}.",
                        client.provider().subject(),
                        thousands(u64::from(window.tokens)),
                        fitted.batch_size,
                        crate::output::plural(fitted.batch_size as u64, "", "s"),
                        window.server.how_to_raise(window.tokens.saturating_mul(4).max(8_192))
                    ),
                });
            }
            Ok(Some(fitted))
        }
        Err(needed) => Err(GenerateError::ContextTooSmall {
            provider: client.provider().subject(),
            window: window.tokens,
            needed,
            server: window.server,
        }),
    }
}

/// Sends what the client wants the user to hear (each notice once per run), counting the
/// retries among them, and the run's usage when it changed.
fn pass_on_notices(source: &Source, events: &UnboundedSender<Event>, tally: &mut Tally) {
    let Source::Llm(client) = source else {
        return;
    };
    let retries_before = tally.retries;
    for notice in client.take_notices() {
        if matches!(notice, Notice::Retrying { .. }) {
            tally.retries += 1;
        }
        let _ = events.send(Event::Notice {
            text: notice.to_string(),
        });
    }
    if tally.retries != retries_before || tally.usage != tally.usage_told {
        tally.usage_told = tally.usage;
        let _ = events.send(Event::Usage {
            input_tokens: tally.usage.input_tokens,
            output_tokens: tally.usage.output_tokens,
            retries: tally.retries,
        });
    }
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

/// Why one model request produced no rows.
enum AskError {
    Llm(LlmError),
    /// Preparing the request failed on our side.
    Local(GenerateError),
}

/// The rows of an answer, the usage and model, and (in a whole-database run) the slots
/// the rows fill, in order.
type Answer = (Vec<Json>, Usage, String, Vec<usize>);

/// One model request, with a fresh sample and the values taken so far.
async fn ask(
    shared: Arc<Shared>,
    source: Source,
    want: usize,
    max_tokens: Option<u32>,
    cancel: CancellationToken,
) -> Result<Answer, AskError> {
    let Source::Llm(client) = source else {
        return Err(AskError::Local(GenerateError::Internal(
            "The offline generator does not take model requests.".into(),
        )));
    };
    // In a whole-database run each row of the answer fills one slot, in order.
    let slots = shared
        .lineage
        .as_ref()
        .map(|l| l.take(want))
        .unwrap_or_default();
    let want = if shared.lineage.is_some() {
        slots.len()
    } else {
        want
    };
    if want == 0 {
        return Ok((
            Vec::new(),
            Usage::default(),
            client.model().to_string(),
            slots,
        ));
    }
    let context = {
        let shared = shared.clone();
        let slots = slots.clone();
        tokio::task::spawn_blocking(move || prompt_for(&shared, want, &slots)).await
    };
    let (context, user, schema) = match context {
        Ok(Ok(parts)) => parts,
        Ok(Err(message)) => return Err(AskError::Local(message)),
        Err(e) => {
            return Err(AskError::Local(GenerateError::Internal(format!(
                "Preparing the model request failed ({e})."
            ))));
        }
    };
    let answer = client
        .complete_json(rows_request(context, user, schema, max_tokens), &cancel)
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(lineage) = &shared.lineage {
                lineage.give_back(slots);
            }
            return Err(AskError::Llm(e));
        }
    };
    // An answer that holds no list of rows is an unusable answer with its reason (asked
    // again, counted, told to the user), not silently zero rows.
    let rows = match row_list(&answer.value) {
        Ok(rows) => rows,
        Err(detail) => {
            if let Some(lineage) = &shared.lineage {
                lineage.give_back(slots);
            }
            return Err(AskError::Llm(LlmError::WrongShape {
                provider: client.provider().clone(),
                detail,
            }));
        }
    };
    Ok((rows, answer.usage, answer.model, slots))
}

/// The model request for one batch, from the parts [`prompt_for`] builds.
pub(super) fn rows_request(
    context: String,
    user: String,
    schema: Json,
    max_tokens: Option<u32>,
) -> JsonRequest {
    JsonRequest {
        name: "rows".into(),
        system: SYSTEM.into(),
        context,
        user,
        schema,
        max_output_tokens: max_tokens,
    }
}

/// Builds the static context (with the run's anchor sample), the varying user message
/// (with a few fresh rows) and the schema.
pub(super) fn prompt_for(
    shared: &Shared,
    want: usize,
    slots: &[usize],
) -> Result<(String, String, Json), GenerateError> {
    let empty = || crate::db::sample::Sample {
        columns: Vec::new(),
        rows: Vec::new(),
        method: crate::db::sample::SampleMethod::AllRows,
    };
    let draw = |n: usize| -> Result<crate::db::sample::Sample, GenerateError> {
        if shared.table_rows == 0 {
            return Ok(empty());
        }
        let db = shared
            .db
            .lock()
            .map_err(|_| GenerateError::Internal("The database connection is unusable.".into()))?;
        let mut rng = shared
            .rng
            .lock()
            .map_err(|_| GenerateError::Internal("The random source is unusable.".into()))?;
        Ok(db.sample_rows(&shared.plan.table, n, &mut *rng)?)
    };
    let anchor = match shared.anchor.get() {
        Some(anchor) => anchor,
        None => {
            let sample = draw(ANCHOR_ROWS)?;
            let shown = shown_rows(shared, &sample)?;
            shared.anchor.get_or_init(|| Anchor { sample, shown })
        }
    };
    // A table no bigger than the anchor has nothing more to show.
    let fresh = if shared.table_rows > anchor.sample.rows.len() as u64 {
        let mut fresh = draw(FRESH_ROWS)?;
        fresh.rows.retain(|row| !anchor.sample.rows.contains(row));
        fresh
    } else {
        empty()
    };
    let fresh_shown = shown_rows(shared, &fresh)?;
    let guard = shared
        .guard
        .lock()
        .map_err(|_| GenerateError::Internal("The validation state is unusable.".into()))?;
    let feedback = shared
        .feedback
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default();
    // Values taken are the run's own, but one may equal a real person's: withheld with
    // the rows they could come from.
    let avoid: Vec<VecDeque<String>> = shared
        .plan
        .unique_sets
        .iter()
        .zip(guard.avoid_lists())
        .map(|(set, list)| {
            let withheld = match shared.privacy {
                Some(Privacy::Schema) => true,
                Some(Privacy::Mask) => set
                    .iter()
                    .any(|&i| shared.masker.masks(&shared.plan.columns[i].name)),
                _ => false,
            };
            if withheld {
                VecDeque::new()
            } else {
                list.clone()
            }
        })
        .collect();
    let profile = shared.prompt_profile.as_ref().or(shared.profile.as_ref());
    let masked: Vec<String> = match shared.privacy {
        Some(Privacy::Mask) => shared.masker.masked_columns().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    // A whole-database run chooses every key itself: the request lists no key values.
    let no_keys: Vec<Vec<Vec<Value>>> = vec![Vec::new(); shared.plan.foreign_keys.len()];
    let parent_keys = if shared.lineage.is_some() {
        &no_keys
    } else {
        &shared.parent_keys
    };
    let parents = match &shared.lineage {
        Some(lineage) => {
            let mut rng = shared
                .rng
                .lock()
                .map_err(|_| GenerateError::Internal("The random source is unusable.".into()))?;
            super::parents::parents_message(&shared.plan, lineage, slots, shared.privacy, &mut *rng)
        }
        None => String::new(),
    };
    let input = PromptInput {
        plan: &shared.plan,
        profile,
        anchor_columns: &anchor.sample.columns,
        anchor_rows: &anchor.shown,
        sample_columns: &fresh.columns,
        sample_rows: &fresh_shown,
        table_rows: shared.table_rows,
        rows_withheld: shared.privacy == Some(Privacy::Schema) && shared.table_rows > 0,
        masked: &masked,
        parent_keys,
        avoid: &avoid,
        rejected: &feedback,
        rows_wanted: want,
    };
    let mut user = user_message(&input);
    if !parents.is_empty() {
        user = format!("{parents}\n{user}");
    }
    Ok((
        context_message(&input),
        user,
        answer_schema(&shared.plan, profile, parent_keys, want),
    ))
}

/// Sample rows as a request shows them: as they are, masked, or none at all.
fn shown_rows(shared: &Shared, sample: &Sample) -> Result<Vec<Vec<Value>>, GenerateError> {
    Ok(match shared.privacy {
        Some(Privacy::Schema) => Vec::new(),
        Some(Privacy::Mask) => {
            let mut rng = shared
                .rng
                .lock()
                .map_err(|_| GenerateError::Internal("The random source is unusable.".into()))?;
            shared
                .masker
                .mask_rows(&sample.columns, &sample.rows, &mut *rng)
        }
        _ => sample.rows.clone(),
    })
}

/// Rows of the table one request shows (the anchor and the fresh ones), for the status.
pub(super) fn rows_shown(shared: &Shared) -> usize {
    if shared.privacy == Some(Privacy::Schema) {
        return 0;
    }
    let table = usize::try_from(shared.table_rows).unwrap_or(usize::MAX);
    let anchor = ANCHOR_ROWS.min(table);
    anchor + FRESH_ROWS.min(table - anchor)
}
