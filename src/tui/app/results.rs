//! Results of background work: the table list, pages, generation events,
//! undo, delete and transfers.

use super::*;

pub(super) fn on_objects(
    app: &mut App,
    result: Result<Vec<ObjectSummary>, DbError>,
) -> Vec<Effect> {
    app.listed = true;
    let objects = match result {
        Ok(o) => o,
        Err(e) => {
            app.list_error = Some(e.to_string());
            return Vec::new();
        }
    };
    app.list_error = None;
    let keep = app
        .prefer
        .take()
        .filter(|name| objects.iter().any(|o| o.name == *name))
        .or_else(|| app.selected_table().map(|t| t.name.clone()));
    let was = app.selected;
    let old = std::mem::take(&mut app.tables);
    app.tables = objects
        .into_iter()
        .map(|o| {
            let count = old
                .iter()
                .find(|t| t.name == o.name)
                .map(|t| t.count.clone())
                .unwrap_or(Count::Pending);
            TableEntry {
                name: o.name,
                kind: o.kind,
                count,
            }
        })
        .collect();
    let visible = app.visible();
    // On first listing, start on the first table (not a view, which cannot take rows), so
    // that the first `g` works.
    let first_table = visible
        .iter()
        .position(|&i| app.tables[i].kind == crate::db::catalog::ObjectKind::Table)
        .unwrap_or(0);
    // A deleted table's neighbour takes its place; only the first listing starts on top.
    let fallback = if app.listed_before { was } else { first_table };
    app.listed_before = true;
    app.selected = keep
        .and_then(|name| visible.iter().position(|&i| app.tables[i].name == name))
        .unwrap_or(fallback)
        .min(visible.len().saturating_sub(1));
    keep_list_visible(app);
    let pending: Vec<String> = app
        .tables
        .iter()
        .filter(|t| t.count == Count::Pending)
        .map(|t| t.name.clone())
        .collect();
    let mut effects = Vec::new();
    if !pending.is_empty() {
        effects.push(Effect::Count(pending));
    }
    effects.extend(show_selected(app, false));
    effects
}

pub(super) fn on_page(
    app: &mut App,
    request: PageRequest,
    page: Result<Page, DbError>,
) -> Vec<Effect> {
    let height = app.grid_height();
    let total = app.count_of(&request.table);
    // A page read through another lens (before a search or sort changed) is stale.
    let Some(grid) = app
        .grid
        .as_mut()
        .filter(|g| g.view == request.view && g.lens == request.lens)
    else {
        return Vec::new();
    };
    match page {
        Ok(page) => grid
            .apply(request.purpose, page, total, height)
            .map(Effect::LoadPage)
            .into_iter()
            .collect(),
        Err(e) => {
            grid.fail(e.to_string());
            Vec::new()
        }
    }
}

pub(super) fn on_job(app: &mut App, id: u64, event: Event) -> Vec<Effect> {
    let Some(index) = app.jobs.iter().position(|j| j.id == id) else {
        return Vec::new();
    };
    let job = &mut app.jobs[index];
    match event {
        Event::Started {
            rows,
            provider,
            model,
            sending,
            ..
        } => {
            job.spec.rows = rows;
            let who = if model.is_empty() {
                provider
            } else {
                format!("{provider} {model}")
            };
            job.source = who;
            job.sending = sending;
            Vec::new()
        }
        Event::Usage {
            input_tokens,
            output_tokens,
            retries,
        } => {
            job.tokens = input_tokens + output_tokens;
            job.retries = retries;
            Vec::new()
        }
        Event::Stage(stage) => {
            if !job.cancelling {
                job.stage = stage_label(&stage);
            }
            Vec::new()
        }
        Event::RowsReceived { rows } => {
            job.received += rows as u64;
            Vec::new()
        }
        Event::RowsAccepted { total, .. } => {
            job.accepted = total;
            Vec::new()
        }
        Event::RowsRejected { rows, .. } => {
            job.rejected += rows as u64;
            Vec::new()
        }
        Event::Estimate(_) => Vec::new(),
        Event::Notice { text } => {
            app.toast(Level::Warning, text);
            Vec::new()
        }
        Event::Finished(outcome) => {
            let job = app.jobs.remove(index);
            finished(app, job, outcome)
        }
    }
}

/// Stage names as the progress line shows them.
pub(super) fn stage_label(stage: &Stage) -> String {
    match stage {
        Stage::Sampling => "sampling".into(),
        Stage::Profiling => "profiling".into(),
        Stage::AskingModel { request } if *request > 1 => {
            format!("asking the model (request {request})")
        }
        Stage::AskingModel { .. } => "asking the model".into(),
        Stage::Validating => "validating".into(),
        Stage::Inserting => "inserting".into(),
        #[allow(unreachable_patterns)]
        other => other.label(),
    }
}

pub(super) fn finished(app: &mut App, job: Job, outcome: Outcome) -> Vec<Effect> {
    let table = job.spec.table.clone();
    match outcome {
        Outcome::Done(summary) if summary.dry_run => {
            if summary.preview.is_empty() {
                app.popup(
                    "Nothing to preview",
                    summary
                        .shortfall
                        .clone()
                        .unwrap_or_else(|| format!("No rows for '{table}' passed the checks.")),
                );
                return Vec::new();
            }
            let mut preview = Preview::new(job.spec, summary.preview);
            preview.rejected = summary
                .rejected_rows
                .into_iter()
                .map(|r| (r.row, r.reason))
                .collect();
            order_columns(app, &mut preview);
            app.modal = Some(Modal::Preview(preview));
            Vec::new()
        }
        Outcome::Done(summary) => finished_ok(app, &summary),
        // Nothing to learn from: offer to generate from the schema alone.
        Outcome::Failed {
            error: GenerateError::EmptyTable,
            kept: 0,
        } => {
            ask_from_schema(app, job.spec);
            Vec::new()
        }
        Outcome::Failed { error, kept } => {
            app.popup(
                &format!("Generation for '{table}' failed"),
                failure_sentence(&error, kept),
            );
            if kept > 0 {
                return refresh_table(app, &table, None);
            }
            Vec::new()
        }
        Outcome::Cancelled { kept } => {
            let text = if kept == 0 {
                format!("Cancelled the generation for '{table}'. Nothing was written.")
            } else {
                format!(
                    "Cancelled the generation for '{table}'. Kept the {kept} {} already added; {} undoes them.",
                    rows_word(kept),
                    app.keymap
                        .short(Action::Undo)
                        .unwrap_or_else(|| "undo".into())
                )
            };
            app.toast(Level::Info, text);
            if kept > 0 {
                return refresh_table(app, &table, None);
            }
            Vec::new()
        }
    }
}

pub(super) fn finished_ok(app: &mut App, summary: &Summary) -> Vec<Effect> {
    let level = if summary.shortfall.is_some() {
        Level::Warning
    } else {
        Level::Success
    };
    let tokens = summary
        .usage
        .sentence()
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    match &summary.shortfall {
        // Nothing landed: the reason is the whole story ("Generated 0 rows" says nothing).
        Some(short) if summary.rows_added == 0 => {
            app.toast(Level::Warning, format!("{short}{tokens}"));
        }
        Some(short) => {
            app.toast(level, format!("{}{tokens}", summary.sentence()));
            app.toast(Level::Warning, short.clone());
        }
        None => app.toast(level, format!("{}{tokens}", summary.sentence())),
    }
    if summary.shortfall.is_none()
        && let Some((reason, _)) = summary.rejected.iter().max_by_key(|(_, n)| **n)
    {
        // Every row is in, but some were turned away on the way: say which rule bit most.
        let turned: u64 = summary.rejected.values().sum();
        app.toast(
            Level::Info,
            format!(
                "{} {} turned away and asked for again; most often: {reason}.",
                thousands(turned),
                rows_word(turned)
            ),
        );
    }
    let mut effects = refresh_table(app, &summary.table.clone(), Some(summary.new_row_count));
    // The new rows are at the end of a rowid table: show them there, marked.
    if !summary.dry_run
        && summary.rows_added > 0
        && let Some(g) = app.grid.as_mut().filter(|g| g.table == summary.table)
    {
        g.fresh_from = Some(summary.new_row_count.saturating_sub(summary.rows_added) + 1);
        let table = g.table.clone();
        effects.retain(|e| !matches!(e, Effect::LoadPage(r) if r.table == table));
        effects.push(Effect::LoadPage(g.show_end()));
    }
    effects
}

/// After rows changed: the new count (or a recount) and a fresh rows view.
pub(super) fn refresh_table(app: &mut App, table: &str, count: Option<u64>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(entry) = app.entry_mut(table) {
        match count {
            Some(n) => entry.count = Count::Known(n),
            None => {
                entry.count = Count::Pending;
                effects.push(Effect::Count(vec![table.to_string()]));
            }
        }
    }
    recount_views(app, &mut effects);
    if let Some(g) = app.grid.as_mut().filter(|g| g.table == table) {
        effects.push(Effect::LoadPage(g.reload()));
    }
    effects
}

/// Puts preview columns in the table's order when the rows view knows it.
/// Views may read the tables that changed: count them again.
pub(super) fn recount_views(app: &mut App, effects: &mut Vec<Effect>) {
    let views: Vec<String> = app
        .tables
        .iter_mut()
        .filter(|t| t.kind == ObjectKind::View)
        .map(|t| {
            t.count = Count::Pending;
            t.name.clone()
        })
        .collect();
    if !views.is_empty() {
        effects.push(Effect::Count(views));
    }
}

pub(super) fn order_columns(app: &App, preview: &mut Preview) {
    let Some(g) = app.grid.as_ref().filter(|g| g.table == preview.spec.table) else {
        return;
    };
    let mut ordered: Vec<String> = g
        .columns
        .iter()
        .filter(|c| preview.columns.contains(c))
        .cloned()
        .collect();
    for c in &preview.columns {
        if !ordered.contains(c) {
            ordered.push(c.clone());
        }
    }
    preview.columns = ordered;
}

pub(super) fn on_undo_preview(
    app: &mut App,
    target: UndoTarget,
    preview: Result<UndoPreview, DbError>,
) -> Vec<Effect> {
    match preview {
        Ok(p) if p.run.is_some() => confirm_run_undo(app, target, &p),
        Ok(p) => {
            let mut lines = vec![format!(
                "Remove the {} {} rowsmith added to '{}' on {} ({}).",
                thousands(p.rows),
                rows_word(p.rows),
                p.table,
                p.created_at,
                p.source
            )];
            if p.already_gone > 0 {
                lines.push(format!(
                    "{} more {} already gone.",
                    p.already_gone,
                    if p.already_gone == 1 { "was" } else { "were" }
                ));
            }
            let title = match &target {
                UndoTarget::Latest(_) => format!("Undo the last generation of '{}'?", p.table),
                UndoTarget::Operation { id, .. } => {
                    format!("Undo operation {id} on '{}'?", p.table)
                }
            };
            app.modal = Some(Modal::Confirm(Confirm {
                kind: ConfirmKind::Undo(target),
                title,
                lines,
                yes: format!("Remove {} {}", thousands(p.rows), rows_word(p.rows)),
                on_yes: false,
            }));
        }
        Err(message) => app.popup(
            &format!("Cannot undo on '{}'", target.table()),
            message.to_string(),
        ),
    }
    Vec::new()
}

/// Asks before undoing a run: every table it would take rows from, children first.
fn confirm_run_undo(app: &mut App, target: UndoTarget, p: &UndoPreview) {
    let Some(run) = &p.run else {
        return;
    };
    let tables = run.tables.len() as u64;
    let parts: Vec<(&str, u64)> = run
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    let mut lines = vec![format!(
        "Remove the {} rowsmith added in one run on {} ({}).",
        crate::output::rows_from_tables(&parts),
        p.created_at,
        p.source
    )];
    if p.already_gone > 0 {
        lines.push(format!(
            "{} more {} already gone.",
            p.already_gone,
            if p.already_gone == 1 { "was" } else { "were" }
        ));
    }
    let title = match &target {
        UndoTarget::Latest(_) => format!("Undo the run that last filled '{}'?", p.table),
        UndoTarget::Operation { id, .. } => format!(
            "Undo operation {id}, a run over {tables} {}?",
            crate::output::plural(tables, "table", "tables")
        ),
    };
    app.modal = Some(Modal::Confirm(Confirm {
        kind: ConfirmKind::Undo(target),
        title,
        lines,
        yes: format!(
            "Remove {} {} from {tables} {}",
            thousands(p.rows),
            rows_word(p.rows),
            crate::output::plural(tables, "table", "tables")
        ),
        on_yes: false,
    }));
}

/// The undo history arrived: open it on the newest operation of `table` that can still
/// be undone, with the note on top.
pub(super) fn on_operations(
    app: &mut App,
    table: &str,
    note: Option<String>,
    list: Result<Vec<(Operation, Option<String>)>, DbError>,
) -> Vec<Effect> {
    let operations = match list {
        Ok(list) => list,
        Err(message) => {
            app.popup("Cannot read the undo history", message.to_string());
            return Vec::new();
        }
    };
    if operations.is_empty() {
        match note {
            Some(note) => app.popup(&format!("Cannot undo on '{table}'"), note),
            None => app.toast(
                Level::Info,
                format!(
                    "rowsmith has added no rows to '{}' yet: nothing to undo.",
                    app.db_path
                ),
            ),
        }
        return Vec::new();
    }
    let touches = |op: &Operation| match &op.run {
        Some(run) => run.tables.iter().any(|(t, _)| t == table),
        None => op.table == table,
    };
    let cursor = operations
        .iter()
        .position(|(op, undone)| touches(op) && undone.is_none())
        .or_else(|| operations.iter().position(|(_, undone)| undone.is_none()))
        .unwrap_or(0);
    let mut history = History {
        note,
        operations,
        cursor,
        top: 0,
    };
    let height = layout::history_height(
        Rect::new(0, 0, app.size.0, app.size.1),
        history.operations.len(),
        history.note.as_deref(),
    );
    history.top = cursor.saturating_sub(height.saturating_sub(1));
    app.modal = Some(Modal::History(history));
    Vec::new()
}

/// An operation's record was cleared: say so, and show the history again.
pub(super) fn on_forgotten(app: &mut App, result: Result<Operation, DbError>) -> Vec<Effect> {
    match result {
        Ok(op) if op.run.is_some() => {
            let tables = op.run.as_ref().map_or(0, |r| r.tables.len()) as u64;
            app.toast(
                Level::Success,
                format!(
                    "Cleared the record of operation {}, a run of {} {} added to {tables} {} on {}. No row was touched.",
                    op.id.0,
                    thousands(op.rows),
                    rows_word(op.rows),
                    crate::output::plural(tables, "table", "tables"),
                    op.created_at
                ),
            );
            vec![Effect::ListOperations {
                table: op.table,
                note: None,
            }]
        }
        Ok(op) => {
            app.toast(
                Level::Success,
                format!(
                    "Cleared the record of operation {} ({} {} added to '{}' on {}). No row was touched.",
                    op.id.0,
                    thousands(op.rows),
                    rows_word(op.rows),
                    op.table,
                    op.created_at
                ),
            );
            vec![Effect::ListOperations {
                table: op.table,
                note: None,
            }]
        }
        Err(message) => {
            app.popup("Cannot clear the record", message.to_string());
            Vec::new()
        }
    }
}

/// A model run above `generate.confirm_rows`: the user decides, with its cost in view
/// once the estimate arrives.
pub(super) fn ask_large_run(app: &mut App, spec: GenSpec) {
    let rows = spec.rows;
    let verb = if spec.preview { "Preview" } else { "Generate" };
    app.modal = Some(Modal::Confirm(Confirm {
        title: format!(
            "{verb} {} {} for '{}' with a model?",
            thousands(rows),
            rows_word(rows),
            spec.table
        ),
        lines: vec![
            format!(
                "That is more than generate.confirm_rows ({}); every request costs money or model time.",
                thousands(app.confirm_rows)
            ),
            "Working out what it would cost…".into(),
        ],
        yes: format!("{verb} {} {}", thousands(rows), rows_word(rows)),
        on_yes: false,
        kind: ConfirmKind::LargeRun(spec),
    }));
}

/// The estimate for the run being asked about replaces the "working out" line.
pub(super) fn on_estimated(app: &mut App, spec: GenSpec, sentence: String) -> Vec<Effect> {
    if let Some(Modal::Confirm(c)) = app.modal.as_mut()
        && c.kind == ConfirmKind::LargeRun(spec)
        && let Some(line) = c.lines.get_mut(1)
    {
        *line = sentence;
    }
    Vec::new()
}

pub(super) fn on_drop_preview(
    app: &mut App,
    table: String,
    preview: Result<DropPreview, DbError>,
) -> Vec<Effect> {
    let p = match preview {
        Ok(p) => p,
        Err(message) => {
            app.popup(&format!("Cannot delete '{table}'"), message.to_string());
            return Vec::new();
        }
    };
    let what = p.kind.as_str();
    if !p.referenced_by.is_empty() {
        let names: Vec<String> = p.referenced_by.iter().map(|n| format!("'{n}'")).collect();
        app.popup(
            &format!("Cannot delete '{}'", p.name),
            format!(
                "Other tables point at '{}' through foreign keys ({}). Delete those first, or remove their foreign keys.",
                p.name,
                names.join(", ")
            ),
        );
        return Vec::new();
    }
    let rows = match p.rows {
        Some(n) => format!("It holds {} {}.", thousands(n), rows_word(n)),
        None => "Its row count cannot be read.".into(),
    };
    let mut lines = vec![rows];
    lines.push(if p.kind == ObjectKind::View {
        "Only the view goes; the tables it reads stay.".into()
    } else {
        "Its rows, indexes and triggers go with it. This cannot be undone.".into()
    });
    app.modal = Some(Modal::Confirm(Confirm {
        kind: ConfirmKind::Delete {
            table: p.name.clone(),
        },
        title: format!("Delete {what} '{}'?", p.name),
        lines,
        yes: "Delete".into(),
        on_yes: false,
    }));
    Vec::new()
}

pub(super) fn on_undone(app: &mut App, result: Result<UndoOutcome, DbError>) -> Vec<Effect> {
    match result {
        Ok(UndoOutcome {
            run: Some(run),
            note,
            ..
        }) => {
            let parts: Vec<(&str, u64)> = run
                .tables
                .iter()
                .map(|t| (t.table.as_str(), t.removed))
                .collect();
            app.toast(
                Level::Success,
                format!("Removed {}.", crate::output::rows_from_tables(&parts)),
            );
            if let Some(note) = note {
                app.toast(Level::Warning, note);
            }
            let mut effects: Vec<Effect> = Vec::new();
            for t in &run.tables {
                for effect in refresh_table(app, &t.table, Some(t.new_row_count)) {
                    if !effects.contains(&effect) {
                        effects.push(effect);
                    }
                }
            }
            effects
        }
        Ok(o) => {
            app.toast(
                Level::Success,
                format!(
                    "Removed {} {} from '{}'. New total: {} {}.",
                    thousands(o.removed),
                    rows_word(o.removed),
                    o.table,
                    thousands(o.new_row_count),
                    rows_word(o.new_row_count)
                ),
            );
            if let Some(note) = &o.note {
                app.toast(Level::Warning, note.clone());
            }
            let table = o.table.clone();
            refresh_table(app, &table, Some(o.new_row_count))
        }
        Err(message) => {
            app.popup("Undo failed", message.to_string());
            Vec::new()
        }
    }
}

pub(super) fn on_transfer_done(
    app: &mut App,
    result: Result<Transferred, TransferFailed>,
    changed: Vec<String>,
    relist: bool,
) -> Vec<Effect> {
    let (label, prompt) = app
        .transfer
        .take()
        .map(|t| (t.label, t.prompt))
        .unwrap_or_else(|| ("operation".into(), None));
    let mut effects = Vec::new();
    match result {
        Ok(done) => app.toast(Level::Success, done.to_string()),
        // The path typed stays, with why it failed, to be mended.
        Err(failed) if prompt.is_some() => {
            let message = failed.to_string();
            if let Some(mut prompt) = prompt {
                prompt.error = Some(crate::output::printable_lines(&message));
                app.modal = Some(Modal::Prompt(prompt));
            }
        }
        Err(failed) => {
            let message = failed.to_string();
            let mut title = label;
            if let Some(first) = title.get(..1) {
                title = format!("{}{} failed", first.to_uppercase(), &title[1..]);
            }
            app.popup(&title, message);
        }
    }
    if relist {
        // An imported table is selected once listed; a deleted one is not there to be.
        app.prefer = changed.first().cloned();
        effects.push(Effect::ListObjects);
    }
    for table in changed {
        effects.extend(refresh_table(app, &table, None));
    }
    effects
}
