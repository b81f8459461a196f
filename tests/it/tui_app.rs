//! The terminal app without a terminal: `update()` transition by transition,
//! and the screens as snapshots of a `TestBackend` at 80x24 and 120x40.
//!
//! Database effects (list, count, page, schema) run for real against a
//! SQLite file, through the same library calls the worker makes; every other
//! effect is returned for the test to inspect.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rowsmith::db::journal::{Operation, OperationId};
use rowsmith::db::query::{QueryControl, QuerySession};
use rowsmith::db::transfer::{
    DropOutcome, ImportOptions, ImportOutcome, ImportRefusal, LineProblem, import_file,
};
use rowsmith::db::undo::UndoRefusal;
use rowsmith::db::{Database, DbError, OpenOptions};
use rowsmith::generate::job::{Event, GenerateError, Outcome, Stage, Summary, UsageSummary};
use rowsmith::llm::ProviderChoice;
use rowsmith::transferred::{TransferFailed, Transferred};
use rowsmith::tui::app::{App, Count, Effect, Level, Mode, Msg, Options, update};
use rowsmith::tui::grid::Purpose;
use rowsmith::tui::keys::{KeyChord, Keymap, Pane};
use rowsmith::tui::modal::{
    ConfirmKind, GenField, Modal, PromptKind, ProviderOption, Question, UndoTarget,
};
use rowsmith::tui::paths::{Entry, Places};
use rowsmith::tui::query::{Phase, QueryFail, Translated};
use rowsmith::tui::run::worker_requests;
use rowsmith::tui::theme::Theme;
use rowsmith::tui::view;
use rowsmith::tui::worker::InlineWorker;
use serde_json::json;

const SHOP: &str = "
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    city TEXT,
    note TEXT,
    tier TEXT NOT NULL DEFAULT 'bronze' CHECK (tier IN ('bronze', 'silver', 'gold'))
);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO customers (name, email, city, note, tier)
SELECT 'Customer ' || i, 'c' || i || '@example.com',
       CASE i % 3 WHEN 0 THEN 'Lisbon' WHEN 1 THEN 'Osaka' ELSE 'Denver' END,
       CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN '' ELSE 'Prefers email; asked about bulk pricing in spring' END,
       CASE i % 3 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'bronze' END
FROM n;
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total REAL NOT NULL CHECK (total >= 0),
    placed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX orders_by_customer ON orders (customer_id);
INSERT INTO orders (customer_id, total, placed_at) VALUES
    (1, 19.5, '2024-01-02'), (2, 250.0, '2024-01-03'), (3, 7.25, '2024-02-11');
CREATE TABLE wishlist (id INTEGER PRIMARY KEY, item TEXT);
CREATE VIEW gold_customers AS SELECT id, name FROM customers WHERE tier = 'gold';
";

struct Harness {
    app: App,
    db: Database,
    /// The app's database worker, without its thread.
    worker: InlineWorker,
    /// The read-only session queries run on, as the query thread's.
    session: QuerySession,
    /// Carry out `RunQuery` at once; off to hold a query in flight.
    run_queries: bool,
    _dir: tempfile::TempDir,
}

fn providers() -> Vec<ProviderOption> {
    vec![
        ProviderOption {
            choice: ProviderChoice::OpenAi,
            name: "openai".into(),
            model: "gpt-5-mini".into(),
            model_editable: true,
            privacy: Some(rowsmith::config::Privacy::Mask),
        },
        ProviderOption {
            choice: ProviderChoice::Offline,
            name: "offline".into(),
            model: "learned from the table".into(),
            model_editable: false,
            privacy: None,
        },
    ]
}

fn options(w: u16, h: u16) -> Options {
    Options {
        db_path: "/home/dev/shop.db".into(),
        read_only: false,
        default_rows: 10,
        max_rows: 1_000_000,
        confirm_rows: 1_000,
        source: "OpenAI gpt-5-mini".into(),
        source_note: None,
        providers: providers(),
        provider: 0,
        keymap: Keymap::default(),
        mouse: true,
        theme: Theme::plain(),
        size: (w, h),
        ask: Ok("OpenAI gpt-5-mini".into()),
        clock: || "10:00:00".into(),
        log_file: Some("/home/dev/.local/share/rowsmith/rowsmith.2026-12-04.log".into()),
        places: Places {
            launch_dir: PathBuf::from("/home/dev/work"),
            home: Some(PathBuf::from("/home/dev")),
            data_dir: Some(PathBuf::from("/home/dev/.local/share/rowsmith")),
        },
    }
}

impl Harness {
    fn new(w: u16, h: u16) -> Self {
        Self::with(options(w, h))
    }

    fn with(options: Options) -> Self {
        Self::with_limit(options, 1000)
    }

    /// With `query.row_limit` set to `row_limit`.
    fn with_limit(options: Options, row_limit: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shop.db");
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch(SHOP).expect("schema");
        drop(conn);
        let db = Database::open(&path, &OpenOptions::read_only()).expect("open");
        let worker = InlineWorker::new(
            Database::open(&path, &OpenOptions::read_only()).expect("open for the worker"),
        );
        let session = QuerySession::open(&path, Duration::from_millis(200))
            .expect("query session")
            .with_row_limit(row_limit);
        let mut h = Self {
            app: App::new(options),
            db,
            worker,
            session,
            run_queries: true,
            _dir: dir,
        };
        let rest = h.run(vec![Effect::ListObjects]);
        assert!(rest.is_empty(), "{rest:?}");
        h
    }

    /// Sends a message and carries out the database effects it leads to;
    /// returns the other effects.
    fn send(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = update(&mut self.app, msg);
        self.run(effects)
    }

    fn run(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut queue: VecDeque<Effect> = effects.into();
        let mut rest = Vec::new();
        while let Some(effect) = queue.pop_front() {
            let msgs = match effect {
                // Reads go to the app's own worker code, answered at once; the rest
                // (undo, delete, transfers) stay with the test, which answers for them.
                e @ (Effect::ListObjects
                | Effect::Count(_)
                | Effect::LoadPage(_)
                | Effect::LoadSchema(_)
                | Effect::LoadCell { .. }) => match worker_requests(e) {
                    Ok(requests) => requests
                        .into_iter()
                        .flat_map(|r| self.worker.answer(r))
                        .collect(),
                    Err(other) => {
                        rest.push(*other);
                        Vec::new()
                    }
                },
                Effect::RunQuery { id, input, sql } if self.run_queries => {
                    rest.push(Effect::RunQuery {
                        id,
                        input: input.clone(),
                        sql: sql.clone(),
                    });
                    let typed = input.trim() == sql.trim();
                    vec![Msg::QueryDone {
                        id,
                        result: self
                            .session
                            .run(&sql, &QueryControl::new())
                            .map(|mut r| {
                                // A fixed time keeps the screens repeatable.
                                r.elapsed = Duration::from_millis(3);
                                r
                            })
                            .map_err(|e| QueryFail::from_error(e, typed)),
                    }]
                }
                other => {
                    rest.push(other);
                    Vec::new()
                }
            };
            for msg in msgs {
                queue.extend(update(&mut self.app, msg));
            }
        }
        rest
    }

    fn key(&mut self, text: &str) -> Vec<Effect> {
        let chord = KeyChord::parse(text).unwrap_or_else(|_| {
            KeyChord::new(crossterm::event::KeyCode::Char('c'), KeyModifiers::CONTROL)
        });
        self.send(Msg::Key(KeyEvent::new(chord.code, chord.mods)))
    }

    fn keys(&mut self, keys: &[&str]) -> Vec<Effect> {
        let mut all = Vec::new();
        for k in keys {
            all.extend(self.key(k));
        }
        all
    }

    fn ctrl_c(&mut self) -> Vec<Effect> {
        self.send(Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )))
    }

    fn select(&mut self, name: &str) {
        self.key("home");
        for _ in 0..10 {
            if self.app.selected_table().map(|t| t.name.as_str()) == Some(name) {
                return;
            }
            self.key("down");
        }
        panic!("no table {name}");
    }

    fn screen(&self) -> String {
        let (w, h) = self.app.size;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|f| view::draw(f, &self.app)).expect("draw");
        format!("{}", terminal.backend())
    }

    /// Types text into whatever has the keys, one key per character.
    fn type_text(&mut self, text: &str) -> Vec<Effect> {
        let mut all = Vec::new();
        for c in text.chars() {
            all.extend(self.send(Msg::Key(KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                KeyModifiers::NONE,
            ))));
        }
        all
    }

    /// `:`, Ctrl-U (the line may start from the last SQL), the text, Enter.
    fn query(&mut self, text: &str) -> Vec<Effect> {
        let mut all = self.key(":");
        all.extend(self.key("ctrl-u"));
        all.extend(self.type_text(text));
        all.extend(self.key("enter"));
        all
    }

    fn toasts(&self) -> Vec<String> {
        self.app.toasts.iter().map(|t| t.text.clone()).collect()
    }
}

fn summary(table: &str, added: u64, total: u64) -> Summary {
    Summary {
        table: table.into(),
        requested: added,
        rows_added: added,
        new_row_count: total,
        rejected: BTreeMap::new(),
        provider: "openai".into(),
        model: "gpt-5-mini".into(),
        usage: UsageSummary::default(),
        elapsed_ms: 1200,
        shortfall: None,
        dry_run: false,
        preview: Vec::new(),
        rejected_rows: Vec::new(),
    }
}

fn job_id(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Generate { job, .. } => Some(*job),
            _ => None,
        })
        .expect("a generation was started")
}

// ---------------------------------------------------------------------------
// update(): one test per action
// ---------------------------------------------------------------------------

/// A finished export of 'customers' to `path`.
fn exported(path: &str) -> Transferred {
    Transferred::Exported {
        table: Some("customers".into()),
        rows: 60,
        path: PathBuf::from(path),
    }
}

/// A real import's outcome: 5 rows of 2 columns into a new table 'leads'.
fn imported_leads() -> ImportOutcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("leads.csv");
    std::fs::write(&csv, "name,score\na,1\nb,2\nc,3\nd,4\ne,5\n").expect("write csv");
    let options = OpenOptions::read_write().create(true);
    let mut db = Database::open(&dir.path().join("t.db"), &options).expect("db");
    import_file(
        db.sqlite_mut().unwrap(),
        &csv,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import")
}

#[test]
fn names_come_first_then_counts_and_the_first_rows() {
    let mut app = App::new(options(80, 24));
    let effects = update(&mut app, Msg::Objects(Ok(Vec::new())));
    assert!(effects.is_empty());
    let h = Harness::new(80, 24);
    let names: Vec<&str> = h.app.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "gold_customers", "orders", "wishlist"]);
    assert_eq!(
        h.app.entry("customers").map(|t| &t.count),
        Some(&Count::Known(60))
    );
    assert_eq!(
        h.app.entry("gold_customers").map(|t| &t.count),
        Some(&Count::Known(20))
    );
    let grid = h.app.grid.as_ref().expect("rows of the first table");
    assert_eq!(grid.table, "customers");
    assert_eq!(grid.rows.len(), 60);
    assert!(!h.app.animating());
}

#[test]
fn counts_arrive_one_by_one_and_keep_ticking_until_then() {
    let mut app = App::new(options(80, 24));
    let objects = vec![rowsmith::db::catalog::ObjectSummary {
        name: "t".into(),
        kind: rowsmith::db::catalog::ObjectKind::Table,
    }];
    let effects = update(&mut app, Msg::Objects(Ok(objects)));
    assert!(effects.contains(&Effect::Count(vec!["t".into()])));
    assert!(app.animating());
    update(
        &mut app,
        Msg::Count {
            table: "t".into(),
            count: Ok(Some(5_000_000)),
        },
    );
    assert_eq!(
        app.entry("t").map(|t| &t.count),
        Some(&Count::Known(5_000_000))
    );
    assert!(!app.animating());
}

#[test]
fn moving_in_the_list_shows_that_tables_rows() {
    let mut h = Harness::new(80, 24);
    h.key("j");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("gold_customers")
    );
    assert_eq!(
        h.app.grid.as_ref().map(|g| g.table.as_str()),
        Some("gold_customers")
    );
    h.key("down");
    h.key("k");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("gold_customers")
    );
    h.key("end");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("wishlist")
    );
    h.key("home");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("customers")
    );
    h.key("pagedown");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("wishlist")
    );
    h.key("pageup");
    assert_eq!(h.app.selected, 0);
}

#[test]
fn tab_and_enter_move_the_focus_and_the_hints_follow() {
    let mut h = Harness::new(80, 24);
    assert_eq!(h.app.pane(), Pane::List);
    let list_hints = h.app.keymap.hints(Pane::List);
    h.key("tab");
    assert_eq!(h.app.pane(), Pane::Rows);
    assert_ne!(h.app.keymap.hints(Pane::Rows), list_hints);
    h.key("backtab");
    assert_eq!(h.app.pane(), Pane::List);
    h.key("enter");
    assert_eq!(h.app.pane(), Pane::Rows);
}

#[test]
fn rows_move_page_and_jump() {
    let mut h = Harness::new(80, 24);
    h.key("tab");
    h.keys(&["j", "down", "j"]);
    let g = h.app.grid.as_ref().expect("grid");
    assert_eq!(g.cursor, 3);
    assert_eq!(g.position(), Some(4));
    h.key("pagedown");
    let height = h.app.grid_height();
    assert_eq!(h.app.grid.as_ref().map(|g| g.cursor), Some(3 + height));
    h.key("end");
    assert_eq!(h.app.grid.as_ref().and_then(|g| g.position()), Some(60));
    h.key("home");
    assert_eq!(h.app.grid.as_ref().and_then(|g| g.position()), Some(1));
    h.key("k");
    assert_eq!(h.app.grid.as_ref().map(|g| g.cursor), Some(0));
}

#[test]
fn left_and_right_scroll_wide_tables() {
    let mut h = Harness::new(40, 24);
    h.key("tab");
    for _ in 0..5 {
        h.key("l");
    }
    let g = h.app.grid.as_ref().expect("grid");
    assert_eq!(g.col, 5);
    assert!(g.left > 0, "the view scrolled sideways");
    h.key("right");
    assert_eq!(
        h.app.grid.as_ref().map(|g| g.col),
        Some(5),
        "stops at the last column"
    );
    for _ in 0..5 {
        h.key("h");
    }
    let g = h.app.grid.as_ref().expect("grid");
    assert_eq!((g.col, g.left), (0, 0));
}

#[test]
fn enter_and_v_show_a_whole_cell() {
    let mut h = Harness::new(80, 24);
    h.key("tab");
    h.keys(&["j", "l", "l", "l", "l"]);
    h.key("enter");
    match &h.app.modal {
        Some(Modal::Cell(c)) => {
            assert_eq!(c.title, "customers · note");
            assert_eq!(
                c.text.as_deref(),
                Some("Prefers email; asked about bulk pricing in spring")
            );
        }
        other => panic!("{other:?}"),
    }
    h.key("esc");
    assert!(h.app.modal.is_none());
    h.keys(&["j", "j", "v"]);
    assert!(matches!(&h.app.modal, Some(Modal::Cell(c)) if c.text.as_deref() == Some("NULL")));
    // A value cut in the page is read whole on demand.
    let effects = h.send(Msg::Cell(Ok(rusqlite::types::Value::Text(
        "x".repeat(5000),
    ))));
    assert!(effects.is_empty());
    assert!(
        matches!(&h.app.modal, Some(Modal::Cell(c)) if c.text.as_ref().is_some_and(|t| t.len() == 5000))
    );
}

#[test]
fn s_toggles_the_schema() {
    let mut h = Harness::new(80, 24);
    h.select("orders");
    h.key("s");
    assert_eq!(h.app.mode, Mode::Schema);
    let schema = h.app.schema.as_ref().expect("schema");
    assert_eq!(schema.table, "orders");
    assert!(matches!(&schema.info, Some(Ok(info)) if info.foreign_keys.len() == 1));
    h.key("tab");
    h.key("j");
    assert_eq!(h.app.schema.as_ref().map(|s| s.scroll), Some(1));
    h.key("s");
    assert_eq!(h.app.mode, Mode::Rows);
    assert_eq!(
        h.app.grid.as_ref().map(|g| g.table.as_str()),
        Some("orders")
    );
}

#[test]
fn slash_filters_tables_by_name() {
    let mut h = Harness::new(80, 24);
    h.keys(&["/", "o", "r", "d"]);
    assert!(h.app.filtering);
    let names: Vec<String> = h
        .app
        .visible()
        .iter()
        .map(|&i| h.app.tables[i].name.clone())
        .collect();
    assert_eq!(names, ["orders"]);
    assert_eq!(
        h.app.grid.as_ref().map(|g| g.table.as_str()),
        Some("orders")
    );
    h.key("enter");
    assert!(!h.app.filtering);
    assert_eq!(h.app.filter.text, "ord");
    h.key("esc");
    assert_eq!(h.app.visible().len(), 4);
}

#[test]
fn g_starts_the_default_generation_with_a_spinner_and_says_when_it_is_busy() {
    let mut h = Harness::new(80, 24);
    let effects = h.key("g");
    match effects.as_slice() {
        [Effect::Generate { spec, .. }] => {
            assert_eq!(spec.table, "customers");
            assert_eq!(spec.rows, 10);
            assert!(!spec.preview && !spec.from_schema);
        }
        other => panic!("{other:?}"),
    }
    assert!(h.app.job_for("customers").is_some());
    assert!(h.app.animating());
    assert!(h.key("g").is_empty());
    assert_eq!(
        h.toasts(),
        ["'customers' is already generating; x cancels it."]
    );
    // Another table may generate at the same time.
    h.select("orders");
    assert!(matches!(h.key("g").as_slice(), [Effect::Generate { .. }]));
    assert_eq!(h.app.jobs.len(), 2);
}

#[test]
fn g_on_a_view_or_read_only_database_says_why_not() {
    let mut h = Harness::new(80, 24);
    h.select("gold_customers");
    assert!(h.key("g").is_empty());
    assert_eq!(
        h.toasts(),
        ["'gold_customers' is a view, not a table, so rowsmith cannot add rows to it."]
    );
    let mut ro = options(80, 24);
    ro.read_only = true;
    let mut h = Harness::with(ro);
    for key in ["g", "G", "u", "i", "d"] {
        assert!(h.key(key).is_empty(), "{key}");
        assert!(h.app.modal.is_none());
    }
    assert_eq!(h.app.toasts.len(), 3);
    assert!(h.toasts()[0].contains("read-only (--read-only)"));
    // Export still works on a read-only database.
    h.key("e");
    assert!(matches!(h.app.modal, Some(Modal::Prompt(_))));
}

#[test]
fn an_empty_table_asks_before_generating_from_the_schema() {
    let mut h = Harness::new(80, 24);
    h.select("wishlist");
    assert!(h.key("g").is_empty());
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(matches!(c.kind, ConfirmKind::FromSchema(_)));
    assert!(c.on_yes);
    let effects = h.key("enter");
    assert!(matches!(effects.as_slice(), [Effect::Generate { spec, .. }] if spec.from_schema));
    // The job's own refusal (count not known yet) asks the same question.
    let mut h = Harness::new(80, 24);
    h.select("orders");
    let id = job_id(&h.key("g"));
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Failed {
            error: GenerateError::EmptyTable,
            kept: 0,
        }),
    });
    assert!(
        matches!(&h.app.modal, Some(Modal::Confirm(c)) if matches!(c.kind, ConfirmKind::FromSchema(_)))
    );
    h.key("n");
    assert!(h.app.modal.is_none());
}

#[test]
fn progress_then_success_updates_the_count_and_the_open_rows() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    h.send(Msg::Job {
        job: id,
        event: Event::Stage(Stage::AskingModel { request: 1 }),
    });
    h.send(Msg::Job {
        job: id,
        event: Event::RowsAccepted { rows: 4, total: 4 },
    });
    let job = h.app.job_for("customers").expect("job").clone();
    assert_eq!((job.stage.as_str(), job.accepted), ("asking the model", 4));
    let effects = h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(summary("customers", 10, 70))),
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        h.toasts(),
        ["Generated 10 rows for table 'customers'. New total: 70 rows."]
    );
    assert_eq!(
        h.app.entry("customers").map(|t| &t.count),
        Some(&Count::Known(70))
    );
    assert!(h.app.jobs.is_empty());
    // Toasts fade with ticks.
    for _ in 0..rowsmith::tui::app::TOAST_TICKS {
        h.send(Msg::Tick);
    }
    assert!(h.app.toasts.is_empty());
}

/// What the OpenAI client reports for a 401.
fn openai_key_rejected() -> rowsmith::llm::LlmError {
    rowsmith::llm::LlmError::Auth {
        provider: rowsmith::llm::Provider::new(
            rowsmith::llm::ProviderKind::OpenAi,
            rowsmith::llm::OPENAI_BASE_URL,
        ),
        status: 401,
    }
}

#[test]
fn failure_is_a_popup_with_the_sentence() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Failed {
            error: GenerateError::Provider(openai_key_rejected()),
            kept: 0,
        }),
    });
    match &h.app.modal {
        Some(Modal::Error { title, message }) => {
            assert_eq!(title, "Generation for 'customers' failed");
            assert!(message.starts_with("OpenAI rejected the API key (HTTP 401)."));
            assert!(message.ends_with("Nothing was written."));
        }
        other => panic!("{other:?}"),
    }
    h.key("enter");
    assert!(h.app.modal.is_none());
}

#[test]
fn x_cancels_the_selected_tables_job_and_esc_never_does() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    assert!(h.key("esc").is_empty(), "Esc never cancels work");
    assert!(h.app.job_for("customers").is_some_and(|j| !j.cancelling));
    // Another table selected: its job, not the latest one, is what x is about.
    h.select("orders");
    assert!(h.key("x").is_empty());
    assert!(h.toasts().last().is_some_and(|t| {
        t.contains("'orders' is not generating. To cancel 'customers', select its table first.")
    }));
    h.select("customers");
    h.key("esc"); // dismisses that message
    assert_eq!(h.key("x"), vec![Effect::CancelJob(id)]);
    assert_eq!(
        h.app.job_for("customers").map(|j| j.stage.as_str()),
        Some("cancelling")
    );
    assert!(h.key("x").is_empty(), "one cancel is enough");
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Cancelled { kept: 25 }),
    });
    assert_eq!(
        h.toasts(),
        [
            "Cancelled the generation for 'customers'. Kept the 25 rows already added; u undoes them."
        ]
    );
    let id = job_id(&h.key("g"));
    h.key("x");
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Cancelled { kept: 0 }),
    });
    assert!(
        h.toasts()
            .last()
            .is_some_and(|t| t.ends_with("Nothing was written."))
    );
}

#[test]
fn a_job_that_has_run_a_while_is_cancelled_only_after_a_yes() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    for _ in 0..60 {
        h.send(Msg::Tick);
    }
    assert!(h.key("x").is_empty());
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(!c.on_yes, "defaults to No");
    assert!(h.key("enter").is_empty(), "Enter takes the default: No");
    assert!(h.app.job_for("customers").is_some_and(|j| !j.cancelling));
    h.key("x");
    assert_eq!(h.key("y"), vec![Effect::CancelJob(id)]);
}

#[test]
fn esc_dismisses_messages_and_the_log_keeps_them_with_their_time() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(summary("customers", 10, 70))),
    });
    assert_eq!(h.app.toasts.len(), 1);
    // The message sits under the grid, never over it.
    let screen = h.screen();
    let rows_visible = screen
        .lines()
        .filter(|l| l.contains("@example.com"))
        .count();
    assert!(
        screen.contains("✓ Generated 10 rows for table 'customers'."),
        "{screen}"
    );
    assert!(screen.contains("Esc dismiss · L log"), "{screen}");
    assert!(h.key("esc").is_empty());
    assert!(h.app.toasts.is_empty(), "dismissed");
    assert!(h.app.job_for("customers").is_none());
    let after = h.screen();
    assert!(
        after.lines().filter(|l| l.contains("@example.com")).count() >= rows_visible,
        "no row was hidden by the message"
    );
    h.send(Msg::WorkerGone("The file is not CSV.".into()));
    h.key("enter");
    assert!(h.key("L").is_empty());
    let log = h.screen();
    assert!(log.contains("Messages · 2 (times in UTC)"), "{log}");
    assert!(
        log.contains("10:00:00 ✓ Generated 10 rows for table 'customers'."),
        "{log}"
    );
    assert!(
        log.contains("10:00:00 ✗ The database stopped answering: The file is not CSV."),
        "{log}"
    );
    // It names the log file for the details.
    assert!(log.contains("· details: /home/dev/.local"), "{log}");
    match h.key("y").as_slice() {
        [Effect::Copy(text)] => assert!(text.contains("stopped answering"), "{text}"),
        other => panic!("{other:?}"),
    }
    h.key("esc");
    assert!(h.app.modal.is_none());
}

#[test]
fn the_selection_stays_put_through_filters_deletes_and_imports() {
    let mut h = Harness::new(80, 24);
    h.select("orders");
    h.keys(&["/", "o"]);
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("orders"),
        "still matches, so it stays"
    );
    h.key("esc");
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("orders")
    );

    let objects = |names: &[&str]| {
        Msg::Objects(Ok(names
            .iter()
            .map(|n| rowsmith::db::catalog::ObjectSummary {
                name: n.to_string(),
                kind: rowsmith::db::catalog::ObjectKind::Table,
            })
            .collect()))
    };
    // Deleting 'orders' leaves the selection where it was: on its neighbour. (These go to
    // update() alone: the tables exist only in the messages.)
    update(
        &mut h.app,
        Msg::TransferDone {
            result: Ok(Transferred::Deleted(DropOutcome {
                name: "orders".into(),
                kind: rowsmith::db::catalog::ObjectKind::Table,
                rows: Some(3),
            })),
            changed: vec!["orders".into()],
            relist: true,
        },
    );
    update(
        &mut h.app,
        objects(&["customers", "gold_customers", "wishlist"]),
    );
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("wishlist")
    );
    // An imported table is selected once listed.
    update(
        &mut h.app,
        Msg::TransferDone {
            result: Ok(Transferred::Imported(imported_leads())),
            changed: vec!["leads".into()],
            relist: true,
        },
    );
    update(
        &mut h.app,
        objects(&["customers", "gold_customers", "leads", "wishlist"]),
    );
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("leads")
    );
}

#[test]
fn y_copies_the_cell_and_shift_y_the_row() {
    let mut h = Harness::new(100, 30);
    h.key("enter");
    h.key("right");
    match h.key("y").as_slice() {
        [Effect::Copy(text)] => assert_eq!(text, "Customer 1"),
        other => panic!("{other:?}"),
    }
    assert!(
        h.toasts()
            .last()
            .is_some_and(|t| t.starts_with("Copied name (10 characters)"))
    );
    match h.key("Y").as_slice() {
        [Effect::Copy(text)] => {
            let row: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(row["name"], "Customer 1");
            assert_eq!(row["id"], 1);
        }
        other => panic!("{other:?}"),
    }
}

/// The values of one column on the rows held by the open grid.
fn column_values(h: &Harness, column: usize) -> Vec<String> {
    h.app
        .grid
        .as_ref()
        .expect("a grid")
        .rows
        .iter()
        .map(|r| match &r.values[column] {
            rusqlite::types::Value::Text(s) => s.clone(),
            rusqlite::types::Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn slash_searches_the_rows_o_sorts_them_hash_goes_to_a_row_and_esc_shows_all() {
    let mut h = Harness::new(100, 30);
    h.key("enter");
    assert_eq!(h.app.pane(), Pane::Rows);
    // `/` in the rows searches them (the table list keeps its own filter).
    h.key("/");
    h.type_text("osaka");
    assert!(h.screen().contains("└ /osaka"), "{}", h.screen());
    h.key("enter");
    assert!(h.app.filter.text.is_empty());
    let cities = column_values(&h, 3);
    assert_eq!(cities.len(), 20, "every third customer lives in Osaka");
    assert!(cities.iter().all(|c| c == "Osaka"), "{cities:?}");
    let screen = h.screen();
    assert!(
        screen.contains("row 1 of 20"),
        "the title counts the matches:\n{screen}"
    );
    // `o` on the name column: ascending, then descending (text order).
    h.key("right");
    h.key("o");
    assert_eq!(
        column_values(&h, 1)[..3],
        ["Customer 1", "Customer 10", "Customer 13"]
    );
    h.key("o");
    assert_eq!(column_values(&h, 1)[..2], ["Customer 7", "Customer 58"]);
    assert!(h.screen().contains("/osaka · by name ↓"), "{}", h.screen());
    // `#` 3 Enter: the third row of this order.
    h.key("#");
    h.type_text("3");
    h.key("enter");
    let grid = h.app.grid.as_ref().expect("grid");
    assert_eq!(grid.position(), Some(3));
    assert_eq!(
        grid.current().map(|r| r.values[1].clone()),
        Some(rusqlite::types::Value::Text("Customer 55".into()))
    );
    // Not a number: said plainly, nothing moves.
    h.key("#");
    h.type_text("third");
    h.key("enter");
    assert!(
        h.toasts()
            .iter()
            .any(|t| t.contains("'third' is not a row number"))
    );
    assert_eq!(h.app.grid.as_ref().and_then(|g| g.position()), Some(3));
    // Esc: the message first, then every row in the table's order.
    h.key("esc");
    h.key("esc");
    let grid = h.app.grid.as_ref().expect("grid");
    assert!(grid.lens.is_plain());
    assert_eq!(column_values(&h, 0)[..3], ["1", "2", "3"]);
    assert!(h.screen().contains("row 1 of 60"), "{}", h.screen());
    // A search that finds nothing says so.
    h.key("/");
    h.type_text("nobody");
    h.key("enter");
    assert!(
        h.screen().contains("No row has 'nobody' in any column"),
        "{}",
        h.screen()
    );
}

#[test]
fn the_quit_question_follows_the_work_that_still_runs() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    h.key("q");
    let lines = |h: &Harness| match &h.app.modal {
        Some(Modal::Confirm(c)) if c.kind == ConfirmKind::Quit => c.lines.clone(),
        other => panic!("{other:?}"),
    };
    assert!(lines(&h)[0].contains("1 generation is still running"));
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(summary("customers", 1_000_000, 1_000_060))),
    });
    assert_eq!(lines(&h), ["Nothing is running any more."]);
    h.key("y");
    assert!(h.app.quit);
    // Big numbers read as the list shows them.
    assert!(
        h.toasts().iter().any(|t| t.starts_with(
            "Generated 1,000,000 rows for table 'customers'. New total: 1,000,060 rows."
        )),
        "{:?}",
        h.toasts()
    );
}

#[test]
fn q_asks_first_while_a_query_runs() {
    let mut h = Harness::new(80, 24);
    h.run_queries = false;
    h.query("SELECT count(*) FROM customers");
    assert!(h.app.query.is_some());
    assert!(h.key("q").is_empty());
    match &h.app.modal {
        Some(Modal::Confirm(c)) if c.kind == ConfirmKind::Quit => {
            assert!(
                c.lines[0].contains("A query is still running"),
                "{:?}",
                c.lines
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(!h.app.quit);
}

#[test]
fn a_running_generation_shows_its_elapsed_time_and_what_is_left() {
    let mut h = Harness::new(120, 30);
    let id = job_id(&h.key("g"));
    for _ in 0..100 {
        h.send(Msg::Tick);
    }
    h.send(Msg::Job {
        job: id,
        event: Event::RowsAccepted { rows: 5, total: 5 },
    });
    let screen = h.screen();
    assert!(screen.contains("5/10 rows"), "{screen}");
    assert!(screen.contains("· 10 s, about 10 s left"), "{screen}");
}

#[test]
fn quitting_during_an_undo_or_an_export_asks_first() {
    let mut h = Harness::new(80, 24);
    h.key("u");
    // Counting a million rows takes a moment: the line says what is happening meanwhile.
    assert!(
        h.screen()
            .contains("working out what undo would remove from 'customers'"),
        "{}",
        h.screen()
    );
    h.send(Msg::UndoPreview {
        target: UndoTarget::Latest("customers".into()),
        preview: Ok(rowsmith::db::undo::UndoPreview {
            table: "customers".into(),
            source: "offline generator".into(),
            created_at: "2026-12-04 10:00:00".into(),
            rows: 1_000_000,
            already_gone: 0,
            run: None,
        }),
    });
    assert!(h.app.checking.is_none());
    h.key("y");
    assert_eq!(h.app.undoing.as_ref().map(|u| u.table()), Some("customers"));
    // Two and a half seconds of ticks (ten a second): the line says how long it has run.
    for _ in 0..25 {
        h.send(Msg::Tick);
    }
    assert!(
        h.screen()
            .contains("undoing the last generation of 'customers' · 2 s"),
        "{}",
        h.screen()
    );
    assert!(h.key("q").is_empty());
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(c.lines[0].contains("The undo on 'customers' is still running"));
    h.key("n");
    assert!(!h.app.quit);
    h.send(Msg::Undone(Err(DbError::Cancelled)));
    assert!(h.app.undoing.is_none());
    h.key("enter");
    let effects = h.key("q");
    assert!(h.app.quit, "{effects:?}");
}

#[test]
fn the_generate_dialog_previews_then_inserts_the_kept_rows() {
    let mut h = Harness::new(80, 24);
    assert!(h.key("G").is_empty());
    let Some(Modal::Generate(d)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(
        (d.rows.text.as_str(), d.preview, d.field),
        ("10", true, GenField::Rows)
    );
    h.keys(&["backspace", "backspace", "3", "tab", "right", "left", "tab"]);
    h.keys(&[
        "backspace",
        "backspace",
        "backspace",
        "backspace",
        "n",
        "a",
        "n",
        "o",
    ]);
    let effects = h.key("enter");
    let (id, spec) = match effects.as_slice() {
        [Effect::Generate { job, spec }] => (*job, spec.clone()),
        other => panic!("{other:?}"),
    };
    assert_eq!(spec.rows, 3);
    assert!(spec.preview);
    assert_eq!(spec.provider, Some(ProviderChoice::OpenAi));
    assert_eq!(spec.model.as_deref(), Some("gpt-5-nano"));
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = (1..=3)
        .map(|i| {
            json!({"name": format!("New {i}"), "email": format!("n{i}@example.com"), "city": null, "note": "", "tier": "gold"})
                .as_object()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let mut s = summary("customers", 3, 60);
    s.dry_run = true;
    s.preview = rows;
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(s)),
    });
    let Some(Modal::Preview(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(
        p.columns,
        ["name", "email", "city", "note", "tier"],
        "table order"
    );
    h.key("j");
    h.key("x");
    let effects = h.key("a");
    match effects.as_slice() {
        [Effect::InsertPreviewed { spec, rows }] => {
            assert_eq!(rows.len(), 2);
            assert!(!spec.preview);
            assert_eq!(rows[1]["name"], "New 3");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        h.app.job_for("customers").is_some(),
        "inserting shows a spinner"
    );
    h.send(Msg::PreviewInserted {
        table: "customers".into(),
        result: Ok(summary("customers", 2, 62)),
    });
    assert!(h.app.jobs.is_empty());
    assert_eq!(
        h.toasts(),
        ["Generated 2 rows for table 'customers'. New total: 62 rows."]
    );
}

#[test]
fn the_preview_can_be_regenerated_or_discarded() {
    let mut h = Harness::new(80, 24);
    h.key("G");
    h.key("enter");
    let id = h.app.jobs[0].id;
    let mut s = summary("customers", 1, 60);
    s.dry_run = true;
    s.preview = vec![
        json!({"name": "A"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ];
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(s.clone())),
    });
    let effects = h.key("r");
    assert!(matches!(effects.as_slice(), [Effect::Generate { spec, .. }] if spec.preview));
    let id = h.app.jobs[0].id;
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(s)),
    });
    assert!(h.key("esc").is_empty());
    assert!(h.app.modal.is_none());
    assert!(
        h.toasts()
            .last()
            .is_some_and(|t| t.contains("Nothing was written"))
    );
}

#[test]
fn the_dialog_checks_the_row_count_and_offers_the_configured_providers() {
    let mut h = Harness::new(80, 24);
    h.key("G");
    h.keys(&["backspace", "backspace", "0", "enter"]);
    assert!(matches!(&h.app.modal, Some(Modal::Generate(d)) if d.error.is_some()));
    h.keys(&["x", "ctrl-u", "5", "tab", "right"]);
    let effects = h.key("enter");
    match effects.as_slice() {
        [Effect::Generate { spec, .. }] => {
            assert_eq!(spec.rows, 5);
            assert_eq!(spec.provider, Some(ProviderChoice::Offline));
            assert_eq!(spec.model, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_large_model_run_shows_its_cost_and_waits_for_a_yes() {
    let mut h = Harness::new(80, 24);
    h.key("G");
    h.keys(&[
        "ctrl-u", "5", "0", "0", "0", "tab", "tab", "tab", "tab", "space",
    ]);
    let effects = h.key("enter");
    let spec = match effects.as_slice() {
        [Effect::Estimate(spec)] => spec.clone(),
        other => panic!("no generation before the estimate: {other:?}"),
    };
    assert!(h.app.jobs.is_empty());
    assert_eq!((spec.rows, spec.preview), (5000, false));
    assert!(h.screen().contains("Working out what it would cost…"));
    h.send(Msg::Estimated {
        spec: spec.clone(),
        sentence:
            "Estimate: 200 requests, about 300,000 input tokens; about $0.90 with gpt-5-mini."
                .into(),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(!c.on_yes, "defaults to No");
    let screen = h.screen();
    assert!(
        screen.contains("Generate 5,000 rows for 'customers'"),
        "{screen}"
    );
    assert!(screen.contains("generate.confirm_rows (1,000)"), "{screen}");
    assert!(screen.contains("about $0.90"), "{screen}");
    assert!(h.key("enter").is_empty(), "Enter takes the default: No");
    assert!(h.app.jobs.is_empty() && h.app.modal.is_none());
    // An estimate that comes after the question was answered changes nothing.
    h.send(Msg::Estimated {
        spec,
        sentence: "Estimate: 200 requests.".into(),
    });
    assert!(h.app.modal.is_none());

    h.keys(&[
        "G", "ctrl-u", "5", "0", "0", "0", "tab", "tab", "tab", "tab", "space",
    ]);
    assert!(matches!(h.key("enter").as_slice(), [Effect::Estimate(_)]));
    match h.key("y").as_slice() {
        [Effect::Generate { spec, .. }] => assert_eq!(spec.rows, 5000),
        other => panic!("{other:?}"),
    }

    // The offline generator costs nothing: no question.
    let mut h = Harness::new(80, 24);
    h.key("G");
    h.keys(&[
        "ctrl-u", "5", "0", "0", "0", "tab", "right", "tab", "tab", "space",
    ]);
    assert!(matches!(
        h.key("enter").as_slice(),
        [Effect::Generate { .. }]
    ));
}

/// The request a generation would send, built as the runtime builds it for
/// `Effect::ShowPrompt`: `show_prompt` on the harness's database with a client pointed at
/// a server on 127.0.0.1 that records requests. It must record none.
fn shown_request(
    h: &Harness,
    spec: &rowsmith::tui::modal::GenSpec,
) -> rowsmith::generate::job::PromptPreview {
    use crate::llm_support;
    use rowsmith::generate::job::{GenerateRequest, Source, show_prompt};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        let client = llm_support::client(llm_support::settings(
            rowsmith::llm::ProviderKind::OpenAi,
            &format!("{}/v1", server.uri()),
            "gpt-5-mini",
        ));
        let mut request =
            GenerateRequest::new(h._dir.path().join("shop.db"), &spec.table, spec.rows);
        request.from_schema = spec.from_schema;
        request.journal_path = Some(h._dir.path().join("journal.sqlite"));
        let shown = show_prompt(request, Source::Llm(client)).await.unwrap();
        assert!(
            server.received_requests().await.unwrap().is_empty(),
            "a request was sent"
        );
        shown
    })
}

#[test]
fn the_dialogs_key_shows_the_request_the_model_would_get_and_esc_goes_back() {
    let mut h = Harness::new(100, 30);
    h.key("G");
    h.keys(&["ctrl-u", "3", "0"]);
    let spec = match h.key("ctrl-p").as_slice() {
        [Effect::ShowPrompt(spec)] => spec.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((spec.table.as_str(), spec.rows), ("customers", 30));
    assert!(!spec.from_schema);
    assert!(matches!(&h.app.modal, Some(Modal::Request(r)) if r.view.text.is_none()));
    assert!(
        h.screen()
            .contains("Reading the table and building the request…")
    );

    let shown = shown_request(&h, &spec);
    assert!(
        h.send(Msg::PromptShown {
            spec: spec.clone(),
            result: Ok(shown)
        })
        .is_empty()
    );
    let Some(Modal::Request(r)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    let text = r.view.text.clone().unwrap();
    assert!(text.starts_with("POST http://127.0.0.1:"), "{text}");
    assert!(
        text.contains("authorization: Bearer <OPENAI_API_KEY>"),
        "{text}"
    );
    assert!(text.contains("Table: \\\"customers\\\""), "{text}");
    assert!(
        text.contains("This is request 1 of about 2 to OpenAI gpt-5-mini"),
        "{text}"
    );
    crate::llm_support::assert_no_key(std::slice::from_ref(&text));
    let screen = h.screen();
    assert!(
        screen.contains("First request for 'customers' · nothing is sent"),
        "{screen}"
    );
    assert!(screen.contains("POST http://127.0.0.1:"), "{screen}");
    assert!(screen.contains("Esc back to the dialog"), "{screen}");

    h.keys(&["down", "down", "pagedown"]);
    assert!(matches!(&h.app.modal, Some(Modal::Request(r)) if r.view.scroll == 12));
    match h.key("y").as_slice() {
        [Effect::Copy(copied)] => assert_eq!(*copied, text),
        other => panic!("{other:?}"),
    }
    assert!(h.key("esc").is_empty());
    let Some(Modal::Generate(d)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(d.rows.text, "30", "the dialog comes back as it was");
    // An answer nobody waits for any more changes nothing.
    h.send(Msg::PromptShown {
        spec,
        result: Err(GenerateError::EmptyTable),
    });
    assert!(matches!(&h.app.modal, Some(Modal::Generate(d)) if d.error.is_none()));
}

#[test]
fn the_request_key_says_why_it_cannot_show_one() {
    // The offline generator sends nothing: a message says so and the dialog stays.
    let mut h = Harness::new(80, 24);
    h.keys(&["G", "tab", "right"]);
    assert!(h.key("ctrl-p").is_empty());
    assert!(matches!(&h.app.modal, Some(Modal::Generate(_))));
    assert_eq!(
        h.toasts(),
        ["The offline generator makes the rows on this machine: nothing is sent to a model."]
    );

    // A failure goes back to the dialog with its sentence.
    let mut h = Harness::new(80, 24);
    h.key("G");
    let spec = match h.key("ctrl-p").as_slice() {
        [Effect::ShowPrompt(spec)] => spec.clone(),
        other => panic!("{other:?}"),
    };
    h.send(Msg::PromptShown {
        spec,
        result: Err(GenerateError::Database(DbError::Cancelled)),
    });
    assert!(
        matches!(&h.app.modal, Some(Modal::Generate(d)) if d.error == Some(DbError::Cancelled.to_string()))
    );

    // A bad row count is mended in the dialog first.
    h.keys(&["ctrl-u", "0"]);
    assert!(h.key("ctrl-p").is_empty());
    assert!(
        matches!(&h.app.modal, Some(Modal::Generate(d)) if d.error.as_deref().is_some_and(|e| e.starts_with("Rows must be")))
    );

    // An empty table shows the request made from its schema alone.
    let mut h = Harness::new(80, 24);
    h.select("wishlist");
    h.key("G");
    match h.key("ctrl-p").as_slice() {
        [Effect::ShowPrompt(spec)] => {
            assert!(spec.from_schema);
            let shown = shown_request(&h, spec);
            assert!(shown.text().contains("Table: \\\"wishlist\\\""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn u_asks_with_the_row_count_then_undoes() {
    let mut h = Harness::new(80, 24);
    assert_eq!(
        h.key("u"),
        vec![Effect::PreviewUndo(UndoTarget::Latest("customers".into()))]
    );
    h.send(Msg::UndoPreview {
        target: UndoTarget::Latest("customers".into()),
        preview: Ok(rowsmith::db::undo::UndoPreview {
            table: "customers".into(),
            source: "OpenAI gpt-5-mini".into(),
            created_at: "2025-03-01 10:00:00".into(),
            rows: 10,
            already_gone: 0,
            run: None,
        }),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(!c.on_yes, "defaults to No");
    assert!(c.lines[0].contains("Remove the 10 rows"));
    assert!(h.key("enter").is_empty(), "Enter takes the default: No");
    assert!(h.app.modal.is_none());
    h.key("u");
    h.send(Msg::UndoPreview {
        target: UndoTarget::Latest("customers".into()),
        preview: Ok(rowsmith::db::undo::UndoPreview {
            table: "customers".into(),
            source: "offline generator".into(),
            created_at: "2025-03-01 10:00:00".into(),
            rows: 10,
            already_gone: 0,
            run: None,
        }),
    });
    assert_eq!(
        h.key("y"),
        vec![Effect::Undo(UndoTarget::Latest("customers".into()))]
    );
    h.send(Msg::Undone(Ok(rowsmith::db::undo::UndoOutcome {
        table: "customers".into(),
        source: "offline generator".into(),
        created_at: "2025-03-01 10:00:00".into(),
        removed: 10,
        already_gone: 0,
        new_row_count: 50,
        note: None,
        run: None,
    })));
    assert_eq!(
        h.toasts(),
        ["Removed 10 rows from 'customers'. New total: 50 rows."]
    );
    assert_eq!(
        h.app.entry("customers").map(|t| &t.count),
        Some(&Count::Known(50))
    );
    h.key("u");
    h.send(Msg::UndoPreview {
        target: UndoTarget::Latest("customers".into()),
        preview: Err(DbError::Undo(UndoRefusal::NothingForTable {
            table: "customers".into(),
        })),
    });
    assert!(
        matches!(&h.app.modal, Some(Modal::Error { message, .. }) if message.starts_with("Nothing to undo"))
    );
}

/// A run filled 'customers' and 'orders' at once: `u` on either asks for the whole run,
/// the history lists it as one entry, and undoing it recounts both tables.
#[test]
fn a_run_is_one_entry_to_confirm_undo_and_list() {
    use rowsmith::db::journal::{Run, RunId};
    use rowsmith::db::undo::{
        RunOutcome, RunPreview, TableOutcome, TablePreview, UndoOutcome, UndoPreview,
    };
    let mut h = Harness::new(100, 30);
    h.key("u");
    h.send(Msg::UndoPreview {
        target: UndoTarget::Latest("customers".into()),
        preview: Ok(UndoPreview {
            table: "customers".into(),
            source: "offline generator".into(),
            created_at: "2026-12-05 10:00:00".into(),
            rows: 13,
            already_gone: 0,
            run: Some(RunPreview {
                id: 4,
                tables: vec![
                    TablePreview {
                        table: "orders".into(),
                        rows: 10,
                        already_gone: 0,
                    },
                    TablePreview {
                        table: "customers".into(),
                        rows: 3,
                        already_gone: 0,
                    },
                ],
            }),
        }),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(c.title, "Undo the run that last filled 'customers'?");
    assert_eq!(
        c.lines[0],
        "Remove the 13 rows from 2 tables (orders 10, customers 3) rowsmith added in one run on \
         2026-12-05 10:00:00 (offline generator)."
    );
    assert_eq!(c.yes, "Remove 13 rows from 2 tables");
    assert_eq!(
        h.key("y"),
        vec![Effect::Undo(UndoTarget::Latest("customers".into()))]
    );
    h.send(Msg::Undone(Ok(UndoOutcome {
        table: "customers".into(),
        source: "offline generator".into(),
        created_at: "2026-12-05 10:00:00".into(),
        removed: 13,
        already_gone: 0,
        new_row_count: 57,
        note: None,
        run: Some(RunOutcome {
            id: 4,
            tables: vec![
                TableOutcome {
                    table: "orders".into(),
                    removed: 10,
                    already_gone: 0,
                    new_row_count: 3,
                },
                TableOutcome {
                    table: "customers".into(),
                    removed: 3,
                    already_gone: 0,
                    new_row_count: 57,
                },
            ],
        }),
    })));
    assert_eq!(
        h.toasts(),
        ["Removed 13 rows from 2 tables (orders 10, customers 3)."]
    );
    assert_eq!(
        h.app.entry("customers").map(|t| &t.count),
        Some(&Count::Known(57))
    );
    assert_eq!(
        h.app.entry("orders").map(|t| &t.count),
        Some(&Count::Known(3))
    );

    // The history: the run is one entry, with its tables.
    let run = Run {
        id: RunId(1),
        listed_as: OperationId(4),
        created_at: "2026-12-05 10:00:00".into(),
        source: "offline generator".into(),
        tables: vec![("customers".into(), 3), ("orders".into(), 10)],
    };
    let mut entry = operation(4, "customers", 13);
    entry.run = Some(run);
    let history = Msg::Operations {
        table: "orders".into(),
        note: None,
        list: Ok(vec![(operation(5, "customers", 2), None), (entry, None)]),
    };
    h.key("U");
    h.send(history.clone());
    let Some(Modal::History(shown)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(shown.cursor, 1, "on the run, which filled 'orders' last");
    let screen = h.screen();
    assert!(screen.contains("Undo history · 2 operations"), "{screen}");
    assert!(
        screen.contains("  2 tables      13 rows  offline · customers, orders  "),
        "{screen}"
    );
    assert_eq!(
        h.key("enter"),
        vec![Effect::PreviewUndo(UndoTarget::Operation {
            id: 4,
            table: "customers".into()
        })]
    );
    h.send(Msg::UndoPreview {
        target: UndoTarget::Operation {
            id: 4,
            table: "customers".into(),
        },
        preview: Ok(UndoPreview {
            table: "customers".into(),
            source: "offline generator".into(),
            created_at: "2026-12-05 10:00:00".into(),
            rows: 13,
            already_gone: 0,
            run: Some(RunPreview {
                id: 4,
                tables: ["orders", "customers"]
                    .into_iter()
                    .map(|t| TablePreview {
                        table: t.into(),
                        rows: 1,
                        already_gone: 0,
                    })
                    .collect(),
            }),
        }),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(c.title, "Undo operation 4, a run over 2 tables?");
    h.key("esc");

    // Clearing the run's record says it is the whole run's.
    h.key("U");
    h.send(history);
    assert!(h.key("f").is_empty());
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(
        c.lines[0],
        "rowsmith forgets the 13 rows it added to 'customers' and 'orders' in one run on 2026-12-04 \
         10:00:00: undo will not offer them again."
    );
}

fn operation(id: i64, table: &str, rows: u64) -> Operation {
    Operation {
        id: OperationId(id),
        database: "/home/dev/shop.db".into(),
        table: table.into(),
        created_at: format!("2026-12-0{id} 10:00:00"),
        source: "offline".into(),
        columns: vec!["name".into()],
        rows,
        run: None,
    }
}

/// The history the worker sends when the latest generation of customers was edited.
fn blocked_history(h: &mut Harness) {
    h.send(Msg::Operations {
        table: "customers".into(),
        note: Some(
            "Cannot undo: 10 of the 10 rows rowsmith added to 'customers' on 2026-12-03 10:00:00 were edited or replaced since, and undo would delete your changes. Nothing was removed."
                .into(),
        ),
        list: Ok(vec![
            (operation(3, "customers", 10), None),
            (operation(2, "orders", 5), None),
            (operation(1, "customers", 7), Some("2026-12-01 11:00:00".into())),
        ]),
    });
}

#[test]
fn when_the_latest_cannot_be_undone_the_history_lets_the_user_pick_or_clear() {
    let mut h = Harness::new(100, 30);
    h.key("u");
    blocked_history(&mut h);
    let Some(Modal::History(history)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(history.cursor, 0, "on the operation that was refused");
    let screen = h.screen();
    assert!(screen.contains("edited or replaced since"), "{screen}");
    assert!(screen.contains("Undo history · 3 operations"), "{screen}");
    assert!(
        screen.contains("undone or cleared 2026-12-01 11:00:00"),
        "{screen}"
    );

    // Nothing older is touched unless the user picks it.
    h.key("j");
    assert_eq!(
        h.key("enter"),
        vec![Effect::PreviewUndo(UndoTarget::Operation {
            id: 2,
            table: "orders".into()
        })]
    );
    h.send(Msg::UndoPreview {
        target: UndoTarget::Operation {
            id: 2,
            table: "orders".into(),
        },
        preview: Ok(rowsmith::db::undo::UndoPreview {
            table: "orders".into(),
            source: "offline".into(),
            created_at: "2026-12-02 10:00:00".into(),
            rows: 5,
            already_gone: 0,
            run: None,
        }),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(c.title, "Undo operation 2 on 'orders'?");
    assert_eq!(
        h.key("y"),
        vec![Effect::Undo(UndoTarget::Operation {
            id: 2,
            table: "orders".into()
        })]
    );

    // An operation already undone is not offered again.
    blocked_history(&mut h);
    h.keys(&["j", "j"]);
    assert!(h.key("enter").is_empty());
    assert!(matches!(h.app.modal, Some(Modal::History(_))));
    assert!(
        h.toasts()
            .last()
            .is_some_and(|t| t.contains("already undone"))
    );

    // Clearing the refused record asks first, then re-lists.
    h.key("home");
    assert!(h.key("f").is_empty());
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(c.lines.iter().any(|l| l == "No row is touched."), "{c:?}");
    assert!(!c.on_yes);
    assert_eq!(h.key("y"), vec![Effect::Forget(3)]);
    let effects = h.send(Msg::Forgotten(Ok(operation(3, "customers", 10))));
    assert_eq!(
        effects,
        vec![Effect::ListOperations {
            table: "customers".into(),
            note: None
        }]
    );
    assert!(
        h.toasts()
            .last()
            .is_some_and(|t| t.starts_with("Cleared the record of operation 3"))
    );

    // U opens the history at any time; Esc closes it.
    assert_eq!(
        h.key("U"),
        vec![Effect::ListOperations {
            table: "customers".into(),
            note: None
        }]
    );
    blocked_history(&mut h);
    assert!(h.key("esc").is_empty());
    assert!(h.app.modal.is_none());
}

#[test]
fn the_history_refuses_to_write_under_read_only() {
    let mut o = options(100, 30);
    o.read_only = true;
    let mut h = Harness::with(o);
    h.key("U");
    blocked_history(&mut h);
    assert!(h.key("enter").is_empty());
    assert!(h.key("f").is_empty());
    assert!(matches!(h.app.modal, Some(Modal::History(_))));
    assert!(h.toasts().iter().any(|t| t.contains("read-only")));
}

#[test]
fn e_exports_to_the_path_typed_with_progress() {
    let mut h = Harness::new(80, 24);
    assert!(h.key("e").is_empty());
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    // Absolute, so the user sees where the file goes.
    assert_eq!(p.input.text, "/home/dev/work/customers.csv");
    h.keys(&["ctrl-w", "o", "u", "t", ".", "c", "s", "v"]);
    let effects = h.key("enter");
    assert_eq!(
        effects,
        vec![Effect::Export {
            table: "customers".into(),
            path: PathBuf::from("/home/dev/work/out.csv"),
            replace: false,
        }]
    );
    h.send(Msg::TransferProgress {
        done: 30,
        total: Some(60),
    });
    assert_eq!(h.app.transfer.as_ref().map(|t| t.done), Some(30));
    assert!(h.key("e").is_empty(), "one transfer at a time");
    assert!(h.key("esc").is_empty(), "Esc never cancels work");
    assert_eq!(h.key("x"), vec![Effect::CancelTransfer]);
    h.send(Msg::TransferDone {
        result: Err(TransferFailed::Db(DbError::Cancelled)),
        changed: Vec::new(),
        relist: false,
    });
    // Cancelled on purpose: no prompt comes back.
    assert!(h.app.transfer.is_none());
    assert!(
        matches!(h.app.modal, Some(Modal::Error { .. })),
        "{:?}",
        h.app.modal
    );
    h.key("enter");
    h.key("e");
    h.key("enter");
    h.send(Msg::TransferDone {
        result: Ok(Transferred::Exported {
            table: Some("customers".into()),
            rows: 60,
            path: PathBuf::from("/home/dev/work/customers.csv"),
        }),
        changed: Vec::new(),
        relist: false,
    });
    assert!(h.app.modal.is_none());
    assert!(
        h.toasts().contains(
            &"Exported 60 rows of 'customers' to /home/dev/work/customers.csv.".to_string()
        )
    );
}

#[test]
fn i_imports_a_file_and_lists_the_new_table() {
    let mut h = Harness::new(80, 24);
    h.key("i");
    h.keys(&["enter"]);
    assert!(
        matches!(&h.app.modal, Some(Modal::Prompt(p)) if p.error.as_deref() == Some("Type a file path first."))
    );
    h.keys(&["a", ".", "c", "s", "v"]);
    assert_eq!(
        h.key("enter"),
        vec![Effect::Import {
            path: PathBuf::from("/home/dev/work/a.csv"),
            table: None,
            append: false,
        }]
    );
    let refusal = DbError::Import(ImportRefusal::Malformed {
        file: "a.csv".into(),
        line: 3,
        problem: LineProblem::FieldCount {
            expected: 3,
            found: 4,
        },
    });
    let message = refusal.to_string();
    let effects = h.send(Msg::TransferDone {
        result: Err(TransferFailed::Db(refusal)),
        changed: Vec::new(),
        relist: false,
    });
    assert!(effects.is_empty());
    // The prompt comes back with the path as typed and why it failed.
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(p.input.text, "a.csv");
    assert_eq!(p.error.as_deref(), Some(message.as_str()));
    assert!(h.app.transfer.is_none());
    // Mending the path clears the error.
    h.key("backspace");
    assert!(
        matches!(&h.app.modal, Some(Modal::Prompt(p)) if p.error.is_none() && p.input.text == "a.cs")
    );
    h.key("esc");
    assert!(h.app.modal.is_none());
}

/// What the runtime lists for Tab: names, `/` marking directories.
fn listing(names: &[&str]) -> Result<Vec<Entry>, String> {
    Ok(names
        .iter()
        .map(|n| Entry {
            name: n.trim_end_matches('/').into(),
            dir: n.ends_with('/'),
        })
        .collect())
}

fn prompt_of(h: &Harness) -> &rowsmith::tui::modal::Prompt {
    match &h.app.modal {
        Some(Modal::Prompt(p)) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn tilde_is_the_home_in_every_path_prompt() {
    let mut h = Harness::new(80, 24);
    h.key("e");
    h.key("ctrl-u");
    h.type_text("~/out.csv");
    let [Effect::Export { path, .. }] = &h.key("enter")[..] else {
        panic!()
    };
    assert_eq!(path, &PathBuf::from("/home/dev/out.csv"));
    h.send(Msg::TransferDone {
        result: Ok(exported("/home/dev/out.csv")),
        changed: Vec::new(),
        relist: false,
    });
    h.key("i");
    h.type_text("~");
    let [Effect::Import { path, .. }] = &h.key("enter")[..] else {
        panic!()
    };
    assert_eq!(path, &PathBuf::from("/home/dev"));
    h.send(Msg::TransferDone {
        result: Ok(exported("/home/dev/out.csv")),
        changed: Vec::new(),
        relist: false,
    });
    h.query("SELECT 1");
    h.key("e");
    h.key("ctrl-u");
    h.type_text("~/q.csv");
    let [Effect::ExportQuery { path, .. }] = &h.key("enter")[..] else {
        panic!()
    };
    assert_eq!(path, &PathBuf::from("/home/dev/q.csv"));
}

#[test]
fn tab_completes_like_a_shell() {
    let mut h = Harness::new(80, 24);
    h.key("i");
    h.type_text("~/da");
    assert_eq!(
        h.key("tab"),
        vec![Effect::ListDir {
            text: "~/da".into(),
            dir: PathBuf::from("/home/dev/"),
        }]
    );
    h.send(Msg::DirListed {
        text: "~/da".into(),
        entries: listing(&["data/", "notes.txt", ".dash"]),
    });
    assert_eq!(prompt_of(&h).input.text, "~/data/");
    // Several matches: the first Tab completes the common part, the second lists them.
    let [Effect::ListDir { dir, .. }] = &h.key("tab")[..] else {
        panic!()
    };
    assert_eq!(dir, &PathBuf::from("/home/dev/data/"));
    let files = listing(&["users_2023.csv", "users_2024.csv", "orders.csv", ".users"]);
    h.send(Msg::DirListed {
        text: "~/data/".into(),
        entries: files.clone(),
    });
    assert_eq!(prompt_of(&h).input.text, "~/data/");
    assert!(prompt_of(&h).candidates.is_empty());
    h.key("tab");
    h.send(Msg::DirListed {
        text: "~/data/".into(),
        entries: files.clone(),
    });
    assert_eq!(
        prompt_of(&h).candidates,
        ["orders.csv", "users_2023.csv", "users_2024.csv"]
    );
    h.key("u");
    assert!(prompt_of(&h).candidates.is_empty(), "typing hides the list");
    h.key("tab");
    h.send(Msg::DirListed {
        text: "~/data/u".into(),
        entries: files.clone(),
    });
    assert_eq!(prompt_of(&h).input.text, "~/data/users_202");
    h.key("tab");
    h.send(Msg::DirListed {
        text: "~/data/users_202".into(),
        entries: files.clone(),
    });
    assert_eq!(
        prompt_of(&h).candidates,
        ["users_2023.csv", "users_2024.csv"]
    );
    // A listing for text typed over since is stale.
    h.key("3");
    h.send(Msg::DirListed {
        text: "~/data/users_202".into(),
        entries: listing(&["users_2020.csv"]),
    });
    assert_eq!(prompt_of(&h).input.text, "~/data/users_2023");
    // A folder that cannot be read says so in the prompt.
    h.key("tab");
    h.send(Msg::DirListed {
        text: "~/data/users_2023".into(),
        entries: Err("Cannot list '/home/dev/data/' (Permission denied).".into()),
    });
    assert_eq!(
        prompt_of(&h).error.as_deref(),
        Some("Cannot list '/home/dev/data/' (Permission denied).")
    );
    assert_eq!(
        h.key("enter"),
        vec![Effect::Import {
            path: PathBuf::from("/home/dev/data/users_2023"),
            table: None,
            append: false,
        }]
    );
}

#[test]
fn export_over_an_existing_file_asks_and_defaults_to_no() {
    let mut h = Harness::new(80, 24);
    h.key("e");
    let first = h.key("enter");
    let out = PathBuf::from("/home/dev/work/customers.csv");
    assert_eq!(
        first,
        vec![Effect::Export {
            table: "customers".into(),
            path: out.clone(),
            replace: false,
        }]
    );
    h.send(Msg::ExportExists(out.clone()));
    assert!(h.app.transfer.is_none());
    assert_eq!(
        prompt_of(&h).question,
        Some(Question::Overwrite { path: out.clone() })
    );
    // Other keys do not answer; Enter is No: back to the path, nothing written.
    assert!(h.key("x").is_empty());
    assert!(prompt_of(&h).question.is_some());
    assert!(h.key("enter").is_empty());
    assert!(prompt_of(&h).question.is_none());
    assert_eq!(prompt_of(&h).input.text, "/home/dev/work/customers.csv");
    h.key("enter");
    h.send(Msg::ExportExists(out.clone()));
    assert_eq!(
        h.key("y"),
        vec![Effect::Export {
            table: "customers".into(),
            path: out.clone(),
            replace: true,
        }]
    );
    assert!(h.app.modal.is_none());
    assert!(h.app.transfer.is_some());
    // The query export asks the same.
    h.send(Msg::TransferDone {
        result: Ok(exported("/home/dev/out.csv")),
        changed: Vec::new(),
        relist: false,
    });
    h.query("SELECT 1");
    h.key("e");
    h.key("enter");
    let q = PathBuf::from("/home/dev/work/query.csv");
    h.send(Msg::ExportExists(q.clone()));
    let [Effect::ExportQuery { path, replace, .. }] = &h.key("Y")[..] else {
        panic!()
    };
    assert_eq!((path, *replace), (&q, true));
}

#[test]
fn import_into_an_existing_table_asks_and_defaults_to_a_new_table() {
    let mut h = Harness::new(80, 24);
    h.key("i");
    h.type_text("orders.csv");
    h.key("enter");
    let file = PathBuf::from("/home/dev/work/orders.csv");
    let asked = Msg::ImportWouldAppend {
        path: file.clone(),
        table: "orders".into(),
        columns: 4,
        new_table: "orders_2".into(),
    };
    h.send(asked.clone());
    assert!(matches!(
        &prompt_of(&h).question,
        Some(Question::Append { new_table, columns: 4, .. }) if new_table == "orders_2"
    ));
    // Esc goes back to the path.
    assert!(h.key("esc").is_empty());
    assert!(prompt_of(&h).question.is_none());
    h.key("enter");
    h.send(asked.clone());
    assert_eq!(
        h.key("enter"),
        vec![Effect::Import {
            path: file.clone(),
            table: Some("orders_2".into()),
            append: false,
        }]
    );
    h.send(asked.clone());
    assert_eq!(
        h.key("a"),
        vec![Effect::Import {
            path: file.clone(),
            table: None,
            append: true,
        }]
    );
    // Cancelled while it was being read: nothing is asked.
    assert_eq!(h.key("x"), vec![Effect::CancelTransfer]);
    h.send(asked);
    assert!(h.app.modal.is_none());
    assert!(h.app.transfer.is_none());
}

#[test]
fn d_confirms_with_the_row_count_and_defaults_to_no() {
    let mut h = Harness::new(80, 24);
    h.select("orders");
    assert_eq!(h.key("d"), vec![Effect::PreviewDrop("orders".into())]);
    let preview = rowsmith::db::transfer::DropPreview {
        name: "orders".into(),
        kind: rowsmith::db::catalog::ObjectKind::Table,
        rows: Some(3),
        referenced_by: Vec::new(),
    };
    h.send(Msg::DropPreview {
        table: "orders".into(),
        preview: Ok(preview.clone()),
    });
    let Some(Modal::Confirm(c)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert!(!c.on_yes);
    assert_eq!(c.lines[0], "It holds 3 rows.");
    assert!(h.key("enter").is_empty());
    h.key("d");
    h.send(Msg::DropPreview {
        table: "orders".into(),
        preview: Ok(preview),
    });
    h.key("right");
    assert_eq!(h.key("enter"), vec![Effect::Drop("orders".into())]);
    let effects = h.send(Msg::TransferDone {
        result: Ok(Transferred::Deleted(DropOutcome {
            name: "orders".into(),
            kind: rowsmith::db::catalog::ObjectKind::Table,
            rows: Some(3),
        })),
        changed: Vec::new(),
        relist: true,
    });
    assert!(effects.is_empty(), "the list was read again: {effects:?}");
    // A table others point at is refused before asking.
    h.select("customers");
    h.key("d");
    h.send(Msg::DropPreview {
        table: "customers".into(),
        preview: Ok(rowsmith::db::transfer::DropPreview {
            name: "customers".into(),
            kind: rowsmith::db::catalog::ObjectKind::Table,
            rows: Some(60),
            referenced_by: vec!["orders".into()],
        }),
    });
    assert!(
        matches!(&h.app.modal, Some(Modal::Error { message, .. }) if message.contains("'orders'"))
    );
}

#[test]
fn q_quits_but_asks_while_generating_and_ctrl_c_always_quits() {
    let mut h = Harness::new(80, 24);
    assert_eq!(h.key("q"), vec![Effect::Quit]);
    assert!(h.app.quit);
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    assert!(h.key("q").is_empty());
    assert!(
        matches!(&h.app.modal, Some(Modal::Confirm(c)) if c.kind == ConfirmKind::Quit && !c.on_yes)
    );
    h.key("n");
    assert!(!h.app.quit);
    h.key("?");
    assert_eq!(h.ctrl_c(), vec![Effect::CancelJob(id), Effect::Quit]);
    assert!(h.app.quit);
}

#[test]
fn capital_o_opens_another_database_and_keeps_the_prompt_on_a_failure() {
    let mut h = Harness::new(80, 24);
    assert!(h.key("O").is_empty());
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(p.kind, PromptKind::OpenDatabase);
    // It starts in the folder of the database open now.
    assert_eq!(p.input.text, "/home/dev/");
    h.type_text("old.db");
    let effects = h.key("enter");
    assert_eq!(
        effects,
        vec![Effect::OpenDatabase("/home/dev/old.db".into())]
    );
    h.send(Msg::DatabaseOpened(Err(DbError::NotSqlite {
        path: "/home/dev/old.db".into(),
    })));
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("the prompt stays up: {:?}", h.app.modal)
    };
    assert!(
        p.error
            .as_deref()
            .is_some_and(|e| e.contains("not a SQLite database"))
    );
    assert_eq!(p.input.text, "/home/dev/old.db", "the path is kept to mend");
    assert!(!h.app.quit);
    h.send(Msg::DatabaseOpened(Ok("/home/dev/new.db".into())));
    assert!(h.app.quit && h.app.reopen);
    assert!(h.app.modal.is_none());
    assert!(
        h.app
            .log
            .iter()
            .any(|t| t.text == "Opened /home/dev/new.db.")
    );
    // From the demo, which lives in rowsmith's own folder, it starts where rowsmith was started.
    let mut demo = options(80, 24);
    demo.db_path = "/home/dev/.local/share/rowsmith/demo.sqlite".into();
    let mut h = Harness::with(demo);
    h.key("O");
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(p.input.text, "/home/dev/work/");
}

#[test]
fn another_database_waits_for_the_work_running_here() {
    let mut h = Harness::new(80, 24);
    h.key("g");
    assert!(h.key("O").is_empty());
    assert!(h.app.modal.is_none());
    assert!(
        h.toasts()
            .iter()
            .any(|t| t.contains("once the work running here is done")),
        "{:?}",
        h.toasts()
    );
    // An answer for a prompt that was closed meanwhile changes nothing.
    h.send(Msg::DatabaseOpened(Ok("/home/dev/new.db".into())));
    assert!(!h.app.quit);
}

#[test]
fn question_mark_opens_help_and_any_key_closes_it() {
    let mut h = Harness::new(80, 24);
    h.key("?");
    assert!(matches!(h.app.modal, Some(Modal::Help { .. })));
    h.key("j");
    assert!(matches!(h.app.modal, Some(Modal::Help { scroll: 1 })));
    h.key("esc");
    assert!(h.app.modal.is_none());
}

#[test]
fn r_reloads_tables_counts_and_rows() {
    let mut h = Harness::new(80, 24);
    let effects = update(
        &mut h.app,
        Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Char('r'),
            KeyModifiers::NONE,
        )),
    );
    assert_eq!(effects[0], Effect::ListObjects);
    assert!(
        matches!(&effects[1], Effect::LoadPage(p) if matches!(p.purpose, Purpose::Replace { .. }))
    );
    assert!(h.app.tables.iter().all(|t| t.count == Count::Pending));
    h.run(effects);
    assert_eq!(
        h.app.entry("customers").map(|t| &t.count),
        Some(&Count::Known(60))
    );
}

#[test]
fn the_mouse_selects_and_scrolls_unless_turned_off() {
    let mut h = Harness::new(80, 24);
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    h.send(Msg::Mouse(click(3, 3)));
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("orders")
    );
    h.send(Msg::Mouse(click(3, 1)));
    assert_eq!(
        h.app.selected_table().map(|t| t.name.as_str()),
        Some("customers")
    );
    let areas = h.app.areas();
    h.send(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: areas.main.x + 5,
        row: areas.main.y + 5,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(h.app.grid.as_ref().map(|g| g.cursor), Some(3));
    h.send(Msg::Mouse(click(areas.main.x + 5, areas.main.y + 4)));
    assert_eq!(h.app.pane(), Pane::Rows);
    assert_eq!(h.app.grid.as_ref().map(|g| g.cursor), Some(2));
    let mut off = options(80, 24);
    off.mouse = false;
    let mut h = Harness::with(off);
    h.send(Msg::Mouse(click(3, 3)));
    assert_eq!(h.app.selected, 0);
}

#[test]
fn resize_reflows_and_keeps_the_cursor_on_screen() {
    let mut h = Harness::new(120, 40);
    h.key("tab");
    for _ in 0..30 {
        h.key("j");
    }
    h.send(Msg::Resize(80, 12));
    let g = h.app.grid.as_ref().expect("grid");
    let height = h.app.grid_height();
    assert!(g.cursor >= g.top && g.cursor < g.top + height);
    assert!(h.screen().contains("row 31 of 60"));
}

#[test]
fn worker_failure_is_a_popup() {
    let mut h = Harness::new(80, 24);
    h.send(Msg::WorkerGone("The database worker stopped.".into()));
    assert!(matches!(&h.app.modal, Some(Modal::Error { .. })));
    assert_eq!(
        h.app
            .toasts
            .iter()
            .filter(|t| t.level == Level::Error)
            .count(),
        0
    );
}

// ---------------------------------------------------------------------------
// `:` questions and SQL
// ---------------------------------------------------------------------------

fn query_id(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::RunQuery { id, .. } | Effect::Ask { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a query was started")
}

fn popup(h: &Harness) -> (String, String) {
    match &h.app.modal {
        Some(Modal::Error { title, message }) => (title.clone(), message.clone()),
        other => panic!("no popup: {other:?}"),
    }
}

#[test]
fn colon_opens_the_query_line_and_sql_runs_on_enter() {
    let mut h = Harness::new(80, 24);
    assert!(h.key(":").is_empty());
    assert!(h.app.query_line.is_some());
    assert_eq!(h.app.pane(), Pane::List, "the line does not move the focus");
    h.type_text("SELECT count(*) AS n FROM customers");
    assert_eq!(
        h.app.query_line.as_ref().map(|l| l.edit.text.as_str()),
        Some("SELECT count(*) AS n FROM customers")
    );
    let effects = h.key("enter");
    assert_eq!(
        effects,
        vec![Effect::RunQuery {
            id: 1,
            input: "SELECT count(*) AS n FROM customers".into(),
            sql: "SELECT count(*) AS n FROM customers".into(),
        }]
    );
    assert!(h.app.query_line.is_none());
    assert!(h.app.query.is_none(), "the result has arrived");
    assert_eq!(h.app.mode, Mode::Query);
    assert_eq!(h.app.pane(), Pane::Results);
    let r = h.app.results.as_ref().expect("a result");
    assert_eq!(r.grid.columns, ["n"]);
    assert_eq!(r.grid.rows[0].values, [rusqlite::types::Value::Integer(60)]);
    assert!(!r.truncated);
    assert_eq!(h.app.history, ["SELECT count(*) AS n FROM customers"]);
    let screen = h.screen();
    assert!(
        screen.contains("SELECT count(*) AS n FROM customers"),
        "{screen}"
    );
    assert!(screen.contains("1 row in"), "{screen}");
    // Esc on the line closes it and runs nothing; keys go to the line while
    // it is open (`q` is a letter, not quit).
    h.key(":");
    h.type_text("SELECT 1 AS q");
    assert!(!h.app.quit);
    assert!(h.key("esc").is_empty());
    assert!(h.app.query_line.is_none());
    // Enter on an empty line runs nothing either.
    h.key(":");
    h.key("ctrl-u");
    assert!(h.key("enter").is_empty());
    // Opening a table's rows leaves the result.
    h.key("tab");
    h.key("enter");
    assert_eq!(h.app.mode, Mode::Rows);
}

#[test]
fn a_question_goes_to_the_model_and_its_sql_runs() {
    let mut h = Harness::new(80, 24);
    let effects = h.query("customers in Osaka, by name");
    let id = query_id(&effects);
    assert_eq!(
        effects,
        vec![Effect::Ask {
            id,
            question: "customers in Osaka, by name".into()
        }]
    );
    let q = h.app.query.as_ref().expect("asking");
    assert_eq!(q.phase, Phase::Asking);
    assert!(h.app.animating());
    assert!(h.screen().contains("waiting for the model"));
    let sql = "SELECT name, city FROM customers WHERE city = 'Osaka' ORDER BY name";
    let effects = h.send(Msg::Translated {
        id,
        result: Ok(Translated {
            sql: sql.into(),
            explanation: "Customers who live in Osaka, by name.".into(),
        }),
    });
    assert_eq!(
        effects,
        vec![Effect::RunQuery {
            id,
            input: "customers in Osaka, by name".into(),
            sql: sql.into()
        }]
    );
    let r = h.app.results.as_ref().expect("a result");
    assert!(r.question);
    assert_eq!(r.sql, sql);
    assert_eq!(r.grid.rows.len(), 20);
    let screen = h.screen();
    assert!(screen.contains("? customers in Osaka, by name"), "{screen}");
    assert!(screen.contains("WHERE city ="), "{screen}");
    assert!(screen.contains("'Osaka' ORDER BY name"), "{screen}");
    assert!(
        screen.contains("-- Customers who live in Osaka"),
        "{screen}"
    );
    // The history remembers the question as asked.
    assert_eq!(h.app.history, ["customers in Osaka, by name"]);
}

#[test]
fn model_failures_and_a_missing_model_are_plain_sentences() {
    let mut h = Harness::new(80, 24);
    let id = query_id(&h.query("top customers"));
    h.send(Msg::Translated {
        id,
        result: Err(rowsmith::ask::AskError::NoQuery(
            "no table holds orders".into(),
        )),
    });
    assert_eq!(
        popup(&h),
        (
            "The model could not answer".into(),
            "The model could not write a query for this question: no table holds orders".into()
        )
    );
    assert!(h.app.query.is_none());
    assert_eq!(h.app.mode, Mode::Rows, "nothing to show: back to the rows");
    h.key("esc");

    let mut o = options(80, 24);
    o.ask = Err(rowsmith::ask::AskError::NoModel.to_string());
    let mut h = Harness::with(o);
    assert!(h.query("who ordered the most").is_empty());
    let (title, message) = popup(&h);
    assert_eq!(title, "No model to ask");
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
    assert!(message.contains("SQL (SELECT"), "{message}");
    h.key("esc");
    // SQL still runs.
    let effects = h.query("SELECT name FROM customers WHERE id = 7");
    assert!(
        matches!(effects[..], [Effect::RunQuery { .. }]),
        "{effects:?}"
    );
    assert_eq!(h.app.results.as_ref().map(|r| r.grid.rows.len()), Some(1));
}

#[test]
fn results_page_scroll_sideways_and_show_the_cap() {
    let mut h = Harness::with_limit(options(80, 24), 50);
    h.query("SELECT * FROM customers ORDER BY id");
    let r = h.app.results.as_ref().expect("a result");
    assert!(r.truncated);
    assert_eq!(r.grid.rows.len(), 50);
    let height = h.app.grid_height();
    assert!(height < 20, "the SQL takes a line: {height}");
    assert!(h.key("pagedown").is_empty(), "every row is held: no reads");
    let g = &h.app.results.as_ref().expect("result").grid;
    assert_eq!(g.cursor, height);
    h.key("end");
    let g = &h.app.results.as_ref().expect("result").grid;
    assert_eq!(g.cursor, 49);
    assert_eq!(g.position(), Some(50));
    h.keys(&["l", "l", "l", "l"]);
    assert_eq!(h.app.results.as_ref().expect("result").grid.col, 4);
    let screen = h.screen();
    assert!(screen.contains("row 50 of 50+"), "{screen}");
    assert!(
        screen.contains("First 50 rows (row limit) · e exports all"),
        "{screen}"
    );
    // The whole cell, without a read: a result holds its values whole.
    h.keys(&["home", "v"]);
    let Some(Modal::Cell(cell)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(cell.title, "query · note");
    assert_eq!(cell.text.as_deref(), Some(""));
    h.key("esc");
    // NULL stays NULL: row 4's note.
    h.keys(&["j", "j", "j"]);
    assert_eq!(
        h.app
            .results
            .as_ref()
            .expect("result")
            .grid
            .current()
            .map(|r| r.values[4].clone()),
        Some(rusqlite::types::Value::Null)
    );
    // The mouse wheel scrolls the result.
    h.send(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 40,
        row: 10,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(h.app.results.as_ref().expect("result").grid.cursor, 6);
}

#[test]
fn e_on_a_result_exports_every_row_to_the_path_typed() {
    let mut h = Harness::with_limit(options(80, 24), 5);
    h.query("SELECT id, note FROM customers WHERE id <= 8");
    assert!(h.key("e").is_empty());
    let Some(Modal::Prompt(p)) = &h.app.modal else {
        panic!("{:?}", h.app.modal)
    };
    assert_eq!(p.input.text, "/home/dev/work/query.csv");
    assert!(matches!(&p.kind, PromptKind::ExportQuery { .. }));
    let path = h._dir.path().join("eight.csv");
    h.key("ctrl-u");
    h.type_text(&path.display().to_string());
    let effects = h.key("enter");
    let [
        Effect::ExportQuery {
            sql,
            path: typed,
            replace: false,
        },
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(sql, "SELECT id, note FROM customers WHERE id <= 8");
    assert_eq!(typed, &path);
    assert!(h.app.transfer.is_some());
    assert!(h.key("e").is_empty(), "one transfer at a time");
    // What the query thread does with it: every row, beyond the cap.
    let n = h
        .session
        .export_csv_file(sql, &path, &QueryControl::new(), false)
        .expect("export");
    assert_eq!(n, 8);
    let text = std::fs::read_to_string(&path).expect("csv");
    assert_eq!(text.lines().count(), 9, "{text}");
    assert!(
        text.starts_with("id,note\n1,\"\"\n2,Prefers email"),
        "{text}"
    );
    h.send(Msg::TransferDone {
        result: Ok(Transferred::Exported {
            table: None,
            rows: 8,
            path: path.clone(),
        }),
        changed: Vec::new(),
        relist: false,
    });
    assert!(h.app.transfer.is_none());
    assert!(
        h.toasts()
            .iter()
            .any(|t| t.starts_with("Exported 8 rows of the query result"))
    );
    // On the table list, `e` still exports the selected table.
    h.key("tab");
    h.key("e");
    assert!(matches!(
        &h.app.modal,
        Some(Modal::Prompt(p)) if matches!(p.kind, PromptKind::Export { .. })
    ));
}

#[test]
fn x_interrupts_a_long_query_with_a_toast() {
    let mut h = Harness::new(80, 24);
    h.run_queries = false;
    let effects = h.query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
    );
    let id = query_id(&effects);
    assert_eq!(h.app.query.as_ref().map(|q| q.phase), Some(Phase::Running));
    h.send(Msg::QueryProgress { id, rows: 12_345 });
    assert_eq!(h.app.query.as_ref().map(|q| q.rows), Some(12_345));
    let screen = h.screen();
    assert!(screen.contains("12,345 rows so far"), "{screen}");
    assert!(screen.contains("x interrupts"), "{screen}");
    // A second query waits for the first.
    h.key(":");
    h.type_text("SELECT 1");
    assert!(h.key("enter").is_empty());
    assert!(h.toasts()[0].starts_with("A query is still running"));
    h.key("esc");
    assert!(h.key("esc").is_empty(), "Esc never interrupts");
    assert_eq!(h.key("x"), vec![Effect::CancelQuery(id)]);
    assert!(h.app.query.as_ref().is_some_and(|q| q.stopping));
    assert!(h.key("x").is_empty(), "asked once");
    h.send(Msg::QueryDone {
        id,
        result: Err(QueryFail::Cancelled),
    });
    assert!(h.app.query.is_none());
    assert!(
        h.toasts()
            .contains(&"Interrupted the query. Nothing was changed.".to_string())
    );
    assert!(!h.app.animating() || !h.app.toasts.is_empty());

    // x while the model writes the SQL stops that too.
    let id = query_id(&h.query("the busiest day"));
    assert_eq!(h.key("x"), vec![Effect::CancelQuery(id)]);
    h.send(Msg::QueryDone {
        id,
        result: Err(QueryFail::Cancelled),
    });
    assert!(h.app.query.is_none());
}

#[test]
fn a_refused_statement_shows_the_gates_sentence_in_a_popup() {
    let mut h = Harness::new(80, 24);
    let effects = h.query("DELETE FROM customers");
    assert!(
        matches!(effects[..], [Effect::RunQuery { .. }]),
        "SQL, not a question"
    );
    let (title, message) = popup(&h);
    assert_eq!(title, "Refused", "{message}");
    assert_eq!(
        message,
        "Refused: this statement would change the database (DELETE). Only read-only queries run here."
    );
    assert!(h.app.results.is_none());
    assert_eq!(h.app.mode, Mode::Rows);
    assert_eq!(count_rows(&h, "customers"), 60);
    h.key("esc");
    // `:` starts from the refused SQL, to mend it.
    h.key(":");
    assert_eq!(
        h.app.query_line.as_ref().map(|l| l.edit.text.as_str()),
        Some("DELETE FROM customers")
    );
    h.key("esc");
    // The model's SQL meets the same gate.
    let id = query_id(&h.query("please remove the orders table"));
    h.send(Msg::Translated {
        id,
        result: Ok(Translated {
            sql: "DROP TABLE orders".into(),
            explanation: "Drops the table.".into(),
        }),
    });
    let (title, message) = popup(&h);
    assert_eq!(title, "Refused");
    assert!(
        message.starts_with("Refused: this statement would change the database"),
        "{message}"
    );
    assert!(
        message.ends_with("The model wrote: DROP TABLE orders"),
        "{message}"
    );
    assert_eq!(count_rows(&h, "orders"), 3);
    // SQL that does not parse says how to ask instead.
    h.key("esc");
    h.query("SELECT * FROM customers WHERE");
    let (title, message) = popup(&h);
    assert_eq!(title, "The query failed");
    assert!(message.ends_with("start the text with '?'."), "{message}");
}

fn count_rows(h: &Harness, table: &str) -> i64 {
    h.db.sqlite()
        .unwrap()
        .conn()
        .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .expect("count")
}

#[test]
fn up_and_down_walk_the_history_of_this_database() {
    let mut h = Harness::new(80, 24);
    h.send(Msg::History(Ok(vec![
        "SELECT 2".into(),
        "how many orders".into(),
    ])));
    h.key(":");
    h.type_text("SEL");
    h.key("up");
    let text = |h: &Harness| h.app.query_line.as_ref().map(|l| l.edit.text.clone());
    assert_eq!(text(&h).as_deref(), Some("SELECT 2"));
    h.key("up");
    assert_eq!(text(&h).as_deref(), Some("how many orders"));
    h.key("up");
    assert_eq!(
        text(&h).as_deref(),
        Some("how many orders"),
        "the oldest stays"
    );
    h.key("down");
    h.key("down");
    assert_eq!(text(&h).as_deref(), Some("SEL"), "back to what was typed");
    h.key("esc");
    h.query("SELECT 3");
    assert_eq!(h.app.history, ["SELECT 3", "SELECT 2", "how many orders"]);
    // `:` on a result starts from its SQL, to edit and run again.
    h.key(":");
    assert_eq!(text(&h).as_deref(), Some("SELECT 3"));
    h.keys(&["backspace", "home", "right"]);
    h.type_text("");
    h.key("end");
    h.type_text("4 AS four");
    let effects = h.key("enter");
    assert!(
        matches!(&effects[..], [Effect::RunQuery { sql, .. }] if sql == "SELECT 4 AS four"),
        "{effects:?}"
    );
    assert_eq!(
        h.app.results.as_ref().map(|r| r.grid.columns.clone()),
        Some(vec!["four".to_string()])
    );
    // Text pasted into the line is inserted at the cursor.
    h.key(":");
    h.key("ctrl-u");
    h.send(Msg::Paste("SELECT\n  5".into()));
    assert_eq!(text(&h).as_deref(), Some("SELECT\n  5"));
    // A history file that cannot be read is a warning, not a stop.
    h.send(Msg::History(Err(rowsmith::ask::history::HistoryError {
        path: "/home/dev/.local/share/rowsmith/history.sqlite".into(),
        detail: "disk I/O error".into(),
    })));
    assert!(
        h.toasts().iter().any(|t| t.starts_with(
            "The query history in '/home/dev/.local/share/rowsmith/history.sqlite' could not be used (disk I/O error)."
        )),
        "{:?}",
        h.toasts()
    );
}

#[test]
fn the_query_key_is_in_the_help_and_the_hints() {
    let h = Harness::new(120, 40);
    let help = h.app.keymap.help();
    assert!(
        help.iter()
            .any(|(k, d, _)| k == ":" && d.starts_with("Ask a question"))
    );
    assert!(
        h.app
            .keymap
            .hints(Pane::List)
            .contains(&(":".to_string(), "query"))
    );
    assert!(
        h.app
            .keymap
            .hints(Pane::Results)
            .contains(&(":".to_string(), "edit SQL"))
    );
    let map =
        Keymap::with_overrides(&[("query".into(), vec![KeyChord::parse("f2").expect("key")])])
            .expect("keymap");
    let mut o = options(80, 24);
    o.keymap = map;
    let mut h = Harness::with(o);
    assert!(h.key(":").is_empty());
    assert!(h.app.query_line.is_none());
    h.key("f2");
    assert!(h.app.query_line.is_some());
}

// ---------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------

/// Each screen at 80x24 and 120x40.
fn screens(name: &str, build: impl Fn(u16, u16) -> Harness) {
    for (w, h) in [(80, 24), (120, 40)] {
        let harness = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), harness.screen());
    }
}

#[test]
fn screen_list_with_counts() {
    screens("list", Harness::new);
}

#[test]
fn screen_generation_in_progress() {
    screens("generating", |w, h| {
        let mut x = Harness::new(w, h);
        let id = job_id(&x.key("g"));
        x.send(Msg::Job {
            job: id,
            event: Event::Started {
                table: "customers".into(),
                provider: "OpenAI".into(),
                model: "gpt-6.1-terra".into(),
                rows: 10,
                sending: Some("11 masked sample rows".into()),
            },
        });
        x.send(Msg::Job {
            job: id,
            event: Event::Stage(Stage::AskingModel { request: 2 }),
        });
        x.send(Msg::Job {
            job: id,
            event: Event::RowsAccepted { rows: 4, total: 4 },
        });
        // The line says which request this is, how many were asked again and what the
        // run has used so far.
        x.send(Msg::Job {
            job: id,
            event: Event::Usage {
                input_tokens: 1_800,
                output_tokens: 650,
                retries: 2,
            },
        });
        x
    });
}

#[test]
fn a_run_that_added_nothing_says_why_in_one_message() {
    let mut h = Harness::new(80, 24);
    let id = job_id(&h.key("g"));
    let mut done = summary("customers", 0, 60);
    done.shortfall = Some(
        "Stopped early after 3 model requests: most rows the model wrote were rejected, so only 0 of 10 rows were added.".into(),
    );
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(done)),
    });
    assert_eq!(h.toasts().len(), 1, "{:?}", h.toasts());
    assert!(h.toasts()[0].starts_with("Stopped early after 3 model requests"));
}

#[test]
fn screen_success_toast() {
    screens("success_toast", |w, h| {
        let mut x = Harness::new(w, h);
        let id = job_id(&x.key("g"));
        x.send(Msg::Job {
            job: id,
            event: Event::Finished(Outcome::Done(summary("customers", 10, 70))),
        });
        x
    });
}

#[test]
fn screen_error_popup() {
    screens("error_popup", |w, h| {
        let mut x = Harness::new(w, h);
        let id = job_id(&x.key("g"));
        x.send(Msg::Job {
            job: id,
            event: Event::Finished(Outcome::Failed {
                error: GenerateError::Provider(openai_key_rejected()),
                kept: 0,
            }),
        });
        x
    });
}

#[test]
fn screen_rows_view() {
    screens("rows", |w, h| {
        let mut x = Harness::new(w, h);
        x.keys(&["tab", "j", "j", "l"]);
        x
    });
}

#[test]
fn screen_schema_view() {
    screens("schema", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("s");
        x
    });
}

#[test]
fn screen_help() {
    screens("help", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("?");
        x
    });
}

#[test]
fn screen_generate_dialog() {
    screens("generate_dialog", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("G");
        x
    });
}

#[test]
fn screen_preview_grid() {
    screens("preview", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("G");
        x.key("enter");
        let id = x.app.jobs[0].id;
        let mut s = summary("customers", 4, 60);
        s.dry_run = true;
        s.preview = (1..=4)
            .map(|i| {
                json!({"name": format!("Marta Quispe {i}"), "email": format!("marta{i}@example.org"), "city": if i == 2 { serde_json::Value::Null } else { json!("Cusco") }, "note": "", "tier": "silver"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        s.rejected_rows = vec![rowsmith::generate::job::RejectedRow {
            row: json!({"name": "John Doe", "email": "email@google.com", "city": null, "note": "", "tier": "gold"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            reason: "email 'email@google.com' repeats another new row".into(),
        }];
        x.send(Msg::Job {
            job: id,
            event: Event::Finished(Outcome::Done(s)),
        });
        x.keys(&["j", "x"]);
        x
    });
}

#[test]
fn gate_rejections_show_in_the_preview_and_cannot_be_inserted() {
    let mut h = Harness::new(100, 30);
    h.key("G");
    h.key("enter");
    let id = h.app.jobs[0].id;
    let mut s = summary("customers", 1, 60);
    s.dry_run = true;
    s.preview = vec![
        json!({"name": "A"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    ];
    s.rejected_rows = vec![rowsmith::generate::job::RejectedRow {
        row: json!({"name": "B"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        reason: "name 'B' is already in the table".into(),
    }];
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(s)),
    });
    let screen = h.screen();
    assert!(screen.contains("1 turned away by the gate"), "{screen}");
    assert!(
        screen.contains("✗  name 'B' is already in the table"),
        "{screen}"
    );
    // Moving onto the rejected row and accepting inserts only the good row.
    h.keys(&["j", "x"]);
    match h.key("a").as_slice() {
        [Effect::InsertPreviewed { rows, .. }] => {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0]["name"], "A");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_finished_run_says_what_the_gate_turned_away() {
    let mut h = Harness::new(100, 30);
    let id = job_id(&h.key("g"));
    let mut s = summary("customers", 10, 70);
    s.rejected.insert("phone is already in the table".into(), 4);
    h.send(Msg::Job {
        job: id,
        event: Event::Finished(Outcome::Done(s)),
    });
    assert!(
        h.toasts()
            .iter()
            .any(|t| t == "4 rows turned away and asked for again; most often: phone is already in the table."),
        "{:?}",
        h.toasts()
    );
}

#[test]
fn screen_path_completion() {
    screens("path_completion", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("i");
        x.type_text("~/data/");
        let names: Vec<String> = (1..=40).map(|i| format!("export_{i:02}.csv")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for _ in 0..2 {
            let text = prompt_of(&x).input.text.clone();
            x.key("tab");
            x.send(Msg::DirListed {
                text,
                entries: listing(&names),
            });
        }
        assert_eq!(prompt_of(&x).candidates.len(), 40);
        x
    });
}

#[test]
fn screen_overwrite_question() {
    screens("overwrite_question", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("e");
        x.key("enter");
        x.send(Msg::ExportExists(PathBuf::from(
            "/home/dev/work/customers.csv",
        )));
        x
    });
}

#[test]
fn screen_append_question() {
    screens("append_question", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("i");
        x.type_text("~/orders.csv");
        x.key("enter");
        x.send(Msg::ImportWouldAppend {
            path: PathBuf::from("/home/dev/orders.csv"),
            table: "orders".into(),
            columns: 4,
            new_table: "orders_2".into(),
        });
        x
    });
}

#[test]
fn screen_confirm_dialogs() {
    screens("confirm_undo", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("u");
        x.send(Msg::UndoPreview {
            target: UndoTarget::Latest("customers".into()),
            preview: Ok(rowsmith::db::undo::UndoPreview {
                table: "customers".into(),
                source: "OpenAI gpt-5-mini".into(),
                created_at: "2025-03-01 10:00:00".into(),
                rows: 10,
                already_gone: 0,
                run: None,
            }),
        });
        x
    });
    screens("undo_history", |w, h| {
        let mut x = Harness::new(w, h);
        x.key("u");
        blocked_history(&mut x);
        x
    });
    screens("confirm_delete", |w, h| {
        let mut x = Harness::new(w, h);
        x.select("orders");
        x.key("d");
        x.send(Msg::DropPreview {
            table: "orders".into(),
            preview: Ok(rowsmith::db::transfer::DropPreview {
                name: "orders".into(),
                kind: rowsmith::db::catalog::ObjectKind::Table,
                rows: Some(3),
                referenced_by: Vec::new(),
            }),
        });
        x
    });
    screens("confirm_from_schema", |w, h| {
        let mut x = Harness::new(w, h);
        x.select("wishlist");
        x.key("g");
        x
    });
}

#[test]
fn screen_query_line() {
    screens("query_line", |w, h| {
        let mut x = Harness::new(w, h);
        x.send(Msg::History(Ok(vec!["SELECT count(*) FROM orders".into()])));
        x.key(":");
        x.type_text("customers in Osaka with a note, newest first");
        x.keys(&["left", "left", "left", "left", "left", "left"]);
        x
    });
}

#[test]
fn screen_query_results() {
    screens("query_results", |w, h| {
        let mut x = Harness::with_limit(options(w, h), 12);
        let id = query_id(&x.query("gold and silver customers in Osaka or Denver"));
        x.send(Msg::Translated {
            id,
            result: Ok(Translated {
                sql: "SELECT id, name, city, tier, note FROM customers WHERE city IN ('Osaka', 'Denver') AND tier <> 'bronze' ORDER BY id".into(),
                explanation: "Gold and silver customers in Osaka or Denver, by id.".into(),
            }),
        });
        x.keys(&["j", "j", "l"]);
        x
    });
}

#[test]
fn screen_query_running() {
    screens("query_running", |w, h| {
        let mut x = Harness::new(w, h);
        x.run_queries = false;
        let id = query_id(&x.query("SELECT customer_id, sum(total) FROM orders GROUP BY 1"));
        x.send(Msg::QueryProgress { id, rows: 12_345 });
        x
    });
}

// ---------------------------------------------------------------------------
// [tui] in the config file
// ---------------------------------------------------------------------------

#[test]
fn tui_keys_are_remapped_from_the_config_file() {
    let path = std::path::Path::new("config.toml");
    let config = rowsmith::config::parse(
        "[tui]\nmouse = false\n\n[tui.keys]\ngenerate = \"ctrl-g\"\nquit = [\"q\", \"f10\"]\n",
        path,
    )
    .expect("valid config");
    assert!(!config.tui.mouse);
    let keymap = Keymap::with_overrides(&config.tui.keys.overrides()).expect("keymap");
    assert_eq!(
        keymap.label(rowsmith::tui::keys::Action::Generate),
        "Ctrl-g"
    );
    assert_eq!(keymap.label(rowsmith::tui::keys::Action::Quit), "q/F10");
    // Every action of the key map can be set under [tui.keys].
    for name in rowsmith::tui::keys::action_names() {
        let text = format!("[tui.keys]\n{name} = \"f5\"\n");
        let config = rowsmith::config::parse(&text, path).expect(name);
        assert_eq!(config.tui.keys.overrides().len(), 1, "{name}");
    }
    assert!(rowsmith::config::parse("", path).expect("empty").tui.mouse);
}

#[test]
fn bad_tui_keys_name_the_key_and_the_line() {
    let path = std::path::Path::new("config.toml");
    let err = rowsmith::config::parse("[tui.keys]\ngenerate = \"g\"\nfly = \"f\"\n", path)
        .expect_err("unknown action");
    assert_eq!(err.line(), Some(3));
    assert_eq!(err.key(), Some("tui.keys.fly"));
    let err = rowsmith::config::parse(
        "[tui]\nmouse = true\n[tui.keys]\nundo = \"hyper-u\"\n",
        path,
    )
    .expect_err("bad key");
    assert_eq!(err.line(), Some(4));
    assert_eq!(err.key(), Some("tui.keys.undo"));
    assert!(
        err.to_string().contains("\"hyper-u\" is not a key"),
        "{err}"
    );
    let clash = rowsmith::config::parse("[tui.keys]\ngenerate = \"q\"\n", path).expect("parses");
    let refused = Keymap::with_overrides(&clash.tui.keys.overrides()).expect_err("q twice");
    assert!(refused.contains("'q'"), "{refused}");
}

/// Issue 11, defect 11 (the app): messages that quote names show control characters as
/// escapes instead of sending them to the terminal.
#[test]
fn toasts_never_carry_control_characters() {
    let mut app = App::new(options(80, 24));
    app.toast(
        rowsmith::tui::app::Level::Error,
        "There is no table 'evil\x1b]0;pwned\x07'.",
    );
    let text = &app.toasts.last().unwrap().text;
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.contains("evil\\x1b]0;pwned\\x07"), "{text}");
}

/// Issue 13, point 4: the first `g` on the demo must work, so the list starts on the first
/// table, not on a view listed before it.
#[test]
fn the_list_starts_on_the_first_table_not_a_view() {
    use rowsmith::db::catalog::ObjectKind;
    let mut app = App::new(options(80, 24));
    let objects = vec![
        rowsmith::db::catalog::ObjectSummary {
            name: "customer_order_totals".into(),
            kind: ObjectKind::View,
        },
        rowsmith::db::catalog::ObjectSummary {
            name: "customers".into(),
            kind: ObjectKind::Table,
        },
    ];
    update(&mut app, Msg::Objects(Ok(objects)));
    assert_eq!(
        app.selected_table().map(|t| t.name.as_str()),
        Some("customers")
    );
}

/// Issue 13, point 3: the hint bar always shows help and quit, says when it was cut, and
/// under --read-only offers no key that writes.
#[test]
fn the_hint_bar_keeps_help_and_quit_and_hides_writing_keys_when_read_only() {
    let h = Harness::new(80, 24);
    let bar = h.screen().lines().last().unwrap_or_default().to_string();
    assert!(bar.contains("…  ? more") && bar.contains("q quit"), "{bar}");
    let mut read_only = options(120, 24);
    read_only.read_only = true;
    let h = Harness::with(read_only);
    let bar = h.screen().lines().last().unwrap_or_default().to_string();
    for writing in ["g generate", "u undo", "i import", "d delete"] {
        assert!(!bar.contains(writing), "{writing} in {bar}");
    }
    assert!(bar.contains("? help") && bar.contains("q quit"), "{bar}");
}

#[test]
fn after_g_the_grid_shows_the_new_rows_at_the_end_and_marks_them() {
    let mut h = Harness::new(100, 30);
    h.key("enter");
    let id = job_id(&h.key("g"));
    // Done: 10 rows added, 70 in all. The harness's database still has 60, which is
    // what its pages read; the mark and the jump are what is checked.
    let effects = update(
        &mut h.app,
        Msg::Job {
            job: id,
            event: Event::Finished(Outcome::Done(summary("customers", 10, 70))),
        },
    );
    let loads: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadPage(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(loads.len(), 1, "one page, at the end: {effects:?}");
    assert_eq!(loads[0].anchor, rowsmith::db::browse::Anchor::End);
    let g = h.app.grid.as_ref().unwrap();
    assert_eq!(g.fresh_from, Some(61));
    // At 60 columns the title still closes: the new-row count gives way before it is cut.
    update(&mut h.app, Msg::Resize(60, 15));
    h.app.grid.as_mut().unwrap().fresh_from = Some(51);
    let title = h.screen().lines().next().unwrap_or_default().to_string();
    assert!(title.contains("row 1 of 70 · col 1/6 ┐"), "{title}");
    update(&mut h.app, Msg::Resize(100, 30));
    let title = h.screen().lines().next().unwrap_or_default().to_string();
    assert!(title.contains("· 20 new"), "{title}");
}

#[test]
fn narrow_panes_keep_names_apart_the_position_in_view_and_cut_cells_marked() {
    let mut h = Harness::new(60, 15);
    h.key("enter");
    for _ in 0..4 {
        h.key("right");
    }
    let screen = h.screen();
    // Cut in the middle: names that differ at the end stay apart.
    assert!(screen.contains("gold_cus…ers view 20"), "{screen}");
    // The position always fits in the title.
    assert!(screen.contains("· row 1 of 60 · col 5/6"), "{screen}");
    // A column wider than the pane is shown cut, with its mark.
    assert!(screen.contains("asked about bulk p…"), "{screen}");
}
