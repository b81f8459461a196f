//! Undo on Postgres: rows found again by primary key, locked (`FOR UPDATE`) while an undo
//! checks them so they cannot change before they are deleted, references from rows the
//! undo does not delete refused, then the rows deleted children first with deferrable
//! keys checked at COMMIT.

use std::collections::HashMap;

use tokio_postgres::types::ToSql;

use super::Postgres;
use super::catalog::{qualified, referencing_keys};
use super::values::{as_text, from_text, text_arrays, typed_rows, types_of};
use crate::db::DbError;
use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::journal::RowKey;
use crate::db::lineage::key_bytes;
use crate::db::undo::{Removal, UndoRefusal};
use crate::db::value::{Value, fingerprint};

/// Keys per statement when reading rows back.
const CHUNK: usize = 5_000;

/// The table's key columns' names.
fn key_names(table: &TableInfo) -> Vec<String> {
    table.primary_key().iter().map(|c| c.name.clone()).collect()
}

/// `SELECT` of the keys bound as text arrays from parameter `first` on, as the key's types.
fn keys_select(table: &TableInfo, first: usize) -> String {
    typed_rows(&types_of(table, &key_names(table)), first)
}

fn key_list(table: &TableInfo, alias: &str) -> String {
    table
        .primary_key()
        .iter()
        .map(|c| format!("{alias}.{}", quote(&c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn primary_values(key: &RowKey) -> &[Value] {
    match key {
        RowKey::Primary(values) => values,
        RowKey::Rowid(_) => &[],
    }
}

pub fn read_fingerprints(
    db: &Postgres,
    table: &TableInfo,
    columns: &[String],
    keys: &[RowKey],
) -> Result<Vec<(RowKey, Option<u64>)>, DbError> {
    let pk = table.primary_key();
    if pk.is_empty() {
        return Err(DbError::NoPrimaryKey {
            table: table.name.clone(),
        });
    }
    let select: Vec<String> = pk
        .iter()
        .map(|c| as_text(&c.name))
        .chain(columns.iter().map(|c| as_text(c)))
        .collect();
    let lock = if db.in_write() { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {} FROM {} AS p WHERE ({}) IN ({}){lock}",
        select.join(", "),
        qualified(table),
        key_list(table, "p"),
        keys_select(table, 1)
    );
    let mut now: HashMap<Vec<u8>, u64> = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let values: Vec<&[Value]> = chunk.iter().map(primary_values).collect();
        let arrays = text_arrays(&values, table.primary_key().len());
        let params: Vec<&(dyn ToSql + Sync)> =
            arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        for row in db.rows(&sql, &params)? {
            let key: Vec<Value> = pk
                .iter()
                .enumerate()
                .map(|(i, c)| from_text(Some(c), row.get(i)))
                .collect();
            let stored: Vec<Value> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| from_text(table.column(c), row.get(pk.len() + i)))
                .collect();
            now.insert(key_bytes(&key), fingerprint(&stored));
        }
    }
    Ok(keys
        .iter()
        .map(|k| {
            let found = now.get(&key_bytes(primary_values(k))).copied();
            (k.clone(), found)
        })
        .collect())
}

pub fn remove_rows(db: &Postgres, removals: &[Removal<'_>]) -> Result<Vec<u64>, DbError> {
    // Each removal's keys in a temporary table of the key's types, gone at COMMIT.
    let mut stages = Vec::with_capacity(removals.len());
    for (index, removal) in removals.iter().enumerate() {
        let pk = removal.table.primary_key();
        if pk.is_empty() {
            return Err(DbError::NoPrimaryKey {
                table: removal.table.name.clone(),
            });
        }
        let name = format!("rowsmith_undo_keys_{index}");
        let columns: Vec<String> = pk
            .iter()
            .enumerate()
            .map(|(i, c)| format!("k{i} {}", c.decl_type))
            .collect();
        db.execute_batch(&format!(
            "DROP TABLE IF EXISTS pg_temp.{name}; CREATE TEMP TABLE {name} ({}) ON COMMIT DROP",
            columns.join(", ")
        ))?;
        for chunk in removal.keys.chunks(CHUNK) {
            let values: Vec<&[Value]> = chunk.iter().map(primary_values).collect();
            let arrays = text_arrays(&values, removal.table.primary_key().len());
            let params: Vec<&(dyn ToSql + Sync)> =
                arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
            db.rows(
                &format!(
                    "INSERT INTO pg_temp.{name} {}",
                    keys_select(removal.table, 1)
                ),
                &params,
            )?;
        }
        stages.push(name);
    }
    let in_stage = |table: &TableInfo, alias: &str, stage: &str| {
        format!(
            "({}) IN (SELECT * FROM pg_temp.{stage})",
            key_list(table, alias)
        )
    };

    for (removal, stage) in removals.iter().zip(&stages) {
        for (child, fk) in referencing_keys(db, removal.table)? {
            let from: Vec<String> = fk.from.iter().map(|c| format!("c.{}", quote(c))).collect();
            let to: Vec<String> = fk.to.iter().map(|c| format!("p.{}", quote(c))).collect();
            let mut sql = format!(
                "SELECT count(*) FROM {} AS c WHERE ({}) IN (SELECT {} FROM {} AS p WHERE {})",
                qualified(&child),
                from.join(", "),
                to.join(", "),
                qualified(removal.table),
                in_stage(removal.table, "p", stage)
            );
            for (other, other_stage) in removals.iter().zip(&stages) {
                if other.table.name == child.name {
                    sql.push_str(&format!(
                        " AND NOT {}",
                        in_stage(other.table, "c", other_stage)
                    ));
                }
            }
            let n: i64 = db.rows(&sql, &[])?[0].get(0);
            if n > 0 {
                return Err(UndoRefusal::StillReferenced {
                    rows: n as u64,
                    child: child.name.clone(),
                    table: removal.table.name.clone(),
                }
                .into());
            }
        }
    }

    db.execute_batch("SET CONSTRAINTS ALL DEFERRED")?;
    for (removal, stage) in removals.iter().zip(&stages).rev() {
        db.rows(
            &format!(
                "DELETE FROM {} AS p WHERE {}",
                qualified(removal.table),
                in_stage(removal.table, "p", stage)
            ),
            &[],
        )?;
    }
    let mut removed = Vec::with_capacity(removals.len());
    for (removal, stage) in removals.iter().zip(&stages) {
        let left: i64 = db.rows(
            &format!(
                "SELECT count(*) FROM {} AS p WHERE {}",
                qualified(removal.table),
                in_stage(removal.table, "p", stage)
            ),
            &[],
        )?[0]
            .get(0);
        removed.push((removal.keys.len() as u64).saturating_sub(left.max(0) as u64));
    }
    Ok(removed)
}

/// Whether a user trigger fires on INSERT into `table`.
pub fn insert_triggers(db: &Postgres, table: &TableInfo) -> bool {
    // tgtype bit 2 (value 4) is INSERT.
    db.rows(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger \
         WHERE tgrelid = $1::text::regclass AND NOT tgisinternal AND (tgtype & 4) <> 0)",
        &[&qualified(table)],
    )
    .ok()
    .and_then(|rows| rows.first().map(|r| r.get::<_, bool>(0)))
    .unwrap_or(false)
}
