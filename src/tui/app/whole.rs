//! Filling the whole database: the key opens a dialog that asks the runtime for the plan
//! (off the UI loop) and asks again whenever the size changes; Enter runs the plan shown,
//! after a second yes when a model would be asked for many rows; the run's events move a
//! progress line table by table, and its end refreshes every count it touched.

use super::*;
use crate::generate::whole::WholeOutcome;
use crate::tui::whole::{PlanState, SizeKind, WholeDialog, WholeField, WholeRun, dialog_geometry};

/// A fill that has run this many ticks (ten a second) is cancelled only after a yes, as a
/// generation is.
const ASK_BEFORE_CANCEL_TICKS: u64 = 50;

/// The default scale: every table doubles.
const DEFAULT_SCALE: &str = "2";

/// True while a fill runs or the dialog waits for its plan (spinners move).
pub(super) fn animating(app: &App) -> bool {
    app.whole.is_some()
        || matches!(&app.modal, Some(Modal::Whole(d)) if d.plan == PlanState::Planning)
}

/// While the whole database is being filled, nothing else may write to it: the fill is
/// taken back whole if it stops, and another writer would mix its rows in.
pub(super) fn refused_while_filling(app: &mut App, action: Action) -> bool {
    if app.whole.is_none()
        || !matches!(
            action,
            Action::Generate
                | Action::GenerateDialog
                | Action::FillDatabase
                | Action::Undo
                | Action::Import
                | Action::Delete
        )
    {
        return false;
    }
    let text = format!(
        "The whole database is being filled; wait for it to finish, or press {} to cancel it.",
        cancel_key(app)
    );
    app.toast(Level::Warning, text);
    true
}

/// The fill key: the dialog, planning for the default size at once.
pub(super) fn open(app: &mut App) -> Vec<Effect> {
    let busy = if let Some(job) = app.jobs.first() {
        Some(format!("the generation for '{}'", job.spec.table))
    } else if let Some(t) = &app.transfer {
        Some(format!("the {}", t.label))
    } else {
        app.undoing
            .as_ref()
            .map(|u| format!("the undo on '{}'", u.table()))
    };
    if let Some(what) = busy {
        let text = format!(
            "Wait for {what} to finish, or cancel it with {}, before filling the whole database.",
            cancel_key(app)
        );
        app.toast(Level::Warning, text);
        return Vec::new();
    }
    let model = app
        .providers
        .get(app.provider)
        .map(|p| p.model.clone())
        .unwrap_or_default();
    let mut dialog = WholeDialog {
        field: WholeField::Amount,
        kind: SizeKind::Scale,
        scale: Input::new(DEFAULT_SCALE),
        rows: Input::new(app.default_rows.to_string()),
        provider: app.provider,
        model: Input::new(model),
        plan_id: 0,
        planned_for: None,
        plan: PlanState::NoSize,
        scroll: 0,
        error: None,
        confirm: None,
    };
    let effects = replan(app, &mut dialog);
    app.modal = Some(Modal::Whole(Box::new(dialog)));
    effects
}

/// Asks for the plan of the size typed, unless the plan shown (or on its way) is for it.
fn replan(app: &mut App, d: &mut WholeDialog) -> Vec<Effect> {
    d.error = None;
    d.confirm = None;
    match d.size(app.max_rows) {
        Err(why) => {
            d.error = Some(why);
            d.plan = PlanState::NoSize;
            d.planned_for = None;
            Vec::new()
        }
        Ok(size) if d.planned_for == Some(size) => Vec::new(),
        Ok(size) => {
            let id = app.next_whole;
            app.next_whole += 1;
            d.plan_id = id;
            d.planned_for = Some(size);
            d.plan = PlanState::Planning;
            d.scroll = 0;
            vec![Effect::PlanWhole { id, size }]
        }
    }
}

/// The plan arrived: shown, if the dialog still waits for this one.
pub(super) fn on_planned(
    app: &mut App,
    id: u64,
    result: Result<WholePlan, WholeError>,
) -> Vec<Effect> {
    if let Some(Modal::Whole(d)) = app.modal.as_mut()
        && d.plan_id == id
        && d.plan == PlanState::Planning
    {
        // The size was good, or no plan would have been asked for: what the dialog said
        // while it waited (Enter too early) is over.
        d.error = None;
        d.plan = match result {
            Ok(plan) => PlanState::Ready(Box::new(plan)),
            Err(error) => PlanState::Failed(error.to_string()),
        };
        d.scroll = 0;
    }
    Vec::new()
}

pub(super) fn on_key(
    app: &mut App,
    mut d: WholeDialog,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    if d.confirm.is_some() {
        return match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => match ready_plan(&d) {
                Some(plan) => (None, launch(app, &d, plan)),
                None => {
                    d.confirm = None;
                    (Some(Modal::Whole(Box::new(d))), Vec::new())
                }
            },
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                d.confirm = None;
                (Some(Modal::Whole(Box::new(d))), Vec::new())
            }
            _ => (Some(Modal::Whole(Box::new(d))), Vec::new()),
        };
    }
    let fields = WholeField::ALL;
    let at = fields.iter().position(|f| *f == d.field).unwrap_or(0);
    let model_editable = app
        .providers
        .get(d.provider)
        .is_some_and(|p| p.model_editable);
    let mut effects = Vec::new();
    match key.code {
        KeyCode::Esc => return (None, Vec::new()),
        KeyCode::Tab | KeyCode::Down => d.field = fields[(at + 1) % fields.len()],
        KeyCode::BackTab | KeyCode::Up => d.field = fields[(at + fields.len() - 1) % fields.len()],
        KeyCode::PageDown | KeyCode::PageUp => {
            let area = Rect::new(0, 0, app.size.0, app.size.1);
            let g = dialog_geometry(area, &d);
            let page = g.plan_height.saturating_sub(1).max(1);
            d.scroll = if key.code == KeyCode::PageDown {
                d.scroll.saturating_add(page).min(g.max_scroll)
            } else {
                d.scroll.min(g.max_scroll).saturating_sub(page)
            };
        }
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if d.field == WholeField::Kind => {
            d.kind = match d.kind {
                SizeKind::Scale => SizeKind::Rows,
                SizeKind::Rows => SizeKind::Scale,
            };
            effects = replan(app, &mut d);
        }
        KeyCode::Left | KeyCode::Right
            if d.field == WholeField::Provider && !app.providers.is_empty() =>
        {
            let n = app.providers.len();
            d.provider = if key.code == KeyCode::Left {
                (d.provider + n - 1) % n
            } else {
                (d.provider + 1) % n
            };
            if let Some(p) = app.providers.get(d.provider) {
                d.model = Input::new(p.model.clone());
            }
            d.error = None;
        }
        KeyCode::Enter => return enter(app, d),
        _ => match d.field {
            WholeField::Amount => {
                let typed = match key.code {
                    KeyCode::Char(c) => {
                        c.is_ascii_digit()
                            || matches!(c, '.' | ',' | '_' | 'x' | 'X' | '×')
                            || key.modifiers.contains(KeyModifiers::CONTROL)
                    }
                    _ => true,
                };
                if typed && d.amount_mut().edit(&key) {
                    effects = replan(app, &mut d);
                }
            }
            WholeField::Model if model_editable && d.model.edit(&key) => d.error = None,
            _ => {}
        },
    }
    (Some(Modal::Whole(Box::new(d))), effects)
}

/// The plan shown, when it is for the size typed.
fn ready_plan(d: &WholeDialog) -> Option<WholePlan> {
    match &d.plan {
        PlanState::Ready(plan) if d.planned_for == Some(plan.size) => Some((**plan).clone()),
        _ => None,
    }
}

/// Enter: the plan shown runs, unless something is missing or a model would be asked for
/// more rows than `generate.confirm_rows` (then the dialog asks once more).
fn enter(app: &mut App, mut d: WholeDialog) -> (Option<Modal>, Vec<Effect>) {
    let option = app.providers.get(d.provider);
    if option.is_some_and(|p| p.model_editable) && d.model.text.trim().is_empty() {
        d.error = Some("Name a model, or pick another provider.".into());
        d.field = WholeField::Model;
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    }
    if let Err(why) = d.size(app.max_rows) {
        d.error = Some(why);
        d.field = WholeField::Amount;
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    }
    let Some(plan) = ready_plan(&d) else {
        d.error = Some(match &d.plan {
            PlanState::Failed(_) => "There is no plan to run; see why above.".into(),
            _ => "The plan is still being worked out; Enter runs it once it shows.".into(),
        });
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    };
    let total = plan.rows();
    if total == 0 {
        d.error = Some(match d.kind {
            SizeKind::Scale => "The plan adds no rows: the tables it starts from are empty, and a scale of nothing is nothing. Choose rows per starting table instead.".into(),
            SizeKind::Rows => "The plan adds no rows.".into(),
        });
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    }
    if total > app.max_rows {
        d.error = Some(format!(
            "The run would add about {} rows, more than one run may add (generate.max_rows = {}). Choose a smaller size, or raise generate.max_rows in the config file.",
            thousands(total),
            thousands(app.max_rows)
        ));
        d.field = WholeField::Amount;
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    }
    let paid = option.is_some_and(|p| p.choice.kind().is_some());
    if paid && total > app.confirm_rows {
        // A typo in the size must not turn into thousands of paid requests.
        let who = option
            .map(|p| format!("{} {}", p.name, d.model.text.trim()))
            .unwrap_or_default();
        d.confirm = Some(format!(
            "Ask {who} for about {} rows? That is more than generate.confirm_rows ({}); every request costs money or model time.",
            thousands(total),
            thousands(app.confirm_rows)
        ));
        return (Some(Modal::Whole(Box::new(d))), Vec::new());
    }
    (None, launch(app, &d, plan))
}

/// Starts the fill of `plan` with the dialog's provider and model, every question asked.
fn launch(app: &mut App, d: &WholeDialog, plan: WholePlan) -> Vec<Effect> {
    if let Some(note) = app.source_note.take() {
        app.toast(Level::Info, note);
    }
    let option = app.providers.get(d.provider);
    let mut provider = None;
    let mut model = None;
    if d.provider != app.provider {
        provider = option.map(|p| p.choice);
    }
    let typed = d.model.text.trim();
    if let Some(p) = option.filter(|p| p.model_editable && p.model != typed) {
        model = Some(typed.to_string());
        provider = Some(p.choice);
    }
    let id = app.next_whole;
    app.next_whole += 1;
    app.whole = Some(WholeRun::new(id, &plan, app.tick));
    vec![Effect::RunWhole {
        id,
        plan: Box::new(plan),
        provider,
        model,
    }]
}

/// An event of the fill: progress, then its end.
pub(super) fn on_event(app: &mut App, id: u64, event: WholeEvent) -> Vec<Effect> {
    let Some(run) = app.whole.as_mut().filter(|w| w.id == id) else {
        return Vec::new();
    };
    match event {
        WholeEvent::Planned { .. } => {}
        WholeEvent::TableStarted { index, rows, .. } => {
            if run.current.is_some() {
                run.tokens_done += run.tokens;
            }
            run.tokens = 0;
            run.current = Some(index);
            if let Some(t) = run.tables.get_mut(index) {
                t.wanted = rows;
                t.added = 0;
                t.started = true;
            }
            if !run.cancelling {
                run.stage = "starting".into();
            }
        }
        WholeEvent::Table { index, event } => match event {
            Event::Started {
                provider, model, ..
            } => {
                run.source = if model.is_empty() {
                    provider
                } else {
                    format!("{provider} {model}")
                };
            }
            Event::Stage(stage) if !run.cancelling => run.stage = stage_label(&stage),
            Event::RowsAccepted { total, .. } => {
                if let Some(t) = run.tables.get_mut(index) {
                    t.added = total;
                }
            }
            Event::Usage {
                input_tokens,
                output_tokens,
                ..
            } => run.tokens = input_tokens + output_tokens,
            Event::Notice { text } => app.toast(Level::Warning, text),
            _ => {}
        },
        WholeEvent::Completing => {
            run.completing = true;
            run.tokens_done += run.tokens;
            run.tokens = 0;
            if !run.cancelling {
                run.stage = "linking keys and setting parents' totals".into();
            }
        }
        WholeEvent::Finished(outcome) => {
            let run = app.whole.take();
            return finished(app, run, outcome);
        }
    }
    Vec::new()
}

/// The fill ended: its sentence, and every count it touched read again.
fn finished(app: &mut App, run: Option<WholeRun>, outcome: WholeOutcome) -> Vec<Effect> {
    let tables: Vec<String> = run
        .map(|r| r.tables.into_iter().map(|t| t.table).collect())
        .unwrap_or_default();
    match &outcome {
        WholeOutcome::Done(summary) => {
            let short = summary.shortfalls();
            let level = if short.is_empty() {
                Level::Success
            } else {
                Level::Warning
            };
            let tokens = summary
                .usage
                .sentence()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            app.toast(level, format!("{}{tokens}", summary.sentence()));
            if !short.is_empty() {
                app.toast(
                    Level::Warning,
                    format!("Fewer rows than planned: {}.", short.join("; ")),
                );
            }
            for t in &summary.tables {
                if let Some(entry) = app.entry_mut(&t.table) {
                    entry.count = Count::Known(t.after);
                }
            }
            // The second pass may have set keys and totals in any table of the run.
            let names: Vec<String> = summary.tables.iter().map(|t| t.table.clone()).collect();
            refresh(app, names, false)
        }
        WholeOutcome::Cancelled { .. } => {
            app.toast(Level::Info, outcome.failure_sentence().unwrap_or_default());
            refresh(app, tables, true)
        }
        WholeOutcome::Failed { .. } => {
            app.popup(
                "Filling the database failed",
                outcome.failure_sentence().unwrap_or_default(),
            );
            refresh(app, tables, true)
        }
    }
}

/// After a fill: `tables` counted again (`recount`) or already known, the views counted
/// again, and the open rows read again when they are one of them.
fn refresh(app: &mut App, tables: Vec<String>, recount: bool) -> Vec<Effect> {
    let mut effects = Vec::new();
    if recount {
        let mut pending = Vec::new();
        for name in &tables {
            if let Some(entry) = app.entry_mut(name) {
                entry.count = Count::Pending;
                pending.push(name.clone());
            }
        }
        if !pending.is_empty() {
            effects.push(Effect::Count(pending));
        }
    }
    super::results::recount_views(app, &mut effects);
    if let Some(g) = app.grid.as_mut().filter(|g| tables.contains(&g.table)) {
        effects.push(Effect::LoadPage(g.reload()));
    }
    effects
}

/// The cancel key while a fill runs: it stops (asking first once it has run a while).
pub(super) fn cancel(app: &mut App) -> Option<Vec<Effect>> {
    let run = app.whole.as_ref()?;
    if run.cancelling {
        return Some(Vec::new());
    }
    let id = run.id;
    if app.tick.saturating_sub(run.started) < ASK_BEFORE_CANCEL_TICKS {
        return Some(cancel_now(app, id));
    }
    let added = run.added();
    let tables = run.tables.iter().filter(|t| t.added > 0).count() as u64;
    app.modal = Some(Modal::Confirm(Confirm {
        title: "Cancel filling the database?".into(),
        lines: vec![format!(
            "It has added {} {} to {} {} so far. Cancelling takes them all back, so that no parent is left without its children.",
            thousands(added),
            rows_word(added),
            thousands(tables),
            crate::output::plural(tables, "table", "tables")
        )],
        yes: "Cancel it".into(),
        on_yes: false,
        kind: ConfirmKind::CancelWhole(id),
    }));
    Some(Vec::new())
}

/// Stops the fill `id`; its last event says what became of its rows.
pub(super) fn cancel_now(app: &mut App, id: u64) -> Vec<Effect> {
    match app.whole.as_mut().filter(|w| w.id == id && !w.cancelling) {
        Some(run) => {
            run.cancelling = true;
            run.stage = "cancelling: taking back its rows".into();
            vec![Effect::CancelWhole(id)]
        }
        None => Vec::new(),
    }
}
