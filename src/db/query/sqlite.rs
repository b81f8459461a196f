//! The read-only gate on SQLite: one statement, an authorizer installed for the life of
//! the connection, `sqlite3_stmt_readonly`, and a read-only `query_only` connection with
//! no room to attach another database (see the module above for the four checks).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::{ErrorCode, Statement};

use super::gate::{DENIED_FUNCTIONS, judge, lexical_refusal, refine};
use super::{
    GatedQueries, QueryControl, QueryError, Refusal, RefusalKind, RowSink, first_keyword, held_ref,
    lead_phrase,
};
use crate::db::value::{Value, owned};
use crate::db::{Backend, DbError, Sqlite};

/// SQLite virtual-machine steps between two progress callbacks: often enough
/// to stop within a millisecond, rarely enough to cost nothing measurable.
const PROGRESS_STEPS: i32 = 1000;

/// A read-only SQLite connection behind the gate.
pub struct SqliteQueries {
    db: Sqlite,
    refusal: Arc<Mutex<Option<Refusal>>>,
}

impl SqliteQueries {
    /// Turns on `query_only` on a read-only connection, allows no attached databases
    /// and installs the authorizer.
    pub fn new(db: Sqlite) -> Result<Self, DbError> {
        let conn = db.conn();
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| db.err(e))?;
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)
            .map_err(|e| db.err(e))?;
        let refusal: Arc<Mutex<Option<Refusal>>> = Arc::default();
        let seen = refusal.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| match judge(&ctx.action) {
            None => Authorization::Allow,
            Some(r) => {
                if let Ok(mut slot) = seen.lock()
                    && slot.is_none()
                {
                    *slot = Some(r);
                }
                Authorization::Deny
            }
        }));
        Ok(Self { db, refusal })
    }

    /// Prepares one statement under the authorizer and requires it to be read-only.
    fn prepare(&self, single: &str) -> Result<Statement<'_>, QueryError> {
        self.clear_refusal();
        let stmt = match self.db.conn().prepare(single) {
            Ok(stmt) => stmt,
            Err(e) => return Err(self.classify(e, single)),
        };
        if let Some(r) = self.take_refusal() {
            return Err(QueryError::Refused(refine(r, single)));
        }
        if !stmt.readonly() {
            // `PRAGMA journal_mode` reads, yet SQLite marks it as a possible
            // write; the gate takes SQLite's word for it.
            let kind = match first_keyword(single).as_deref() {
                Some("PRAGMA") => RefusalKind::Pragma,
                _ => RefusalKind::Write,
            };
            let r = lexical_refusal(single).unwrap_or_else(|| Refusal {
                kind,
                what: lead_phrase(single).unwrap_or_else(|| "this statement".into()),
            });
            return Err(QueryError::Refused(r));
        }
        Ok(stmt)
    }

    fn clear_refusal(&self) {
        if let Ok(mut slot) = self.refusal.lock() {
            *slot = None;
        }
    }

    fn take_refusal(&self) -> Option<Refusal> {
        self.refusal.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Turns a SQLite error into the matching query error.
    fn classify(&self, e: rusqlite::Error, single: &str) -> QueryError {
        if let Some(r) = self.take_refusal() {
            return QueryError::Refused(refine(r, single));
        }
        let (code, detail) = match &e {
            rusqlite::Error::SqliteFailure(failure, msg) => (
                Some(failure.code),
                msg.clone().unwrap_or_else(|| failure.to_string()),
            ),
            rusqlite::Error::SqlInputError { error, msg, .. } => (Some(error.code), msg.clone()),
            other => (None, other.to_string()),
        };
        match code {
            Some(ErrorCode::OperationInterrupted) => return QueryError::Cancelled,
            Some(ErrorCode::AuthorizationForStatementDenied | ErrorCode::ReadOnly) => {
                return QueryError::Refused(lexical_refusal(single).unwrap_or(Refusal {
                    kind: RefusalKind::Write,
                    what: lead_phrase(single).unwrap_or_else(|| "this statement".into()),
                }));
            }
            Some(
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::NotADatabase
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied,
            ) => return QueryError::Db(self.db.err(e)),
            _ => {}
        }
        // A statement that starts like a write is refused even when SQLite
        // stopped before judging it (`DROP TABLE missing` fails on the name
        // first). Text SQLite cannot parse at all is reported as such: it may
        // be a question that happens to begin with a SQL word.
        let unparsable = detail.contains("syntax error") || detail.contains("incomplete input");
        if !unparsable && let Some(r) = lexical_refusal(single) {
            return QueryError::Refused(r);
        }
        if let Some(name) = detail.strip_prefix("no such function: ")
            && DENIED_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str())
        {
            return QueryError::Refused(Refusal {
                kind: RefusalKind::Function,
                what: format!("{name}()"),
            });
        }
        let detail = detail.trim_end_matches('.').to_string();
        if unparsable {
            QueryError::Unparsable {
                engine: "SQLite",
                detail,
            }
        } else {
            QueryError::Invalid {
                engine: "SQLite",
                detail,
            }
        }
    }
}

impl GatedQueries for SqliteQueries {
    fn database(&self) -> &dyn Backend {
        &self.db
    }

    fn check(&self, single: &str) -> Result<Vec<String>, QueryError> {
        let stmt = self.prepare(single)?;
        Ok(column_names(&stmt))
    }

    /// Feeds rows to `each` with progress and cancellation wired to `control` through
    /// SQLite's progress handler.
    fn stream(
        &self,
        single: &str,
        control: &QueryControl,
        max_cell: Option<usize>,
        each: &mut RowSink<'_>,
    ) -> Result<Vec<String>, QueryError> {
        let mut stmt = self.prepare(single)?;
        let columns = column_names(&stmt);
        let width = columns.len();
        let conn = self.db.conn();
        let watch = control.clone();
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                watch.tick();
                watch.is_cancelled()
            }),
        );
        let outcome = (|| -> Result<(), QueryError> {
            let mut rows = stmt.query([]).map_err(|e| self.classify(e, single))?;
            let mut buf: Vec<Value> = Vec::with_capacity(width);
            loop {
                let row = match rows.next() {
                    Ok(Some(row)) => row,
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(self.classify(e, single)),
                };
                control.count_row();
                buf.clear();
                for i in 0..width {
                    let v = row.get_ref(i).map_err(|e| self.classify(e, single))?;
                    buf.push(match max_cell {
                        Some(max) => held_ref(v, max),
                        None => owned(v),
                    });
                }
                if !each(&columns, &buf)? {
                    return Ok(());
                }
                if control.is_cancelled() {
                    return Err(QueryError::Cancelled);
                }
            }
        })();
        conn.progress_handler(0, None::<fn() -> bool>);
        outcome?;
        Ok(columns)
    }

    fn is_database_file(&self, path: &Path) -> bool {
        let Ok(db) = std::fs::canonicalize(self.db.path()) else {
            return false;
        };
        let target = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                match std::fs::canonicalize(parent) {
                    Ok(dir) => dir.join(name),
                    Err(_) => return false,
                }
            }
            _ => return false,
        };
        let target = std::fs::canonicalize(&target).unwrap_or(target);
        let mut guarded = vec![db.clone()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            guarded.push(PathBuf::from(name));
        }
        guarded.contains(&target)
    }
}

fn column_names(stmt: &Statement<'_>) -> Vec<String> {
    stmt.column_names()
        .into_iter()
        .map(str::to_string)
        .collect()
}
