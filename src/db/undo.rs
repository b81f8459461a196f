//! Takes back the rows of the most recent rowsmith operation.
//!
//! The contract: undo acts on exactly one operation, the latest of the table asked for
//! (or of the database), or one the user names by its id from `undo --list`. It never
//! skips to an older one on its own: when the latest cannot be undone (its table renamed,
//! its rows edited or gone) it says so and how to go on. A dry run writes nothing, the
//! journal included. An operation whose generation is still running is refused. A batch
//! recorded but never committed (a crash in between) is recognised and left out.
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

use rusqlite::{Connection, params_from_iter};
use serde::Serialize;

use super::catalog::{TableInfo, referencing_keys, table_info};
use super::ident::quote;
use super::journal::{Journal, Operation, OperationId, RowKey};
use super::sample::rowid_name;
use super::write::read_fingerprints;
use super::{Database, DbError};

/// What an undo would remove (shown before asking for confirmation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoPreview {
    pub table: String,
    pub source: String,
    pub created_at: String,
    /// Rows that would be deleted.
    pub rows: u64,
    /// Rows of the operation that were already deleted by someone else.
    pub already_gone: u64,
}

/// What an undo removed.
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
}

/// The rows of one operation, checked against the table as it is now.
struct Plan {
    operation: Operation,
    table: TableInfo,
    ours: Vec<RowKey>,
    gone: u64,
}

/// Which operation an undo acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The latest operation on the database, or on one table of it.
    Latest(Option<&'a str>),
    /// An operation the user named by its id (from `undo --list`).
    Operation(OperationId),
    /// SHIM: a whole-database run.
    Run(super::journal::RunId),
}

/// Says what `undo` would remove, without changing anything (the journal included).
pub fn preview_undo(
    db: &Database,
    journal: &Journal,
    table: Option<&str>,
) -> Result<UndoPreview, DbError> {
    preview(db, journal, Target::Latest(table))
}

/// Says what undoing `target` would remove, without changing anything.
pub fn preview(
    db: &Database,
    journal: &Journal,
    target: Target<'_>,
) -> Result<UndoPreview, DbError> {
    let plan = plan(db, journal, target)?;
    Ok(UndoPreview {
        table: plan.table.name.clone(),
        source: plan.operation.source.clone(),
        created_at: plan.operation.created_at.clone(),
        rows: plan.ours.len() as u64,
        already_gone: plan.gone,
    })
}

/// Removes the rows of the most recent operation on the database (or on
/// `table`), in one transaction.
pub fn undo_last(
    db: &mut Database,
    journal: &Journal,
    table: Option<&str>,
) -> Result<UndoOutcome, DbError> {
    undo(db, journal, Target::Latest(table))
}

/// Removes the rows of `target`, in one transaction, and marks it undone.
pub fn undo(
    db: &mut Database,
    journal: &Journal,
    target: Target<'_>,
) -> Result<UndoOutcome, DbError> {
    db.require_writable()?;
    let path = db.display_path();
    let err = |e: rusqlite::Error| DbError::from_sqlite(e, &path);
    // Holding the write lock while checking means nothing can change the rows
    // between the check and the delete.
    let tx = super::write_transaction(db.conn()).map_err(err)?;
    let result = plan(db, journal, target).and_then(|plan| {
        let key_cols = stage_keys(db.conn(), &plan).map_err(err)?;
        check_references(db, &plan, &key_cols)?;
        let removed = delete_rows(db.conn(), &plan, &key_cols).map_err(err)?;
        let count_sql = format!("SELECT count(*) FROM main.{}", plan.table.quoted());
        let new_row_count: i64 = db
            .conn()
            .query_row(&count_sql, [], |r| r.get(0))
            .map_err(err)?;
        Ok((plan, removed, new_row_count as u64))
    });
    match result {
        Ok((plan, removed, new_row_count)) => {
            tx.commit().map_err(err)?;
            journal.mark_undone(plan.operation.id)?;
            let note = insert_triggers(db, &plan.table.name).then(|| {
                format!(
                    "Table '{}' has INSERT triggers: whatever they wrote elsewhere when these rows were added stays.",
                    plan.table.name
                )
            });
            Ok(UndoOutcome {
                note,
                table: plan.table.name,
                source: plan.operation.source,
                created_at: plan.operation.created_at,
                removed,
                already_gone: plan.gone,
                new_row_count,
            })
        }
        // Dropping the transaction rolls it back.
        Err(e) => Err(e),
    }
}

/// Forgets an operation so that undo no longer considers it; no row is touched. For a
/// record undo cannot act on (its table renamed or dropped, its rows edited or gone).
pub fn forget(db: &Database, journal: &Journal, id: OperationId) -> Result<Operation, DbError> {
    let (operation, _) = journal
        .operation(db.path(), id)?
        .ok_or_else(|| unknown_operation(db, id))?;
    journal.forget_operation(id)?;
    Ok(operation)
}

/// The operations on record for the database (or one table), newest first, with the time
/// each was undone.
pub fn list(
    db: &Database,
    journal: &Journal,
    table: Option<&str>,
) -> Result<Vec<(Operation, Option<String>)>, DbError> {
    journal.list(db.path(), table)
}

fn unknown_operation(db: &Database, id: OperationId) -> DbError {
    UndoRefusal::UnknownOperation {
        operation: id.0,
        path: db.display_path(),
    }
    .into()
}

/// A refusal about `op` that the caller can follow with the history or `--forget`.
fn blocked(db: &Database, op: &Operation, why: UndoBlock) -> DbError {
    DbError::UndoBlocked {
        why,
        path: db.display_path(),
        operation: op.id.0,
    }
}

/// Checks the rows of exactly one operation against the table as it is now. It never
/// moves on to an older operation and never writes the journal: refusals say why and how
/// to go on.
fn plan(db: &Database, journal: &Journal, target: Target<'_>) -> Result<Plan, DbError> {
    let operation = match target {
        Target::Run(_) => {
            return Err(UndoRefusal::NothingInDatabase {
                path: db.display_path(),
            }
            .into());
        }
        Target::Operation(id) => {
            let (op, undone) = journal
                .operation(db.path(), id)?
                .ok_or_else(|| unknown_operation(db, id))?;
            if undone.is_some() {
                return Err(UndoRefusal::AlreadyUndone { operation: id.0 }.into());
            }
            op
        }
        Target::Latest(table) => {
            let table_name = match table {
                Some(name) => Some(table_info(db, name)?.name),
                None => None,
            };
            latest_committed(db, journal, table_name.as_deref())?.ok_or_else(|| {
                DbError::from(match table_name {
                    Some(table) => UndoRefusal::NothingForTable { table },
                    None => UndoRefusal::NothingInDatabase {
                        path: db.display_path(),
                    },
                })
            })?
        }
    };
    if let Some(pid) = journal.writer_of(operation.id)? {
        return Err(UndoRefusal::StillWriting {
            pid,
            table: operation.table,
        }
        .into());
    }
    let info = match table_info(db, &operation.table) {
        Ok(info) => info,
        Err(DbError::UnknownTable { .. }) => {
            return Err(blocked(
                db,
                &operation,
                UndoBlock::TableGone {
                    table: operation.table.clone(),
                    rows: operation.rows,
                    created_at: operation.created_at.clone(),
                },
            ));
        }
        Err(e) => return Err(e),
    };
    if let Some(missing) = operation.columns.iter().find(|c| info.column(c).is_none()) {
        return Err(blocked(
            db,
            &operation,
            UndoBlock::ColumnGone {
                table: info.name.clone(),
                column: missing.clone(),
            },
        ));
    }
    let (mut ours, mut gone, mut changed) = (Vec::new(), 0u64, 0u64);
    for (confirmed, recorded) in journal.batches(operation.id)? {
        let current = read_fingerprints(
            db.conn(),
            &info,
            &operation.columns,
            recorded.iter().map(|r| &r.key),
        )
        .map_err(|e| db.err(e))?;
        let mut batch = (Vec::new(), 0u64, 0u64);
        for (row, (key, now)) in recorded.iter().zip(current) {
            match now {
                Some(fp) if fp == row.fingerprint => batch.0.push(key),
                Some(_) => batch.1 += 1,
                None => batch.2 += 1,
            }
        }
        // A batch recorded but never confirmed, none of whose rows is there as written,
        // never committed (a crash between the record and the commit): its rowids may
        // belong to rows the user added since, which are not ours to judge.
        if !confirmed && batch.0.is_empty() {
            continue;
        }
        ours.extend(batch.0);
        changed += batch.1;
        gone += batch.2;
    }
    if changed > 0 {
        return Err(blocked(
            db,
            &operation,
            UndoBlock::RowsEdited {
                changed,
                total: ours.len() as u64 + changed + gone,
                table: info.name.clone(),
                created_at: operation.created_at.clone(),
            },
        ));
    }
    if ours.is_empty() {
        return Err(blocked(
            db,
            &operation,
            UndoBlock::NoneLeft {
                table: info.name.clone(),
                created_at: operation.created_at.clone(),
            },
        ));
    }
    Ok(Plan {
        operation,
        table: info,
        ours,
        gone,
    })
}

/// The newest operation not yet undone whose rows were ever committed. A run killed
/// before its first commit leaves a record of batches that never reached the table: that
/// operation never happened, so it is passed over (not skipped: there is nothing of it).
fn latest_committed(
    db: &Database,
    journal: &Journal,
    table: Option<&str>,
) -> Result<Option<Operation>, DbError> {
    for (operation, undone) in journal.list(db.path(), table)? {
        if undone.is_none() && !never_committed(db, journal, &operation)? {
            return Ok(Some(operation));
        }
    }
    Ok(None)
}

/// Whether no batch of `op` was ever committed: none confirmed, its writer gone, and none
/// of its recorded rows in the table as written.
fn never_committed(db: &Database, journal: &Journal, op: &Operation) -> Result<bool, DbError> {
    let batches = journal.batches(op.id)?;
    if batches.iter().any(|(confirmed, _)| *confirmed) || journal.writer_of(op.id)?.is_some() {
        return Ok(false);
    }
    let info = match table_info(db, &op.table) {
        Ok(info) => info,
        // An import into a new table that was never created.
        Err(DbError::UnknownTable { .. }) => return Ok(true),
        Err(e) => return Err(e),
    };
    if op.columns.iter().any(|c| info.column(c).is_none()) {
        return Ok(false);
    }
    for (_, recorded) in &batches {
        let current = read_fingerprints(
            db.conn(),
            &info,
            &op.columns,
            recorded.iter().map(|r| &r.key),
        )
        .map_err(|e| db.err(e))?;
        let written = recorded
            .iter()
            .zip(current)
            .any(|(row, (_, now))| now == Some(row.fingerprint));
        if written {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether an INSERT trigger fires on `table` (its effects elsewhere are not undone).
fn insert_triggers(db: &Database, table: &str) -> bool {
    static ON_INSERT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(on_insert) =
        ON_INSERT.get_or_init(|| regex::Regex::new(r"(?is)\b(BEFORE|AFTER)\s+INSERT\s+ON\b").ok())
    else {
        return false;
    };
    let sql: Vec<String> = db
        .conn()
        .prepare(
            "SELECT sql FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE",
        )
        .and_then(|mut stmt| {
            stmt.query_map([table], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap_or_default();
    sql.iter().any(|s| on_insert.is_match(s))
}

/// Fills `temp.rowsmith_undo_keys` with the keys to delete.
fn stage_keys(conn: &Connection, plan: &Plan) -> rusqlite::Result<Vec<String>> {
    let key_cols: Vec<String> = if plan.table.has_rowid() {
        vec!["k".into()]
    } else {
        (0..plan.table.primary_key().len())
            .map(|i| format!("k{i}"))
            .collect()
    };
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.rowsmith_undo_keys; CREATE TEMP TABLE rowsmith_undo_keys ({})",
        key_cols.join(", ")
    ))?;
    let mut insert = conn.prepare(&format!(
        "INSERT INTO temp.rowsmith_undo_keys VALUES ({})",
        vec!["?"; key_cols.len()].join(", ")
    ))?;
    for key in &plan.ours {
        match key {
            RowKey::Rowid(id) => insert.execute([id])?,
            RowKey::Primary(values) => insert.execute(params_from_iter(values.iter()))?,
        };
    }
    Ok(key_cols)
}

/// `(alias.key...) IN (SELECT staged keys)` for the table's key.
fn key_in_stage(table: &TableInfo, alias: &str, key_cols: &[String]) -> String {
    let cols: Vec<String> = if table.has_rowid() {
        vec![format!("{alias}.{}", rowid_name(table).unwrap_or("rowid"))]
    } else {
        table
            .primary_key()
            .iter()
            .map(|c| format!("{alias}.{}", quote(&c.name)))
            .collect()
    };
    format!(
        "({}) IN (SELECT {} FROM temp.rowsmith_undo_keys)",
        cols.join(", "),
        key_cols.join(", ")
    )
}

fn check_references(db: &Database, plan: &Plan, key_cols: &[String]) -> Result<(), DbError> {
    let conn = db.conn();
    for (child, fk) in referencing_keys(db, &plan.table.name)? {
        let child_info = table_info(db, &child)?;
        let from: Vec<String> = fk.from.iter().map(|c| format!("c.{}", quote(c))).collect();
        let to: Vec<String> = fk.to.iter().map(|c| format!("p.{}", quote(c))).collect();
        let mut sql = format!(
            "SELECT count(*) FROM main.{} AS c WHERE ({}) IN (SELECT {} FROM main.{} AS p WHERE {})",
            quote(&child),
            from.join(", "),
            to.join(", "),
            plan.table.quoted(),
            key_in_stage(&plan.table, "p", key_cols)
        );
        // Rows of the same operation may reference each other; they go together.
        if child_info.name.eq_ignore_ascii_case(&plan.table.name) {
            sql.push_str(&format!(
                " AND NOT {}",
                key_in_stage(&plan.table, "c", key_cols)
            ));
        }
        let n: i64 = conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| db.err(e))?;
        if n > 0 {
            return Err(UndoRefusal::StillReferenced {
                rows: n as u64,
                child,
                table: plan.table.name.clone(),
            }
            .into());
        }
    }
    Ok(())
}

fn delete_rows(conn: &Connection, plan: &Plan, key_cols: &[String]) -> rusqlite::Result<u64> {
    let sql = format!(
        "DELETE FROM main.{} AS p WHERE {}",
        plan.table.quoted(),
        key_in_stage(&plan.table, "p", key_cols)
    );
    let removed = conn.execute(&sql, [])?;
    conn.execute_batch("DROP TABLE IF EXISTS temp.rowsmith_undo_keys")?;
    Ok(removed as u64)
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
