//! The read-only gate's judgement: which actions the authorizer denies (every write,
//! ATTACH, transactions, temporary objects, acting PRAGMAs, functions that reach outside
//! the database) and how a refusal is put into words. Small enough to review on its own;
//! `super` installs it and adds the other three checks.

use rusqlite::hooks::{AuthAction, TransactionOperation};
use serde::Serialize;

use super::QueryError;
use super::statements::{leading_words, split_statements};

/// PRAGMAs whose argument names a table or index (or a check limit), never
/// a new setting: allowed with or without one.
const PRAGMAS_WITH_ARGUMENT: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// PRAGMAs that only report a value when given none. Others (`optimize`,
/// `wal_checkpoint`, `incremental_vacuum`, `shrink_memory`...) act even
/// without a value and are refused.
const PRAGMAS_READ_BARE: &[&str] = &[
    "analysis_limit",
    "application_id",
    "auto_vacuum",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "cell_size_check",
    "checkpoint_fullfsync",
    "collation_list",
    "compile_options",
    "data_version",
    "database_list",
    "defer_foreign_keys",
    "encoding",
    "foreign_keys",
    "freelist_count",
    "fullfsync",
    "function_list",
    "hard_heap_limit",
    "ignore_check_constraints",
    "journal_size_limit",
    "legacy_alter_table",
    "locking_mode",
    "max_page_count",
    "mmap_size",
    "module_list",
    "page_count",
    "page_size",
    "pragma_list",
    "query_only",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "schema_version",
    "secure_delete",
    "soft_heap_limit",
    "synchronous",
    "temp_store",
    "threads",
    "trusted_schema",
    "user_version",
    "wal_autocheckpoint",
];

/// Functions that reach outside the database or into the process.
pub(super) const DENIED_FUNCTIONS: &[&str] = &[
    "load_extension",
    "writefile",
    "readfile",
    "edit",
    "fts3_tokenizer",
    "sqlar_compress",
    "sqlar_uncompress",
    "zipfile",
    "zipfile_cds",
    "shell_add_schema",
    "shell_module_schema",
    "shell_putsnl",
    "shell_escape_crnl",
    "sqlite_dbdata",
    "sqlite_dbptr",
];

/// Why a statement was refused, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// It would change the database (rows, schema, indexes, statistics, the file).
    Write,
    /// It would create or drop a temporary table, view, index or trigger.
    TempObject,
    /// It would attach or detach another database file.
    Attach,
    /// It would begin or end a transaction or savepoint.
    Transaction,
    /// A PRAGMA that changes a setting or acts on the database.
    Pragma,
    /// A function that reaches outside the database.
    Function,
    /// More than one statement in the text.
    Several,
    /// It would change a session setting or the role it runs as (Postgres `SET`).
    Setting,
}

/// A refused statement: what family, and what exactly (`INSERT`,
/// `PRAGMA journal_mode = wal`, `load_extension()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub what: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = crate::output::cell(&self.what, 60);
        let reason = match self.kind {
            RefusalKind::Write => "this statement would change the database",
            RefusalKind::TempObject => "this statement would create or drop a temporary object",
            RefusalKind::Attach => "this statement would attach or detach a database file",
            RefusalKind::Transaction => "this statement would begin or end a transaction",
            RefusalKind::Pragma => "this PRAGMA would change a setting or act on the database",
            RefusalKind::Function => "this statement calls a function that is not allowed here",
            RefusalKind::Setting => "this statement would change a setting or the role it runs as",
            RefusalKind::Several => {
                return write!(
                    f,
                    "Refused: the text holds more than one statement (the second begins with {what}). Run one statement at a time."
                );
            }
        };
        write!(
            f,
            "Refused: {reason} ({what}). Only read-only queries run here."
        )
    }
}

/// The authorizer's verdict on one action: `None` allows it.
pub(super) fn judge(action: &AuthAction<'_>) -> Option<Refusal> {
    let write = |what: String| {
        Some(Refusal {
            kind: RefusalKind::Write,
            what,
        })
    };
    let temp = |what: String| {
        Some(Refusal {
            kind: RefusalKind::TempObject,
            what,
        })
    };
    match action {
        AuthAction::Select | AuthAction::Recursive => None,
        AuthAction::Read { table_name, .. } => {
            // `pragma_*` table-valued functions run their PRAGMA inside; only
            // the readable ones may be used that way.
            match table_name
                .get(..7)
                .filter(|p| p.eq_ignore_ascii_case("pragma_"))
                .and_then(|_| table_name.get(7..))
            {
                Some(name) if is_acting_pragma(name) => Some(Refusal {
                    kind: RefusalKind::Pragma,
                    what: format!("pragma_{name}"),
                }),
                _ => None,
            }
        }
        AuthAction::Function { function_name } => {
            let lower = function_name.to_ascii_lowercase();
            DENIED_FUNCTIONS.contains(&lower.as_str()).then(|| Refusal {
                kind: RefusalKind::Function,
                what: format!("{function_name}()"),
            })
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => (!pragma_allowed(pragma_name, *pragma_value)).then(|| Refusal {
            kind: RefusalKind::Pragma,
            what: match pragma_value {
                Some(v) => format!("PRAGMA {pragma_name} = {v}"),
                None => format!("PRAGMA {pragma_name}"),
            },
        }),
        AuthAction::Insert { table_name } => write(format!("INSERT INTO {table_name}")),
        AuthAction::Update { table_name, .. } => write(format!("UPDATE {table_name}")),
        AuthAction::Delete { table_name } => write(format!("DELETE FROM {table_name}")),
        AuthAction::CreateIndex { index_name, .. } => write(format!("CREATE INDEX {index_name}")),
        AuthAction::CreateTable { table_name } => write(format!("CREATE TABLE {table_name}")),
        AuthAction::CreateTrigger { trigger_name, .. } => {
            write(format!("CREATE TRIGGER {trigger_name}"))
        }
        AuthAction::CreateView { view_name } => write(format!("CREATE VIEW {view_name}")),
        AuthAction::CreateVtable { table_name, .. } => {
            write(format!("CREATE VIRTUAL TABLE {table_name}"))
        }
        AuthAction::DropIndex { index_name, .. } => write(format!("DROP INDEX {index_name}")),
        AuthAction::DropTable { table_name } => write(format!("DROP TABLE {table_name}")),
        AuthAction::DropTrigger { trigger_name, .. } => {
            write(format!("DROP TRIGGER {trigger_name}"))
        }
        AuthAction::DropView { view_name } => write(format!("DROP VIEW {view_name}")),
        AuthAction::DropVtable { table_name, .. } => write(format!("DROP TABLE {table_name}")),
        AuthAction::AlterTable { table_name, .. } => write(format!("ALTER TABLE {table_name}")),
        AuthAction::Reindex { .. } => write("REINDEX".into()),
        AuthAction::Analyze { .. } => write("ANALYZE".into()),
        AuthAction::CreateTempIndex { index_name, .. } => {
            temp(format!("CREATE TEMP INDEX {index_name}"))
        }
        AuthAction::CreateTempTable { table_name } => {
            temp(format!("CREATE TEMP TABLE {table_name}"))
        }
        AuthAction::CreateTempTrigger { trigger_name, .. } => {
            temp(format!("CREATE TEMP TRIGGER {trigger_name}"))
        }
        AuthAction::CreateTempView { view_name } => temp(format!("CREATE TEMP VIEW {view_name}")),
        AuthAction::DropTempIndex { index_name, .. } => temp(format!("DROP INDEX {index_name}")),
        AuthAction::DropTempTable { table_name } => temp(format!("DROP TABLE {table_name}")),
        AuthAction::DropTempTrigger { trigger_name, .. } => {
            temp(format!("DROP TRIGGER {trigger_name}"))
        }
        AuthAction::DropTempView { view_name } => temp(format!("DROP VIEW {view_name}")),
        AuthAction::Attach { .. } => Some(Refusal {
            kind: RefusalKind::Attach,
            what: "ATTACH".into(),
        }),
        AuthAction::Detach { .. } => Some(Refusal {
            kind: RefusalKind::Attach,
            what: "DETACH".into(),
        }),
        AuthAction::Transaction { operation } => Some(Refusal {
            kind: RefusalKind::Transaction,
            what: match operation {
                TransactionOperation::Begin => "BEGIN",
                TransactionOperation::Release => "COMMIT",
                TransactionOperation::Rollback => "ROLLBACK",
                _ => "END",
            }
            .into(),
        }),
        AuthAction::Savepoint { operation, .. } => Some(Refusal {
            kind: RefusalKind::Transaction,
            what: match operation {
                TransactionOperation::Begin => "SAVEPOINT",
                TransactionOperation::Release => "RELEASE",
                TransactionOperation::Rollback => "ROLLBACK TO",
                _ => "SAVEPOINT",
            }
            .into(),
        }),
        // Anything SQLite adds later is refused until judged.
        _ => write("an action SQLite reported as unknown".into()),
    }
}

fn pragma_allowed(name: &str, value: Option<&str>) -> bool {
    let name = name.to_ascii_lowercase();
    PRAGMAS_WITH_ARGUMENT.contains(&name.as_str())
        || (value.is_none() && PRAGMAS_READ_BARE.contains(&name.as_str()))
}

/// PRAGMAs that act even when read as a table-valued function
/// (`SELECT * FROM pragma_optimize`). Others that take a value as an argument
/// (`pragma_user_version(5)`) are caught when SQLite prepares the PRAGMA
/// inside, by the same authorizer.
fn is_acting_pragma(name: &str) -> bool {
    const ACTING: &[&str] = &[
        "optimize",
        "wal_checkpoint",
        "incremental_vacuum",
        "shrink_memory",
    ];
    ACTING.contains(&name.to_ascii_lowercase().as_str())
}

/// The refusal recorded by the authorizer, named as the user wrote it where
/// the statement's first word says more (`REPLACE`, `CREATE TEMP TABLE`,
/// `ANALYZE` all first touch `sqlite_schema`).
pub(super) fn refine(recorded: Refusal, single: &str) -> Refusal {
    if matches!(recorded.kind, RefusalKind::Function | RefusalKind::Pragma) {
        return recorded;
    }
    lexical_refusal(single).unwrap_or(recorded)
}

/// A refusal read from the statement's leading keywords, for statements that
/// are writes (or transaction or attach statements) by their very first word.
pub(super) fn lexical_refusal(single: &str) -> Option<Refusal> {
    let words = leading_words(single, 6);
    let first = words.first()?.as_str();
    let kind = match first {
        "INSERT" | "REPLACE" | "UPDATE" | "DELETE" | "DROP" | "ALTER" | "VACUUM" | "REINDEX"
        | "ANALYZE" => RefusalKind::Write,
        "CREATE"
            if words
                .get(1)
                .is_some_and(|w| w == "TEMP" || w == "TEMPORARY") =>
        {
            RefusalKind::TempObject
        }
        "CREATE" => RefusalKind::Write,
        "ATTACH" | "DETACH" => RefusalKind::Attach,
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" => {
            RefusalKind::Transaction
        }
        _ => return None,
    };
    Some(Refusal {
        kind,
        what: lead_phrase(single)?,
    })
}

/// The statement's kind in the user's words: `INSERT`, `CREATE TEMP TABLE`,
/// `VACUUM INTO`, `PRAGMA journal_mode`, `DROP TABLE`.
pub fn lead_phrase(single: &str) -> Option<String> {
    let words = leading_words(single, 6);
    let first = words.first()?.clone();
    Some(match first.as_str() {
        "CREATE" => {
            let mut out = vec![first.clone()];
            for w in &words[1..] {
                let known = matches!(
                    w.as_str(),
                    "TEMP"
                        | "TEMPORARY"
                        | "UNIQUE"
                        | "VIRTUAL"
                        | "TABLE"
                        | "INDEX"
                        | "VIEW"
                        | "TRIGGER"
                );
                if !known {
                    break;
                }
                out.push(w.clone());
                if matches!(w.as_str(), "TABLE" | "INDEX" | "VIEW" | "TRIGGER") {
                    break;
                }
            }
            out.join(" ")
        }
        "DROP" | "ALTER" => words.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
        "VACUUM" if words.iter().any(|w| w == "INTO") => "VACUUM INTO".into(),
        "INSERT" if words.get(1).is_some_and(|w| w == "OR") => {
            words.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
        }
        "ROLLBACK" if words.iter().any(|w| w == "TO") => "ROLLBACK TO".into(),
        "PRAGMA" => match words.get(1) {
            Some(name) => format!("PRAGMA {}", name.to_ascii_lowercase()),
            None => first,
        },
        _ => first,
    })
}

/// The one statement in `sql`, or why there is not exactly one.
pub fn single_statement(sql: &str) -> Result<&str, QueryError> {
    let statements = split_statements(sql);
    match statements.as_slice() {
        [] => Err(QueryError::Empty),
        [one] => Ok(one),
        [_, second, ..] => Err(QueryError::Refused(Refusal {
            kind: RefusalKind::Several,
            what: lead_phrase(second).unwrap_or_else(|| crate::output::cell(second, 30)),
        })),
    }
}
