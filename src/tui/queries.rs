//! Carries out the query effects for the runtime: questions go to the model
//! on a tokio task (with the schema read on the query thread), SQL runs on
//! the query thread, and a small task reports rows so far while it runs.
//! Every answer comes back to the app as a message.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::app::Msg;
use super::query::{QueryFail, Translated};
use super::query_worker::{QueryRequest, QueryWorker};
use crate::ask::{self, AskError};
use crate::db::CancelFlag;
use crate::db::query::QueryControl;
use crate::generate::privacy::Privacy;
use crate::llm::Client;

/// How often rows-so-far is reported while a query or an export runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

pub struct Queries {
    worker: QueryWorker,
    /// The model that answers questions, or why there is none.
    client: Result<Client, AskError>,
    /// `generate.privacy`: what of the rows a question's schema may show.
    privacy: Option<Privacy>,
    tx: UnboundedSender<Msg>,
    asking: Option<(u64, CancellationToken)>,
    running: Option<(u64, QueryControl, JoinHandle<()>)>,
    exporting: Option<JoinHandle<()>>,
}

impl Queries {
    pub fn new(
        worker: QueryWorker,
        client: Result<Client, AskError>,
        privacy: Option<Privacy>,
        tx: UnboundedSender<Msg>,
    ) -> Self {
        Self {
            worker,
            client,
            privacy,
            tx,
            asking: None,
            running: None,
            exporting: None,
        }
    }

    pub fn load_history(&self) {
        self.worker.send(QueryRequest::History);
    }

    /// Reads the schema on the query thread, then asks the model.
    pub fn ask(&mut self, id: u64, question: String) {
        let client = match &self.client {
            Ok(c) => c.clone(),
            Err(why) => {
                let _ = self.tx.send(Msg::Translated {
                    id,
                    result: Err(why.clone()),
                });
                return;
            }
        };
        let token = CancellationToken::new();
        self.asking = Some((id, token.clone()));
        let (reply, schema) = oneshot::channel();
        let privacy = crate::generate::privacy::resolve(self.privacy, &client);
        self.worker.send(QueryRequest::Describe { privacy, reply });
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = async {
                let schema = schema
                    .await
                    .map_err(|_| AskError::WorkerStopped)?
                    .map_err(AskError::Schema)?;
                ask::translate(&client, &schema, &question, &token).await
            };
            let result = tokio::select! {
                r = result => Some(r),
                _ = token.cancelled() => None,
            };
            let msg = if let (Some(result), false) = (result, token.is_cancelled()) {
                Msg::Translated {
                    id,
                    result: result.map(|t| Translated {
                        sql: t.sql,
                        explanation: t.explanation,
                    }),
                }
            } else {
                Msg::QueryDone {
                    id,
                    result: Err(QueryFail::Cancelled),
                }
            };
            let _ = tx.send(msg);
        });
    }

    /// Runs SQL on the query thread, reporting rows so far meanwhile.
    pub fn run(&mut self, id: u64, input: String, sql: String) {
        self.asking = None;
        let typed = matches!(ask::classify(&input), ask::Input::Sql(_));
        let control = QueryControl::new();
        let poller = self.poll(control.clone(), move |rows| Msg::QueryProgress { id, rows });
        self.running = Some((id, control.clone(), poller));
        self.worker.send(QueryRequest::Run {
            id,
            input,
            sql,
            typed,
            control,
        });
    }

    pub fn cancel(&mut self, id: u64) {
        if let Some((_, token)) = self.asking.as_ref().filter(|(a, _)| *a == id) {
            token.cancel();
        }
        if let Some((_, control, _)) = self.running.as_ref().filter(|(r, _, _)| *r == id) {
            control.cancel();
        }
    }

    /// Writes a result to CSV on the query thread; `cancel` is the transfer's flag.
    pub fn export(&mut self, sql: String, path: PathBuf, replace: bool, cancel: CancelFlag) {
        let control = QueryControl::with_cancel(cancel);
        let poller = self.poll(control.clone(), |rows| Msg::TransferProgress {
            done: rows,
            total: None,
        });
        if let Some(old) = self.exporting.replace(poller) {
            old.abort();
        }
        self.worker.send(QueryRequest::Export {
            sql,
            path,
            replace,
            control,
        });
    }

    /// Sends `msg(rows)` whenever the count of rows so far changes.
    fn poll(
        &self,
        control: QueryControl,
        msg: impl Fn(u64) -> Msg + Send + 'static,
    ) -> JoinHandle<()> {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(PROGRESS_EVERY);
            let mut last = 0;
            loop {
                ticker.tick().await;
                let rows = control.progress().rows;
                if rows != last {
                    last = rows;
                    if tx.send(msg(rows)).is_err() {
                        return;
                    }
                }
            }
        })
    }

    /// Notes what a message ends, before the app sees it.
    pub fn seen(&mut self, msg: &Msg) {
        match msg {
            Msg::QueryDone { id, .. } | Msg::Translated { id, .. } => {
                if self.asking.as_ref().is_some_and(|(a, _)| a == id) {
                    self.asking = None;
                }
                if let Some((_, _, poller)) = self.running.take_if(|(r, _, _)| r == id) {
                    poller.abort();
                }
            }
            Msg::TransferDone { .. } | Msg::ExportExists(_) => {
                if let Some(poller) = self.exporting.take() {
                    poller.abort();
                }
            }
            _ => {}
        }
    }

    /// Stops whatever runs, on quit.
    pub fn shutdown(&mut self) {
        if let Some((_, token)) = self.asking.take() {
            token.cancel();
        }
        if let Some((_, control, poller)) = self.running.take() {
            control.cancel();
            poller.abort();
        }
        if let Some(poller) = self.exporting.take() {
            poller.abort();
        }
    }
}
