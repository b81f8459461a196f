//! The real binary in a pseudo-terminal: open a database, press `g`, see the
//! toast, quit, and find the new rows in the file; and the terminal is given
//! back in the state it was found.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::io::{Read, Write};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::model::{FakeModel, Reply, rows_from_schema};
use common::{Fixture, count};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde_json::json;

/// A running app and the screen it draws, as a terminal would show it.
struct Session {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    fn start(fx: &Fixture, args: &[&std::ffi::OsStr], env: &[(String, String)]) -> Self {
        Self::start_program(fx, env!("CARGO_BIN_EXE_rowsmith"), args, env)
    }

    /// An interactive shell with job control, as a user has: `Ctrl-Z` and `fg` work there
    /// (a stop signal to a process group without a shell is discarded by the kernel).
    fn start_in_shell(fx: &Fixture) -> Self {
        let args = ["--norc", "--noprofile", "-i"].map(std::ffi::OsStr::new);
        let env = [("PS1".to_string(), "$ ".to_string())];
        Self::start_program(fx, "bash", &args, &env)
    }

    fn start_program(
        fx: &Fixture,
        program: &str,
        args: &[&std::ffi::OsStr],
        env: &[(String, String)],
    ) -> Self {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(fx.dir.path());
        cmd.env("TERM", "xterm-256color");
        cmd.env("ROWSMITH_DATA_DIR", fx.data_dir());
        cmd.env("XDG_CONFIG_HOME", fx.path("config-home"));
        for var in [
            "ROWSMITH_CONFIG",
            "ROWSMITH_PROVIDER",
            "ROWSMITH_MODEL",
            "ROWSMITH_BASE_URL",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn rowsmith");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
        let feed = screen.clone();
        // Read all the time, so the app never blocks on a full pty buffer.
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut parser) = feed.lock() {
                    parser.process(&buf[..n]);
                }
            }
        });
        Self {
            screen,
            writer,
            child,
            _master: pair.master,
        }
    }

    fn contents(&self) -> String {
        self.screen
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits until the screen shows `text`.
    fn wait_for(&self, text: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the screen never showed {text:?}; it shows:\n{}",
            self.contents()
        );
    }

    /// The screen as one line of words: borders gone, runs of spaces and
    /// line ends made one space, so text wrapped inside a box still matches.
    fn flat(&self) -> String {
        self.contents()
            .replace(['│', '┌', '┐', '└', '┘', '─'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Waits until the flattened screen shows `text`.
    fn wait_for_flat(&self, text: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.flat().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the screen never showed {text:?}; it shows:\n{}",
            self.contents()
        );
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_for_gone(&self, text: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if !self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the screen still shows {text:?}:\n{}", self.contents());
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
    }

    fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "rowsmith did not exit; the screen shows:\n{}",
            self.contents()
        );
    }
}

const PEOPLE: &str = "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
    INSERT INTO people (name, city) VALUES ('Ada', 'London'), ('Grace', 'New York'),
        ('Linus', 'Helsinki'), ('Margaret', 'Boston'), ('Ken', NULL);";

#[test]
fn g_in_a_real_terminal_adds_ten_rows_and_quitting_restores_the_screen() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let counter = Arc::new(AtomicUsize::new(0));
    let model = runtime.block_on(FakeModel::openai(move |ask| {
        Reply::Rows(rows_from_schema(ask, &counter))
    }));

    let mut app = Session::start(&fx, &[db.as_os_str()], &model.env());
    app.wait_for("people", Duration::from_secs(60));
    app.wait_for("OpenAI", Duration::from_secs(5));
    app.press("g");
    app.wait_for(
        "Generated 10 rows for table 'people'. New total: 15 rows.",
        Duration::from_secs(90),
    );
    app.press("q");
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    // Leaving the alternate screen brings back the (empty) screen we started on.
    assert!(!app.contents().contains("Tables"), "{}", app.contents());
    assert_eq!(count(&db, "people"), 15);
    assert!(model.calls() >= 1);
}

#[test]
fn o_opens_another_database_in_place_and_a_bad_path_keeps_the_first() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let other = fx.db(
        "shop.db",
        "CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT);
         INSERT INTO products (title) VALUES ('lamp'), ('desk');",
    );
    std::fs::write(fx.path("notes.txt"), "not a database").expect("write");
    let mut app = Session::start(&fx, &[db.as_os_str()], &[]);
    app.wait_for("people", Duration::from_secs(60));
    app.press("O");
    app.wait_for("Open another database", Duration::from_secs(10));
    // The prompt starts in the open database's folder: a name completes with Tab.
    app.press("notes.txt\r");
    app.wait_for_flat("not a SQLite database", Duration::from_secs(10));
    assert!(app.contents().contains("people"), "{}", app.contents());
    // Mend the path: Ctrl-U clears the line.
    app.press("\x15");
    app.press(&format!("{}\r", other.display()));
    app.wait_for("products", Duration::from_secs(20));
    app.wait_for_gone("people", Duration::from_secs(10));
    assert!(app.contents().contains("shop.db"), "{}", app.contents());
    // Generating works on the new database.
    app.press("g");
    app.wait_for("New total: 12 rows", Duration::from_secs(60));
    // The message log says what happened.
    app.press("L");
    app.wait_for_flat("Opened", Duration::from_secs(10));
    // Esc and q apart: together a terminal reads them as Alt-q.
    app.press("\x1b");
    app.wait_for_gone("times in UTC", Duration::from_secs(10));
    app.press("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
    assert_eq!(count(&other, "products"), 12);
    assert_eq!(count(&db, "people"), 5);
}

#[test]
fn ctrl_z_stops_like_a_shell_job_and_fg_redraws_the_screen() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let mut shell = Session::start_in_shell(&fx);
    shell.wait_for("$", Duration::from_secs(20));
    shell.press(&format!(
        "{} {}\r",
        env!("CARGO_BIN_EXE_rowsmith"),
        db.display()
    ));
    shell.wait_for("Tables (1)", Duration::from_secs(60));
    shell.press("\x1a");
    // The shell has the terminal back, with the screen as it was, and says the job stopped.
    shell.wait_for("Stopped", Duration::from_secs(10));
    assert!(
        !shell.contents().contains("Tables (1)"),
        "{}",
        shell.contents()
    );
    shell.press("fg\r");
    shell.wait_for("Tables (1)", Duration::from_secs(10));
    shell.wait_for("people", Duration::from_secs(10));
    shell.press("q");
    shell.wait_for_gone("Tables (1)", Duration::from_secs(10));
    shell.press("exit\r");
    shell.wait_exit(Duration::from_secs(10));
}

#[test]
fn sigterm_quits_cleanly_with_the_status_a_shell_expects() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let mut app = Session::start(&fx, &[db.as_os_str()], &[]);
    app.wait_for("people", Duration::from_secs(60));
    let pid = app.child.process_id().expect("a pid");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = app.wait_exit(Duration::from_secs(10));
    assert_eq!(status.exit_code(), 143, "128 + SIGTERM");
    // The alternate screen was left: the app's frame is gone from the screen.
    app.wait_for_gone("Tables (1)", Duration::from_secs(5));
}

#[test]
fn ctrl_c_quits_at_once_and_read_only_refuses_to_generate() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let before = common::bytes(&db);
    let mut app = Session::start(&fx, &[db.as_os_str()], &[]);
    app.wait_for("people", Duration::from_secs(60));
    app.press("\x03");
    assert!(app.wait_exit(Duration::from_secs(10)).success());

    let flag = std::ffi::OsStr::new("--read-only");
    let mut app = Session::start(&fx, &[flag, db.as_os_str()], &[]);
    app.wait_for("read-only", Duration::from_secs(20));
    app.press("g");
    app.wait_for("cannot generate rows", Duration::from_secs(10));
    app.press("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
    assert_eq!(
        common::bytes(&db),
        before,
        "a read-only session changes nothing"
    );
}

#[test]
fn colon_runs_sql_asks_the_model_and_refuses_writes_in_a_real_terminal() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let before = common::bytes(&db);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let model = runtime.block_on(FakeModel::openai(|ask| {
        assert!(ask.prompt.contains("people"), "the schema is sent");
        Reply::Text(
            json!({
                "sql": "SELECT upper(name) AS shout, city FROM people WHERE city = 'London'",
                "explanation": "People who live in London."
            })
            .to_string(),
        )
    }));

    let mut app = Session::start(&fx, &[db.as_os_str()], &model.env());
    app.wait_for("people", Duration::from_secs(60));
    // SQL runs as typed.
    app.press(":");
    app.wait_for("A question for OpenAI", Duration::from_secs(5));
    app.press("SELECT 'count=' || count(*) AS n FROM people\r");
    app.wait_for("count=5", Duration::from_secs(20));
    app.wait_for(
        "SELECT 'count=' || count(*) AS n FROM people",
        Duration::from_secs(5),
    );
    app.wait_for("1 row in", Duration::from_secs(5));

    // A question goes to the model; its SQL is shown above its rows.
    app.press(":");
    app.press("\x15who lives in London?\r");
    app.wait_for("ADA", Duration::from_secs(30));
    app.wait_for_flat(
        "SELECT upper(name) AS shout, city FROM people WHERE city = 'London'",
        Duration::from_secs(5),
    );
    app.wait_for("-- People who live in London.", Duration::from_secs(5));
    app.wait_for("? who lives in London?", Duration::from_secs(5));
    assert_eq!(model.calls(), 1);

    // A write is refused with the gate's sentence, and nothing changes.
    app.press(":");
    app.press("\x15DELETE FROM people\r");
    app.wait_for_flat(
        "Refused: this statement would change the database (DELETE). Only read-only queries run here.",
        Duration::from_secs(20),
    );
    app.press("\r");
    app.press("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
    assert_eq!(common::bytes(&db), before, "the database file is unchanged");
    assert_eq!(count(&db, "people"), 5);

    // The history of this database survives a restart: Up recalls the question.
    let mut app = Session::start(&fx, &[db.as_os_str()], &model.env());
    app.wait_for("people", Duration::from_secs(60));
    app.press(":");
    app.wait_for("A question for OpenAI", Duration::from_secs(5));
    app.press("\x1b[A");
    app.wait_for(": who lives in London?", Duration::from_secs(10));
    app.press("\x1b[A");
    app.wait_for(
        ": SELECT 'count=' || count(*) AS n FROM people",
        Duration::from_secs(10),
    );
    app.press("\x03");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
    assert_eq!(common::bytes(&db), before);
}

#[test]
fn x_interrupts_a_long_query_and_questions_need_a_model() {
    let fx = Fixture::new();
    let db = fx.db("people.db", PEOPLE);
    let mut app = Session::start(&fx, &[db.as_os_str()], &[]);
    app.wait_for("people", Duration::from_secs(60));
    // Without a model, a question says how to configure one; SQL still runs.
    app.press(":");
    app.wait_for("no LLM is configured", Duration::from_secs(5));
    app.press("how many people live in London\r");
    app.wait_for_flat(
        "Set OPENAI_API_KEY or ANTHROPIC_API_KEY",
        Duration::from_secs(10),
    );
    app.press("\r");
    // A query that never ends runs until x (Esc never cancels work).
    app.press(":");
    app.press(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n\r",
    );
    app.wait_for("x interrupts", Duration::from_secs(20));
    app.press("x");
    app.wait_for_flat(
        "Interrupted the query. Nothing was changed.",
        Duration::from_secs(20),
    );
    // The app still answers.
    app.press(":");
    app.press("\x15SELECT 'still=' || 1\r");
    app.wait_for("still=1", Duration::from_secs(20));
    app.press("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}

/// The app on a Postgres database as a new user meets it: the demo loaded with one
/// command, tables listed with their counts, `g` adds 10 rows, `u` takes them back, and
/// `:` answers a question through the model, its SQL run read-only; the status line never
/// shows the password.
#[test]
fn on_postgres_the_app_lists_generates_undoes_and_answers() {
    let pg = common::pg::PgDb::new("");
    let fx = Fixture::new();
    let loaded = fx
        .cmd()
        .args(["demo", "--postgres", &pg.url])
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let model = runtime.block_on(FakeModel::openai(|ask| {
        if ask.prompt.contains("Question:") {
            return Reply::Text(
                json!({
                    "sql": "SELECT loyalty_tier, count(*) AS customers FROM customers GROUP BY 1 ORDER BY 1",
                    "explanation": "Customers per loyalty tier."
                })
                .to_string(),
            );
        }
        Reply::Text("{}".into())
    }));
    // Rows come from the offline generator here; a second session asks the model.
    let offline = [("ROWSMITH_PROVIDER".to_string(), "offline".to_string())];
    let url = std::ffi::OsString::from(&pg.url);
    let mut app = Session::start(&fx, &[url.as_os_str()], &offline);
    app.wait_for("order_items", Duration::from_secs(60));
    app.wait_for("409", Duration::from_secs(20));
    let (_, rest) = pg.url.split_once("//").unwrap();
    let password = rest.split_once('@').unwrap().0.split_once(':').unwrap().1;
    assert!(!app.contents().contains(password), "{}", app.contents());

    // customers is selected first; g adds 10 rows, u (and y) takes them back.
    app.press("g");
    app.wait_for(
        "Generated 10 rows for table 'customers'. New total: 70 rows.",
        Duration::from_secs(90),
    );
    app.press("u");
    app.wait_for("Remove 10 rows", Duration::from_secs(20));
    app.press("y");
    app.wait_for("New total: 60 rows.", Duration::from_secs(30));
    app.press("q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());

    let mut app = Session::start(&fx, &[url.as_os_str()], &model.env());
    app.wait_for("order_items", Duration::from_secs(60));
    app.press(":");
    app.press("how many customers are in each loyalty tier?\r");
    app.wait_for("platinum", Duration::from_secs(30));
    app.wait_for_flat(
        "SELECT loyalty_tier, count(*) AS customers FROM customers GROUP BY 1 ORDER BY 1",
        Duration::from_secs(5),
    );
    // A write typed at the same line is refused, and nothing changes.
    app.press(":");
    app.press("\x15DELETE FROM customers\r");
    app.wait_for_flat(
        "Refused: this statement would change the database (DELETE). Only read-only queries run here.",
        Duration::from_secs(20),
    );
    app.press("\x03");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
    let customers = pg
        .admin()
        .query_text("SELECT count(*) FROM customers")
        .unwrap();
    assert_eq!(customers[0][0].as_deref(), Some("60"));
}
