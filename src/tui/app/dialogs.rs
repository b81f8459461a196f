//! Keys inside dialogs: confirmations, prompts, the generate dialog and the
//! preview grid.

use super::*;
use crate::config::Privacy;

pub(super) fn on_modal_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(modal) = app.modal.take() else {
        return Vec::new();
    };
    let (keep, effects) = match modal {
        Modal::Log { scroll } => {
            let last = app.log_last_scroll();
            let scroll = scroll.min(last);
            let scroll = match key.code {
                KeyCode::Down | KeyCode::Char('j') => Some(scroll.saturating_add(1).min(last)),
                KeyCode::Up | KeyCode::Char('k') => Some(scroll.saturating_sub(1)),
                KeyCode::PageDown => Some(scroll.saturating_add(10).min(last)),
                KeyCode::PageUp => Some(scroll.saturating_sub(10)),
                KeyCode::Home | KeyCode::Char('g') => Some(0),
                KeyCode::End | KeyCode::Char('G') => Some(last),
                KeyCode::Char('y') => {
                    let text = log_text(app);
                    let lines = app.log.len();
                    app.toast(
                        Level::Info,
                        format!(
                            "Copied the log ({lines} message{}) to the clipboard (OSC 52).",
                            crate::output::plural(lines as u64, "", "s")
                        ),
                    );
                    return vec![Effect::Copy(text)];
                }
                _ => None,
            };
            (scroll.map(|scroll| Modal::Log { scroll }), Vec::new())
        }
        Modal::Help { scroll } => {
            let scroll = match key.code {
                KeyCode::Down | KeyCode::Char('j') => Some(scroll.saturating_add(1)),
                KeyCode::Up | KeyCode::Char('k') => Some(scroll.saturating_sub(1)),
                KeyCode::PageDown => Some(scroll.saturating_add(10)),
                KeyCode::PageUp => Some(scroll.saturating_sub(10)),
                _ => None,
            };
            (scroll.map(|scroll| Modal::Help { scroll }), Vec::new())
        }
        Modal::Error { title, message } => match key.code {
            KeyCode::Enter | KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char(' ') => {
                (None, Vec::new())
            }
            _ => (Some(Modal::Error { title, message }), Vec::new()),
        },
        Modal::Cell(mut cell) => {
            if scroll_text(app, &mut cell, key.code) {
                (Some(Modal::Cell(cell)), Vec::new())
            } else {
                (None, Vec::new())
            }
        }
        Modal::Request(view) => on_request_key(app, *view, key),
        Modal::Confirm(confirm) => on_confirm_key(app, confirm, key),
        Modal::Prompt(prompt) => on_prompt_key(app, prompt, key),
        Modal::Generate(dialog) => on_dialog_key(app, dialog, key),
        Modal::Preview(preview) => on_preview_key(app, preview, key),
        Modal::History(history) => on_history_key(app, history, key),
        Modal::Whole(dialog) => whole::on_key(app, *dialog, key),
    };
    // A handler may have opened a new modal (or a popup); it wins.
    if app.modal.is_none() {
        app.modal = keep;
    }
    effects
}

/// The scrolling keys of a text viewer, which stops at the text's end; false for any
/// other key.
pub(super) fn scroll_text(app: &App, view: &mut CellView, code: KeyCode) -> bool {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let last = view
        .text
        .as_deref()
        .map_or(0, |text| layout::viewer_box(area, text).1);
    let scroll = view.scroll.min(last);
    view.scroll = match code {
        KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::PageDown => scroll.saturating_add(10),
        KeyCode::PageUp => scroll.saturating_sub(10),
        KeyCode::Home => 0,
        KeyCode::End => last,
        _ => return false,
    }
    .min(last);
    true
}

pub(super) fn on_confirm_key(
    app: &mut App,
    mut confirm: Confirm,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    let answer = match key.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => Some(true),
        KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => Some(false),
        KeyCode::Enter => Some(confirm.on_yes),
        KeyCode::Left
        | KeyCode::Right
        | KeyCode::Tab
        | KeyCode::BackTab
        | KeyCode::Char('h')
        | KeyCode::Char('l') => {
            confirm.on_yes = !confirm.on_yes;
            None
        }
        _ => None,
    };
    match answer {
        None => (Some(Modal::Confirm(confirm)), Vec::new()),
        Some(false) => (None, Vec::new()),
        Some(true) => {
            let effects = match confirm.kind {
                ConfirmKind::FromSchema(spec) => start_generation(app, spec),
                ConfirmKind::LargeRun(spec) => launch(app, spec),
                ConfirmKind::Undo(target) => {
                    app.undoing = Some(Undoing {
                        target: target.clone(),
                        started: app.tick,
                    });
                    vec![Effect::Undo(target)]
                }
                ConfirmKind::Forget { id, .. } => vec![Effect::Forget(id)],
                ConfirmKind::Delete { table } => {
                    app.transfer = Some(Transfer {
                        started: app.tick,
                        label: format!("delete of '{table}'"),
                        done: 0,
                        total: None,
                        prompt: None,
                    });
                    vec![Effect::Drop(table)]
                }
                ConfirmKind::CancelJob(id) => match app.jobs.iter().position(|j| j.id == id) {
                    Some(index) if !app.jobs[index].cancelling => cancel_job(app, index),
                    _ => Vec::new(),
                },
                ConfirmKind::CancelWhole(id) => whole::cancel_now(app, id),
                ConfirmKind::Quit => quit_now(app),
            };
            (None, effects)
        }
    }
}

pub(super) fn on_prompt_key(
    app: &mut App,
    mut prompt: Prompt,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    if let Some(question) = prompt.question.take() {
        return on_question_key(app, prompt, question, key);
    }
    match key.code {
        KeyCode::Esc => (None, Vec::new()),
        KeyCode::Tab => {
            let text = prompt.input.text.clone();
            let dir = app.places.listing_dir(&text);
            (
                Some(Modal::Prompt(prompt)),
                vec![Effect::ListDir { text, dir }],
            )
        }
        KeyCode::Enter => {
            let typed = prompt.input.text.trim();
            if typed.is_empty() {
                prompt.error = Some("Type a file path first.".into());
                return (Some(Modal::Prompt(prompt)), Vec::new());
            }
            let path = app.places.resolve(typed);
            let effect = match &prompt.kind {
                PromptKind::Export { table } => Effect::Export {
                    table: table.clone(),
                    path,
                    replace: false,
                },
                PromptKind::ExportQuery { sql } => Effect::ExportQuery {
                    sql: sql.clone(),
                    path,
                    replace: false,
                },
                PromptKind::Import => Effect::Import {
                    path,
                    table: None,
                    append: false,
                },
                PromptKind::OpenDatabase => {
                    // The prompt stays up until the file has been opened (or said why not).
                    prompt.error = None;
                    prompt.note = Some(format!("Opening {}…", path.display()));
                    return (
                        Some(Modal::Prompt(prompt)),
                        vec![Effect::OpenDatabase(path)],
                    );
                }
            };
            start_transfer(app, prompt, effect)
        }
        _ => {
            if prompt.input.edit(&key) {
                prompt.error = None;
                prompt.candidates.clear();
                prompt.listable = None;
            }
            (Some(Modal::Prompt(prompt)), Vec::new())
        }
    }
}

/// The keys of a question asked in a prompt: the answer starts the transfer,
/// or goes back to the path.
fn on_question_key(
    app: &mut App,
    mut prompt: Prompt,
    question: Question,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    let back = |prompt: Prompt| (Some(Modal::Prompt(prompt)), Vec::new());
    let effect = match (&question, key.code) {
        (Question::Overwrite { path }, KeyCode::Char('y' | 'Y')) => match &prompt.kind {
            PromptKind::Export { table } => Effect::Export {
                table: table.clone(),
                path: path.clone(),
                replace: true,
            },
            PromptKind::ExportQuery { sql } => Effect::ExportQuery {
                sql: sql.clone(),
                path: path.clone(),
                replace: true,
            },
            PromptKind::Import | PromptKind::OpenDatabase => return back(prompt),
        },
        // No is the default: Enter keeps the file.
        (Question::Overwrite { .. }, KeyCode::Char('n' | 'N') | KeyCode::Enter | KeyCode::Esc) => {
            return back(prompt);
        }
        (Question::Append { path, .. }, KeyCode::Char('a' | 'A')) => Effect::Import {
            path: path.clone(),
            table: None,
            append: true,
        },
        // The new table is the default: appending is the one that cannot be taken back
        // by deleting a table.
        (
            Question::Append {
                path, new_table, ..
            },
            KeyCode::Char('n' | 'N') | KeyCode::Enter,
        ) => Effect::Import {
            path: path.clone(),
            table: Some(new_table.clone()),
            append: false,
        },
        (Question::Append { .. }, KeyCode::Esc) => return back(prompt),
        _ => {
            prompt.question = Some(question);
            return back(prompt);
        }
    };
    start_transfer(app, prompt, effect)
}

/// Starts the transfer a prompt asked for, keeping the prompt to reopen on a
/// failure or a question.
fn start_transfer(
    app: &mut App,
    mut prompt: Prompt,
    effect: Effect,
) -> (Option<Modal>, Vec<Effect>) {
    let (label, total) = match &effect {
        Effect::Export { table, .. } => (format!("export of '{table}'"), app.count_of(table)),
        Effect::Import { path, .. } => (format!("import of '{}'", path.display()), None),
        _ => ("export of the query result".to_string(), None),
    };
    prompt.error = None;
    prompt.candidates.clear();
    prompt.listable = None;
    prompt.question = None;
    app.transfer = Some(Transfer {
        started: app.tick,
        label,
        done: 0,
        total,
        prompt: Some(prompt),
    });
    (None, vec![effect])
}

/// Takes back the prompt of the transfer that stopped, to ask or to show why.
fn reopen(app: &mut App) -> Option<Prompt> {
    app.transfer.take().and_then(|t| t.prompt)
}

pub(super) fn on_export_exists(app: &mut App, path: PathBuf) -> Vec<Effect> {
    match reopen(app) {
        Some(mut prompt) => {
            prompt.question = Some(Question::Overwrite { path });
            app.modal = Some(Modal::Prompt(prompt));
        }
        None => app.toast(
            Level::Info,
            format!("'{}' exists; nothing was exported.", path.display()),
        ),
    }
    Vec::new()
}

pub(super) fn on_import_would_append(
    app: &mut App,
    path: PathBuf,
    table: String,
    columns: usize,
    new_table: String,
) -> Vec<Effect> {
    match reopen(app) {
        Some(mut prompt) => {
            prompt.question = Some(Question::Append {
                path,
                table,
                columns,
                new_table,
            });
            app.modal = Some(Modal::Prompt(prompt));
        }
        None => app.toast(Level::Info, "Cancelled the import. Nothing was imported."),
    }
    Vec::new()
}

/// A directory's entries for the Tab pressed on `text`: complete, or on a
/// second Tab that cannot complete further, list the candidates.
pub(super) fn on_dir_listed(
    app: &mut App,
    text: &str,
    entries: Result<Vec<Entry>, String>,
) -> Vec<Effect> {
    let Some(Modal::Prompt(p)) = app.modal.as_mut() else {
        return Vec::new();
    };
    // Typed on since, or a question came up: this listing is stale.
    if p.input.text != text || p.question.is_some() {
        return Vec::new();
    }
    let entries = match entries {
        Ok(e) => e,
        Err(e) => {
            p.error = Some(e);
            return Vec::new();
        }
    };
    let done = crate::tui::paths::complete(text, &entries);
    if done.text != text {
        p.input.set(done.text);
        p.candidates.clear();
        p.listable = (done.candidates.len() > 1).then(|| p.input.text.clone());
    } else if done.candidates.len() > 1 {
        if p.listable.as_deref() == Some(text) {
            p.candidates = done.candidates;
        } else {
            p.listable = Some(text.to_string());
        }
    }
    Vec::new()
}

/// The answer to opening another database: on success the app ends to start again on it
/// (the runtime holds it); otherwise the prompt says why, the path kept to mend.
pub(super) fn on_database_opened(app: &mut App, result: Result<String, DbError>) -> Vec<Effect> {
    let prompt = match app.modal.as_mut() {
        Some(Modal::Prompt(p)) if p.kind == PromptKind::OpenDatabase => p,
        // The prompt was closed meanwhile: the user changed their mind.
        _ => return Vec::new(),
    };
    match result {
        Ok(path) => {
            app.modal = None;
            app.toast(Level::Info, format!("Opened {path}."));
            app.reopen = true;
            app.quit = true;
        }
        Err(message) => {
            prompt.note = None;
            prompt.error = Some(message.to_string());
        }
    }
    Vec::new()
}

pub(super) fn on_dialog_key(
    app: &mut App,
    mut d: GenDialog,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    if app.keymap.pressed(Action::ShowPrompt, &key) {
        return show_request(app, d);
    }
    let fields = GenField::ALL;
    let at = fields.iter().position(|f| *f == d.field).unwrap_or(0);
    let model_editable = app
        .providers
        .get(d.provider)
        .is_some_and(|p| p.model_editable);
    match key.code {
        KeyCode::Esc => return (None, Vec::new()),
        KeyCode::Tab | KeyCode::Down => d.field = fields[(at + 1) % fields.len()],
        KeyCode::BackTab | KeyCode::Up => d.field = fields[(at + fields.len() - 1) % fields.len()],
        KeyCode::Left | KeyCode::Right
            if d.field == GenField::Provider && !app.providers.is_empty() =>
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
        }
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if d.field == GenField::Privacy => {
            // Default, then each setting in turn.
            const ORDER: [Option<Privacy>; 4] = [
                None,
                Some(Privacy::Mask),
                Some(Privacy::Samples),
                Some(Privacy::Schema),
            ];
            let at = ORDER.iter().position(|p| *p == d.privacy).unwrap_or(0);
            let step = if key.code == KeyCode::Left { 3 } else { 1 };
            d.privacy = ORDER[(at + step) % ORDER.len()];
        }
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if d.field == GenField::Preview => {
            d.preview = !d.preview;
        }
        KeyCode::Enter => {
            let Some(spec) = dialog_spec(app, &mut d) else {
                return (Some(Modal::Generate(d)), Vec::new());
            };
            if d.preview && spec.rows > crate::generate::job::PREVIEW_MAX as u64 {
                d.error = Some(format!(
                    "A preview shows at most {} rows; ask for fewer, or turn the preview off.",
                    crate::output::thousands(crate::generate::job::PREVIEW_MAX as u64)
                ));
                d.field = GenField::Rows;
                return (Some(Modal::Generate(d)), Vec::new());
            }
            if app.job_for(&d.table).is_some() {
                d.error = Some(format!("'{}' is already generating.", d.table));
                return (Some(Modal::Generate(d)), Vec::new());
            }
            return (None, start_generation(app, spec));
        }
        _ => {
            let edited = match d.field {
                GenField::Rows => {
                    matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit())
                        || !matches!(key.code, KeyCode::Char(_))
                        || key.modifiers.contains(KeyModifiers::CONTROL)
                }
                GenField::Model => model_editable,
                _ => false,
            };
            if edited {
                match d.field {
                    GenField::Rows => {
                        d.rows.edit(&key);
                    }
                    GenField::Model => {
                        d.model.edit(&key);
                    }
                    _ => {}
                }
                d.error = None;
            }
        }
    }
    (Some(Modal::Generate(d)), Vec::new())
}

/// The generation the dialog is filled in for, or `None` with the field to mend and why
/// in the dialog.
pub(super) fn dialog_spec(app: &App, d: &mut GenDialog) -> Option<GenSpec> {
    let rows = match d.rows.text.trim().replace([',', '_'], "").parse::<u64>() {
        Ok(n) if (1..=app.max_rows).contains(&n) => n,
        _ => {
            d.error = Some(format!(
                "Rows must be a whole number from 1 to {} (generate.max_rows).",
                crate::output::thousands(app.max_rows)
            ));
            d.field = GenField::Rows;
            return None;
        }
    };
    let option = app.providers.get(d.provider);
    let model_editable = option.is_some_and(|p| p.model_editable);
    let model = d.model.text.trim().to_string();
    if model_editable && model.is_empty() {
        d.error = Some("Name a model, or pick another provider.".into());
        d.field = GenField::Model;
        return None;
    }
    let mut spec = GenSpec::new(&d.table, rows);
    spec.preview = d.preview;
    spec.privacy = d.privacy;
    if d.provider != app.provider {
        spec.provider = option.map(|p| p.choice);
    }
    if model_editable && option.is_some_and(|p| p.model != model) {
        spec.model = Some(model);
        spec.provider = option.map(|p| p.choice);
    }
    Some(spec)
}

pub(super) fn on_preview_key(
    app: &mut App,
    mut p: Preview,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    let height = layout::preview_height(Rect::new(0, 0, app.size.0, app.size.1), p.len());
    let last = p.len().saturating_sub(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => {
            app.toast(
                Level::Info,
                format!(
                    "Discarded the preview for '{}'. Nothing was written.",
                    p.spec.table
                ),
            );
            return (None, Vec::new());
        }
        KeyCode::Down | KeyCode::Char('j') => p.cursor = (p.cursor + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => p.cursor = p.cursor.saturating_sub(1),
        KeyCode::PageDown => p.cursor = (p.cursor + height).min(last),
        KeyCode::PageUp => p.cursor = p.cursor.saturating_sub(height),
        KeyCode::Home => p.cursor = 0,
        KeyCode::End => p.cursor = last,
        KeyCode::Left | KeyCode::Char('h') => p.left = p.left.saturating_sub(1),
        KeyCode::Right | KeyCode::Char('l') => {
            p.left = (p.left + 1).min(p.columns.len().saturating_sub(1))
        }
        KeyCode::Char('x') | KeyCode::Char('d') | KeyCode::Delete | KeyCode::Char(' ') => {
            if let Some(d) = p.dropped.get_mut(p.cursor) {
                *d = !*d;
            }
            p.cursor = (p.cursor + 1).min(last);
        }
        KeyCode::Char('r') => {
            let spec = p.spec.clone();
            return (None, start_generation(app, spec));
        }
        KeyCode::Char('a') | KeyCode::Enter => {
            let rows = p.kept();
            if rows.is_empty() {
                app.toast(Level::Info, "Every row is dropped; nothing to insert.");
                return (Some(Modal::Preview(p)), Vec::new());
            }
            let mut spec = p.spec.clone();
            spec.preview = false;
            // Id 0 marks the insert of accepted rows: it shows a spinner too.
            let received = rows.len() as u64;
            app.jobs
                .push(Job::new(0, spec.clone(), "inserting", received, app.tick));
            return (None, vec![Effect::InsertPreviewed { spec, rows }]);
        }
        _ => {}
    }
    if p.cursor < p.top {
        p.top = p.cursor;
    } else if p.cursor >= p.top + height.max(1) {
        p.top = p.cursor + 1 - height.max(1);
    }
    (Some(Modal::Preview(p)), Vec::new())
}

/// The undo history: move, undo the selected operation, or clear its record.
pub(super) fn on_history_key(
    app: &mut App,
    mut h: History,
    key: KeyEvent,
) -> (Option<Modal>, Vec<Effect>) {
    let last = h.operations.len().saturating_sub(1);
    let height = layout::history_height(
        Rect::new(0, 0, app.size.0, app.size.1),
        h.operations.len(),
        h.note.as_deref(),
    );
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => return (None, Vec::new()),
        KeyCode::Down | KeyCode::Char('j') => h.cursor = (h.cursor + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => h.cursor = h.cursor.saturating_sub(1),
        KeyCode::PageDown => h.cursor = (h.cursor + height).min(last),
        KeyCode::PageUp => h.cursor = h.cursor.saturating_sub(height),
        KeyCode::Home | KeyCode::Char('g') => h.cursor = 0,
        KeyCode::End | KeyCode::Char('G') => h.cursor = last,
        KeyCode::Enter | KeyCode::Char('u') | KeyCode::Char('f') => {
            let Some((op, undone)) = h.selected() else {
                return (Some(Modal::History(h)), Vec::new());
            };
            let (id, table) = (op.id.0, op.table.clone());
            if let Some(when) = undone {
                app.toast(
                    Level::Info,
                    format!("Operation {id} was already undone or cleared on {when}."),
                );
                return (Some(Modal::History(h)), Vec::new());
            }
            let action = if key.code == KeyCode::Char('f') {
                Action::UndoHistory
            } else {
                Action::Undo
            };
            if read_only_refusal(app, action) {
                return (Some(Modal::History(h)), Vec::new());
            }
            if key.code == KeyCode::Char('f') {
                let added = match &op.run {
                    Some(run) => {
                        let names: Vec<String> =
                            run.tables.iter().map(|(t, _)| t.clone()).collect();
                        format!(
                            "rowsmith forgets the {} {} it added to {} in one run on {}: undo will not offer them again.",
                            thousands(op.rows),
                            rows_word(op.rows),
                            crate::db::undo::quoted_names(&names),
                            op.created_at
                        )
                    }
                    None => format!(
                        "rowsmith forgets the {} {} it added to '{table}' on {}: undo will not offer them again.",
                        thousands(op.rows),
                        rows_word(op.rows),
                        op.created_at
                    ),
                };
                app.modal = Some(Modal::Confirm(Confirm {
                    title: format!("Clear the record of operation {id}?"),
                    lines: vec![added, "No row is touched.".into()],
                    yes: "Clear the record".into(),
                    on_yes: false,
                    kind: ConfirmKind::Forget { id, table },
                }));
                return (None, Vec::new());
            }
            checking(
                app,
                format!("working out what undoing operation #{id} would remove"),
            );
            return (
                None,
                vec![Effect::PreviewUndo(UndoTarget::Operation { id, table })],
            );
        }
        _ => {}
    }
    if h.cursor < h.top {
        h.top = h.cursor;
    } else if h.cursor >= h.top + height.max(1) {
        h.top = h.cursor + 1 - height.max(1);
    }
    (Some(Modal::History(h)), Vec::new())
}

/// The whole log as plain text, a message a line: what `y` copies.
pub(super) fn log_text(app: &App) -> String {
    app.log
        .iter()
        .map(|t| format!("{} {}", t.at, t.text.replace('\n', " ")))
        .collect::<Vec<_>>()
        .join("\n")
}
