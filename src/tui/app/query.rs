//! `:`: the query line, questions and SQL on their way, results arriving,
//! interrupting, and exporting a result.

use super::*;
use crate::ask::{self, AskError};
use crate::tui::query::{Phase, remember};

/// Opens the query line: on a result (or after a query that failed), with
/// its SQL to edit; else empty.
pub(super) fn open_line(app: &mut App) -> Vec<Effect> {
    let mend = app.mode == Mode::Query || app.retry_sql;
    let text = match &app.last_sql {
        Some(sql) if mend && app.query.is_none() => sql.clone(),
        _ => String::new(),
    };
    app.query_line = Some(QueryLine::new(text));
    Vec::new()
}

pub(super) fn on_query_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(mut line) = app.query_line.take() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if !key.modifiers.contains(KeyModifiers::ALT) => {
            return submit(app, line);
        }
        KeyCode::Enter => line.edit.insert("\n"),
        KeyCode::Up => {
            line.older(&app.history);
        }
        KeyCode::Down => {
            line.newer(&app.history);
        }
        _ => {
            line.edit.edit(&key);
        }
    }
    app.query_line = Some(line);
    Vec::new()
}

pub(super) fn on_paste(app: &mut App, text: &str) -> Vec<Effect> {
    if let Some(line) = app.query_line.as_mut() {
        line.edit.insert(text);
    } else if let Some(Modal::Prompt(p)) = app.modal.as_mut() {
        p.input.insert(&text.replace(['\r', '\n'], ""));
    }
    Vec::new()
}

/// Enter on the query line: SQL runs as typed, anything else goes to the model.
fn submit(app: &mut App, line: QueryLine) -> Vec<Effect> {
    let input = line.edit.text.trim().to_string();
    if input.is_empty() {
        return Vec::new();
    }
    if app.query.is_some() {
        app.query_line = Some(line);
        let esc = app
            .keymap
            .short(Action::Cancel)
            .unwrap_or_else(|| "Esc".into());
        app.toast(
            Level::Warning,
            format!("A query is still running; wait for it, or press {esc} to interrupt it."),
        );
        return Vec::new();
    }
    remember(&mut app.history, &input);
    let id = app.next_query;
    app.next_query += 1;
    let (question, effect) = match ask::classify(&input) {
        ask::Input::Sql(sql) => {
            app.last_sql = Some(sql.clone());
            (
                false,
                Effect::RunQuery {
                    id,
                    input: input.clone(),
                    sql,
                },
            )
        }
        ask::Input::Question(q) if q.is_empty() => {
            app.popup("Nothing to ask", AskError::EmptyQuestion.to_string());
            return Vec::new();
        }
        ask::Input::Question(q) => {
            if let Err(why) = &app.ask {
                let why = why.clone();
                app.popup("No model to ask", why);
                return Vec::new();
            }
            (true, Effect::Ask { id, question: q })
        }
    };
    app.query = Some(QueryRun {
        started: app.tick,
        id,
        input: input.clone(),
        sql: match &effect {
            Effect::RunQuery { sql, .. } => Some(sql.clone()),
            _ => None,
        },
        explanation: None,
        question,
        phase: if question {
            Phase::Asking
        } else {
            Phase::Running
        },
        rows: 0,
        stopping: false,
    });
    app.mode = Mode::Query;
    app.focus = Pane::Rows;
    vec![effect]
}

pub(super) fn on_history(
    app: &mut App,
    result: Result<Vec<String>, crate::ask::history::HistoryError>,
) -> Vec<Effect> {
    match result {
        Ok(entries) => {
            // Inputs typed before the file answered stay newest.
            let typed = std::mem::take(&mut app.history);
            for entry in entries.into_iter().rev() {
                remember(&mut app.history, &entry);
            }
            for entry in typed.into_iter().rev() {
                remember(&mut app.history, &entry);
            }
        }
        Err(message) => app.toast(Level::Warning, message.to_string()),
    }
    Vec::new()
}

pub(super) fn on_translated(
    app: &mut App,
    id: u64,
    result: Result<Translated, crate::ask::AskError>,
) -> Vec<Effect> {
    let Some(run) = app.query.as_mut().filter(|q| q.id == id) else {
        return Vec::new();
    };
    if run.stopping {
        app.query = None;
        interrupted(app);
        return Vec::new();
    }
    match result {
        Ok(t) => {
            run.sql = Some(t.sql.clone());
            run.explanation = Some(t.explanation).filter(|e| !e.is_empty());
            run.phase = Phase::Running;
            let input = run.input.clone();
            app.last_sql = Some(t.sql.clone());
            vec![Effect::RunQuery {
                id,
                input,
                sql: t.sql,
            }]
        }
        Err(message) => {
            app.query = None;
            leave_empty_results(app);
            app.popup("The model could not answer", message.to_string());
            Vec::new()
        }
    }
}

pub(super) fn on_query_done(
    app: &mut App,
    id: u64,
    result: Result<QueryResult, QueryFail>,
) -> Vec<Effect> {
    let Some(run) = app.query.take_if(|q| q.id == id) else {
        return Vec::new();
    };
    match result {
        Ok(r) => {
            let view = app.view_id();
            let rows = r.rows.len();
            app.last_sql = Some(r.sql.clone());
            app.retry_sql = false;
            app.results = Some(Results {
                input: run.input,
                sql: r.sql,
                explanation: run.explanation,
                question: run.question,
                grid: Grid::loaded("query", view, r.columns, r.rows),
                truncated: r.truncated,
                elapsed_ms: u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
            });
            app.mode = Mode::Query;
            let (width, height) = (
                layout::grid_width(app.areas().main) as usize,
                app.grid_height(),
            );
            if let Some(g) = app.active_grid_mut() {
                g.fit(width, height);
            }
            if rows == 0 {
                app.toast(Level::Info, "The query returned no rows.");
            }
        }
        Err(fail) => {
            app.retry_sql = run.sql.is_some();
            leave_empty_results(app);
            match fail {
                QueryFail::Cancelled => interrupted(app),
                QueryFail::Refused(message) => app.popup("Refused", with_model_sql(&run, message)),
                QueryFail::Failed(message) => {
                    app.popup("The query failed", with_model_sql(&run, message))
                }
            }
        }
    }
    Vec::new()
}

/// The sentence, followed by the SQL the model wrote (shown nowhere else
/// when it did not run).
fn with_model_sql(run: &QueryRun, message: String) -> String {
    match run.sql.as_deref().filter(|_| run.question) {
        Some(sql) => format!(
            "{message} The model wrote: {}",
            crate::output::cell(&sql.split_whitespace().collect::<Vec<_>>().join(" "), 200)
        ),
        None => message,
    }
}

fn interrupted(app: &mut App) {
    app.toast(
        Level::Info,
        "Interrupted the query. Nothing was changed.".to_string(),
    );
}

/// A query that gave nothing, with no earlier result to go back to: the main
/// pane shows the selected table again.
fn leave_empty_results(app: &mut App) {
    if app.mode == Mode::Query && app.results.is_none() {
        app.mode = Mode::Rows;
        let _ = show_selected(app, false);
    }
}

/// Esc while a query asks or runs: interrupts it. `None` when none does.
pub(super) fn cancel_query(app: &mut App) -> Option<Vec<Effect>> {
    let run = app.query.as_mut()?;
    if run.stopping {
        return Some(Vec::new());
    }
    run.stopping = true;
    Some(vec![Effect::CancelQuery(run.id)])
}

/// `e` on a result: asks where to write it.
pub(super) fn export_results(app: &mut App) -> Vec<Effect> {
    let Some(results) = app.results.as_ref() else {
        return Vec::new();
    };
    let sql = results.sql.clone();
    if app.query.is_some() {
        app.toast(
            Level::Warning,
            "Wait for the query to finish, or interrupt it, before exporting.",
        );
        return Vec::new();
    }
    if busy_transfer(app) {
        return Vec::new();
    }
    let mut prompt = Prompt::new(
        PromptKind::ExportQuery { sql },
        "Export the query result".into(),
        "CSV file",
        default_path(app, "query"),
    );
    prompt.note = Some("Every row of the result is written, beyond the rows shown.".into());
    app.modal = Some(Modal::Prompt(prompt));
    Vec::new()
}
