//! Database errors, each one plain sentence a user can act on.

use rusqlite::ErrorCode;

use crate::paths::DataDirError;

use super::browse::BrowseRefusal;
use super::ident::IdentifierProblem;
use super::transfer::{DropRefusal, ExportRefusal, ImportRefusal};
use super::undo::{UndoBlock, UndoRefusal};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DbError {
    #[error("No database at '{path}'. Check the path{}.", if *.offer_create { ", or pass --create to make a new, empty database there" } else { "" })]
    NotFound {
        path: String,
        /// The command can make a new database (`--create`), so say so.
        offer_create: bool,
    },

    #[error(
        "'{path}' is a directory, not a SQLite database file. Give the path of the .db file inside it."
    )]
    IsDirectory { path: String },

    #[error("'{path}' is not a SQLite database. Check that you gave the right file.")]
    NotSqlite { path: String },

    #[error(
        "The database '{path}' is damaged ({detail}). Restore it from a backup, or try `sqlite3 '{path}' .recover`."
    )]
    Corrupt { path: String, detail: String },

    #[error(
        "The database '{path}' is locked by another program. Try again when it has finished, or raise database.busy_timeout_ms."
    )]
    Locked { path: String },

    #[error(
        "Cannot write to '{path}': the file (or its folder) is read-only. Check the permissions, or work on a copy."
    )]
    ReadOnly { path: String },

    #[error("There is no table '{name}' in '{path}'. Run `rowsmith tables '{path}'` to list them.")]
    UnknownTable { name: String, path: String },

    #[error("'{name}' is a {kind}, not a table, so rowsmith cannot add rows to it.")]
    NotATable { name: String, kind: &'static str },

    #[error("Cannot read '{path}': {detail}.")]
    Io { path: String, detail: String },

    /// An export's file could not be written; nothing was left behind.
    #[error("Cannot write '{path}' ({detail}). Nothing was exported.")]
    WriteFailed { path: String, detail: String },

    #[error("The operation was cancelled; the database was left as it was.")]
    Cancelled,

    /// The second pass of a whole-database run could not update the rows it added.
    #[error("Could not complete the new rows of table '{table}' ({detail}).")]
    Revise { table: String, detail: String },

    #[error(
        "The undo journal in '{path}' could not be used ({detail}). Check that the folder is writable."
    )]
    Journal { path: String, detail: String },

    /// A name given for a table or column cannot be an identifier (empty, or with a NUL).
    #[error("A table or column name cannot {0}.")]
    BadIdentifier(IdentifierProblem),

    /// A column named for writing is not in the table.
    #[error("Table '{table}' has no column '{column}'.")]
    UnknownColumn { table: String, column: String },

    /// A column named for writing is one SQLite computes (a generated column).
    #[error(
        "Column '{column}' of table '{table}' is computed by the database and cannot be written."
    )]
    ComputedColumn { table: String, column: String },

    /// A rowid table whose columns take all three names of the rowid, so written rows
    /// cannot be told apart for the undo journal.
    #[error(
        "Table '{table}' has columns named rowid, _rowid_ and oid, so rowsmith cannot address its rows."
    )]
    RowidShadowed { table: String },

    /// A trigger ran RAISE(ROLLBACK) while a batch was written: the whole batch is gone.
    /// `detail` is SQLite's message (the trigger's own text).
    #[error(
        "A trigger on table '{table}' rolled back the whole batch ({detail}). Nothing was written."
    )]
    TriggerRolledBack { table: String, detail: String },

    /// The database holds a half-done write of a program that stopped mid-way (its
    /// rollback journal is still there), and it was opened read-only: SQLite must roll
    /// the write back first, which only opening it writable does.
    #[error(
        "'{path}' holds an unfinished write of a program that stopped mid-way (its rollback journal '{path}-journal' is still there), and SQLite must roll it back before the file can be read. Run `rowsmith tables {path}` once without --read-only to recover it."
    )]
    UnfinishedWrite { path: String },

    /// Rolling back such a half-done write was refused: the file or its folder is
    /// read-only.
    #[error(
        "'{path}' holds an unfinished write of a program that stopped mid-way, and rowsmith may not write to the file to roll it back. Give yourself write access to the file and its folder, or open it once with sqlite3, which rolls it back."
    )]
    CannotRollBack { path: String },

    /// rowsmith's data directory (the undo journal, the demo) cannot be used.
    #[error(transparent)]
    DataDir(#[from] DataDirError),

    /// A Postgres URL that cannot be read, or an environment variable that spoils it.
    #[error("{detail}.")]
    BadAddress { detail: String },

    /// No Postgres server answered at the address.
    #[error(
        "Cannot reach a Postgres server at {server} ({detail}). Check that it is running and that the host and port are right."
    )]
    ServerUnreachable { server: String, detail: String },

    /// TLS was required (`sslmode=require` or a `verify-*` mode) and could not be set up:
    /// the server offers none, or its certificate is not trusted.
    #[error(
        "Could not set up TLS with the Postgres server at {server} ({detail}). Check the server's certificate, or choose another sslmode (prefer, require, verify-ca, verify-full)."
    )]
    TlsFailed { server: String, detail: String },

    /// The server would not let this user in (a wrong password, or no entry in
    /// pg_hba.conf).
    #[error(
        "The Postgres server at {server} refused user '{user}' ({detail}). Check the password (in the URL, PGPASSWORD or ~/.pgpass) and the user name."
    )]
    LoginRefused {
        server: String,
        user: String,
        detail: String,
    },

    #[error(
        "There is no database '{name}' on the Postgres server at {server}. Create it (createdb {name}) or check the name in the URL."
    )]
    NoSuchDatabase { name: String, server: String },

    /// The server refused an action for lack of a privilege.
    #[error(
        "Postgres refused this ({detail}) on {path}. Connect as a user with that privilege, or ask for it to be granted."
    )]
    PermissionDenied { path: String, detail: String },

    /// The connection broke; what its open transaction held was rolled back by the server.
    #[error(
        "The connection to {path} was lost ({detail}); the server rolled back anything unfinished. Check the server and try again."
    )]
    ConnectionLost { path: String, detail: String },

    /// Anything else a Postgres server said, in its own words.
    #[error("Postgres ({path}) said: {detail}.")]
    Server { path: String, detail: String },

    /// A Postgres table without a primary key: the rows rowsmith adds could not be told
    /// apart for undo, so it adds none.
    #[error(
        "Table '{table}' has no primary key, so rowsmith could not undo rows it adds there; it adds none. Give the table a primary key first."
    )]
    NoPrimaryKey { table: String },

    /// `rowsmith demo --postgres` into a database that has one of the demo's names.
    #[error(
        "The database {path} already has a '{table}', so the demo was not loaded there; nothing was changed. Load it into an empty database (createdb rowsmith_demo)."
    )]
    DemoTargetNotEmpty { path: String, table: String },

    /// A whole-database dry run on a server database: it needs a copy to run on.
    #[error(
        "A dry run of a whole database works on a copy, and rowsmith does not copy a Postgres database itself. Make one (createdb -T {database} {database}_try) and run --all there; {path} was not changed."
    )]
    NoCopyForDryRun { path: String, database: String },

    /// Something only a SQLite file has, asked of another engine.
    #[error("This works on SQLite files only, not on {path}.")]
    NotOnThisEngine { path: String },

    /// The app's worker has no undo journal to work with.
    #[error("The undo journal could not be opened.")]
    JournalNotOpen,

    /// A generation's shared state was left unusable by a failure in another of its
    /// tasks (a poisoned lock).
    #[error("An earlier failure left the generation unusable. Try again.")]
    GenerationUnusable,

    /// A generation's database connection was left unusable by a failure in another
    /// of its tasks (a poisoned lock).
    #[error("The database connection is unusable.")]
    ConnectionUnusable,

    /// An offline generation ran without its model being prepared first.
    #[error("The offline generator was not prepared.")]
    OfflineNotPrepared,

    /// Reading the rows of a table for the grid was refused (a sort column that is not
    /// there, a row that moved or went away since it was shown).
    #[error(transparent)]
    Browse(#[from] BrowseRefusal),

    /// An import was refused: the file could not be read as rows, did not fit the
    /// table, or SQLite turned a row away. Nothing was imported.
    #[error(transparent)]
    Import(#[from] ImportRefusal),

    /// An export was refused before it wrote, or writing its CSV failed.
    #[error(transparent)]
    Export(#[from] ExportRefusal),

    /// Deleting a table or view was refused; nothing was deleted.
    #[error(transparent)]
    Drop(#[from] DropRefusal),

    /// An undo was refused outright (nothing to undo, or undoing now would break
    /// something); nothing was removed.
    #[error(transparent)]
    Undo(#[from] UndoRefusal),

    /// An export's file exists and replacing was not asked for: the caller may
    /// ask whether to replace it.
    #[error(
        "'{}' exists already. Choose another file name, or delete it first. Nothing was exported.",
        path.display()
    )]
    FileExists { path: std::path::PathBuf },

    /// Undo cannot act on the operation it looked at (its table renamed, its rows edited
    /// or gone). It never moves on to an older one by itself; the caller offers the
    /// history, or clearing this record.
    #[error(
        "{why} `rowsmith undo {path} --list` shows older operations; `--forget {operation}` clears this record without touching any row."
    )]
    UndoBlocked {
        why: UndoBlock,
        path: String,
        operation: i64,
    },

    /// Whatever read the output stopped reading (`rowsmith export ... -o - | head`): not
    /// a failure, the reader has what it wanted.
    #[error("The output was closed by the program reading it.")]
    OutputClosed,

    #[error("SQLite reported an error on '{path}': {detail}.")]
    Sqlite { path: String, detail: String },
}

impl DbError {
    /// Classifies a rusqlite error by SQLite's own result code.
    pub fn from_sqlite(e: rusqlite::Error, path: &str) -> Self {
        let path = path.to_string();
        if let rusqlite::Error::SqliteFailure(ref failure, ref msg) = e {
            let detail = msg.clone().unwrap_or_else(|| failure.to_string());
            return match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Locked { path },
                ErrorCode::ReadOnly => DbError::ReadOnly { path },
                ErrorCode::NotADatabase => DbError::NotSqlite { path },
                ErrorCode::DatabaseCorrupt => DbError::Corrupt { path, detail },
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied => DbError::Io {
                    path,
                    detail: "the file could not be opened".into(),
                },
                ErrorCode::OperationInterrupted => DbError::Cancelled,
                _ => DbError::Sqlite { path, detail },
            };
        }
        DbError::Sqlite {
            path,
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_the_sentences_they_replaced() {
        let cases = [
            (
                DbError::BadIdentifier(IdentifierProblem::Empty),
                "A table or column name cannot be empty.",
            ),
            (
                DbError::BadIdentifier(IdentifierProblem::Nul),
                "A table or column name cannot contain a NUL character.",
            ),
            (
                DbError::RowidShadowed { table: "t".into() },
                "Table 't' has columns named rowid, _rowid_ and oid, so rowsmith cannot address its rows.",
            ),
            (
                DbError::UnfinishedWrite {
                    path: "a.db".into(),
                },
                "'a.db' holds an unfinished write of a program that stopped mid-way (its rollback journal \
                 'a.db-journal' is still there), and SQLite must roll it back before the file can be read. \
                 Run `rowsmith tables a.db` once without --read-only to recover it.",
            ),
            (
                DbError::CannotRollBack {
                    path: "a.db".into(),
                },
                "'a.db' holds an unfinished write of a program that stopped mid-way, and rowsmith may not \
                 write to the file to roll it back. Give yourself write access to the file and its folder, or \
                 open it once with sqlite3, which rolls it back.",
            ),
            (
                DbError::DataDir(DataDirError::NoHome),
                "Cannot find a home directory for rowsmith's files. Set ROWSMITH_DATA_DIR to a writable folder.",
            ),
            (
                DbError::DataDir(DataDirError::CannotCreate {
                    dir: "/x/rowsmith".into(),
                    detail: "Permission denied".into(),
                }),
                "Cannot create rowsmith's data folder '/x/rowsmith' (Permission denied). Set ROWSMITH_DATA_DIR \
                 to a writable folder.",
            ),
            (
                BrowseRefusal::UnknownSortColumn {
                    table: "t".into(),
                    column: "nope".into(),
                }
                .into(),
                "'t' has no column 'nope' to sort by.",
            ),
            (
                BrowseRefusal::OtherOrder.into(),
                "That row was read in another order of the table; read the table again from its start.",
            ),
            (
                BrowseRefusal::RowLost.into(),
                "That row can no longer be found; reload the table.",
            ),
            (
                BrowseRefusal::RowGone.into(),
                "That row is gone: it was deleted or changed since it was shown.",
            ),
        ];
        for (error, sentence) in cases {
            assert_eq!(error.to_string(), sentence);
        }
    }
}
