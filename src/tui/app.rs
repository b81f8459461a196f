//! The app's state and its one transition function.
//!
//! `update(&mut App, Msg) -> Vec<Effect>` is pure: keys, mouse, ticks and the
//! results of background work come in as messages; what should happen next
//! (read a page, start a generation, undo) goes out as effects, which the
//! runtime (`run.rs`) carries out. No IO happens here, so every transition is
//! a plain unit test.

use std::path::PathBuf;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use rusqlite::types::Value;

use super::grid::{Grid, PageRequest};
use super::keys::{Action, Keymap, Pane};
use super::layout;
use super::modal::{
    CellView, Confirm, ConfirmKind, GenDialog, GenField, GenSpec, History, Input, Modal, Preview,
    Prompt, PromptKind, ProviderOption, Question, RequestView, UndoTarget,
};
use super::paths::{Entry, Places};
use super::query::{HeadKind, QueryFail, QueryLine, QueryRun, Results, Translated, head_lines};
use super::theme::Theme;
use crate::db::DbError;
use crate::db::browse::{Key, Page};
use crate::db::catalog::{ObjectKind, ObjectSummary, TableInfo};
use crate::db::journal::Operation;
use crate::db::query::QueryResult;
use crate::db::transfer::DropPreview;
use crate::db::undo::{UndoOutcome, UndoPreview};
use crate::generate::job::{
    Event, GenerateError, Outcome, PromptPreview, Stage, Summary, failure_sentence, rows_word,
};
use crate::generate::whole::{Size, WholeError, WholeEvent, WholePlan};
use crate::llm::ProviderChoice;
use crate::output::thousands;
use crate::transferred::{TransferFailed, Transferred};

mod dialogs;
mod geometry;
mod input;
mod query;
mod request;
mod results;
mod rows;
mod whole;

pub use rows::{RowInput, RowInputKind, lens_line};

use dialogs::*;
use input::*;
use query::*;
use request::*;
use results::*;
use rows::*;

/// Ticks a toast stays up (at 10 ticks a second).
pub const TOAST_TICKS: u32 = 50;
/// Ticks an error toast stays up.
const ERROR_TOAST_TICKS: u32 = 80;
/// Toasts shown at once.
const MAX_TOASTS: usize = 3;

/// What the app is started with.
#[derive(Debug, Clone)]
pub struct Options {
    /// The database path as shown.
    pub db_path: String,
    pub read_only: bool,
    /// `generate.default_rows`.
    pub default_rows: u64,
    /// `generate.max_rows`.
    pub max_rows: u64,
    /// `generate.confirm_rows`: a model run above it shows its cost and asks first.
    pub confirm_rows: u64,
    /// The configured source, as the status bar names it.
    pub source: String,
    /// Said once, at the first generation (e.g. that no LLM is configured).
    pub source_note: Option<String>,
    /// Providers the generate dialog offers; `provider` is the configured one.
    pub providers: Vec<ProviderOption>,
    pub provider: usize,
    pub keymap: Keymap,
    pub mouse: bool,
    pub theme: Theme,
    pub size: (u16, u16),
    /// Who answers plain-language questions (`OpenAI gpt-6.1-terra`), or the
    /// sentence saying why nobody can.
    pub ask: Result<String, String>,
    /// Today's log file, where the message log points for details.
    pub log_file: Option<String>,
    /// The time of day for the message log (`HH:MM:SS`); a fixed one in tests.
    pub clock: fn() -> String,
    /// Where typed paths start: the launch directory and the home.
    pub places: Places,
}

/// A table's row count as far as it is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Pending,
    Known(u64),
    /// A virtual table whose module is missing.
    Unknown,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableEntry {
    pub name: String,
    pub kind: ObjectKind,
    pub count: Count,
}

/// A generation in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub spec: GenSpec,
    pub stage: String,
    pub received: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub cancelling: bool,
    /// The app's tick when it started (ten a second while it runs).
    pub started: u64,
    /// Provider and model, as the job named them when it started.
    pub source: String,
    /// Tokens used so far (input and output) and requests asked again.
    pub tokens: u64,
    pub retries: u32,
    /// What each model request carries of the table's rows ("11 masked sample rows").
    pub sending: Option<String>,
}

impl Job {
    /// A job just started at `tick`, at `stage`, with `received` rows already in hand.
    pub fn new(id: u64, spec: GenSpec, stage: &str, received: u64, tick: u64) -> Self {
        Self {
            id,
            spec,
            stage: stage.into(),
            received,
            accepted: 0,
            rejected: 0,
            cancelling: false,
            started: tick,
            source: String::new(),
            tokens: 0,
            retries: 0,
            sending: None,
        }
    }
}

/// A question being prepared (what an undo or a delete would remove).
#[derive(Debug, Clone, PartialEq)]
pub struct Checking {
    pub label: String,
    /// The app's tick when it started.
    pub started: u64,
}

/// An undo in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Undoing {
    pub target: UndoTarget,
    /// The app's tick when it started.
    pub started: u64,
}

impl Undoing {
    pub fn table(&self) -> &str {
        self.target.table()
    }
}

/// An export, import or delete in progress (one at a time: the worker runs them).
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// The app's tick when it started.
    pub started: u64,
    pub label: String,
    pub done: u64,
    pub total: Option<u64>,
    /// The prompt it came from: reopened, path kept, on a failure or a question.
    pub prompt: Option<Prompt>,
}

pub use super::message::{Level, Toast};

/// Messages the log keeps, at most (the oldest go first).
pub const LOG_LIMIT: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rows,
    Schema,
    /// A query's result (or the query on its way).
    Query,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaView {
    pub table: String,
    pub info: Option<Result<TableInfo, String>>,
    pub scroll: u16,
}

/// Everything on screen.
#[derive(Debug, Clone)]
pub struct App {
    pub db_path: String,
    pub read_only: bool,
    pub default_rows: u64,
    pub max_rows: u64,
    pub confirm_rows: u64,
    pub source: String,
    pub source_note: Option<String>,
    pub providers: Vec<ProviderOption>,
    pub provider: usize,
    pub keymap: Keymap,
    pub mouse: bool,
    pub theme: Theme,
    pub size: (u16, u16),
    pub ask: Result<String, String>,
    pub places: Places,

    pub tables: Vec<TableEntry>,
    /// The list could not be read: one sentence.
    pub list_error: Option<String>,
    pub listed: bool,
    pub selected: usize,
    /// A table to select when the list is read next (one just imported).
    pub prefer: Option<String>,
    /// The list has been read before: a later listing keeps the selection's place.
    pub listed_before: bool,
    pub list_top: usize,
    pub filter: Input,
    pub filtering: bool,
    /// The line typed under the rows (a search, a row number), while it is open.
    pub row_input: Option<RowInput>,

    pub focus: Pane,
    pub mode: Mode,
    pub grid: Option<Grid>,
    pub schema: Option<SchemaView>,
    next_view: u64,

    pub jobs: Vec<Job>,
    next_job: u64,
    pub transfer: Option<Transfer>,
    pub toasts: Vec<Toast>,
    /// The whole-database fill that is running (`A`), one at a time.
    pub whole: Option<super::whole::WholeRun>,
    next_whole: u64,
    /// The undo that is running (it cannot be cancelled; quitting asks first).
    pub undoing: Option<Undoing>,
    /// What an undo or a delete would do is being worked out (counting a million rows
    /// takes a moment): the line says so until the question comes up.
    pub checking: Option<Checking>,
    /// Every message since the app started, oldest first (the message log).
    pub log: std::collections::VecDeque<Toast>,
    /// Today's log file, where the message log points for details.
    pub log_file: Option<String>,
    /// The time of day for the log (`HH:MM:SS`); a fixed one in tests.
    pub clock: fn() -> String,
    pub modal: Option<Modal>,
    pub tick: u64,
    pub quit: bool,
    /// The app ends to start again on another database (already opened by the runtime).
    pub reopen: bool,

    /// The `:` line, while it is open.
    pub query_line: Option<QueryLine>,
    /// What was asked of this database, newest first.
    pub history: Vec<String>,
    /// The query in flight.
    pub query: Option<QueryRun>,
    /// The result being browsed.
    pub results: Option<Results>,
    /// The SQL of the last query that got as far as SQL: `:` on a result
    /// starts from it.
    pub last_sql: Option<String>,
    /// That SQL failed, was refused or was interrupted: `:` starts from it
    /// wherever it is pressed, to mend it.
    pub retry_sql: bool,
    next_query: u64,
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick,
    Objects(Result<Vec<ObjectSummary>, DbError>),
    Count {
        table: String,
        count: Result<Option<u64>, DbError>,
    },
    Page {
        request: PageRequest,
        page: Result<Page, DbError>,
    },
    Schema {
        table: String,
        info: Result<TableInfo, DbError>,
    },
    Cell(Result<Value, DbError>),
    UndoPreview {
        target: UndoTarget,
        preview: Result<UndoPreview, DbError>,
    },
    Undone(Result<UndoOutcome, DbError>),
    /// rowsmith's operations on this database, newest first, with when each was undone;
    /// `note` says why the latest of `table` could not be undone.
    Operations {
        table: String,
        note: Option<String>,
        list: Result<Vec<(Operation, Option<String>)>, DbError>,
    },
    /// An operation's record was cleared.
    Forgotten(Result<Operation, DbError>),
    /// What a large model run would cost, in one sentence.
    Estimated {
        spec: GenSpec,
        sentence: String,
    },
    /// The request `spec` would send first, or why it cannot be built.
    PromptShown {
        spec: GenSpec,
        result: Result<PromptPreview, GenerateError>,
    },
    DropPreview {
        table: String,
        preview: Result<DropPreview, DbError>,
    },
    Job {
        job: u64,
        event: Event,
    },
    /// The plan of a whole-database fill the dialog asked for (`id`), or why there is none.
    WholePlanned {
        id: u64,
        result: Result<WholePlan, WholeError>,
    },
    /// An event of the whole-database fill `id`.
    Whole {
        id: u64,
        event: WholeEvent,
    },
    PreviewInserted {
        table: String,
        result: Result<Summary, GenerateError>,
    },
    TransferProgress {
        done: u64,
        total: Option<u64>,
    },
    /// An export, import or delete finished: the sentence to show, and the
    /// tables whose rows or existence changed.
    TransferDone {
        result: Result<Transferred, TransferFailed>,
        changed: Vec<String>,
        relist: bool,
    },
    /// An export stopped before writing: its file exists.
    ExportExists(PathBuf),
    /// An import stopped before writing: it would append to `table`.
    ImportWouldAppend {
        path: PathBuf,
        table: String,
        columns: usize,
        new_table: String,
    },
    /// The entries of a directory, to complete `text` in the open prompt.
    DirListed {
        text: String,
        entries: Result<Vec<Entry>, String>,
    },
    /// The database worker stopped; nothing more can be read.
    WorkerGone(String),
    /// Another database was opened (its path as shown), or why it could not be.
    DatabaseOpened(Result<String, DbError>),
    /// Text pasted into the terminal.
    Paste(String),
    /// The query history of this database, newest first.
    History(Result<Vec<String>, crate::ask::history::HistoryError>),
    /// The model's SQL for question `id`.
    Translated {
        id: u64,
        result: Result<Translated, crate::ask::AskError>,
    },
    /// Rows the running query has produced so far.
    QueryProgress {
        id: u64,
        rows: u64,
    },
    QueryDone {
        id: u64,
        result: Result<QueryResult, QueryFail>,
    },
}

/// Something the runtime should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    ListObjects,
    /// Count these tables, one message each, in the background.
    Count(Vec<String>),
    LoadPage(PageRequest),
    LoadSchema(String),
    LoadCell {
        table: String,
        /// The lens the row was read through (a sorted row is found by its place).
        lens: crate::db::browse::Lens,
        key: Key,
        column: String,
    },
    Generate {
        job: u64,
        spec: GenSpec,
    },
    /// Work out what a model run would cost, without sending a request.
    Estimate(GenSpec),
    /// Build the request a generation would send first, without sending it.
    ShowPrompt(GenSpec),
    CancelJob(u64),
    /// Plan a whole-database fill of `size` off the UI loop; `Msg::WholePlanned` answers.
    PlanWhole {
        id: u64,
        size: Size,
    },
    /// Run the plan shown, with the provider and model chosen (`None`: as configured);
    /// `Msg::Whole` reports each step.
    RunWhole {
        id: u64,
        plan: Box<WholePlan>,
        provider: Option<ProviderChoice>,
        model: Option<String>,
    },
    /// Stop the fill `id`; it takes back what it wrote.
    CancelWhole(u64),
    InsertPreviewed {
        spec: GenSpec,
        rows: Vec<serde_json::Map<String, serde_json::Value>>,
    },
    PreviewUndo(UndoTarget),
    Undo(UndoTarget),
    /// List rowsmith's operations on this database (the history opens on `table`).
    ListOperations {
        table: String,
        note: Option<String>,
    },
    /// Clear an operation's record; no row is touched.
    Forget(i64),
    Export {
        table: String,
        path: PathBuf,
        /// Replace the file if it exists (the user said yes).
        replace: bool,
    },
    Import {
        path: PathBuf,
        /// The table to import into; by default named after the file.
        table: Option<String>,
        /// Append to an existing table without asking (the user chose it).
        append: bool,
    },
    /// List a directory's entries for Tab completion of `text`.
    ListDir {
        text: String,
        dir: PathBuf,
    },
    PreviewDrop(String),
    Drop(String),
    CancelTransfer,
    /// Read this database's query history.
    LoadHistory,
    /// Ask the model for SQL answering `question`.
    Ask {
        id: u64,
        question: String,
    },
    /// Run SQL through the read-only gate (and remember it when it passes).
    RunQuery {
        id: u64,
        input: String,
        sql: String,
    },
    /// Interrupt query `id`, asking or running.
    CancelQuery(u64),
    /// Hand the terminal back to the shell until `fg` (Ctrl-Z).
    Suspend,
    /// Put text on the terminal's clipboard (OSC 52: works over SSH too).
    Copy(String),
    /// Open this database; `Msg::DatabaseOpened` answers, and on success the app
    /// starts again on it.
    OpenDatabase(PathBuf),
    /// Write the whole result of `sql` to a CSV file.
    ExportQuery {
        sql: String,
        path: PathBuf,
        replace: bool,
    },
    Quit,
}

impl App {
    pub fn new(options: Options) -> Self {
        Self {
            db_path: options.db_path,
            read_only: options.read_only,
            default_rows: options.default_rows,
            max_rows: options.max_rows,
            confirm_rows: options.confirm_rows,
            source: options.source,
            source_note: options.source_note,
            providers: options.providers,
            provider: options.provider,
            keymap: options.keymap,
            mouse: options.mouse,
            theme: options.theme,
            size: options.size,
            ask: options.ask,
            places: options.places,
            tables: Vec::new(),
            list_error: None,
            listed: false,
            selected: 0,
            list_top: 0,
            filter: Input::default(),
            filtering: false,
            row_input: None,
            focus: Pane::List,
            mode: Mode::Rows,
            grid: None,
            schema: None,
            next_view: 1,
            jobs: Vec::new(),
            next_job: 1,
            whole: None,
            next_whole: 1,
            transfer: None,
            toasts: Vec::new(),
            modal: None,
            tick: 0,
            prefer: None,
            listed_before: false,
            undoing: None,
            checking: None,
            log: std::collections::VecDeque::new(),
            clock: options.clock,
            log_file: options.log_file,
            quit: false,
            reopen: false,
            query_line: None,
            history: Vec::new(),
            query: None,
            results: None,
            last_sql: None,
            retry_sql: false,
            next_query: 1,
        }
    }

    /// Indexes into `tables` of the tables the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.text.to_lowercase();
        self.tables
            .iter()
            .enumerate()
            .filter(|(_, t)| needle.is_empty() || t.name.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn selected_table(&self) -> Option<&TableEntry> {
        self.visible()
            .get(self.selected)
            .and_then(|&i| self.tables.get(i))
    }

    pub fn entry(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.name == name)
    }

    fn entry_mut(&mut self, name: &str) -> Option<&mut TableEntry> {
        self.tables.iter_mut().find(|t| t.name == name)
    }

    pub fn job_for(&self, table: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.spec.table == table)
    }

    /// The pane whose keys apply.
    pub fn pane(&self) -> Pane {
        match (self.focus, self.mode) {
            (Pane::List, _) => Pane::List,
            (_, Mode::Rows) => Pane::Rows,
            (_, Mode::Schema) => Pane::Schema,
            (_, Mode::Query) => Pane::Results,
        }
    }

    /// True while something on screen moves, so the runtime ticks.
    pub fn animating(&self) -> bool {
        !self.jobs.is_empty()
            || whole::animating(self)
            || !self.toasts.is_empty()
            || self.transfer.is_some()
            || self.undoing.is_some()
            || self.checking.is_some()
            || self.query.is_some()
            || self.tables.iter().any(|t| t.count == Count::Pending)
    }

    pub fn areas(&self) -> layout::Areas {
        layout::areas(
            Rect::new(0, 0, self.size.0, self.size.1),
            self.list_width(),
            self.progress_lines(),
        )
    }

    /// Lines of rows the main pane's grid shows (a table's rows or a result).
    pub fn grid_height(&self) -> usize {
        match self.mode {
            Mode::Query => self.results_grid_height(),
            _ => layout::grid_height(self.areas().main),
        }
    }

    /// The grid the main pane shows, if it shows one (a query on its way
    /// hides the previous result).
    pub fn active_grid(&self) -> Option<&Grid> {
        match self.mode {
            Mode::Rows => self.grid.as_ref(),
            Mode::Query if self.query.is_none() => self.results.as_ref().map(|r| &r.grid),
            _ => None,
        }
    }

    /// The lines above the query pane's grid, for the query in flight or
    /// else the result shown.
    pub fn query_head(&self, width: usize) -> Vec<(HeadKind, String)> {
        match (&self.query, &self.results) {
            (Some(q), _) => head_lines(
                q.question,
                &q.input,
                q.sql.as_deref(),
                q.explanation.as_deref(),
                width,
            ),
            (None, Some(r)) => head_lines(
                r.question,
                &r.input,
                Some(&r.sql),
                r.explanation.as_deref(),
                width,
            ),
            (None, None) => Vec::new(),
        }
    }

    fn active_grid_mut(&mut self) -> Option<&mut Grid> {
        match self.mode {
            Mode::Rows => self.grid.as_mut(),
            Mode::Query if self.query.is_none() => self.results.as_mut().map(|r| &mut r.grid),
            _ => None,
        }
    }

    fn list_height(&self) -> usize {
        self.areas().list.height.saturating_sub(2).max(1) as usize
    }

    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        let ttl = if level == Level::Error {
            ERROR_TOAST_TICKS
        } else {
            TOAST_TICKS
        };
        let toast = Toast {
            // Messages quote table names and server text: show their control
            // characters, never send them to the terminal.
            text: crate::output::printable_lines(&text.into()),
            level,
            ttl,
            at: (self.clock)(),
        };
        if self.log.len() == LOG_LIMIT {
            self.log.pop_front();
        }
        self.log.push_back(toast.clone());
        self.toasts.push(toast);
        if self.toasts.len() > MAX_TOASTS {
            self.toasts.remove(0);
        }
    }

    fn popup(&mut self, title: &str, message: impl Into<String>) {
        let title = crate::output::printable(title).into_owned();
        let message = crate::output::printable_lines(&message.into());
        // Popups go to the log too, so they can be read again after they are closed.
        if self.log.len() == LOG_LIMIT {
            self.log.pop_front();
        }
        self.log.push_back(Toast {
            text: format!("{title}: {message}"),
            level: Level::Error,
            ttl: 0,
            at: (self.clock)(),
        });
        self.modal = Some(Modal::Error { title, message });
    }

    fn view_id(&mut self) -> u64 {
        let id = self.next_view;
        self.next_view += 1;
        id
    }

    fn count_of(&self, table: &str) -> Option<u64> {
        match self.entry(table)?.count {
            Count::Known(n) => Some(n),
            _ => None,
        }
    }
}

/// The one transition function.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let effects = transition(app, msg);
    // An open quit question follows what still runs, so it never speaks of work that ended.
    if let Some(Modal::Confirm(c)) = app.modal.as_mut()
        && c.kind == ConfirmKind::Quit
    {
        let lines = quit_lines(app);
        if let Some(Modal::Confirm(c)) = app.modal.as_mut() {
            c.lines = if lines.is_empty() {
                vec!["Nothing is running any more.".into()]
            } else {
                lines
            };
        }
    }
    effects
}

fn transition(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Mouse(mouse) => on_mouse(app, mouse),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            let height = app.grid_height();
            let width = layout::grid_width(app.areas().main) as usize;
            if let Some(g) = app.active_grid_mut() {
                g.follow(height);
                g.fit(width, height);
            }
            keep_list_visible(app);
            Vec::new()
        }
        Msg::Tick => {
            app.tick = app.tick.wrapping_add(1);
            for t in &mut app.toasts {
                t.ttl = t.ttl.saturating_sub(1);
            }
            app.toasts.retain(|t| t.ttl > 0);
            Vec::new()
        }
        Msg::Objects(result) => on_objects(app, result),
        Msg::Count { table, count } => {
            if let Some(entry) = app.entry_mut(&table) {
                entry.count = match count {
                    Ok(Some(n)) => Count::Known(n),
                    Ok(None) => Count::Unknown,
                    Err(e) => Count::Failed(e.to_string()),
                };
            }
            Vec::new()
        }
        Msg::Page { request, page } => on_page(app, request, page),
        Msg::Schema { table, info } => {
            if let Some(s) = app.schema.as_mut().filter(|s| s.table == table) {
                s.info = Some(info.map_err(|e| e.to_string()));
            }
            Vec::new()
        }
        Msg::Cell(result) => {
            if let Some(Modal::Cell(cell)) = app.modal.as_mut() {
                cell.text = Some(match result {
                    Ok(v) => full_text(&v),
                    Err(e) => e.to_string(),
                });
            }
            Vec::new()
        }
        Msg::UndoPreview { target, preview } => {
            app.checking = None;
            on_undo_preview(app, target, preview)
        }
        Msg::Operations { table, note, list } => {
            app.checking = None;
            on_operations(app, &table, note, list)
        }
        Msg::Forgotten(result) => on_forgotten(app, result),
        Msg::Undone(result) => {
            app.undoing = None;
            on_undone(app, result)
        }
        Msg::Estimated { spec, sentence } => on_estimated(app, spec, sentence),
        Msg::PromptShown { spec, result } => on_prompt_shown(app, &spec, result),
        Msg::DropPreview { table, preview } => {
            app.checking = None;
            on_drop_preview(app, table, preview)
        }
        Msg::Job { job, event } => on_job(app, job, event),
        Msg::WholePlanned { id, result } => whole::on_planned(app, id, result),
        Msg::Whole { id, event } => whole::on_event(app, id, event),
        Msg::PreviewInserted { table, result } => {
            app.jobs.retain(|j| !(j.spec.table == table && j.id == 0));
            match result {
                Ok(summary) => finished_ok(app, &summary),
                Err(error) => {
                    app.popup("Could not insert the previewed rows", error.to_string());
                    Vec::new()
                }
            }
        }
        Msg::TransferProgress { done, total } => {
            if let Some(t) = app.transfer.as_mut() {
                t.done = done;
                t.total = total;
            }
            Vec::new()
        }
        Msg::TransferDone {
            result,
            changed,
            relist,
        } => on_transfer_done(app, result, changed, relist),
        Msg::ExportExists(path) => on_export_exists(app, path),
        Msg::ImportWouldAppend {
            path,
            table,
            columns,
            new_table,
        } => on_import_would_append(app, path, table, columns, new_table),
        Msg::DirListed { text, entries } => on_dir_listed(app, &text, entries),
        Msg::DatabaseOpened(result) => on_database_opened(app, result),
        Msg::WorkerGone(message) => {
            app.query = None;
            app.popup("The database stopped answering", message);
            Vec::new()
        }
        Msg::Paste(text) => on_paste(app, &text),
        Msg::History(result) => on_history(app, result),
        Msg::Translated { id, result } => on_translated(app, id, result),
        Msg::QueryProgress { id, rows } => {
            if let Some(q) = app.query.as_mut().filter(|q| q.id == id) {
                q.rows = rows;
            }
            Vec::new()
        }
        Msg::QueryDone { id, result } => on_query_done(app, id, result),
    }
}

/// Points the main pane at the selected table: its rows or its schema.
/// `force` reads again even when the pane already shows that table.
pub(super) fn show_selected(app: &mut App, force: bool) -> Vec<Effect> {
    let Some(name) = app.selected_table().map(|t| t.name.clone()) else {
        app.grid = None;
        app.schema = None;
        return Vec::new();
    };
    match app.mode {
        Mode::Rows => {
            if !force && app.grid.as_ref().is_some_and(|g| g.table == name) {
                return Vec::new();
            }
            let view = app.view_id();
            let mut grid = Grid::new(&name, view);
            let request = grid.open();
            app.grid = Some(grid);
            vec![Effect::LoadPage(request)]
        }
        Mode::Schema => {
            if !force && app.schema.as_ref().is_some_and(|s| s.table == name) {
                return Vec::new();
            }
            app.schema = Some(SchemaView {
                table: name.clone(),
                info: None,
                scroll: 0,
            });
            vec![Effect::LoadSchema(name)]
        }
        // A result stays until the user opens a table's rows or schema.
        Mode::Query => Vec::new(),
    }
}

pub(super) fn keep_list_visible(app: &mut App) {
    let height = app.list_height();
    if app.selected < app.list_top {
        app.list_top = app.selected;
    } else if app.selected >= app.list_top + height {
        app.list_top = app.selected + 1 - height;
    }
    let max_top = app.visible().len().saturating_sub(height);
    app.list_top = app.list_top.min(max_top);
}

pub(super) fn select(app: &mut App, index: usize) -> Vec<Effect> {
    let n = app.visible().len();
    if n == 0 {
        return Vec::new();
    }
    let index = index.min(n - 1);
    if index == app.selected {
        return Vec::new();
    }
    app.selected = index;
    keep_list_visible(app);
    show_selected(app, false)
}

pub(super) fn start_generation(app: &mut App, spec: GenSpec) -> Vec<Effect> {
    if !spec.from_schema && app.count_of(&spec.table) == Some(0) {
        ask_from_schema(app, spec);
        return Vec::new();
    }
    if costs_money(app, &spec) && spec.rows > app.confirm_rows {
        // A typo in the row count must not turn into thousands of paid requests.
        ask_large_run(app, spec.clone());
        return vec![Effect::Estimate(spec)];
    }
    launch(app, spec)
}

/// Whether `spec` goes to a model (which bills its requests).
fn costs_money(app: &App, spec: &GenSpec) -> bool {
    let choice = spec
        .provider
        .or_else(|| app.providers.get(app.provider).map(|p| p.choice));
    choice.is_some_and(|c| c.kind().is_some())
}

/// Starts the generation `spec`, every question asked.
pub(super) fn launch(app: &mut App, spec: GenSpec) -> Vec<Effect> {
    if let Some(note) = app.source_note.take() {
        app.toast(Level::Info, note);
    }
    let id = app.next_job;
    app.next_job += 1;
    app.jobs
        .push(Job::new(id, spec.clone(), "starting", 0, app.tick));
    vec![Effect::Generate { job: id, spec }]
}

pub(super) fn ask_from_schema(app: &mut App, mut spec: GenSpec) {
    spec.from_schema = true;
    let table = spec.table.clone();
    let rows = spec.rows;
    app.modal = Some(Modal::Confirm(Confirm {
        kind: ConfirmKind::FromSchema(spec),
        title: format!("'{table}' is empty"),
        lines: vec![
            "There are no rows to learn from.".into(),
            format!(
                "Generate {rows} {} from the schema alone (column names, types and constraints)?",
                rows_word(rows)
            ),
        ],
        yes: "Generate".into(),
        on_yes: true,
    }));
}
