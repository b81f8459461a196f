//! Filling the whole database from the app (`A`): the dialog and its plan, the run's
//! progress table by table, cancelling and quitting, transition by transition; the
//! screens as snapshots; and one fill of the demo database through the runtime's own
//! functions, end to end.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rowsmith::db::{Database, OpenOptions};
use rowsmith::generate::job::{Event, Source, Stage, UsageSummary};
use rowsmith::generate::whole::{
    Rollback, Size, TableResult, WholeError, WholeEvent, WholeOutcome, WholePlan, WholeSummary,
    plan_whole,
};
use rowsmith::llm::ProviderChoice;
use rowsmith::tui::app::{App, Count, Effect, Level, Msg, Options, update};
use rowsmith::tui::keys::{KeyChord, Keymap};
use rowsmith::tui::modal::{ConfirmKind, Modal, ProviderOption};
use rowsmith::tui::paths::Places;
use rowsmith::tui::run::worker_requests;
use rowsmith::tui::theme::Theme;
use rowsmith::tui::view;
use rowsmith::tui::whole::{PlanState, SizeKind, WholeDialog};
use rowsmith::tui::whole_worker::{self, WholeSetup};
use rowsmith::tui::worker::InlineWorker;

const TABLES: [&str; 4] = ["customers", "orders", "products", "order_items"];

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

/// The app on the demo database, the offline generator configured (`provider` 1) unless
/// a test picks the model.
fn options(w: u16, h: u16, provider: usize) -> Options {
    Options {
        db_path: "/home/dev/shop.db".into(),
        read_only: false,
        default_rows: 10,
        max_rows: 1_000_000,
        confirm_rows: 1_000,
        source: if provider == 0 {
            "OpenAI gpt-5-mini".into()
        } else {
            "offline generator".into()
        },
        source_note: None,
        providers: providers(),
        provider,
        keymap: Keymap::default(),
        mouse: true,
        theme: Theme::plain(),
        size: (w, h),
        ask: Err("No model answers questions here.".into()),
        clock: || "10:00:00".into(),
        log_file: None,
        places: Places {
            launch_dir: PathBuf::from("/home/dev/work"),
            home: Some(PathBuf::from("/home/dev")),
            data_dir: Some(PathBuf::from("/home/dev/.local/share/rowsmith")),
        },
    }
}

/// The app on a temp copy of the demo database: reads go to the app's own worker code,
/// plans and runs to the runtime's functions (`plan`, `fill`), the rest to the test.
struct Fill {
    app: App,
    worker: InlineWorker,
    setup: WholeSetup,
    runtime: tokio::runtime::Runtime,
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fill {
    fn new(w: u16, h: u16) -> Self {
        Self::with(options(w, h, 1))
    }

    fn with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("shop.db");
        rowsmith::db::demo::create_demo(&db).expect("demo");
        let worker = InlineWorker::new(
            Database::open(&db, &OpenOptions::read_only()).expect("open for the worker"),
        );
        let mut setup = WholeSetup::from_config(
            &rowsmith::config::Config::default(),
            db.clone(),
            Duration::from_secs(5),
        );
        setup.each.journal_path = Some(dir.path().join("journal.sqlite"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut f = Self {
            app: App::new(options),
            worker,
            setup,
            runtime,
            db,
            _dir: dir,
        };
        let rest = f.run(vec![Effect::ListObjects]);
        assert!(rest.is_empty(), "{rest:?}");
        f
    }

    fn send(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = update(&mut self.app, msg);
        self.run(effects)
    }

    /// Carries out the database reads; returns every other effect.
    fn run(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut queue: VecDeque<Effect> = effects.into();
        let mut rest = Vec::new();
        while let Some(effect) = queue.pop_front() {
            let msgs: Vec<Msg> = match effect {
                e @ (Effect::ListObjects
                | Effect::Count(_)
                | Effect::LoadPage(_)
                | Effect::LoadSchema(_)) => match worker_requests(e) {
                    Ok(requests) => requests
                        .into_iter()
                        .flat_map(|r| self.worker.answer(r))
                        .collect(),
                    Err(other) => {
                        rest.push(*other);
                        Vec::new()
                    }
                },
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
        let chord = KeyChord::parse(text).expect("a key");
        self.send(Msg::Key(KeyEvent::new(chord.code, chord.mods)))
    }

    fn type_text(&mut self, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| {
                self.send(Msg::Key(KeyEvent::new(
                    KeyCode::Char(c),
                    KeyModifiers::NONE,
                )))
            })
            .collect()
    }

    /// The plan of the demo for `size`, made as the runtime makes it (a fixed seed keeps
    /// the screens repeatable).
    fn plan(&self, size: Size) -> WholePlan {
        let mut request = self.setup.request(size);
        request.seed = Some(7);
        self.runtime
            .block_on(plan_whole(&request))
            .expect("a plan of the demo")
    }

    /// `A`, and the plan it asked for answered.
    fn open_with_plan(&mut self) -> WholePlan {
        let (id, size) = plan_asked(&self.key("A"));
        let plan = self.plan(size);
        self.send(Msg::WholePlanned {
            id,
            result: Ok(plan.clone()),
        });
        plan
    }

    fn dialog(&self) -> &WholeDialog {
        match &self.app.modal {
            Some(Modal::Whole(d)) => d,
            other => panic!("no fill dialog: {other:?}"),
        }
    }

    fn screen(&self) -> String {
        let (w, h) = self.app.size;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal.draw(|f| view::draw(f, &self.app)).expect("draw");
        format!("{}", terminal.backend())
    }

    fn toasts(&self) -> Vec<String> {
        self.app.toasts.iter().map(|t| t.text.clone()).collect()
    }

    fn count(&self, table: &str) -> Count {
        self.app
            .entry(table)
            .map(|t| t.count.clone())
            .expect("listed")
    }
}

/// The last plan request among `effects`.
fn plan_asked(effects: &[Effect]) -> (u64, Size) {
    effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::PlanWhole { id, size } => Some((*id, *size)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no plan asked for: {effects:?}"))
}

/// The run started among `effects`.
fn run_started(effects: &[Effect]) -> (u64, WholePlan) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::RunWhole { id, plan, .. } => Some((*id, (**plan).clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no run started: {effects:?}"))
}

fn rows_in(db: &std::path::Path, table: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn summary(plan: &WholePlan) -> WholeSummary {
    let tables: Vec<TableResult> = plan
        .tables
        .iter()
        .map(|t| TableResult {
            table: t.table.clone(),
            before: t.before,
            requested: t.rows,
            added: t.rows,
            after: t.before + t.rows,
            shortfall: None,
            preview: Vec::new(),
        })
        .collect();
    WholeSummary {
        rows_added: tables.iter().map(|t| t.added).sum(),
        tables,
        keys_linked: 0,
        totals_set: 0,
        provider: "offline".into(),
        model: String::new(),
        usage: UsageSummary::default(),
        elapsed_ms: 900,
        dry_run: false,
        skipped: Vec::new(),
    }
}

/// A run started from the dialog, with its first table under way.
fn running(f: &mut Fill) -> (u64, WholePlan) {
    f.open_with_plan();
    let (id, plan) = run_started(&f.key("enter"));
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Planned { plan: plan.clone() },
    });
    f.send(Msg::Whole {
        id,
        event: WholeEvent::TableStarted {
            index: 0,
            table: "customers".into(),
            rows: 60,
        },
    });
    (id, plan)
}

// ---------------------------------------------------------------------------
// update(): the dialog
// ---------------------------------------------------------------------------

#[test]
fn a_opens_the_dialog_and_the_plan_is_made_off_the_ui_loop() {
    let mut f = Fill::new(120, 40);
    // The key is in the key map: the hint bar and the help show it.
    assert!(f.screen().contains("A fill all"), "{}", f.screen());
    let help = f.app.keymap.help();
    assert!(
        help.iter()
            .any(|(k, d, _)| k == "A" && d.starts_with("Fill the whole database")),
        "{help:?}"
    );

    let effects = f.key("A");
    let (id, size) = plan_asked(&effects);
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(size, Size::Scale(2.0));
    assert_eq!(f.dialog().plan, PlanState::Planning);
    assert!(
        f.app.animating(),
        "the spinner turns while the plan is made"
    );
    assert!(f.screen().contains("Reading the database to plan the run"));

    // An answer to another request is not this plan.
    let plan = f.plan(size);
    f.send(Msg::WholePlanned {
        id: id + 100,
        result: Ok(plan.clone()),
    });
    assert_eq!(f.dialog().plan, PlanState::Planning);

    f.send(Msg::WholePlanned {
        id,
        result: Ok(plan.clone()),
    });
    assert_eq!(f.dialog().plan, PlanState::Ready(Box::new(plan.clone())));
    let screen = f.screen();
    for table in TABLES {
        assert!(screen.contains(&format!(". {table}: ")), "{screen}");
    }
    assert!(screen.contains("skipped customer_order_totals"), "{screen}");

    // Esc closes, and nothing ran.
    assert!(f.key("esc").is_empty());
    assert!(f.app.modal.is_none() && f.app.whole.is_none());
}

#[test]
fn editing_the_size_asks_for_a_new_plan_and_a_bad_size_says_why() {
    let mut f = Fill::new(120, 40);
    let (first, _) = plan_asked(&f.key("A"));
    // The scale field has the keys: 2 → 3.
    f.key("backspace");
    assert!(f.dialog().error.is_some(), "an empty size is not one");
    assert_eq!(f.dialog().plan, PlanState::NoSize);
    let (id, size) = plan_asked(&f.type_text("3"));
    assert!(id > first);
    assert_eq!(size, Size::Scale(3.0));
    assert_eq!(f.dialog().plan, PlanState::Planning);
    assert!(f.dialog().error.is_none());

    // The old plan arrives late: ignored.
    let old = f.plan(Size::Scale(2.0));
    f.send(Msg::WholePlanned {
        id: first,
        result: Ok(old),
    });
    assert_eq!(f.dialog().plan, PlanState::Planning);

    // "3x" is the same size: no new plan. Letters other than x are not typed at all.
    assert!(f.type_text("x").is_empty());
    assert!(f.type_text("q").is_empty());
    assert_eq!(f.dialog().scale.text, "3x");

    // A scale that shrinks is refused with a sentence, and Enter does not run.
    f.key("ctrl-u");
    assert!(f.type_text("1").is_empty());
    let error = f.dialog().error.clone().unwrap_or_default();
    assert!(error.contains("above 1"), "{error}");
    assert!(f.key("enter").is_empty());
    assert!(f.app.whole.is_none());

    // Rows per starting table instead: the kind field, then a plan for the default rows.
    f.key("up");
    let (_, size) = plan_asked(&f.key("right"));
    assert_eq!(f.dialog().kind, SizeKind::Rows);
    assert_eq!(size, Size::Rows(10));
    f.key("down");
    f.key("ctrl-u");
    let (id, size) = plan_asked(&f.type_text("250"));
    assert_eq!(size, Size::Rows(250));

    // A plan that cannot be made says why in the dialog.
    f.send(Msg::WholePlanned {
        id,
        result: Err(WholeError::Internal("The database is locked.".into())),
    });
    assert!(f.screen().contains("No plan: The database is locked."));
    f.key("enter");
    assert!(f.app.whole.is_none());
}

#[test]
fn enter_runs_the_plan_shown_and_waits_while_it_is_made() {
    let mut f = Fill::new(120, 40);
    let (id, size) = plan_asked(&f.key("A"));
    // Too early: the dialog says so, and stays.
    assert!(f.key("enter").is_empty());
    assert!(f.dialog().error.as_deref().unwrap_or("").contains("still"));
    let plan = f.plan(size);
    f.send(Msg::WholePlanned {
        id,
        result: Ok(plan.clone()),
    });
    assert!(
        f.dialog().error.is_none(),
        "the plan is here: nothing to wait for"
    );

    let effects = f.key("enter");
    assert!(
        matches!(effects.as_slice(), [Effect::RunWhole { plan: p, provider: None, model: None, .. }] if **p == plan),
        "{effects:?}"
    );
    assert!(f.app.modal.is_none());
    let run = f.app.whole.as_ref().expect("running");
    assert_eq!(run.tables.len(), 4);
    assert_eq!(run.tables[0].table, "customers");
}

#[test]
fn a_model_asked_for_more_than_confirm_rows_asks_once_more() {
    let mut f = Fill::with(Options {
        confirm_rows: 100,
        ..options(120, 40, 0)
    });
    let plan = f.open_with_plan();
    assert!(plan.rows() > 100);
    assert!(f.key("enter").is_empty());
    let question = f.dialog().confirm.clone().expect("a question");
    assert!(
        question.contains("openai gpt-5-mini") && question.contains("generate.confirm_rows (100)"),
        "{question}"
    );
    assert!(f.screen().contains("y or Enter fills the database"));
    // n goes back to the dialog, as it was.
    assert!(f.key("n").is_empty());
    assert!(f.dialog().confirm.is_none());
    f.key("enter");
    let (_, run) = run_started(&f.key("y"));
    assert_eq!(run, plan);

    // The offline generator costs nothing: no question.
    let mut f = Fill::with(Options {
        confirm_rows: 100,
        ..options(120, 40, 1)
    });
    f.open_with_plan();
    run_started(&f.key("enter"));
}

#[test]
fn another_provider_and_model_go_with_the_run() {
    let mut f = Fill::new(120, 40);
    f.open_with_plan();
    // Provider: from offline to openai, and another model typed.
    f.key("down");
    f.key("left");
    f.key("down");
    f.key("ctrl-u");
    f.type_text("gpt-6");
    let effects = f.key("enter");
    // More than confirm_rows? Then answer yes.
    let effects = if f.app.modal.is_some() {
        f.key("y")
    } else {
        effects
    };
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::RunWhole { provider: Some(ProviderChoice::OpenAi), model: Some(m), .. }] if m == "gpt-6"
        ),
        "{effects:?}"
    );
}

// ---------------------------------------------------------------------------
// update(): the run
// ---------------------------------------------------------------------------

#[test]
fn events_move_the_progress_table_by_table_and_the_end_refreshes_every_count() {
    let mut f = Fill::new(120, 40);
    let (id, plan) = running(&mut f);
    assert!(f.app.animating());
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Table {
            index: 0,
            event: Event::Stage(Stage::Inserting),
        },
    });
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Table {
            index: 0,
            event: Event::RowsAccepted {
                rows: 60,
                total: 60,
            },
        },
    });
    let run = f.app.whole.clone().expect("running");
    assert_eq!((run.current, run.tables[0].added), (Some(0), 60));
    assert_eq!(run.stage, "inserting");

    f.send(Msg::Whole {
        id,
        event: WholeEvent::TableStarted {
            index: 1,
            table: "orders".into(),
            rows: 190,
        },
    });
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Table {
            index: 1,
            event: Event::RowsAccepted {
                rows: 120,
                total: 120,
            },
        },
    });
    let screen = f.screen();
    assert!(
        screen.contains("Filling orders (2/4): 120/190 rows"),
        "{screen}"
    );
    assert!(
        screen.contains("done: customers +60  ·  to come: products, order_items"),
        "{screen}"
    );
    // A notice of a table's job is said at once.
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Table {
            index: 1,
            event: Event::Notice {
                text: "orders: a column is always empty.".into(),
            },
        },
    });
    assert!(
        f.toasts()
            .contains(&"orders: a column is always empty.".to_string())
    );
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Completing,
    });
    assert!(f.screen().contains("second pass"));

    // The end: the sentence, and the counts as the run left them.
    let done = summary(&plan);
    let effects = f.send(Msg::Whole {
        id,
        event: WholeEvent::Finished(WholeOutcome::Done(done.clone())),
    });
    assert!(f.app.whole.is_none());
    assert_eq!(f.app.toasts.last().map(|t| t.level), Some(Level::Success));
    assert!(
        f.toasts().iter().any(|t| *t == done.sentence()),
        "{:?}",
        f.toasts()
    );
    for t in &done.tables {
        assert_eq!(f.count(&t.table), Count::Known(t.after), "{}", t.table);
    }
    // The view was counted again (through the worker), and the open rows were read again.
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(f.count("customer_order_totals"), Count::Known(_)));
    // A late event of the finished run changes nothing.
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Completing,
    });
    assert!(f.app.whole.is_none());
}

#[test]
fn x_cancels_the_fill_asking_first_once_it_has_run_a_while() {
    let mut f = Fill::new(120, 40);
    let (id, _) = running(&mut f);
    // Early on: at once, whichever table is selected.
    f.key("down");
    let effects = f.key("x");
    assert_eq!(effects, vec![Effect::CancelWhole(id)]);
    assert!(f.app.whole.as_ref().is_some_and(|w| w.cancelling));
    assert!(f.key("x").is_empty(), "cancelling once is enough");
    // The run takes itself back: its sentence, and the counts read again.
    let outcome = WholeOutcome::Cancelled {
        rollback: Rollback::Removed { rows: 60 },
    };
    let sentence = outcome.failure_sentence().unwrap();
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Finished(outcome),
    });
    assert!(f.app.whole.is_none());
    assert!(f.toasts().contains(&sentence), "{:?}", f.toasts());
    assert!(sentence.contains("removed"));
    assert_eq!(f.count("customers"), Count::Known(60));

    // After five seconds: a question first, defaulting to no.
    let (id, _) = running(&mut f);
    for _ in 0..60 {
        f.send(Msg::Tick);
    }
    assert!(f.key("x").is_empty());
    match &f.app.modal {
        Some(Modal::Confirm(c)) => {
            assert_eq!(c.kind, ConfirmKind::CancelWhole(id));
            assert!(!c.on_yes);
            assert!(c.lines[0].contains("takes them all back"), "{:?}", c.lines);
        }
        other => panic!("no question: {other:?}"),
    }
    assert_eq!(f.key("y"), vec![Effect::CancelWhole(id)]);
}

#[test]
fn q_asks_first_while_filling_and_ctrl_c_cancels_the_fill() {
    let mut f = Fill::new(120, 40);
    let (id, _) = running(&mut f);
    assert!(f.key("q").is_empty());
    match &f.app.modal {
        Some(Modal::Confirm(c)) => {
            assert_eq!(c.kind, ConfirmKind::Quit);
            assert!(
                c.lines.iter().any(|l| l.contains("whole database")),
                "{:?}",
                c.lines
            );
        }
        other => panic!("no question: {other:?}"),
    }
    f.key("n");
    let effects = f.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(effects.contains(&Effect::CancelWhole(id)), "{effects:?}");
    assert!(effects.contains(&Effect::Quit));
}

#[test]
fn nothing_else_writes_while_the_database_is_filled_and_a_failure_is_a_popup() {
    let mut f = Fill::new(120, 40);
    let (id, _) = running(&mut f);
    for key in ["g", "G", "A", "d", "i"] {
        assert!(f.key(key).is_empty(), "{key}");
        assert!(f.app.modal.is_none(), "{key}");
    }
    assert!(
        f.toasts()
            .iter()
            .any(|t| t.contains("The whole database is being filled")),
        "{:?}",
        f.toasts()
    );
    let outcome = WholeOutcome::Failed {
        error: WholeError::Internal("The disk is full.".into()),
        rollback: Rollback::Removed { rows: 60 },
    };
    f.send(Msg::Whole {
        id,
        event: WholeEvent::Finished(outcome.clone()),
    });
    match &f.app.modal {
        Some(Modal::Error { title, message }) => {
            assert_eq!(title, "Filling the database failed");
            assert_eq!(Some(message.clone()), outcome.failure_sentence());
        }
        other => panic!("no popup: {other:?}"),
    }

    // And the fill waits for a generation already running.
    let mut f = Fill::new(120, 40);
    f.key("g");
    assert!(f.key("A").is_empty());
    assert!(f.app.modal.is_none());
    assert!(
        f.toasts()
            .iter()
            .any(|t| t.contains("before filling the whole database")),
        "{:?}",
        f.toasts()
    );
}

// ---------------------------------------------------------------------------
// Screens
// ---------------------------------------------------------------------------

#[test]
fn screen_fill_dialog() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut f = Fill::new(w, h);
        f.open_with_plan();
        insta::assert_snapshot!(format!("fill_dialog_{w}x{h}"), f.screen());
    }
}

#[test]
fn screen_fill_progress() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut f = Fill::new(w, h);
        let (id, _) = running(&mut f);
        for (index, table, rows, accepted) in [(0, "customers", 60, 60), (1, "orders", 190, 120)] {
            if index > 0 {
                f.send(Msg::Whole {
                    id,
                    event: WholeEvent::TableStarted {
                        index,
                        table: table.into(),
                        rows,
                    },
                });
            }
            f.send(Msg::Whole {
                id,
                event: WholeEvent::Table {
                    index,
                    event: Event::RowsAccepted {
                        rows: accepted as usize,
                        total: accepted,
                    },
                },
            });
        }
        f.send(Msg::Whole {
            id,
            event: WholeEvent::Table {
                index: 1,
                event: Event::Stage(Stage::Inserting),
            },
        });
        for _ in 0..30 {
            f.send(Msg::Tick);
        }
        insta::assert_snapshot!(format!("fill_progress_{w}x{h}"), f.screen());
    }
}

// ---------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------

/// `A`, Enter: the plan is made and run by the runtime's own functions on a copy of the
/// demo database, every message goes back through `update`, and every table has more
/// rows at the end, as the list says.
#[test]
fn a_then_enter_fills_every_table_of_the_demo_through_the_runtime() {
    let mut f = Fill::new(120, 40);
    let before: Vec<u64> = TABLES.iter().map(|t| rows_in(&f.db, t)).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The runtime's functions spawn tasks, as they do in the app's runtime.
    let handle = f.runtime.handle().clone();
    let _inside = handle.enter();

    let (id, size) = plan_asked(&f.key("A"));
    f.runtime
        .block_on(whole_worker::plan(&f.setup, id, size, tx.clone()))
        .expect("planned");
    let planned = rx.try_recv().expect("the plan's message");
    f.send(planned);
    assert!(matches!(f.dialog().plan, PlanState::Ready(_)));

    let (id, plan) = run_started(&f.key("enter"));
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = whole_worker::run(&f.setup, id, plan, Source::Offline, tx, cancel);
    let mut seen_progress = false;
    let mut rest = Vec::new();
    loop {
        let msg = f
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(240), rx.recv()).await })
            .expect("the fill answers in time")
            .expect("a message");
        let last = matches!(
            msg,
            Msg::Whole {
                event: WholeEvent::Finished(_),
                ..
            }
        );
        rest.extend(f.send(msg));
        if f.app.whole.as_ref().is_some_and(|w| w.current.is_some()) {
            seen_progress = true;
        }
        if last {
            break;
        }
    }
    f.runtime.block_on(task).expect("forwarded");
    assert!(rest.is_empty(), "{rest:?}");
    assert!(seen_progress, "the progress moved table by table");
    assert!(f.app.whole.is_none());
    let toast = f.toasts().join("\n");
    assert!(
        toast.contains("Generated ") && toast.contains("in 4 tables"),
        "{toast}"
    );
    for (table, was) in TABLES.iter().zip(before) {
        let now = rows_in(&f.db, table);
        assert!(now > was, "{table}: {was} → {now}");
        assert_eq!(f.count(table), Count::Known(now), "{table}");
    }
}
