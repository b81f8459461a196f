//! Takes back the rows of the most recent rowsmith operation.
//!
//! The contract: undo acts on exactly one operation, the latest of the table asked for
//! (or of the database), or one the user names by its id from `undo --list`. It never
//! skips to an older one on its own: when the latest cannot be undone (its table renamed,
//! its rows edited or gone) it says so and how to go on. A dry run writes nothing, the
//! journal included. An operation whose generation is still running is refused. A batch
//! recorded but never committed (a crash in between) is recognised and left out.
//!
//! A run (a generation that filled several tables at once) is one operation to undo:
//! naming any of its operations, or finding one as the latest, takes back the whole run,
//! every table in one transaction, children before parents, or nothing.
//!
//! Undo deletes a row only when it still holds exactly what rowsmith wrote
//! (same key, same fingerprint), refuses when any of those rows was edited,
//! and refuses when other rows now reference them, since deleting would then
//! break or cascade into rows rowsmith did not write.
//!
//! What it cannot tell apart: a row identical to one rowsmith wrote, inserted
//! after that one was deleted, under the same reused rowid. Nothing outside
//! the user's database records such a history, and rowsmith never adds
//! anything to the user's database.

mod plan;
pub(crate) mod remove;

use serde::Serialize;

use super::catalog::TableInfo;
use super::journal::{Journal, Operation, OperationId, RowKey, RunId};
use super::{Backend, DbError};
use plan::Checked;

/// What an undo would remove (shown before asking for confirmation). For a run, `rows`
/// and `already_gone` are its totals, `table` the table it was asked about (or found
/// through), and `run` has each table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoPreview {
    pub table: String,
    pub source: String,
    pub created_at: String,
    /// Rows that would be deleted.
    pub rows: u64,
    /// Rows of the operation that were already deleted by someone else.
    pub already_gone: u64,
    /// For a run: every table it would take rows from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunPreview>,
}

/// What undoing a run would remove, table by table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPreview {
    /// The id the run is listed under (`undo --list`, `--operation`, `--forget`).
    pub id: i64,
    /// Each table, in the order undo deletes from them: children before parents.
    pub tables: Vec<TablePreview>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablePreview {
    pub table: String,
    pub rows: u64,
    pub already_gone: u64,
}

/// What an undo removed. For a run, `removed` and `already_gone` are its totals, `table`
/// and `new_row_count` those of the table it was asked about (or found through), and
/// `run` has each table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoOutcome {
    pub table: String,
    pub source: String,
    pub created_at: String,
    pub removed: u64,
    pub already_gone: u64,
    pub new_row_count: u64,
    /// Said when the table has INSERT triggers: what they wrote elsewhere when the rows
    /// were added is not taken back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a run: every table it took rows from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunOutcome>,
}

/// What undoing a run removed, table by table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The id the run was listed under.
    pub id: i64,
    /// Each table, in the order its rows were deleted: children before parents.
    pub tables: Vec<TableOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableOutcome {
    pub table: String,
    pub removed: u64,
    pub already_gone: u64,
    pub new_row_count: u64,
}

/// An undo that was refused outright: the operation asked for is not there to undo,
/// or undoing it now would break something. Nothing was removed. (Refusals about one
/// operation that the history or `--forget` can resolve are [`DbError::UndoBlocked`].)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UndoRefusal {
    /// The journal has no operation with this id for the database.
    #[error(
        "There is no operation {operation} on record for '{path}'. `rowsmith undo {path} --list` shows them."
    )]
    UnknownOperation { operation: i64, path: String },

    /// There is no run with this id for the database.
    #[error("There is no run {run} on record for '{path}'.")]
    UnknownRun { run: i64, path: String },

    /// The run recorded no rows at all (it failed or was cancelled before its first
    /// commit, or filled nothing): there is nothing of it to take back.
    #[error("Nothing to undo: run {run} added no rows.")]
    RunAddedNothing { run: i64 },

    /// The operation asked for was undone or cleared before.
    #[error("Operation {operation} was already undone or cleared.")]
    AlreadyUndone { operation: i64 },

    /// The table has no operation of rowsmith's left to undo.
    #[error("Nothing to undo: rowsmith has no rows of its own on record for table '{table}'.")]
    NothingForTable { table: String },

    /// The database has no operation of rowsmith's left to undo.
    #[error("Nothing to undo: rowsmith has no rows of its own on record in '{path}'.")]
    NothingInDatabase { path: String },

    /// The generation that writes the operation is still running (process `pid`).
    #[error(
        "Cannot undo yet: rowsmith (process {pid}) is still adding rows to '{table}' in this operation. Cancel or wait for that generation, then undo. Nothing was removed."
    )]
    StillWriting { pid: u32, table: String },

    /// `rows` rows of `child` now reference rows the operation added to `table`.
    #[error(
        "Cannot undo: {rows} row{} in '{child}' now reference{} rows rowsmith added to '{table}'. Delete or undo those first. Nothing was removed.",
        crate::output::plural(*rows, "", "s"),
        crate::output::plural(*rows, "s", "")
    )]
    StillReferenced {
        rows: u64,
        child: String,
        table: String,
    },
}

/// Why undo cannot act on the one operation it looked at (the first part of
/// [`DbError::UndoBlocked`]'s sentence).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UndoBlock {
    /// The operation's table is gone (renamed or dropped).
    #[error(
        "Cannot undo: table '{table}', where rowsmith added {rows} rows on {created_at}, no longer exists (renamed or dropped), so its rows cannot be found. Nothing was removed."
    )]
    TableGone {
        table: String,
        rows: u64,
        created_at: String,
    },

    /// A column the rows' fingerprints cover was removed from the table.
    #[error(
        "Cannot undo: column '{column}' of table '{table}' was removed since rowsmith added rows, so they cannot be told apart from yours. Nothing was removed."
    )]
    ColumnGone { table: String, column: String },

    /// `changed` of the operation's `total` rows were edited or replaced since.
    #[error(
        "Cannot undo: {changed} of the {total} rows rowsmith added to '{table}' on {created_at} were edited or replaced since, and undo would delete your changes. Nothing was removed."
    )]
    RowsEdited {
        changed: u64,
        total: u64,
        table: String,
        created_at: String,
    },

    /// Every row of the operation was deleted already.
    #[error(
        "Nothing to undo: none of the rows rowsmith added to '{table}' on {created_at} is still in the table."
    )]
    NoneLeft { table: String, created_at: String },

    /// Every row of every table of a run was deleted already.
    #[error(
        "Nothing to undo: none of the rows rowsmith added to {} in the run of {created_at} is still there.",
        quoted_names(tables)
    )]
    RunNoneLeft {
        tables: Vec<String>,
        created_at: String,
    },
}

/// `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`.
pub fn quoted_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Which operation an undo acts on.
/// Rows of one table an undo removes: the rows of one operation, checked.
#[derive(Debug, Clone, Copy)]
pub struct Removal<'a> {
    pub table: &'a TableInfo,
    pub keys: &'a [RowKey],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The latest operation on the database, or on one table of it (its whole run, when
    /// it is part of one).
    Latest(Option<&'a str>),
    /// An operation the user named by its id (from `undo --list`); its whole run, when it
    /// is part of one.
    Operation(OperationId),
    /// Every operation of a run, e.g. a whole-database generation taking itself back.
    Run(RunId),
}

/// Says what `undo` would remove, without changing anything (the journal included).
pub fn preview_undo(
    db: &dyn Backend,
    journal: &Journal,
    table: Option<&str>,
) -> Result<UndoPreview, DbError> {
    preview(db, journal, Target::Latest(table))
}

/// Says what undoing `target` would remove, without changing anything.
pub fn preview(
    db: &dyn Backend,
    journal: &Journal,
    target: Target<'_>,
) -> Result<UndoPreview, DbError> {
    let checked = plan::check(db, journal, target)?;
    let run = checked.run.as_ref().map(|run| {
        let mut tables: Vec<TablePreview> = Vec::new();
        for (_, plan) in checked.deletion_order() {
            let (rows, gone) = (plan.ours.len() as u64, plan.gone);
            match tables.iter_mut().find(|t| t.table == plan.table.name) {
                Some(t) => {
                    t.rows += rows;
                    t.already_gone += gone;
                }
                None => tables.push(TablePreview {
                    table: plan.table.name.clone(),
                    rows,
                    already_gone: gone,
                }),
            }
        }
        RunPreview {
            id: run.listed_as.0,
            tables,
        }
    });
    Ok(UndoPreview {
        rows: checked.plans.iter().map(|p| p.ours.len() as u64).sum(),
        already_gone: checked.plans.iter().map(|p| p.gone).sum(),
        table: checked.table,
        source: checked.source,
        created_at: checked.created_at,
        run,
    })
}

/// Removes the rows of the most recent operation on the database (or on
/// `table`), in one transaction.
pub fn undo_last(
    db: &mut dyn Backend,
    journal: &Journal,
    table: Option<&str>,
) -> Result<UndoOutcome, DbError> {
    undo(db, journal, Target::Latest(table))
}

/// Removes the rows of `target` (every table of a run), in one transaction, and marks it
/// undone.
pub fn undo(
    db: &mut dyn Backend,
    journal: &Journal,
    target: Target<'_>,
) -> Result<UndoOutcome, DbError> {
    if !db.is_writable() {
        return Err(DbError::ReadOnly {
            path: db.display_name(),
        });
    }
    // Checking and deleting in one write transaction means nothing can change the rows
    // between the check and the delete.
    let mut done = None;
    db.in_write_transaction(&mut |db| {
        let checked = plan::check(&*db, journal, target)?;
        let removals: Vec<Removal<'_>> = checked
            .plans
            .iter()
            .map(|p| Removal {
                table: &p.table,
                keys: &p.ours,
            })
            .collect();
        let removed = db.remove_rows(&removals)?;
        let tables = tables_undone(&*db, &checked, &removed)?;
        done = Some((checked, tables));
        Ok(())
    })?;
    let (checked, tables) = done.ok_or(DbError::Cancelled)?;
    match &checked.run {
        Some(run) => journal.mark_run_undone(run.id)?,
        None => {
            for plan in &checked.plans {
                journal.mark_undone(plan.operation.id)?;
            }
        }
    }
    let with_triggers: Vec<String> = tables
        .iter()
        .filter(|t| db.insert_triggers(&t.table))
        .map(|t| t.table.clone())
        .collect();
    let note = match with_triggers.as_slice() {
        [] => None,
        [one] => Some(format!(
            "Table '{one}' has INSERT triggers: whatever they wrote elsewhere when these rows were added stays."
        )),
        many => Some(format!(
            "Tables {} have INSERT triggers: whatever they wrote elsewhere when these rows were added stays.",
            quoted_names(many)
        )),
    };
    let new_row_count = tables
        .iter()
        .find(|t| t.table == checked.table)
        .map_or(0, |t| t.new_row_count);
    Ok(UndoOutcome {
        removed: tables.iter().map(|t| t.removed).sum(),
        already_gone: tables.iter().map(|t| t.already_gone).sum(),
        new_row_count,
        note,
        run: checked.run.as_ref().map(|run| RunOutcome {
            id: run.listed_as.0,
            tables: tables.clone(),
        }),
        table: checked.table,
        source: checked.source,
        created_at: checked.created_at,
    })
}

/// What was removed from each table, in the order the rows were deleted, with the
/// table's rows now.
fn tables_undone(
    db: &dyn Backend,
    checked: &Checked,
    removed: &[u64],
) -> Result<Vec<TableOutcome>, DbError> {
    let mut tables: Vec<TableOutcome> = Vec::new();
    for (index, plan) in checked.deletion_order() {
        let removed = removed.get(index).copied().unwrap_or(0);
        if let Some(t) = tables.iter_mut().find(|t| t.table == plan.table.name) {
            t.removed += removed;
            t.already_gone += plan.gone;
            continue;
        }
        tables.push(TableOutcome {
            table: plan.table.name.clone(),
            removed,
            already_gone: plan.gone,
            new_row_count: db.count(&plan.table)?,
        });
    }
    Ok(tables)
}

/// Forgets an operation so that undo no longer considers it; no row is touched. For a
/// record undo cannot act on (its table renamed or dropped, its rows edited or gone). An
/// operation of a run forgets the whole run, and comes back as the run's history entry.
pub fn forget(db: &dyn Backend, journal: &Journal, id: OperationId) -> Result<Operation, DbError> {
    let (operation, _) = journal
        .operation(db.address(), id)?
        .ok_or_else(|| plan::unknown_operation(db, id))?;
    match &operation.run {
        Some(run) => journal.mark_run_undone(run.id)?,
        None => journal.forget_operation(id)?,
    }
    Ok(history_entry(operation))
}

/// The undo history of the database (or of one table), newest first, with the time each
/// entry was undone. A run is one entry (see [`history_entry`]), placed where its newest
/// operation is.
pub fn list(
    db: &dyn Backend,
    journal: &Journal,
    table: Option<&str>,
) -> Result<Vec<(Operation, Option<String>)>, DbError> {
    let mut seen = std::collections::HashSet::new();
    Ok(journal
        .list(db.address(), table)?
        .into_iter()
        .filter(|(op, _)| op.run.as_ref().is_none_or(|run| seen.insert(run.id)))
        .map(|(op, undone)| (history_entry(op), undone))
        .collect())
}

/// An operation as the history shows it. An operation of a run stands for the whole
/// run: the id the run is listed under, its first table, its time and source, its rows
/// over every table, and no columns (each table has its own).
fn history_entry(operation: Operation) -> Operation {
    let Some(run) = &operation.run else {
        return operation;
    };
    Operation {
        id: run.listed_as,
        table: run
            .tables
            .first()
            .map_or_else(|| operation.table.clone(), |(t, _)| t.clone()),
        created_at: run.created_at.clone(),
        source: run.source.clone(),
        columns: Vec::new(),
        rows: run.rows(),
        database: operation.database,
        run: operation.run,
    }
}

#[cfg(test)]
mod tests {
    use super::{UndoBlock, UndoRefusal};

    #[test]
    fn blocks_read_as_before() {
        let cases = [
            (
                UndoBlock::TableGone {
                    table: "orders".into(),
                    rows: 10,
                    created_at: "2026-12-03 10:00:00".into(),
                },
                "Cannot undo: table 'orders', where rowsmith added 10 rows on 2026-12-03 10:00:00, no longer exists \
                 (renamed or dropped), so its rows cannot be found. Nothing was removed.",
            ),
            (
                UndoBlock::ColumnGone {
                    table: "orders".into(),
                    column: "note".into(),
                },
                "Cannot undo: column 'note' of table 'orders' was removed since rowsmith added rows, so they \
                 cannot be told apart from yours. Nothing was removed.",
            ),
            (
                UndoBlock::RowsEdited {
                    changed: 2,
                    total: 10,
                    table: "orders".into(),
                    created_at: "2026-12-03 10:00:00".into(),
                },
                "Cannot undo: 2 of the 10 rows rowsmith added to 'orders' on 2026-12-03 10:00:00 were edited or \
                 replaced since, and undo would delete your changes. Nothing was removed.",
            ),
            (
                UndoBlock::NoneLeft {
                    table: "orders".into(),
                    created_at: "2026-12-03 10:00:00".into(),
                },
                "Nothing to undo: none of the rows rowsmith added to 'orders' on 2026-12-03 10:00:00 is still in \
                 the table.",
            ),
            (
                UndoBlock::RunNoneLeft {
                    tables: vec!["customers".into(), "orders".into(), "items".into()],
                    created_at: "2026-12-03 10:00:00".into(),
                },
                "Nothing to undo: none of the rows rowsmith added to 'customers', 'orders' and 'items' in the \
                 run of 2026-12-03 10:00:00 is still there.",
            ),
        ];
        for (block, sentence) in cases {
            assert_eq!(block.to_string(), sentence);
        }
    }

    #[test]
    fn refusals_read_as_before() {
        let cases = [
            (
                UndoRefusal::UnknownOperation {
                    operation: 7,
                    path: "shop.db".into(),
                },
                "There is no operation 7 on record for 'shop.db'. `rowsmith undo shop.db --list` shows them.",
            ),
            (
                UndoRefusal::UnknownRun {
                    run: 3,
                    path: "shop.db".into(),
                },
                "There is no run 3 on record for 'shop.db'.",
            ),
            (
                UndoRefusal::RunAddedNothing { run: 3 },
                "Nothing to undo: run 3 added no rows.",
            ),
            (
                UndoRefusal::AlreadyUndone { operation: 7 },
                "Operation 7 was already undone or cleared.",
            ),
            (
                UndoRefusal::NothingForTable {
                    table: "orders".into(),
                },
                "Nothing to undo: rowsmith has no rows of its own on record for table 'orders'.",
            ),
            (
                UndoRefusal::NothingInDatabase {
                    path: "shop.db".into(),
                },
                "Nothing to undo: rowsmith has no rows of its own on record in 'shop.db'.",
            ),
            (
                UndoRefusal::StillWriting {
                    pid: 42,
                    table: "orders".into(),
                },
                "Cannot undo yet: rowsmith (process 42) is still adding rows to 'orders' in this operation. \
                 Cancel or wait for that generation, then undo. Nothing was removed.",
            ),
            (
                UndoRefusal::StillReferenced {
                    rows: 1,
                    child: "items".into(),
                    table: "orders".into(),
                },
                "Cannot undo: 1 row in 'items' now references rows rowsmith added to 'orders'. Delete or undo \
                 those first. Nothing was removed.",
            ),
            (
                UndoRefusal::StillReferenced {
                    rows: 3,
                    child: "items".into(),
                    table: "orders".into(),
                },
                "Cannot undo: 3 rows in 'items' now reference rows rowsmith added to 'orders'. Delete or undo \
                 those first. Nothing was removed.",
            ),
        ];
        for (refusal, sentence) in cases {
            assert_eq!(refusal.to_string(), sentence);
        }
    }
}
