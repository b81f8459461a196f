//! What an export, import or delete did, or why it failed: the one sentence for each,
//! said the same by the CLI and the app.

use std::fmt;
use std::path::PathBuf;

use crate::db::DbError;
use crate::db::catalog::ObjectKind;
use crate::db::query::QueryError;
use crate::db::transfer::{DropOutcome, ImportOutcome};
use crate::output::{plural, rows_word, thousands};

/// Columns an import's sentence names before "and N more".
const LISTED_COLUMNS: usize = 12;

/// A finished export, import or delete.
#[derive(Debug, Clone, PartialEq)]
pub enum Transferred {
    Deleted(DropOutcome),
    /// `table` is `None` for a query's result.
    Exported {
        table: Option<String>,
        rows: u64,
        path: PathBuf,
    },
    Imported(ImportOutcome),
}

/// Why an export, import or delete stopped.
#[derive(Debug, Clone)]
pub enum TransferFailed {
    Db(DbError),
    /// Exporting a query's result.
    Query(QueryError),
}

impl fmt::Display for Transferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deleted(o) => {
                let what = o.kind.as_str();
                match o.rows {
                    Some(n) if o.kind != ObjectKind::View => write!(
                        f,
                        "Deleted {what} '{}' and its {} {}.",
                        o.name,
                        thousands(n),
                        rows_word(n)
                    ),
                    _ => write!(f, "Deleted {what} '{}'.", o.name),
                }
            }
            Self::Exported { table, rows, path } => {
                let of = match table {
                    Some(table) => format!("'{table}'"),
                    None => "the query result".into(),
                };
                write!(
                    f,
                    "Exported {} {} of {of} to {}.",
                    thousands(*rows),
                    rows_word(*rows),
                    path.display()
                )
            }
            Self::Imported(o) if o.created => {
                let mut listed: Vec<String> = o
                    .columns
                    .iter()
                    .take(LISTED_COLUMNS)
                    .map(|c| format!("{} {}", c.name, c.sql_type))
                    .collect();
                if o.columns.len() > LISTED_COLUMNS {
                    listed.push(format!("and {} more", o.columns.len() - LISTED_COLUMNS));
                }
                write!(
                    f,
                    "Imported {} {} into new table '{}' ({} column{}: {}).",
                    thousands(o.rows),
                    rows_word(o.rows),
                    o.table,
                    o.columns.len(),
                    plural(o.columns.len() as u64, "", "s"),
                    listed.join(", ")
                )
            }
            Self::Imported(o) => write!(
                f,
                "Appended {} {} to table '{}'. New total: {} {}.",
                thousands(o.rows),
                rows_word(o.rows),
                o.table,
                thousands(o.new_row_count),
                rows_word(o.new_row_count)
            ),
        }
    }
}

impl fmt::Display for TransferFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Db(e) => e.fmt(f),
            Self::Query(QueryError::Cancelled) => {
                f.write_str("Cancelled the export of the query result; no file was written.")
            }
            Self::Query(e) => e.fmt(f),
        }
    }
}
