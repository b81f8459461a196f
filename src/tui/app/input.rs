//! Keys and mouse outside dialogs: moving, opening, and starting actions.

use super::*;

pub(super) fn move_list(app: &mut App, delta: isize) -> Vec<Effect> {
    let target = (app.selected as isize + delta).max(0) as usize;
    select(app, target)
}

pub(super) fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return quit_now(app);
    }
    if key.code == KeyCode::Char('z') && key.modifiers.contains(KeyModifiers::CONTROL) {
        // Back to the shell; `fg` resumes where the user was, work still running.
        return vec![Effect::Suspend];
    }
    if app.modal.is_some() {
        return on_modal_key(app, key);
    }
    if app.filtering {
        return on_filter_key(app, key);
    }
    if app.row_input.is_some() {
        return on_row_input_key(app, key);
    }
    if app.query_line.is_some() {
        return on_query_key(app, key);
    }
    match app.keymap.action(&key, app.pane()) {
        Some(action) => on_action(app, action),
        None => Vec::new(),
    }
}

pub(super) fn quit_now(app: &mut App) -> Vec<Effect> {
    app.quit = true;
    let mut effects: Vec<Effect> = app.jobs.iter().map(|j| Effect::CancelJob(j.id)).collect();
    if let Some(w) = &app.whole {
        effects.push(Effect::CancelWhole(w.id));
    }
    if app.transfer.is_some() {
        effects.push(Effect::CancelTransfer);
    }
    if let Some(q) = &app.query {
        effects.push(Effect::CancelQuery(q.id));
    }
    effects.push(Effect::Quit);
    effects
}

pub(super) fn on_filter_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            let before = selected_name(app);
            app.filtering = false;
            app.filter.clear();
            refilter(app, before)
        }
        KeyCode::Enter => {
            app.filtering = false;
            Vec::new()
        }
        KeyCode::Up => move_list(app, -1),
        KeyCode::Down => move_list(app, 1),
        _ => {
            let before = selected_name(app);
            if app.filter.edit(&key) {
                refilter(app, before)
            } else {
                Vec::new()
            }
        }
    }
}

fn selected_name(app: &App) -> Option<String> {
    app.selected_table().map(|t| t.name.clone())
}

/// After the filter changed: `before` (the table selected until now) stays selected while
/// it still matches; else the open table; else the first match.
pub(super) fn refilter(app: &mut App, before: Option<String>) -> Vec<Effect> {
    let selected = before;
    let open = app.grid.as_ref().map(|g| g.table.clone());
    let visible = app.visible();
    let at = |name: &String| visible.iter().position(|&i| app.tables[i].name == *name);
    app.selected = selected
        .as_ref()
        .and_then(at)
        .or_else(|| open.as_ref().and_then(at))
        .unwrap_or(0);
    app.list_top = 0;
    keep_list_visible(app);
    show_selected(app, false)
}

/// Refuses an action that writes when the database is read-only.
pub(super) fn read_only_refusal(app: &mut App, action: Action) -> bool {
    if !app.read_only {
        return false;
    }
    let what = match action {
        Action::Generate | Action::GenerateDialog => "generate rows",
        Action::FillDatabase => "fill the database",
        Action::Undo => "undo",
        Action::UndoHistory => "clear undo records",
        Action::Import => "import",
        _ => "delete tables",
    };
    app.toast(
        Level::Warning,
        format!("The database is open read-only (--read-only), so rowsmith cannot {what}."),
    );
    true
}

pub(super) fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    if whole::refused_while_filling(app, action) {
        return Vec::new();
    }
    let height = app.grid_height();
    let pane = app.pane();
    match action {
        Action::Quit => {
            let lines = quit_lines(app);
            if lines.is_empty() {
                return quit_now(app);
            }
            app.modal = Some(Modal::Confirm(Confirm {
                kind: ConfirmKind::Quit,
                title: "Quit?".into(),
                lines,
                yes: "Quit".into(),
                on_yes: false,
            }));
            Vec::new()
        }
        Action::Help => {
            app.modal = Some(Modal::Help { scroll: 0 });
            Vec::new()
        }
        Action::SwitchPane => {
            app.focus = if app.focus == Pane::List {
                Pane::Rows
            } else {
                Pane::List
            };
            Vec::new()
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::First
        | Action::Last => on_move(app, action, pane, height),
        Action::Left | Action::Right => {
            let width = layout::grid_width(app.areas().main) as usize;
            if let Some(g) = app.active_grid_mut() {
                g.move_col(if action == Action::Left { -1 } else { 1 });
                g.fit(width, height);
            }
            Vec::new()
        }
        Action::Open => {
            if matches!(pane, Pane::Rows | Pane::Results) {
                return view_cell(app);
            }
            let was = app.mode;
            app.mode = Mode::Rows;
            if app.selected_table().is_some() {
                app.focus = Pane::Rows;
            }
            show_selected(app, was != Mode::Rows)
        }
        Action::ViewCell => view_cell(app),
        Action::CopyCell => copy_cell(app, false),
        Action::CopyRow => copy_cell(app, true),
        Action::Schema => {
            app.mode = if app.mode == Mode::Schema {
                Mode::Rows
            } else {
                Mode::Schema
            };
            show_selected(app, false)
        }
        Action::Query => open_line(app),
        // In a table's rows, `/` searches them; elsewhere it filters the tables.
        Action::Filter if pane == Pane::Rows => open_search(app),
        Action::Sort => sort(app),
        Action::GoToRow => open_go_to(app),
        Action::Filter => {
            app.filtering = true;
            app.focus = Pane::List;
            Vec::new()
        }
        Action::Generate => {
            if read_only_refusal(app, action) {
                return Vec::new();
            }
            let Some(table) = generatable(app) else {
                return Vec::new();
            };
            let spec = GenSpec::new(&table, app.default_rows);
            start_generation(app, spec)
        }
        Action::GenerateDialog => {
            if read_only_refusal(app, action) {
                return Vec::new();
            }
            let Some(table) = generatable(app) else {
                return Vec::new();
            };
            let model = app
                .providers
                .get(app.provider)
                .map(|p| p.model.clone())
                .unwrap_or_default();
            app.modal = Some(Modal::Generate(GenDialog {
                table,
                field: GenField::Rows,
                rows: Input::new(app.default_rows.to_string()),
                provider: app.provider,
                model: Input::new(model),
                privacy: None,
                preview: true,
                error: None,
            }));
            Vec::new()
        }
        Action::FillDatabase => {
            if read_only_refusal(app, action) {
                return Vec::new();
            }
            whole::open(app)
        }
        // The generate dialog's own key: no pane asks for it (`on_dialog_key` does).
        Action::ShowPrompt => Vec::new(),
        Action::Cancel => cancel(app),
        Action::Back => back(app),
        Action::Log => {
            // Opens on the newest message.
            app.modal = Some(Modal::Log { scroll: u16::MAX });
            Vec::new()
        }
        Action::OpenDatabase => {
            // Work in flight belongs to this database: it finishes (or is cancelled) here.
            if !app.jobs.is_empty()
                || app.whole.is_some()
                || app.transfer.is_some()
                || app.undoing.is_some()
                || app.query.is_some()
            {
                let text = format!(
                    "Another database can be opened once the work running here is done, or cancelled with {}.",
                    cancel_key(app)
                );
                app.toast(Level::Warning, text);
                return Vec::new();
            }
            // Starts in the folder of the database open now, whose neighbours are the likely
            // ones; from the demo (in rowsmith's own folder), where rowsmith was started.
            let folder = std::path::Path::new(&app.db_path)
                .parent()
                .filter(|_| crate::db::server_engine(std::path::Path::new(&app.db_path)).is_none())
                .filter(|p| !p.as_os_str().is_empty())
                .filter(|p| app.places.data_dir.as_deref() != Some(*p))
                .unwrap_or(&app.places.launch_dir);
            let folder = format!("{}/", folder.display()).replace("//", "/");
            let mut prompt = Prompt::new(
                PromptKind::OpenDatabase,
                "Open another database".into(),
                "SQLite file",
                folder,
            );
            prompt.note = Some(if app.read_only {
                "Opens read-only, as this one is. The message log comes along.".into()
            } else {
                "Tab completes the path. The message log comes along.".into()
            });
            app.modal = Some(Modal::Prompt(prompt));
            Vec::new()
        }
        Action::Undo => {
            if read_only_refusal(app, action) {
                return Vec::new();
            }
            let Some(table) = idle_selected_table(
                app,
                "wait for it to finish, or press {cancel} to cancel it first",
            ) else {
                return Vec::new();
            };
            checking(
                app,
                format!("working out what undo would remove from '{table}'"),
            );
            vec![Effect::PreviewUndo(UndoTarget::Latest(table))]
        }
        Action::UndoHistory => {
            let table = app
                .selected_table()
                .map(|t| t.name.clone())
                .unwrap_or_default();
            vec![Effect::ListOperations { table, note: None }]
        }
        Action::Export => {
            if pane == Pane::Results {
                return export_results(app);
            }
            let Some(table) = app.selected_table().map(|t| t.name.clone()) else {
                return Vec::new();
            };
            if busy_transfer(app) {
                return Vec::new();
            }
            let path = default_path(app, &file_stem_for(&table));
            app.modal = Some(Modal::Prompt(Prompt::new(
                PromptKind::Export {
                    table: table.clone(),
                },
                format!("Export '{table}'"),
                "CSV file",
                path,
            )));
            Vec::new()
        }
        Action::Import => {
            if read_only_refusal(app, action) || busy_transfer(app) {
                return Vec::new();
            }
            let mut prompt = Prompt::new(
                PromptKind::Import,
                "Import a file".into(),
                "CSV or JSON file",
                String::new(),
            );
            prompt.note = Some(
                "A new table named after the file; when a table of that name exists, you choose: append to it, or a new table."
                    .into(),
            );
            app.modal = Some(Modal::Prompt(prompt));
            Vec::new()
        }
        Action::Delete => {
            if read_only_refusal(app, action) || busy_transfer(app) {
                return Vec::new();
            }
            let Some(table) =
                idle_selected_table(app, "cancel it with {cancel} before deleting the table")
            else {
                return Vec::new();
            };
            checking(
                app,
                format!("working out what deleting '{table}' would remove"),
            );
            vec![Effect::PreviewDrop(table)]
        }
        Action::Reload => {
            for t in &mut app.tables {
                t.count = Count::Pending;
            }
            let mut effects = vec![Effect::ListObjects];
            if let Some(g) = app.grid.as_mut() {
                effects.push(Effect::LoadPage(g.reload()));
            }
            if let Some(s) = app.schema.as_mut() {
                s.info = None;
                effects.push(Effect::LoadSchema(s.table.clone()));
            }
            effects
        }
    }
}

/// The selected table, unless a generation is still writing to it: then the user hears
/// so, with `what_to_do` (`{cancel}` stands for the cancel key), and gets `None`.
fn idle_selected_table(app: &mut App, what_to_do: &str) -> Option<String> {
    let table = app.selected_table().map(|t| t.name.clone())?;
    if app.job_for(&table).is_some() {
        let what_to_do = what_to_do.replace("{cancel}", &cancel_key(app));
        app.toast(
            Level::Warning,
            format!("'{table}' is still generating; {what_to_do}."),
        );
        return None;
    }
    Some(table)
}

/// Says on the work line what is being worked out until its answer comes.
pub(super) fn checking(app: &mut App, label: String) {
    app.checking = Some(Checking {
        label,
        started: app.tick,
    });
}

pub(super) fn busy_transfer(app: &mut App) -> bool {
    if let Some(t) = &app.transfer {
        let text = format!(
            "Wait for the {} to finish, or press {} to cancel it.",
            t.label,
            cancel_key(app)
        );
        app.toast(Level::Warning, text);
        return true;
    }
    false
}

/// A file name for a table: its name with path separators replaced.
/// `<stem>.csv` in the launch directory, absolute so the user sees where it goes.
pub(super) fn default_path(app: &App, stem: &str) -> String {
    app.places
        .launch_dir
        .join(format!("{stem}.csv"))
        .display()
        .to_string()
}

pub(super) fn file_stem_for(table: &str) -> String {
    table
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

pub(super) fn on_move(app: &mut App, action: Action, pane: Pane, height: usize) -> Vec<Effect> {
    match pane {
        Pane::List => {
            let page = app.list_height() as isize;
            match action {
                Action::Up => move_list(app, -1),
                Action::Down => move_list(app, 1),
                Action::PageUp => move_list(app, -page),
                Action::PageDown => move_list(app, page),
                Action::First => select(app, 0),
                _ => select(app, usize::MAX),
            }
        }
        Pane::Rows | Pane::Results => {
            let Some(g) = app.active_grid_mut() else {
                return Vec::new();
            };
            let page = height.max(1) as isize;
            let request = match action {
                Action::Up => g.move_by(-1, height),
                Action::Down => g.move_by(1, height),
                Action::PageUp => g.move_by(-page, height),
                Action::PageDown => g.move_by(page, height),
                Action::First => g.jump_start(),
                _ => g.jump_end(height),
            };
            request.map(Effect::LoadPage).into_iter().collect()
        }
        Pane::Schema => {
            if let Some(s) = app.schema.as_mut() {
                let page = height.max(1) as u16;
                s.scroll = match action {
                    Action::Up => s.scroll.saturating_sub(1),
                    Action::Down => s.scroll.saturating_add(1),
                    Action::PageUp => s.scroll.saturating_sub(page),
                    Action::PageDown => s.scroll.saturating_add(page),
                    Action::First => 0,
                    _ => u16::MAX / 2,
                };
            }
            Vec::new()
        }
    }
}

pub(super) fn view_cell(app: &mut App) -> Vec<Effect> {
    let Some(g) = app.active_grid() else {
        return Vec::new();
    };
    let (Some(row), Some(column)) = (g.current(), g.columns.get(g.col)) else {
        return Vec::new();
    };
    let title = format!("{} · {}", g.table, column);
    let Some(value) = row.values.get(g.col) else {
        return Vec::new();
    };
    if row.cut_len(g.col).is_some() {
        let effect = Effect::LoadCell {
            table: g.table.clone(),
            lens: g.lens.clone(),
            key: row.key.clone(),
            column: column.clone(),
        };
        app.modal = Some(Modal::Cell(CellView {
            title,
            text: None,
            scroll: 0,
        }));
        return vec![effect];
    }
    let text = full_text(value);
    app.modal = Some(Modal::Cell(CellView {
        title,
        text: Some(text),
        scroll: 0,
    }));
    Vec::new()
}

/// `y` / `Y`: the selected cell, or its whole row as one JSON object, onto the clipboard.
pub(super) fn copy_cell(app: &mut App, whole_row: bool) -> Vec<Effect> {
    let Some(g) = app.active_grid() else {
        return Vec::new();
    };
    let Some(row) = g.current() else {
        return Vec::new();
    };
    let cut = if whole_row {
        (0..row.values.len()).any(|i| row.cut_len(i).is_some())
    } else {
        row.cut_len(g.col).is_some()
    };
    if cut {
        app.toast(
            Level::Warning,
            "That value is longer than the grid holds (query.max_cell_bytes); v shows it whole, export writes it whole.",
        );
        return Vec::new();
    }
    let (text, what) = if whole_row {
        let object: serde_json::Map<String, serde_json::Value> = g
            .columns
            .iter()
            .zip(&row.values)
            .map(|(c, v)| (c.clone(), crate::db::value::to_json(v)))
            .collect();
        (
            serde_json::Value::Object(object).to_string(),
            "the row".to_string(),
        )
    } else {
        let Some(value) = row.values.get(g.col) else {
            return Vec::new();
        };
        let column = g.columns.get(g.col).cloned().unwrap_or_default();
        (full_text(value), column)
    };
    app.toast(
        Level::Info,
        format!(
            "Copied {what} ({} characters) to the clipboard.",
            thousands(text.chars().count() as u64)
        ),
    );
    vec![Effect::Copy(text)]
}

/// A value shown whole: text as is, blobs as hex.
pub(super) fn full_text(value: &Value) -> String {
    match value {
        Value::Blob(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("<{} bytes> {hex}", b.len())
        }
        Value::Null => "NULL".into(),
        other => crate::db::value::display(other),
    }
}

/// The selected table if rows can be generated for it; otherwise says why.
pub(super) fn generatable(app: &mut App) -> Option<String> {
    let entry = app.selected_table()?.clone();
    if !entry.kind.generatable() {
        app.toast(
            Level::Warning,
            format!(
                "'{}' is a {}, not a table, so rowsmith cannot add rows to it.",
                entry.name,
                entry.kind.as_str()
            ),
        );
        return None;
    }
    if app.job_for(&entry.name).is_some() {
        app.toast(
            Level::Info,
            format!(
                "'{}' is already generating; {} cancels it.",
                entry.name,
                cancel_key(app)
            ),
        );
        return None;
    }
    Some(entry.name)
}

/// The cancel key as the hint bar shows it.
pub(super) fn cancel_key(app: &App) -> String {
    app.keymap
        .short(Action::Cancel)
        .unwrap_or_else(|| "x".into())
}

/// What quitting now would stop, a sentence each; empty when nothing runs.
pub(super) fn quit_lines(app: &App) -> Vec<String> {
    let mut lines = Vec::new();
    let n = app.jobs.len();
    if n > 0 {
        lines.push(format!(
            "{n} generation{} still running. Quitting cancels {}; rows already added stay.",
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" }
        ));
    }
    if app.whole.is_some() {
        lines.push(
            "The whole database is still being filled. Quitting cancels it and takes back the rows it added."
                .into(),
        );
    }
    if let Some(t) = &app.transfer {
        lines.push(format!(
            "The {} is still running. Quitting cancels it and leaves the database as it was.",
            t.label
        ));
    }
    if let Some(table) = app.undoing.as_ref().map(Undoing::table) {
        lines.push(format!(
            "The undo on '{table}' is still running. Quitting rolls it back: nothing is removed."
        ));
    }
    if app.query.is_some() {
        lines.push("A query is still running. Quitting interrupts it; it changes nothing.".into());
    }
    lines
}

/// A generation that has run this many ticks (ten a second) is cancelled only after a yes:
/// by then it has done work the user may not want to lose to a stray key.
const ASK_BEFORE_CANCEL_TICKS: u64 = 50;

/// Esc: closes the topmost thing (messages, the filter, the focus on a pane) and never
/// cancels work; that is the cancel key's job.
pub(super) fn back(app: &mut App) -> Vec<Effect> {
    if !app.toasts.is_empty() {
        // They stay in the message log.
        app.toasts.clear();
        return Vec::new();
    }
    if let Some(effects) = clear_lens(app) {
        return effects;
    }
    if !app.filter.text.is_empty() {
        let before = selected_name(app);
        app.filter.clear();
        return refilter(app, before);
    }
    if app.focus != Pane::List {
        app.focus = Pane::List;
    }
    Vec::new()
}

/// The cancel key: the running query, else a transfer, else the selected table's
/// generation (asking first once it has run a while). Never another table's job.
pub(super) fn cancel(app: &mut App) -> Vec<Effect> {
    if let Some(effects) = cancel_query(app) {
        return effects;
    }
    if let Some(t) = app.transfer.as_mut() {
        // Given up on: nothing to reopen when it stops.
        t.prompt = None;
        app.toast(Level::Info, "Cancelling…");
        return vec![Effect::CancelTransfer];
    }
    if let Some(effects) = whole::cancel(app) {
        return effects;
    }
    let Some(table) = app.selected_table().map(|t| t.name.clone()) else {
        return Vec::new();
    };
    let Some(index) = app.jobs.iter().position(|j| j.spec.table == table) else {
        let others: Vec<String> = app
            .jobs
            .iter()
            .filter(|j| j.id != 0)
            .map(|j| format!("'{}'", j.spec.table))
            .collect();
        let text = if others.is_empty() {
            format!("Nothing to cancel: '{table}' is not generating.")
        } else {
            format!(
                "'{table}' is not generating. To cancel {}, select its table first.",
                others.join(", ")
            )
        };
        app.toast(Level::Info, text);
        return Vec::new();
    };
    let job = &app.jobs[index];
    if job.id == 0 || job.cancelling {
        // Inserting accepted preview rows is short and not cancellable.
        return Vec::new();
    }
    if app.tick.saturating_sub(job.started) >= ASK_BEFORE_CANCEL_TICKS {
        let (id, done, wanted) = (job.id, job.accepted, job.spec.rows);
        app.modal = Some(Modal::Confirm(Confirm {
            title: format!("Cancel the generation of '{table}'?"),
            lines: vec![format!(
                "It has added {} of {} rows; those stay (undo removes them).",
                thousands(done),
                thousands(wanted)
            )],
            yes: "Cancel it".into(),
            on_yes: false,
            kind: ConfirmKind::CancelJob(id),
        }));
        return Vec::new();
    }
    cancel_job(app, index)
}

/// Marks job `index` as cancelling and asks the runtime to stop it.
pub(super) fn cancel_job(app: &mut App, index: usize) -> Vec<Effect> {
    let job = &mut app.jobs[index];
    job.cancelling = true;
    job.stage = "cancelling".into();
    vec![Effect::CancelJob(job.id)]
}

pub(super) fn on_mouse(app: &mut App, mouse: MouseEvent) -> Vec<Effect> {
    if !app.mouse || app.modal.is_some() {
        return Vec::new();
    }
    let areas = app.areas();
    let at = Position::new(mouse.column, mouse.row);
    let height = app.grid_height();
    let in_list = areas.list.contains(at);
    let in_main = areas.main.contains(at);
    match mouse.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let delta: isize = if mouse.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            if in_list {
                let target = (app.list_top as isize + delta).max(0) as usize;
                let max_top = app.visible().len().saturating_sub(app.list_height());
                app.list_top = target.min(max_top);
                return Vec::new();
            }
            if in_main {
                return match app.mode {
                    Mode::Rows | Mode::Query => app
                        .active_grid_mut()
                        .and_then(|g| g.scroll(delta, height))
                        .map(Effect::LoadPage)
                        .into_iter()
                        .collect(),
                    Mode::Schema => {
                        if let Some(s) = app.schema.as_mut() {
                            s.scroll = (s.scroll as isize + delta).max(0) as u16;
                        }
                        Vec::new()
                    }
                };
            }
            Vec::new()
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if in_list {
                app.focus = Pane::List;
                let line = mouse.row.saturating_sub(areas.list.y + 1) as usize;
                if mouse.row > areas.list.y && line < app.list_height() {
                    return select(app, app.list_top + line);
                }
                return Vec::new();
            }
            if in_main {
                app.focus = Pane::Rows;
                let first_line = match app.mode {
                    Mode::Query => app.results_first_line(),
                    _ => layout::grid_first_line(areas.main),
                };
                if mouse.row >= first_line
                    && let Some(g) = app.active_grid_mut()
                {
                    let line = (mouse.row - first_line) as usize;
                    return g
                        .click(line, height)
                        .map(Effect::LoadPage)
                        .into_iter()
                        .collect();
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}
