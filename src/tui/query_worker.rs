//! The query thread: owns a read-only [`QuerySession`] on the database and
//! the query history, and answers with messages. Queries run here, never on
//! the UI loop and never on the database worker, so browsing stays quick
//! while a long query runs; `Esc` stops one through its [`QueryControl`].

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::app::Msg;
use super::query::QueryFail;
use crate::ask::history::{History, HistoryError};
use crate::ask::schema::{SchemaContext, describe_schema};
use crate::db::DbError;
use crate::db::query::{QueryControl, QueryError, QuerySession};
use crate::generate::privacy::Privacy;
use crate::transferred::{TransferFailed, Transferred};

/// Entries of the history read at start.
const HISTORY_READ: usize = 500;

/// Work for the query thread.
#[derive(Debug)]
pub enum QueryRequest {
    /// Read this database's history (answers `Msg::History`).
    History,
    /// Describe the schema for the model (answers on `reply`).
    Describe {
        /// What of the rows the description may show (example values).
        privacy: Privacy,
        reply: oneshot::Sender<Result<SchemaContext, DbError>>,
    },
    /// Run SQL (answers `Msg::QueryDone`); `typed` when the user wrote it.
    Run {
        id: u64,
        input: String,
        sql: String,
        typed: bool,
        control: QueryControl,
    },
    /// Write the whole result to CSV (answers `Msg::TransferDone`, or
    /// `Msg::ExportExists` when the file exists and `replace` is off).
    Export {
        sql: String,
        path: PathBuf,
        replace: bool,
        control: QueryControl,
    },
}

/// How to open the session.
#[derive(Debug, Clone)]
pub struct QuerySetup {
    pub db_path: PathBuf,
    pub busy: Duration,
    pub row_limit: usize,
    /// `query.max_cell_bytes`.
    pub max_cell_bytes: usize,
}

/// The UI's side of the query thread.
#[derive(Debug, Clone)]
pub struct QueryWorker {
    sender: Sender<QueryRequest>,
}

impl QueryWorker {
    pub fn spawn(setup: QuerySetup, tx: UnboundedSender<Msg>) -> std::io::Result<Self> {
        let (sender, receiver) = channel();
        std::thread::Builder::new()
            .name("rowsmith-query".into())
            .spawn(move || {
                let gone = tx.clone();
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                    Worker::new(setup, tx).run(receiver)
                }));
                if ran.is_err() {
                    let _ = gone.send(Msg::WorkerGone(
                        "The query worker stopped on an internal error; quit and start rowsmith again.".into(),
                    ));
                }
            })?;
        Ok(Self { sender })
    }

    pub fn send(&self, request: QueryRequest) {
        let _ = self.sender.send(request);
    }
}

struct Worker {
    setup: QuerySetup,
    tx: UnboundedSender<Msg>,
    session: Option<QuerySession>,
    history: Option<History>,
}

impl Worker {
    fn new(setup: QuerySetup, tx: UnboundedSender<Msg>) -> Self {
        Self {
            setup,
            tx,
            session: None,
            history: None,
        }
    }

    fn run(mut self, receiver: Receiver<QueryRequest>) {
        while let Ok(request) = receiver.recv() {
            self.handle(request);
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// The read-only session, opened on first use.
    fn session(&mut self) -> Result<&QuerySession, DbError> {
        // A session whose server connection was lost is opened again.
        let session = match self.session.take() {
            Some(s) if !s.is_lost() => s,
            _ => QuerySession::open(&self.setup.db_path, self.setup.busy)?
                .with_row_limit(self.setup.row_limit)
                .with_max_cell_bytes(self.setup.max_cell_bytes),
        };
        Ok(self.session.insert(session))
    }

    fn history(&mut self) -> Result<&History, HistoryError> {
        let history = match self.history.take() {
            Some(h) => h,
            None => History::open_default()?,
        };
        Ok(self.history.insert(history))
    }

    fn handle(&mut self, request: QueryRequest) {
        match request {
            QueryRequest::History => {
                let path = self.setup.db_path.clone();
                let entries = self.history().and_then(|h| {
                    h.recent(&path, HISTORY_READ)
                        .map(|entries| entries.into_iter().map(|e| e.input).collect())
                });
                self.send(Msg::History(entries));
            }
            QueryRequest::Describe { privacy, reply } => {
                use rand::SeedableRng;
                let mut rng = rand::rngs::StdRng::from_os_rng();
                let schema = self
                    .session()
                    .and_then(|s| describe_schema(s.database(), &mut rng, privacy));
                let _ = reply.send(schema);
            }
            QueryRequest::Run {
                id,
                input,
                sql,
                typed,
                control,
            } => {
                let result = self.run_query(&input, &sql, &control);
                let result = result.map_err(|e| QueryFail::from_error(e, typed));
                self.send(Msg::QueryDone { id, result });
            }
            QueryRequest::Export {
                sql,
                path,
                replace,
                control,
            } => {
                let result = self
                    .session()
                    .map_err(QueryError::from)
                    .and_then(|s| s.export_csv_file(&sql, &path, &control, replace));
                if let Err(QueryError::FileExists { .. }) = &result {
                    self.send(Msg::ExportExists(path));
                    return;
                }
                let result = result
                    .map(|rows| Transferred::Exported {
                        table: None,
                        rows,
                        path,
                    })
                    .map_err(TransferFailed::Query);
                self.send(Msg::TransferDone {
                    result,
                    changed: Vec::new(),
                    relist: false,
                });
            }
        }
    }

    /// Checks the SQL at the gate, remembers it once it passes, then runs it.
    fn run_query(
        &mut self,
        input: &str,
        sql: &str,
        control: &QueryControl,
    ) -> Result<crate::db::query::QueryResult, QueryError> {
        let checked = self.session()?.check(sql)?;
        let db_path = self.setup.db_path.clone();
        match self.history() {
            Ok(h) => {
                if let Err(e) = h.append(&db_path, input.trim(), &checked.sql) {
                    tracing::warn!("query history: {e}");
                }
            }
            Err(e) => tracing::warn!("query history: {e}"),
        }
        self.session()?.run(&checked.sql, control)
    }
}
