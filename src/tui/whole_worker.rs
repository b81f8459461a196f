//! The runtime's side of filling the whole database: plans and runs are tokio tasks (the
//! database is read and written on blocking threads inside them), never the UI loop; what
//! they find comes back as messages. The app's tests call the same functions.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::app::Msg;
use crate::config::Config;
use crate::generate::job::{GenerateRequest, Source};
use crate::generate::whole::{
    Rollback, Size, WholeError, WholeEvent, WholeOutcome, WholePlan, WholeRequest, plan_whole,
    run_whole,
};

/// What every plan and run of this database shares, from the config file.
#[derive(Debug, Clone)]
pub struct WholeSetup {
    pub db_path: PathBuf,
    /// What every table's job starts from (`journal_path`: where undo records go).
    pub each: GenerateRequest,
}

impl WholeSetup {
    pub fn from_config(config: &Config, db_path: PathBuf, busy_timeout: Duration) -> Self {
        let mut each = GenerateRequest::new(db_path.clone(), "", 0).with_settings(config);
        each.busy_timeout = busy_timeout;
        Self { db_path, each }
    }

    /// The request for a run of `size` (every table).
    pub fn request(&self, size: Size) -> WholeRequest {
        let mut request = WholeRequest::new(self.db_path.clone(), size);
        request.each = self.each.clone();
        request
    }
}

/// Makes the plan of a fill of `size`; `Msg::WholePlanned { id }` brings it.
pub fn plan(setup: &WholeSetup, id: u64, size: Size, tx: UnboundedSender<Msg>) -> JoinHandle<()> {
    let request = setup.request(size);
    tokio::spawn(async move {
        let result = plan_whole(&request).await;
        let _ = tx.send(Msg::WholePlanned { id, result });
    })
}

/// Runs `plan` with `source`; each event comes as `Msg::Whole { id }`, the last one
/// `Finished` (also when the run dies without saying so).
pub fn run(
    setup: &WholeSetup,
    id: u64,
    plan: WholePlan,
    source: Source,
    tx: UnboundedSender<Msg>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    let mut request = setup.request(plan.size);
    request.plan = Some(plan);
    let (events_tx, mut events) = unbounded_channel();
    let handle = tokio::spawn(run_whole(request, source, events_tx, cancel));
    tokio::spawn(async move {
        let mut finished = false;
        while let Some(event) = events.recv().await {
            finished |= matches!(event, WholeEvent::Finished(_));
            let _ = tx.send(Msg::Whole { id, event });
        }
        let ended = handle.await;
        if !finished {
            let why = match ended {
                Err(e) => e.to_string(),
                Ok(_) => "it ended without a word".into(),
            };
            let _ = tx.send(Msg::Whole {
                id,
                event: WholeEvent::Finished(WholeOutcome::Failed {
                    error: WholeError::Internal(format!("The fill stopped unexpectedly ({why}).")),
                    rollback: Rollback::Kept {
                        why: "the run stopped before it could".into(),
                    },
                }),
            });
        }
    })
}
