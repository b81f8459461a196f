//! The runtime: owns the terminal, runs the event loop and carries out the
//! effects `update` asks for.
//!
//! One `select!` waits on the terminal's events, the results of background
//! work and (only while something moves) a tick; everything pending is then
//! drained and the screen drawn once. The terminal is restored on every way
//! out: normal exit, error, and panic (our hook restores before the previous
//! hook prints).

use std::collections::HashMap;
use std::io::stdout;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::{DefaultTerminal, Terminal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::app::{App, Effect, Msg, Options, update};
use super::keys::Keymap;
use super::modal::{GenSpec, ProviderOption};
use super::paths::{Entry, Places};
use super::queries::Queries;
use super::query_worker::{QuerySetup, QueryWorker};
use super::theme::Theme;
use super::view;
use super::whole_worker::{self, WholeSetup};
use super::worker::{Request, WorkerHandle};
use crate::ask::AskError;
use crate::config::Config;
use crate::db::{CancelFlag, Database, OpenOptions};
use crate::generate::job::{
    Event, GenerateError, GenerateRequest, Outcome, Source, insert_previewed, spawn,
};
use crate::llm::{Client, LlmError, ProviderChoice};

/// Ticks while something animates (spinners, toasts).
const TICK: Duration = Duration::from_millis(100);
/// Messages handled before a frame is drawn regardless.
const DRAIN_LIMIT: usize = 512;
/// How long quitting waits for cancelled generations to roll back.
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// What to open.
#[derive(Debug, Clone)]
pub struct Launch {
    pub db_path: PathBuf,
    pub read_only: bool,
    pub create: bool,
}

pub type TuiResult = Result<(), Box<dyn std::error::Error>>;

/// Opens the app on a database. Problems found before the screen is taken
/// (a bad path, a bad key binding) come back as one sentence.
pub fn run(launch: Launch, config: &Config) -> TuiResult {
    let keymap = Keymap::with_overrides(&config.tui.keys.overrides())?;
    let busy = busy_timeout(config);
    let options = if launch.read_only {
        // --read-only: not even a crashed writer's leftovers are rolled back.
        OpenOptions {
            recover: false,
            ..OpenOptions::read_only()
        }
    } else {
        OpenOptions::read_write().create(launch.create)
    };
    let mut options = options.busy_timeout(busy);
    options.offer_create = true;
    let mut db = Database::open(&launch.db_path, &options)?;
    // Another database opened from inside the app: never created, never recovered
    // under --read-only, like the first.
    let reopen_options = OpenOptions {
        create: false,
        offer_create: false,
        ..options
    };

    let source = crate::generate::select_source(config);
    let (source_label, source_note) = match &source {
        Ok((s, note)) => (s.describe(), note.map(str::to_string)),
        Err(e) => ("no provider".to_string(), Some(e.to_string())),
    };
    let (providers, provider) = provider_options(config, source.as_ref().ok().map(|(s, _)| s));
    let asker = question_client(config);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mouse = config.tui.mouse;
    let mut terminal = match init(mouse) {
        Ok(t) => t,
        Err(e) => {
            restore(mouse);
            return Err(format!("Cannot start the terminal app ({e}). Is this a terminal?").into());
        }
    };
    let ask = asker
        .as_ref()
        .map(Client::describe)
        .map_err(ToString::to_string);
    let source = source.map(|(s, _)| s);
    let mut carried: Option<App> = None;
    let result = loop {
        let size = terminal
            .size()
            .map(|s| (s.width, s.height))
            .unwrap_or((80, 24));
        // Reopened by its address (a URL may hold a password), shown by its name.
        let db_path = db.address().to_path_buf();
        let mut app = App::new(Options {
            db_path: db.display_path(),
            read_only: launch.read_only,
            default_rows: config.generate.default_rows,
            max_rows: config.generate.max_rows,
            confirm_rows: config.generate.confirm_rows,
            source: source_label.clone(),
            source_note: source_note.clone(),
            providers: providers.clone(),
            provider,
            keymap: keymap.clone(),
            mouse,
            theme: Theme::from_env(),
            size,
            ask: ask.clone(),
            clock: utc_clock,
            log_file: crate::paths::data_dir()
                .ok()
                .map(|d| crate::log::today_path(&d).display().to_string()),
            places: places(),
        });
        if let Some(before) = carried.take() {
            // The message log and what is on screen come along to the next database.
            app.log = before.log;
            app.toasts = before.toasts;
            app.provider = before.provider;
        }
        let context = Context {
            config: config.clone(),
            db_path: db_path.clone(),
            source: source.clone(),
            asker: asker.clone(),
            busy,
            reopen: reopen_options.clone(),
            whole: WholeSetup::from_config(config, db_path.clone(), busy),
        };
        match runtime.block_on(event_loop(&mut terminal, app, db, context)) {
            Ok(Ended::Reopen { app, db: next }) => {
                carried = Some(*app);
                db = *next;
            }
            Ok(Ended::Quit { signal }) => break Ok(signal),
            Err(e) => break Err(e),
        }
    };
    restore(mouse);
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        // Ended by a signal: the status says so, as shells expect (128 + the signal).
        Ok(Some(signal)) => Err(crate::exit::ExitStatus((128 + signal) as u8).into()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    }
}

/// How one database's session of the app ended.
enum Ended {
    /// The user quit, or a signal (its number) ended the app.
    Quit { signal: Option<i32> },
    /// The user opened another database: the app starts again on it.
    Reopen { app: Box<App>, db: Box<Database> },
}

/// Puts `text` on the clipboard of the terminal the user sits at, over SSH too: the OSC 52
/// sequence most terminals (and tmux with `set-clipboard on`) honour.
fn copy_to_clipboard(text: &str) {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// The time of day in UTC, `HH:MM:SS`, for the message log.
fn utc_clock() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Where typed paths start: read once here, so `update` stays free of IO.
fn places() -> Places {
    Places {
        // No launch directory (it was deleted): `/` still gives absolute paths.
        launch_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        home: directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()),
        data_dir: crate::paths::data_dir().ok(),
    }
}

/// The model that answers plain-language questions, or why there is none.
fn question_client(config: &Config) -> Result<Client, AskError> {
    let selection = crate::config::select(config)?;
    crate::ask::require_client(&selection).cloned()
}

fn busy_timeout(config: &Config) -> Duration {
    Duration::from_millis(config.database.busy_timeout_ms)
}

/// The providers that can be used as configured, for the generate dialog,
/// and which one is in use.
fn provider_options(config: &Config, current: Option<&Source>) -> (Vec<ProviderOption>, usize) {
    use clap::ValueEnum;
    let mut options = Vec::new();
    for choice in ProviderChoice::value_variants() {
        let mut c = config.clone();
        c.provider = Some(*choice);
        if let Ok((source, _)) = crate::generate::select_source(&c) {
            let privacy = match &source {
                Source::Llm(client) => Some(crate::generate::privacy::resolve(
                    config.generate.privacy,
                    client,
                )),
                Source::Offline => None,
            };
            options.push(ProviderOption {
                choice: *choice,
                name: source.provider(),
                model: source.model(),
                model_editable: choice.kind().is_some(),
                privacy,
            });
        }
    }
    let index = current
        .and_then(|s| options.iter().position(|o| o.name == s.provider()))
        .unwrap_or(0);
    if let (Some(src), Some(o)) = (current, options.get_mut(index)) {
        o.model = src.model();
    }
    (options, index)
}

fn init(mouse: bool) -> std::io::Result<DefaultTerminal> {
    install_panic_hook(mouse);
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Terminal::new(CrosstermBackend::new(stdout()))
}

/// Ctrl-Z: gives the terminal back as it was, stops the process as a shell's job, and
/// takes the screen again when `fg` resumes it.
fn suspend(terminal: &mut DefaultTerminal, mouse: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        restore(mouse);
        // SAFETY: raise() only sends a signal to this process; the default action of
        // SIGTSTP stops it here until SIGCONT.
        unsafe {
            libc::raise(libc::SIGTSTP);
        }
        enable_raw_mode()?;
        execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            execute!(stdout(), EnableMouseCapture)?;
        }
        // A resize clears the screen and forces a full redraw without asking the terminal
        // for its cursor (`clear` would, and the event reader owns the answer).
        let size = terminal.size()?;
        terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
    }
    #[cfg(not(unix))]
    let _ = (terminal, mouse);
    Ok(())
}

fn restore(mouse: bool) {
    if mouse {
        let _ = execute!(stdout(), DisableMouseCapture);
    }
    let _ = execute!(stdout(), DisableBracketedPaste);
    ratatui::restore();
}

/// A panic on the UI thread restores the terminal, then lets the previous
/// hook print its sentence. A panic on a background thread must not touch the
/// screen the UI is still drawing: that thread reports through its channel.
fn install_panic_hook(mouse: bool) {
    let ui = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui {
            restore(mouse);
            previous(info);
        } else {
            tracing::error!("background panic: {info}");
        }
    }));
}

/// What effects need besides the app's state.
struct Context {
    config: Config,
    db_path: PathBuf,
    source: Result<Source, LlmError>,
    /// The model for questions, or why there is none.
    asker: Result<Client, AskError>,
    busy: Duration,
    /// How another database is opened from inside the app.
    reopen: OpenOptions,
    /// What whole-database fills of this database share.
    whole: WholeSetup,
}

/// Carries out effects.
struct Effects {
    ctx: Context,
    worker: WorkerHandle,
    queries: Queries,
    tx: UnboundedSender<Msg>,
    jobs: HashMap<u64, CancellationToken>,
    forwarders: Vec<JoinHandle<()>>,
    /// Ctrl-Z was pressed: stop once this message is handled.
    suspend: bool,
    transfer: Option<CancelFlag>,
    /// The whole-database fill running, and its plan being made (a newer one replaces it).
    whole: Option<(u64, CancellationToken)>,
    planning: Option<JoinHandle<()>>,
    /// Another database, opened and waiting for the app to start again on it.
    opened: std::sync::Arc<std::sync::Mutex<Option<Database>>>,
}

impl Effects {
    fn apply(&mut self, effect: Effect) {
        let effect = match worker_requests(effect) {
            Ok(requests) => {
                for request in requests {
                    self.worker.send(request);
                }
                return;
            }
            Err(other) => *other,
        };
        match effect {
            Effect::Generate { job, spec } => self.generate(job, spec),
            Effect::Estimate(spec) => self.estimate(spec),
            Effect::ShowPrompt(spec) => self.show_prompt(spec),
            Effect::CancelJob(job) => {
                if let Some(token) = self.jobs.get(&job) {
                    token.cancel();
                }
            }
            Effect::InsertPreviewed { spec, rows } => self.insert_previewed(spec, rows),
            Effect::PlanWhole { id, size } => {
                if let Some(old) = self.planning.take() {
                    old.abort();
                }
                let task = whole_worker::plan(&self.ctx.whole, id, size, self.tx.clone());
                self.planning = Some(task);
            }
            Effect::RunWhole {
                id,
                plan,
                provider,
                model,
            } => self.run_whole(id, *plan, provider, model),
            Effect::CancelWhole(id) => {
                if let Some((_, token)) = self.whole.as_ref().filter(|(w, _)| *w == id) {
                    token.cancel();
                }
            }
            Effect::Export {
                table,
                path,
                replace,
            } => {
                let cancel = CancelFlag::new();
                self.transfer = Some(cancel.clone());
                self.worker.send(Request::Export {
                    table,
                    path,
                    replace,
                    cancel,
                });
            }
            Effect::Import {
                path,
                table,
                append,
            } => {
                let cancel = CancelFlag::new();
                self.transfer = Some(cancel.clone());
                self.worker.send(Request::Import {
                    path,
                    table,
                    append,
                    cancel,
                });
            }
            Effect::ListDir { text, dir } => list_dir(self.tx.clone(), text, dir),
            Effect::CancelTransfer => {
                if let Some(flag) = &self.transfer {
                    flag.cancel();
                }
            }
            Effect::LoadHistory => self.queries.load_history(),
            Effect::Ask { id, question } => self.queries.ask(id, question),
            Effect::RunQuery { id, input, sql } => self.queries.run(id, input, sql),
            Effect::CancelQuery(id) => self.queries.cancel(id),
            Effect::ExportQuery { sql, path, replace } => {
                let cancel = CancelFlag::new();
                self.transfer = Some(cancel.clone());
                self.queries.export(sql, path, replace, cancel);
            }
            Effect::Copy(text) => copy_to_clipboard(&text),
            Effect::OpenDatabase(path) => self.open_database(path),
            // Needs the terminal: the event loop does it after this message.
            Effect::Suspend => self.suspend = true,
            Effect::Quit => {}
            // Taken by `worker_requests` above.
            Effect::ListObjects
            | Effect::Count(_)
            | Effect::LoadPage(_)
            | Effect::LoadSchema(_)
            | Effect::LoadCell { .. }
            | Effect::PreviewUndo(_)
            | Effect::Undo(_)
            | Effect::ListOperations { .. }
            | Effect::Forget(_)
            | Effect::PreviewDrop(_)
            | Effect::Drop(_) => {}
        }
    }

    /// The source a spec asks for: the configured one, or another provider or model.
    fn source_for(&self, spec: &GenSpec) -> Result<Source, LlmError> {
        if spec.provider.is_none() && spec.model.is_none() {
            return self.ctx.source.clone();
        }
        let mut config = self.ctx.config.clone();
        if let Some(p) = spec.provider {
            config.provider = Some(p);
        }
        if let Some(m) = &spec.model {
            config.model = Some(m.clone());
        }
        crate::generate::select_source(&config).map(|(s, _)| s)
    }

    fn request_for(&self, spec: &GenSpec) -> GenerateRequest {
        let mut request =
            GenerateRequest::new(self.ctx.db_path.clone(), spec.table.clone(), spec.rows)
                .with_settings(&self.ctx.config);
        request.dry_run = spec.preview;
        request.from_schema = spec.from_schema;
        request.busy_timeout = self.ctx.busy;
        request.privacy = spec.privacy.or(self.ctx.config.generate.privacy);
        request
    }

    fn generate(&mut self, job: u64, spec: GenSpec) {
        let source = match self.source_for(&spec) {
            Ok(s) => s,
            Err(error) => {
                let _ = self.tx.send(Msg::Job {
                    job,
                    event: Event::Finished(Outcome::Failed {
                        error: GenerateError::Source(error),
                        kept: 0,
                    }),
                });
                return;
            }
        };
        let request = self.request_for(&spec);
        let token = CancellationToken::new();
        self.jobs.insert(job, token.clone());
        let (events_tx, mut events) = unbounded_channel();
        let handle = spawn(request, source, events_tx, token);
        let tx = self.tx.clone();
        // Forwards the job's events, tagged; a job that dies without a last
        // word still ends with one.
        let forwarder = tokio::spawn(async move {
            let mut finished = false;
            while let Some(event) = events.recv().await {
                finished |= matches!(event, Event::Finished(_));
                let _ = tx.send(Msg::Job { job, event });
            }
            let _ = handle.await;
            if !finished {
                let _ = tx.send(Msg::Job {
                    job,
                    event: Event::Finished(Outcome::Failed {
                        error: GenerateError::Vanished,
                        kept: 0,
                    }),
                });
            }
        });
        self.forwarders.retain(|f| !f.is_finished());
        self.forwarders.push(forwarder);
    }

    /// Fills the whole database with `plan`, with the provider and model chosen.
    fn run_whole(
        &mut self,
        id: u64,
        plan: crate::generate::whole::WholePlan,
        provider: Option<ProviderChoice>,
        model: Option<String>,
    ) {
        let mut spec = GenSpec::new("", 0);
        spec.provider = provider;
        spec.model = model;
        let source = match self.source_for(&spec) {
            Ok(s) => s,
            Err(error) => {
                use crate::generate::whole::{Rollback, WholeError, WholeEvent, WholeOutcome};
                let _ = self.tx.send(Msg::Whole {
                    id,
                    event: WholeEvent::Finished(WholeOutcome::Failed {
                        error: WholeError::Internal(error.to_string()),
                        rollback: Rollback::NothingWritten,
                    }),
                });
                return;
            }
        };
        let token = CancellationToken::new();
        self.whole = Some((id, token.clone()));
        let task = whole_worker::run(&self.ctx.whole, id, plan, source, self.tx.clone(), token);
        self.forwarders.retain(|f| !f.is_finished());
        self.forwarders.push(task);
    }

    /// Works out a run's cost in the background; the answer comes back as a message.
    fn estimate(&mut self, spec: GenSpec) {
        let tx = self.tx.clone();
        let request = self.request_for(&spec);
        let source = self.source_for(&spec);
        tokio::spawn(async move {
            let sentence = match source {
                Ok(source) => crate::generate::job::cost_sentence(request, source).await,
                Err(error) => error.to_string(),
            };
            let _ = tx.send(Msg::Estimated { spec, sentence });
        });
    }

    /// Builds the request `spec` would send first, in the background (the table is read
    /// and profiled); nothing is sent. The answer comes back as a message.
    fn show_prompt(&mut self, spec: GenSpec) {
        let tx = self.tx.clone();
        let request = self.request_for(&spec);
        let source = self.source_for(&spec);
        tokio::spawn(async move {
            let result = match source {
                Ok(source) => crate::generate::job::show_prompt(request, source).await,
                Err(error) => Err(GenerateError::Source(error)),
            };
            let _ = tx.send(Msg::PromptShown { spec, result });
        });
    }

    fn insert_previewed(
        &mut self,
        spec: GenSpec,
        rows: Vec<serde_json::Map<String, serde_json::Value>>,
    ) {
        let table = spec.table.clone();
        let tx = self.tx.clone();
        let source = self.source_for(&spec);
        let request = self.request_for(&spec);
        tokio::task::spawn_blocking(move || {
            let result = source
                .map_err(GenerateError::Source)
                .and_then(|source| insert_previewed(&request, &source, &rows));
            let _ = tx.send(Msg::PreviewInserted { table, result });
        });
    }

    /// Opens another database on a blocking thread (a slow disk must not stall keys); it
    /// waits in `opened` and `Msg::DatabaseOpened` says so, or why it could not be opened.
    fn open_database(&mut self, path: PathBuf) {
        let tx = self.tx.clone();
        let slot = self.opened.clone();
        let options = self.ctx.reopen.clone();
        tokio::task::spawn_blocking(move || {
            let result = Database::open(&path, &options).map(|db| {
                let shown = db.display_path();
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(db);
                }
                shown
            });
            let _ = tx.send(Msg::DatabaseOpened(result));
        });
    }

    /// Cancels every generation and waits a little for them to roll back.
    async fn shutdown(&mut self) {
        for token in self.jobs.values() {
            token.cancel();
        }
        if let Some((_, token)) = &self.whole {
            token.cancel();
        }
        if let Some(flag) = &self.transfer {
            flag.cancel();
        }
        self.queries.shutdown();
        let waiting = std::mem::take(&mut self.forwarders);
        let _ = tokio::time::timeout(QUIT_GRACE, futures_util::future::join_all(waiting)).await;
    }
}

/// The database work an effect asks of the worker, or the effect back when it is not
/// the worker's (exports and imports carry a cancel flag the runtime keeps). The app's
/// tests use the same mapping with [`InlineWorker`](super::worker::InlineWorker).
pub fn worker_requests(effect: Effect) -> Result<Vec<Request>, Box<Effect>> {
    Ok(match effect {
        Effect::ListObjects => vec![Request::List],
        Effect::Count(tables) => tables.into_iter().map(Request::Count).collect(),
        Effect::LoadPage(request) => vec![Request::Page(request)],
        Effect::LoadSchema(table) => vec![Request::Schema(table)],
        Effect::LoadCell {
            table,
            lens,
            key,
            column,
        } => vec![Request::Cell {
            table,
            lens,
            key,
            column,
        }],
        Effect::PreviewUndo(target) => vec![Request::UndoPreview(target)],
        Effect::Undo(target) => vec![Request::Undo(target)],
        Effect::ListOperations { table, note } => vec![Request::Operations { table, note }],
        Effect::Forget(id) => vec![Request::Forget(id)],
        Effect::PreviewDrop(table) => vec![Request::DropPreview(table)],
        Effect::Drop(table) => vec![Request::Drop(table)],
        other => return Err(Box::new(other)),
    })
}

/// The most entries one Tab reads: a huge directory must not stall completion.
const LIST_DIR_LIMIT: usize = 10_000;

/// Reads one directory for Tab completion on a blocking thread (a network
/// mount can take its time), answering `Msg::DirListed`.
fn list_dir(tx: UnboundedSender<Msg>, text: String, dir: PathBuf) {
    tokio::task::spawn_blocking(move || {
        let entries = std::fs::read_dir(&dir)
            .map(|read| {
                read.filter_map(Result::ok)
                    .take(LIST_DIR_LIMIT)
                    .map(|e| Entry {
                        name: e.file_name().to_string_lossy().into_owned(),
                        // Follows links: a link to a folder completes as a folder.
                        dir: std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()),
                    })
                    .collect()
            })
            .map_err(|e| format!("Cannot list '{}' ({e}).", dir.display()));
        let _ = tx.send(Msg::DirListed { text, entries });
    });
}

fn to_msg(event: TermEvent) -> Option<Msg> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Msg::Key(key)),
        TermEvent::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        TermEvent::Paste(text) => Some(Msg::Paste(text)),
        _ => None,
    }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut app: App,
    db: Database,
    ctx: Context,
) -> Result<Ended, Box<dyn std::error::Error>> {
    let (tx, mut rx): (UnboundedSender<Msg>, UnboundedReceiver<Msg>) = unbounded_channel();
    let worker = WorkerHandle::spawn(db, tx.clone(), ctx.config.import.max_record_bytes)?;
    let query_worker = QueryWorker::spawn(
        QuerySetup {
            db_path: ctx.db_path.clone(),
            busy: ctx.busy,
            row_limit: ctx.config.query.row_limit,
            max_cell_bytes: ctx.config.query.max_cell_bytes,
        },
        tx.clone(),
    )?;
    let queries = Queries::new(
        query_worker,
        ctx.asker.clone(),
        ctx.config.generate.privacy,
        tx.clone(),
    );
    let mut effects = Effects {
        ctx,
        worker,
        queries,
        tx,
        jobs: HashMap::new(),
        forwarders: Vec::new(),
        transfer: None,
        whole: None,
        planning: None,
        suspend: false,
        opened: Default::default(),
    };
    let mut events = EventStream::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (_hangup_tx, mut hangup) = hangup_signals();
    let mut signalled = None;

    // Names first: the first frame shows the empty layout at once, the list
    // follows as soon as the worker has read the schema.
    effects.apply(Effect::ListObjects);
    effects.apply(Effect::LoadHistory);
    terminal.draw(|f| view::draw(f, &app))?;

    let handle = |app: &mut App, effects: &mut Effects, msg: Msg| {
        if let Msg::Job {
            job,
            event: Event::Finished(_),
        } = &msg
        {
            effects.jobs.remove(job);
        }
        if let Msg::Whole {
            event: crate::generate::whole::WholeEvent::Finished(_),
            ..
        } = &msg
        {
            effects.whole = None;
        }
        if let Msg::TransferDone { .. } | Msg::ExportExists(_) | Msg::ImportWouldAppend { .. } =
            &msg
        {
            effects.transfer = None;
        }
        effects.queries.seen(&msg);
        for effect in update(app, msg) {
            effects.apply(effect);
        }
    };

    while !app.quit {
        let animating = app.animating();
        let first = tokio::select! {
            event = events.next() => match event {
                Some(Ok(e)) => to_msg(e),
                Some(Err(e)) => return Err(format!("Reading the terminal failed ({e}).").into()),
                None => break,
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = ticker.tick(), if animating => Some(Msg::Tick),
            Some(signal) = hangup.recv() => {
                signalled = Some(signal);
                Some(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)))
            }
        };
        if let Some(msg) = first {
            handle(&mut app, &mut effects, msg);
        }
        // Drain what else is pending, then draw once.
        let mut handled = 0;
        while handled < DRAIN_LIMIT && !app.quit {
            // Polled with this task's own waker: crossterm's stream keeps the
            // first waker it is given, so a throwaway one would lose key presses.
            let pending = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(match events.poll_next_unpin(cx) {
                    std::task::Poll::Ready(e) => Some(e),
                    std::task::Poll::Pending => None,
                })
            })
            .await;
            let next = match pending {
                Some(Some(Ok(e))) => to_msg(e),
                Some(Some(Err(_))) | Some(None) => None,
                None => match rx.try_recv() {
                    Ok(msg) => Some(msg),
                    Err(_) => break,
                },
            };
            if let Some(msg) = next {
                handle(&mut app, &mut effects, msg);
            }
            handled += 1;
        }
        if std::mem::take(&mut effects.suspend) {
            suspend(terminal, app.mouse)?;
        }
        if !app.quit {
            terminal.draw(|f| view::draw(f, &app))?;
        }
    }
    let transferring = effects.transfer.is_some();
    effects.shutdown().await;
    if transferring {
        // The cancelled export or import cleans up after itself (its temp file, its
        // transaction): wait for it to say so before the process ends.
        let done = async {
            while let Some(msg) = rx.recv().await {
                if matches!(msg, Msg::TransferDone { .. }) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(TRANSFER_GRACE, done).await;
    }
    let opened = effects.opened.lock().ok().and_then(|mut slot| slot.take());
    // The old database's workers let go of it when `effects` goes.
    drop(effects);
    match opened {
        Some(db) if app.reopen && signalled.is_none() => Ok(Ended::Reopen {
            app: Box::new(app),
            db: Box::new(db),
        }),
        _ => Ok(Ended::Quit { signal: signalled }),
    }
}

/// How long quitting waits for a cancelled export or import to clean up.
const TRANSFER_GRACE: Duration = Duration::from_secs(5);

/// SIGTERM and SIGHUP (a closed SSH session) quit cleanly, like Ctrl-C; the channel
/// carries the signal's number for the exit status.
fn hangup_signals() -> (UnboundedSender<i32>, UnboundedReceiver<i32>) {
    let (tx, rx) = unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, number) in [(SignalKind::terminate(), 15), (SignalKind::hangup(), 1)] {
            if let Ok(mut s) = signal(kind) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        let _ = tx.send(number);
                    }
                });
            }
        }
    }
    // The sender is kept by the caller so the channel stays open (and quiet)
    // where no signal is watched.
    (tx, rx)
}
