//! The second pass of a whole-database run: changes to rows the run inserted itself, once
//! the rows they depend on exist (a key that closes a cycle, a parent's total of its new
//! children). All of a pass is one transaction; the caller records the rows' new
//! fingerprints so that undo still knows them as the run's own.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::journal::RowKey;
use crate::db::lineage::Link;
use crate::db::sample::rowid_name;
use crate::db::{CancelFlag, DbError};

/// One change: set `columns` of the row with `key` to `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetValues {
    pub key: RowKey,
    pub values: Vec<Value>,
}

/// A parent column that holds the sum over its children (`sum(a)` or `sum(a * b)`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildSum {
    pub parent_column: String,
    pub terms: Vec<String>,
    /// Decimal places the parent's values keep.
    pub decimals: u32,
}

fn key_clause(table: &TableInfo) -> (String, usize) {
    match (table.has_rowid(), rowid_name(table)) {
        (true, Some(rowid)) => (format!("{rowid} = ?"), 1),
        _ => {
            let pk: Vec<String> = table
                .primary_key()
                .iter()
                .map(|c| format!("{} = ?", quote(&c.name)))
                .collect();
            let n = pk.len();
            (pk.join(" AND "), n)
        }
    }
}

fn key_values(key: &RowKey) -> Vec<Value> {
    match key {
        RowKey::Rowid(id) => vec![Value::Integer(*id)],
        RowKey::Primary(values) => values.clone(),
    }
}

/// Sets `columns` on each keyed row.
pub fn set_values(
    conn: &Connection,
    table: &TableInfo,
    columns: &[String],
    changes: &[SetValues],
    cancel: &CancelFlag,
) -> Result<(), DbError> {
    let (clause, _) = key_clause(table);
    let sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{} = ?", quote(c)))
        .collect();
    let sql = format!(
        "UPDATE main.{} SET {} WHERE {clause}",
        table.quoted(),
        sets.join(", ")
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| fail(table, e))?;
    for change in changes {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let params: Vec<Value> = change
            .values
            .iter()
            .cloned()
            .chain(key_values(&change.key))
            .collect();
        stmt.execute(params_from_iter(params.iter()))
            .map_err(|e| fail(table, e))?;
    }
    Ok(())
}

/// Sets each keyed parent's `sum.parent_column` to the sum over its children, for the
/// parents that have children.
pub fn sum_children(
    conn: &Connection,
    link: Link<'_>,
    sum: &ChildSum,
    parents: &[RowKey],
    cancel: &CancelFlag,
) -> Result<(), DbError> {
    let (clause, _) = key_clause(link.parent);
    let join: Vec<String> = link
        .from
        .iter()
        .zip(link.to)
        .map(|(f, t)| {
            format!(
                "c.{} = main.{}.{}",
                quote(f),
                link.parent.quoted(),
                quote(t)
            )
        })
        .collect();
    let expr = sum
        .terms
        .iter()
        .map(|t| format!("c.{}", quote(t)))
        .collect::<Vec<_>>()
        .join(" * ");
    let sql = format!(
        "UPDATE main.{parent} SET {column} = (SELECT round(sum({expr}), {decimals}) FROM main.{child} AS c WHERE {join}) \
         WHERE {clause} AND EXISTS (SELECT 1 FROM main.{child} AS c WHERE {join})",
        parent = link.parent.quoted(),
        column = quote(&sum.parent_column),
        child = link.child.quoted(),
        decimals = sum.decimals,
        join = join.join(" AND "),
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| fail(link.parent, e))?;
    for key in parents {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        stmt.execute(params_from_iter(key_values(key).iter()))
            .map_err(|e| fail(link.parent, e))?;
    }
    Ok(())
}

fn fail(table: &TableInfo, e: rusqlite::Error) -> DbError {
    DbError::Revise {
        table: table.name.clone(),
        detail: e.to_string(),
    }
}
