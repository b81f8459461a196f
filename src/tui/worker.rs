//! The database worker: one thread that owns the connection and answers
//! requests with messages, so no database work ever runs on the UI loop.
//!
//! Interactive requests (pages, schema, undo, transfers) go first. Row counts
//! run in the background one table at a time; a count in progress is
//! interrupted when an interactive request arrives and taken up again after
//! it, so browsing stays quick while a 5,000,000-row table is being counted.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::app::Msg;
use super::grid::PageRequest;
use super::modal::UndoTarget;
use crate::db::browse::{Key, Lens};
use crate::db::catalog::{ObjectKind, ObjectSummary, TableInfo};
use crate::db::journal::{Journal, OperationId};
use crate::db::transfer::{self, ExportOptions, ImportOptions, ImportStep, Progress};
use crate::db::undo::{Target, forget, list, preview, undo};
use crate::db::{CancelFlag, Database, DbError, Interrupter};
use crate::transferred::{TransferFailed, Transferred};

/// Work for the database thread.
#[derive(Debug)]
pub enum Request {
    List,
    Count(String),
    Page(PageRequest),
    Schema(String),
    Cell {
        table: String,
        lens: Lens,
        key: Key,
        column: String,
    },
    UndoPreview(UndoTarget),
    Undo(UndoTarget),
    Operations {
        table: String,
        note: Option<String>,
    },
    Forget(i64),
    DropPreview(String),
    Drop(String),
    Export {
        table: String,
        path: PathBuf,
        /// The user agreed to replace the file.
        replace: bool,
        cancel: CancelFlag,
    },
    Import {
        path: PathBuf,
        /// By default the table named after the file.
        table: Option<String>,
        /// Append to an existing table; otherwise ask first (`Msg::ImportWouldAppend`).
        append: bool,
        cancel: CancelFlag,
    },
}

impl Request {
    fn is_background(&self) -> bool {
        matches!(self, Request::Count(_))
    }
}

/// The UI's side of the worker.
pub struct WorkerHandle {
    sender: Sender<Request>,
    /// Stops the connection's running count; replaced when the worker connects again.
    interrupt: Arc<Mutex<Arc<dyn Interrupter>>>,
    counting: Arc<Mutex<bool>>,
}

impl WorkerHandle {
    /// Starts the worker on its own thread; results arrive on `tx`.
    /// `max_record_bytes` is `import.max_record_bytes` for imports started from the app.
    pub fn spawn(
        db: Database,
        tx: UnboundedSender<Msg>,
        max_record_bytes: usize,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = channel();
        let interrupt = Arc::new(Mutex::new(db.interrupter()));
        let slot = interrupt.clone();
        let counting = Arc::new(Mutex::new(false));
        let flag = counting.clone();
        std::thread::Builder::new()
            .name("rowsmith-db".into())
            .spawn(move || {
                let gone = tx.clone();
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                    let mut worker = Worker::new(db, tx, flag);
                    worker.max_record_bytes = max_record_bytes;
                    worker.interrupter = Some(slot);
                    worker.run(receiver)
                }));
                if ran.is_err() {
                    let _ = gone.send(Msg::WorkerGone(
                        "The database worker stopped on an internal error; quit and start rowsmith again.".into(),
                    ));
                }
            })?;
        Ok(Self {
            sender,
            interrupt,
            counting,
        })
    }

    pub fn send(&self, request: Request) {
        if !request.is_background() {
            // A count must not hold up a page the user is waiting for.
            if let Ok(counting) = self.counting.lock()
                && *counting
                && let Ok(interrupt) = self.interrupt.lock()
            {
                interrupt.interrupt();
            }
        }
        let _ = self.sender.send(request);
    }
}

/// The worker without its thread: answers each request with the very messages the app
/// gets from the threaded one, so the app's tests drive the real database code.
pub struct InlineWorker {
    worker: Worker,
    messages: tokio::sync::mpsc::UnboundedReceiver<Msg>,
}

impl InlineWorker {
    pub fn new(db: Database) -> Self {
        let (tx, messages) = tokio::sync::mpsc::unbounded_channel();
        Self {
            worker: Worker::new(db, tx, Arc::new(Mutex::new(false))),
            messages,
        }
    }

    /// Carries out `request` (and the counts it queued) and returns what it said.
    pub fn answer(&mut self, request: Request) -> Vec<Msg> {
        self.worker.queue(request);
        while let Some(next) = self.worker.urgent.pop_front() {
            self.worker.handle(next);
        }
        while let Some(table) = self.worker.counts.pop_front() {
            self.worker.count(table);
        }
        let mut out = Vec::new();
        while let Ok(msg) = self.messages.try_recv() {
            out.push(msg);
        }
        out
    }
}

struct Worker {
    db: Database,
    tx: UnboundedSender<Msg>,
    counting: Arc<Mutex<bool>>,
    objects: Vec<ObjectSummary>,
    infos: HashMap<String, TableInfo>,
    journal: Option<Journal>,
    urgent: VecDeque<Request>,
    counts: VecDeque<String>,
    /// `import.max_record_bytes`.
    max_record_bytes: usize,
    /// Where the app's handle finds this connection's interrupter (a threaded worker).
    interrupter: Option<Arc<Mutex<Arc<dyn Interrupter>>>>,
}

impl Worker {
    fn new(db: Database, tx: UnboundedSender<Msg>, counting: Arc<Mutex<bool>>) -> Self {
        Self {
            db,
            tx,
            counting,
            objects: Vec::new(),
            infos: HashMap::new(),
            journal: None,
            urgent: VecDeque::new(),
            counts: VecDeque::new(),
            max_record_bytes: crate::db::transfer::MAX_RECORD_BYTES,
            interrupter: None,
        }
    }

    /// A server connection lost since the last request is opened again before the next
    /// one, so the app goes on after a server restart instead of failing every read.
    fn revive(&mut self) {
        if self.db.revive() {
            self.infos.clear();
            if let Some(Ok(mut slot)) = self.interrupter.as_ref().map(|s| s.lock()) {
                *slot = self.db.interrupter();
            }
        }
    }

    fn run(mut self, receiver: Receiver<Request>) {
        loop {
            if self.urgent.is_empty() && self.counts.is_empty() {
                match receiver.recv() {
                    Ok(r) => self.queue(r),
                    Err(_) => return,
                }
            }
            loop {
                match receiver.try_recv() {
                    Ok(r) => self.queue(r),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            self.drop_stale_pages();
            if let Some(request) = self.urgent.pop_front() {
                self.handle(request);
            } else if let Some(table) = self.counts.pop_front() {
                self.count(table);
            }
        }
    }

    fn queue(&mut self, request: Request) {
        match request {
            Request::Count(table) => {
                if !self.counts.contains(&table) {
                    self.counts.push_back(table);
                }
            }
            other => self.urgent.push_back(other),
        }
    }

    /// Pages for a view the user has already left are not worth reading.
    fn drop_stale_pages(&mut self) {
        let newest = self
            .urgent
            .iter()
            .filter_map(|r| match r {
                Request::Page(p) => Some(p.view),
                _ => None,
            })
            .max();
        if let Some(newest) = newest {
            self.urgent
                .retain(|r| !matches!(r, Request::Page(p) if p.view < newest));
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// Reports an export's or an import's progress to the app.
    fn transfer_progress(&self) -> impl FnMut(Progress) + use<> {
        let tx = self.tx.clone();
        move |p: Progress| {
            let _ = tx.send(Msg::TransferProgress {
                done: p.rows,
                total: p.total_rows,
            });
        }
    }

    fn info(&mut self, table: &str) -> Result<TableInfo, DbError> {
        if let Some(info) = self.infos.get(table) {
            return Ok(info.clone());
        }
        let info = self.db.table_info(table)?;
        self.infos.insert(table.to_string(), info.clone());
        Ok(info)
    }

    /// Runs `work` with the database and the undo journal (opened on first use).
    fn with_journal<T>(
        &mut self,
        work: impl FnOnce(&mut Database, &Journal) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        if self.journal.is_none() {
            self.journal = Some(Journal::open_default()?);
        }
        match &self.journal {
            Some(journal) => work(&mut self.db, journal),
            None => Err(DbError::JournalNotOpen),
        }
    }

    fn list_operations(&mut self, table: String, note: Option<String>) {
        let list = self.with_journal(|db, j| list(&**db, j, None));
        self.send(Msg::Operations { table, note, list });
    }

    fn count(&mut self, table: String) {
        self.revive();
        let kind = self
            .objects
            .iter()
            .find(|o| o.name == table)
            .map(|o| o.kind)
            .unwrap_or(ObjectKind::Table);
        let object = ObjectSummary {
            name: table.clone(),
            kind,
        };
        if let Ok(mut c) = self.counting.lock() {
            *c = true;
        }
        let result = self.db.row_count(&object);
        if let Ok(mut c) = self.counting.lock() {
            *c = false;
        }
        match result {
            // Interrupted for a page: count again once the queue is clear.
            Err(DbError::Cancelled) => self.counts.push_front(table),
            other => self.send(Msg::Count {
                table,
                count: other,
            }),
        }
    }

    fn handle(&mut self, request: Request) {
        self.revive();
        match request {
            Request::List => {
                self.infos.clear();
                let result = self.db.list_objects();
                if let Ok(objects) = &result {
                    self.objects = objects.clone();
                }
                self.send(Msg::Objects(result));
            }
            Request::Count(table) => self.count(table),
            Request::Page(request) => {
                let read = |worker: &mut Self| {
                    worker.info(&request.table).and_then(|info| {
                        worker
                            .db
                            .read_page(&info, &request.lens, &request.anchor, request.limit)
                    })
                };
                let page = match read(self) {
                    // A server's cancel meant for a count may land on the read after it
                    // (Postgres cancels whatever runs when the request arrives): once more.
                    Err(DbError::Cancelled) => read(self),
                    other => other,
                };
                if page.is_err() {
                    self.infos.remove(&request.table);
                }
                self.send(Msg::Page { request, page });
            }
            Request::Schema(table) => {
                self.infos.remove(&table);
                let info = self.info(&table);
                self.send(Msg::Schema { table, info });
            }
            Request::Cell {
                table,
                lens,
                key,
                column,
            } => {
                let value = self
                    .info(&table)
                    .and_then(|info| self.db.read_cell(&info, &lens, &key, &column));
                self.send(Msg::Cell(value));
            }
            Request::UndoPreview(target) => {
                let preview = self.with_journal(|db, j| preview(&**db, j, db_target(&target)));
                match preview {
                    // The latest cannot be undone: show the history, so the user can pick
                    // an older operation or clear this record (undo never skips by itself).
                    Err(DbError::UndoBlocked { why, .. })
                        if matches!(target, UndoTarget::Latest(_)) =>
                    {
                        self.list_operations(target.table().to_string(), Some(why.to_string()));
                    }
                    other => self.send(Msg::UndoPreview {
                        target,
                        preview: other,
                    }),
                }
            }
            Request::Undo(target) => {
                let result = self.with_journal(|db, j| undo(&mut **db, j, db_target(&target)));
                self.send(Msg::Undone(result));
            }
            Request::Operations { table, note } => self.list_operations(table, note),
            Request::Forget(id) => {
                let result = self.with_journal(|db, j| forget(&**db, j, OperationId(id)));
                self.send(Msg::Forgotten(result));
            }
            Request::DropPreview(table) => {
                let preview = transfer::preview_drop(&*self.db, &table);
                self.send(Msg::DropPreview { table, preview });
            }
            Request::Drop(table) => {
                let result = transfer::drop_table(&mut *self.db, &table)
                    .map(Transferred::Deleted)
                    .map_err(TransferFailed::Db);
                self.infos.remove(&table);
                self.send(Msg::TransferDone {
                    result,
                    changed: Vec::new(),
                    relist: true,
                });
            }
            Request::Export {
                table,
                path,
                replace,
                cancel,
            } => {
                let mut progress = self.transfer_progress();
                // A file is replaced only once the user said yes to the question
                // `Msg::ExportExists` brings up; rowsmith's own files never are.
                let options = ExportOptions {
                    cancel,
                    progress_every: 5_000,
                    replace,
                    neutralize_formulas: false,
                };
                let result =
                    transfer::export_table(&*self.db, &table, &path, &options, &mut progress);
                if let Err(DbError::FileExists { path }) = result {
                    self.send(Msg::ExportExists(path));
                    return;
                }
                let result = result
                    .map(|o| Transferred::Exported {
                        table: Some(table),
                        rows: o.rows,
                        path: o.path.unwrap_or(path),
                    })
                    .map_err(TransferFailed::Db);
                self.send(Msg::TransferDone {
                    result,
                    changed: Vec::new(),
                    relist: false,
                });
            }
            Request::Import {
                path,
                table,
                append,
                cancel,
            } => {
                let mut progress = self.transfer_progress();
                let max_record_bytes = self.max_record_bytes;
                let result = self.with_journal(|db, journal| {
                    let options = ImportOptions {
                        table,
                        journal: Some(journal),
                        cancel,
                        progress_every: 5_000,
                        max_record_bytes,
                        ..ImportOptions::default()
                    };
                    if append {
                        transfer::import_file(&mut **db, &path, &options, &mut progress)
                            .map(ImportStep::Imported)
                    } else {
                        transfer::import_unless_appending(&mut **db, &path, &options, &mut progress)
                    }
                });
                let (result, changed, relist) = match result {
                    Ok(ImportStep::WouldAppend { plan, free_name }) => {
                        self.send(Msg::ImportWouldAppend {
                            path,
                            table: plan.table,
                            columns: plan.columns.len(),
                            new_table: free_name,
                        });
                        return;
                    }
                    Ok(ImportStep::Imported(o)) => {
                        self.infos.remove(&o.table);
                        let (changed, relist) = (vec![o.table.clone()], o.created);
                        (Ok(Transferred::Imported(o)), changed, relist)
                    }
                    Err(e) => (Err(TransferFailed::Db(e)), Vec::new(), false),
                };
                self.send(Msg::TransferDone {
                    result,
                    changed,
                    relist,
                });
            }
        }
    }
}

/// The core's name for the operation an undo in the app acts on.
fn db_target(target: &UndoTarget) -> Target<'_> {
    match target {
        UndoTarget::Latest(table) => Target::Latest(Some(table)),
        UndoTarget::Operation { id, .. } => Target::Operation(OperationId(*id)),
    }
}
