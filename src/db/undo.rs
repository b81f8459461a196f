//! Takes back the rows of the most recent rowsmith operation.
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
use super::journal::{Journal, Operation, RowKey};
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
}

/// The rows of one operation, checked against the table as it is now.
struct Plan {
    operation: Operation,
    table: TableInfo,
    ours: Vec<RowKey>,
    gone: u64,
}

/// Says what `undo` would remove, without changing anything.
pub fn preview_undo(
    db: &Database,
    journal: &Journal,
    table: Option<&str>,
) -> Result<UndoPreview, DbError> {
    let plan = plan(db, journal, table)?;
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
    db.require_writable()?;
    let path = db.display_path();
    let err = |e: rusqlite::Error| DbError::from_sqlite(e, &path);
    // Holding the write lock while checking means nothing can change the rows
    // between the check and the delete.
    db.conn().execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    let result = plan(db, journal, table).and_then(|plan| {
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
            db.conn().execute_batch("COMMIT").map_err(err)?;
            journal.mark_undone(plan.operation.id)?;
            Ok(UndoOutcome {
                table: plan.table.name,
                source: plan.operation.source,
                created_at: plan.operation.created_at,
                removed,
                already_gone: plan.gone,
                new_row_count,
            })
        }
        Err(e) => {
            let _ = db.conn().execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn plan(db: &Database, journal: &Journal, table: Option<&str>) -> Result<Plan, DbError> {
    let table_name = match table {
        Some(name) => Some(table_info(db, name)?.name),
        None => None,
    };
    loop {
        let Some(operation) = journal.latest(db.path(), table_name.as_deref())? else {
            return Err(DbError::Refused(match &table_name {
                Some(t) => format!(
                    "Nothing to undo: rowsmith has no rows of its own on record for table '{t}'."
                ),
                None => format!(
                    "Nothing to undo: rowsmith has no rows of its own on record in '{}'.",
                    db.display_path()
                ),
            }));
        };
        let info = match table_info(db, &operation.table) {
            Ok(info) => info,
            Err(DbError::UnknownTable { .. }) => {
                // The table is gone, and with it every row we could remove.
                journal.mark_undone(operation.id)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(missing) = operation.columns.iter().find(|c| info.column(c).is_none()) {
            return Err(DbError::Refused(format!(
                "Cannot undo: column '{missing}' of table '{}' was removed since rowsmith added rows, so they cannot be \
                 told apart from yours. Nothing was removed.",
                info.name
            )));
        }
        let recorded = journal.rows(operation.id)?;
        let current = read_fingerprints(
            db.conn(),
            &info,
            &operation.columns,
            recorded.iter().map(|r| &r.key),
        )
        .map_err(|e| db.err(e))?;
        let (mut ours, mut gone, mut changed) = (Vec::new(), 0u64, 0u64);
        for (row, (key, now)) in recorded.iter().zip(current) {
            match now {
                Some(fp) if fp == row.fingerprint => ours.push(key),
                Some(_) => changed += 1,
                None => gone += 1,
            }
        }
        if ours.is_empty() {
            // None of its rows is left as written: nothing of this operation
            // remains to undo, so look further back.
            journal.mark_undone(operation.id)?;
            continue;
        }
        if changed > 0 {
            return Err(DbError::Refused(format!(
                "Cannot undo: {changed} of the {} rows rowsmith added to '{}' on {} were edited since, and undo would \
                 delete your changes. Nothing was removed.",
                operation.rows, info.name, operation.created_at
            )));
        }
        return Ok(Plan {
            operation,
            table: info,
            ours,
            gone,
        });
    }
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
            return Err(DbError::Refused(format!(
                "Cannot undo: {n} row{} in '{child}' now reference{} rows rowsmith added to '{}'. Delete or undo those \
                 first. Nothing was removed.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                plan.table.name
            )));
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
