//! SQLite: deleting the checked rows, inside the caller's write transaction: their keys
//! staged in temporary tables, references from rows the undo does not delete refused,
//! then the rows deleted children first.

use rusqlite::{Connection, params_from_iter};

use super::{Removal, UndoRefusal};
use crate::db::catalog::{TableInfo, referencing_keys, table_info};
use crate::db::ident::quote;
use crate::db::journal::RowKey;
use crate::db::sample::rowid_name;
use crate::db::{DbError, Sqlite};

/// The temporary table holding the keys of plan `index`, and its key columns.
struct Stage {
    name: String,
    key_cols: Vec<String>,
}

/// Removes every row `removals` name (given in the order they were written), children
/// before parents; refused when other rows still reference them. Returns how many rows
/// of each removal are gone now.
pub(crate) fn remove_rows(db: &Sqlite, removals: &[Removal<'_>]) -> Result<Vec<u64>, DbError> {
    let err = |e| db.err(e);
    let stages: Vec<Stage> = removals
        .iter()
        .enumerate()
        .map(|(index, plan)| stage_plan(db.conn(), plan, index))
        .collect::<rusqlite::Result<_>>()
        .map_err(err)?;
    check_references(db, removals, &stages)?;
    delete_rows(db.conn(), removals, &stages).map_err(err)
}

fn stage_plan(conn: &Connection, plan: &Removal<'_>, index: usize) -> rusqlite::Result<Stage> {
    let key_cols: Vec<String> = if plan.table.has_rowid() {
        vec!["k".into()]
    } else {
        (0..plan.table.primary_key().len())
            .map(|i| format!("k{i}"))
            .collect()
    };
    let name = format!("rowsmith_undo_keys_{index}");
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.{name}; CREATE TEMP TABLE {name} ({})",
        key_cols.join(", ")
    ))?;
    let mut insert = conn.prepare(&format!(
        "INSERT INTO temp.{name} VALUES ({})",
        vec!["?"; key_cols.len()].join(", ")
    ))?;
    for key in plan.keys {
        match key {
            RowKey::Rowid(id) => insert.execute([id])?,
            RowKey::Primary(values) => insert.execute(params_from_iter(values.iter()))?,
        };
    }
    Ok(Stage { name, key_cols })
}

/// `(alias.key...) IN (SELECT staged keys)` for the table's key.
fn key_in_stage(table: &TableInfo, alias: &str, stage: &Stage) -> String {
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
        "({}) IN (SELECT {} FROM temp.{})",
        cols.join(", "),
        stage.key_cols.join(", "),
        stage.name
    )
}

/// Refuses when a row the undo does not delete references one it does: deleting would
/// break it or cascade into it. Rows deleted together may reference each other.
fn check_references(
    db: &Sqlite,
    removals: &[Removal<'_>],
    stages: &[Stage],
) -> Result<(), DbError> {
    for (plan, stage) in removals.iter().zip(stages) {
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
                key_in_stage(plan.table, "p", stage)
            );
            for (other, other_stage) in removals.iter().zip(stages) {
                if other.table.name.eq_ignore_ascii_case(&child_info.name) {
                    sql.push_str(&format!(
                        " AND NOT {}",
                        key_in_stage(other.table, "c", other_stage)
                    ));
                }
            }
            let n: i64 = db
                .conn()
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
    }
    Ok(())
}

/// Deletes every staged row, children before parents, and says how many rows of each
/// plan are gone now (a row deleted by a cascade from another row of the undo counts:
/// it was ours and it is gone). Foreign keys are checked at COMMIT, so rows of the undo
/// that reference each other in a cycle go out together.
fn delete_rows(
    conn: &Connection,
    removals: &[Removal<'_>],
    stages: &[Stage],
) -> rusqlite::Result<Vec<u64>> {
    conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
    for (index, plan) in removals.iter().enumerate().rev() {
        conn.execute(
            &format!(
                "DELETE FROM main.{} AS p WHERE {}",
                plan.table.quoted(),
                key_in_stage(plan.table, "p", &stages[index])
            ),
            [],
        )?;
    }
    let mut removed = Vec::with_capacity(stages.len());
    for (plan, stage) in removals.iter().zip(stages) {
        let left: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM main.{} AS p WHERE {}",
                plan.table.quoted(),
                key_in_stage(plan.table, "p", stage)
            ),
            [],
            |r| r.get(0),
        )?;
        removed.push((plan.keys.len() as u64).saturating_sub(left.max(0) as u64));
        conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{}", stage.name))?;
    }
    Ok(removed)
}

/// Whether an INSERT trigger fires on `table` (its effects elsewhere are not undone).
pub(crate) fn insert_triggers(db: &Sqlite, table: &str) -> bool {
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
