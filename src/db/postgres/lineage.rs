//! What a whole-database run reads about parents and children on Postgres, and the
//! second pass that completes the new rows: the same facts as SQLite's `read/lineage.rs`
//! and `revise.rs`, in Postgres SQL, values read as for every Postgres read and bound
//! with their column's type.

use std::collections::HashMap;

use rand::RngCore;
use tokio_postgres::types::ToSql;

use super::Postgres;
use super::bind::BindAs;
use super::catalog::qualified;
use super::values::{as_text, from_text, text_arrays, typed_rows, types_of};
use crate::db::catalog::{Column, TableInfo};
use crate::db::ident::quote;
use crate::db::journal::RowKey;
use crate::db::lineage::{Link, Rows, key_bytes};
use crate::db::revise::{ChildSum, SetValues};
use crate::db::value::{Value, display};
use crate::db::{Backend, CancelFlag, DbError};

/// Parameters of one statement, built as it is written.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// `$n` cast to the column's type, or why the value cannot be one.
    fn typed(&mut self, column: Option<&Column>, value: &Value) -> Result<String, String> {
        let bind = column.map(BindAs::of).unwrap_or(BindAs::Text);
        self.0.push(bind.param(value)?);
        Ok(bind.placeholder(self.0.len()))
    }

    /// `$n::text[]`: a list bound as text, read by the server as `type`.
    fn texts(&mut self, values: Vec<Option<String>>) -> String {
        self.0.push(Box::new(values));
        format!("${}::text[]", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn join(link: &Link<'_>, c: &str, p: &str) -> String {
    link.from
        .iter()
        .zip(link.to)
        .map(|(f, t)| format!("{c}.{} = {p}.{}", quote(f), quote(t)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn list(columns: &[String], alias: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{}", quote(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn texts(columns: &[String], alias: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{}", as_text(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_null(columns: &[String], alias: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{} IS NOT NULL", quote(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn visible(table: &TableInfo) -> Vec<String> {
    table.visible_columns().map(|c| c.name.clone()).collect()
}

/// A row of text read back as the values of `columns` of `table`.
fn values_of(
    table: &TableInfo,
    columns: &[String],
    row: &tokio_postgres::Row,
    from: usize,
) -> Vec<Value> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| from_text(table.column(c), row.get(from + i)))
        .collect()
}

pub fn fan_out(db: &Postgres, link: Link<'_>) -> Result<Vec<(u64, u64)>, DbError> {
    let sql = format!(
        "SELECT coalesce(g.n, 0)::int8 AS n, count(*) FROM {parent} AS p \
         LEFT JOIN (SELECT {keys}, count(*) AS n FROM {child} AS c WHERE {not_null} GROUP BY {keys}) AS g \
         ON {join} GROUP BY 1 ORDER BY 1",
        parent = qualified(link.parent),
        child = qualified(link.child),
        keys = list(link.from, "c"),
        not_null = not_null(link.from, "c"),
        join = join(&link, "g", "p"),
    );
    Ok(db
        .rows(&sql, &[])?
        .iter()
        .map(|r| {
            (
                r.get::<_, i64>(0).max(0) as u64,
                r.get::<_, i64>(1).max(0) as u64,
            )
        })
        .collect())
}

pub fn null_share(db: &Postgres, link: Link<'_>) -> Result<f64, DbError> {
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE NOT ({})) FROM {} AS c",
        not_null(link.from, "c"),
        qualified(link.child)
    );
    let rows = db.rows(&sql, &[])?;
    let (all, null): (i64, i64) = (rows[0].get(0), rows[0].get(1));
    Ok(if all > 0 {
        null as f64 / all as f64
    } else {
        0.0
    })
}

pub fn parents_with_counts(
    db: &Postgres,
    link: Link<'_>,
    cap: usize,
    rng: &mut dyn RngCore,
) -> Result<(Rows, Vec<u64>), DbError> {
    let sample = db.sample_rows(link.parent, cap, rng)?;
    let rows = Rows {
        columns: sample.columns,
        rows: sample.rows,
    };
    let sql = format!(
        "SELECT {keys}, count(*) FROM {child} AS c WHERE {not_null} GROUP BY {group}",
        keys = texts(link.from, "c"),
        child = qualified(link.child),
        not_null = not_null(link.from, "c"),
        group = list(link.from, "c"),
    );
    let width = link.from.len();
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for row in db.rows(&sql, &[])? {
        // The child's key read as the parent's columns it points at, so both sides
        // compare as the same values.
        let key: Vec<Value> = link
            .to
            .iter()
            .enumerate()
            .map(|(i, t)| from_text(link.parent.column(t), row.get(i)))
            .collect();
        counts.insert(key_bytes(&key), row.get::<_, i64>(width).max(0) as u64);
    }
    let positions: Vec<Option<usize>> = link.to.iter().map(|t| rows.position(t)).collect();
    let weights = rows
        .rows
        .iter()
        .map(|r| {
            let key: Option<Vec<Value>> = positions
                .iter()
                .map(|p| p.and_then(|p| r.get(p).cloned()))
                .collect();
            key.and_then(|k| counts.get(&key_bytes(&k)).copied())
                .unwrap_or(0)
        })
        .collect();
    Ok((rows, weights))
}

pub fn rows_by_key(db: &Postgres, table: &TableInfo, keys: &[RowKey]) -> Result<Rows, DbError> {
    let columns = visible(table);
    let pk: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
    if pk.is_empty() {
        return Err(DbError::NoPrimaryKey {
            table: table.name.clone(),
        });
    }
    let mut found: HashMap<Vec<u8>, Vec<Value>> = HashMap::new();
    for chunk in keys.chunks(5_000) {
        let mut params = Params::default();
        let values: Vec<&[Value]> = chunk
            .iter()
            .map(|k| match k {
                RowKey::Primary(v) => v.as_slice(),
                RowKey::Rowid(_) => &[],
            })
            .collect();
        for array in text_arrays(&values, pk.len()) {
            params.texts(array);
        }
        let sql = format!(
            "SELECT {}, {} FROM {} AS r WHERE ({}) IN ({})",
            texts(&pk, "r"),
            texts(&columns, "r"),
            qualified(table),
            list(&pk, "r"),
            typed_rows(&types_of(table, &pk), 1)
        );
        for row in db.rows(&sql, &params.refs())? {
            let key = values_of(table, &pk, &row, 0);
            found.insert(key_bytes(&key), values_of(table, &columns, &row, pk.len()));
        }
    }
    let rows = keys
        .iter()
        .filter_map(|k| match k {
            RowKey::Primary(v) => found.get(&key_bytes(v)).cloned(),
            RowKey::Rowid(_) => None,
        })
        .collect();
    Ok(Rows { columns, rows })
}

/// The first row of `table` whose `columns` equal `key`, every visible column of it.
fn row_where(
    db: &Postgres,
    table: &TableInfo,
    columns: &[String],
    key: &[Value],
) -> Result<Option<Vec<Value>>, DbError> {
    let visible = visible(table);
    let mut params = Params::default();
    let mut bound = Vec::with_capacity(key.len());
    for (column, value) in columns.iter().zip(key) {
        match params.typed(table.column(column), value) {
            Ok(placeholder) => bound.push(placeholder),
            // A value the column cannot hold matches no row.
            Err(_) => return Ok(None),
        }
    }
    let sql = format!(
        "SELECT {} FROM {} AS p WHERE ({}) = ({}) LIMIT 1",
        texts(&visible, "p"),
        qualified(table),
        list(columns, "p"),
        bound.join(", ")
    );
    Ok(db
        .rows(&sql, &params.refs())?
        .first()
        .map(|r| values_of(table, &visible, r, 0)))
}

pub fn children_with_parents(
    db: &Postgres,
    link: Link<'_>,
    k: usize,
    rng: &mut dyn RngCore,
) -> Result<(Rows, Rows, Vec<Option<usize>>), DbError> {
    let sample = db.sample_rows(link.child, k, rng)?;
    let children = Rows {
        columns: sample.columns,
        rows: sample.rows,
    };
    let mut parents = Rows {
        columns: visible(link.parent),
        rows: Vec::new(),
    };
    let positions: Vec<Option<usize>> = link.from.iter().map(|f| children.position(f)).collect();
    let mut cache: HashMap<Vec<u8>, Option<usize>> = HashMap::new();
    let mut of_child = Vec::with_capacity(children.rows.len());
    for row in &children.rows {
        let key: Option<Vec<Value>> = positions
            .iter()
            .map(|p| p.and_then(|p| row.get(p).cloned()))
            .collect();
        let Some(key) = key.filter(|k| !k.iter().any(|v| matches!(v, Value::Null))) else {
            of_child.push(None);
            continue;
        };
        let bytes = key_bytes(&key);
        if let Some(found) = cache.get(&bytes) {
            of_child.push(*found);
            continue;
        }
        let found = row_where(db, link.parent, link.to, &key)?.map(|values| {
            parents.rows.push(values);
            parents.rows.len() - 1
        });
        cache.insert(bytes, found);
        of_child.push(found);
    }
    Ok((children, parents, of_child))
}

pub fn families(
    db: &Postgres,
    link: Link<'_>,
    k: usize,
) -> Result<(Rows, Rows, Vec<Vec<usize>>), DbError> {
    let parent_columns = visible(link.parent);
    let child_columns = visible(link.child);
    let keys: Vec<Vec<Value>> = db
        .rows(
            &format!(
                "SELECT DISTINCT {} FROM {} AS c WHERE {} LIMIT {k}",
                texts(link.from, "c"),
                qualified(link.child),
                not_null(link.from, "c")
            ),
            &[],
        )?
        .iter()
        .map(|r| values_of(link.child, link.from, r, 0))
        .collect();
    let mut parents = Rows {
        columns: parent_columns,
        rows: Vec::with_capacity(keys.len()),
    };
    let mut index: HashMap<Vec<u8>, usize> = HashMap::with_capacity(keys.len());
    for key in &keys {
        if let Some(row) = row_where(db, link.parent, link.to, key)? {
            index.insert(key_bytes(key), parents.rows.len());
            parents.rows.push(row);
        }
    }
    let mut children = Rows {
        columns: child_columns.clone(),
        rows: Vec::new(),
    };
    let mut of_parent = vec![Vec::new(); parents.rows.len()];
    if keys.is_empty() {
        return Ok((parents, children, of_parent));
    }
    // Every child of those keys, in one statement: the keys as text arrays read as the
    // child's own key types.
    let mut params = Params::default();
    let rows: Vec<&[Value]> = keys.iter().map(Vec::as_slice).collect();
    for array in text_arrays(&rows, link.from.len()) {
        params.texts(array);
    }
    let sql = format!(
        "SELECT {} FROM {} AS c WHERE ({}) IN ({})",
        texts(&child_columns, "c"),
        qualified(link.child),
        list(link.from, "c"),
        typed_rows(&types_of(link.child, link.from), 1)
    );
    let key_positions: Vec<Option<usize>> =
        link.from.iter().map(|f| children.position(f)).collect();
    for row in db.rows(&sql, &params.refs())? {
        let values = values_of(link.child, &child_columns, &row, 0);
        let key: Option<Vec<Value>> = key_positions
            .iter()
            .map(|p| p.and_then(|p| values.get(p).cloned()))
            .collect();
        if let Some(&p) = key.as_ref().and_then(|k| index.get(&key_bytes(k))) {
            children.rows.push(values);
            of_parent[p].push(children.rows.len() - 1);
        }
    }
    Ok((parents, children, of_parent))
}

/// `(key columns) = ($n::text::type, …)` for one row's primary key.
fn key_match(table: &TableInfo, key: &RowKey, params: &mut Params, alias: &str) -> String {
    let values: &[Value] = match key {
        RowKey::Primary(v) => v,
        RowKey::Rowid(_) => &[],
    };
    let pk = table.primary_key();
    let bound: Vec<String> = pk
        .iter()
        .zip(values)
        .map(|(c, v)| {
            let p = params.texts(vec![Some(display(v))]);
            // One-element array: its first element, read as the key's type.
            format!("({p})[1]::{}", c.decl_type)
        })
        .collect();
    let names: Vec<String> = pk
        .iter()
        .map(|c| format!("{alias}.{}", quote(&c.name)))
        .collect();
    format!("({}) = ({})", names.join(", "), bound.join(", "))
}

fn revise_error(table: &TableInfo, e: DbError) -> DbError {
    match e {
        DbError::Cancelled => DbError::Cancelled,
        other => DbError::Revise {
            table: table.name.clone(),
            detail: other.to_string().trim_end_matches('.').to_string(),
        },
    }
}

pub fn set_values(
    db: &Postgres,
    table: &TableInfo,
    columns: &[String],
    changes: &[SetValues],
    cancel: &CancelFlag,
) -> Result<(), DbError> {
    for change in changes {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let mut params = Params::default();
        let mut sets = Vec::with_capacity(columns.len());
        for (column, value) in columns.iter().zip(&change.values) {
            let placeholder =
                params
                    .typed(table.column(column), value)
                    .map_err(|why| DbError::Revise {
                        table: table.name.clone(),
                        detail: format!("column '{column}': {why}"),
                    })?;
            sets.push(format!("{} = {placeholder}", quote(column)));
        }
        let condition = key_match(table, &change.key, &mut params, "t");
        let sql = format!(
            "UPDATE {} AS t SET {} WHERE {condition}",
            qualified(table),
            sets.join(", ")
        );
        db.rows(&sql, &params.refs())
            .map_err(|e| revise_error(table, e))?;
    }
    Ok(())
}

pub fn sum_children(
    db: &Postgres,
    link: Link<'_>,
    sum: &ChildSum,
    parents: &[RowKey],
    cancel: &CancelFlag,
) -> Result<(), DbError> {
    let expr = sum
        .terms
        .iter()
        .map(|t| format!("c.{}::numeric", quote(t)))
        .collect::<Vec<_>>()
        .join(" * ");
    let joined = join(&link, "c", "t");
    for key in parents {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let mut params = Params::default();
        let condition = key_match(link.parent, key, &mut params, "t");
        let sql = format!(
            "UPDATE {parent} AS t SET {column} = \
               (SELECT round(sum({expr}), {decimals}) FROM {child} AS c WHERE {joined}) \
             WHERE {condition} AND EXISTS (SELECT 1 FROM {child} AS c WHERE {joined})",
            parent = qualified(link.parent),
            column = quote(&sum.parent_column),
            child = qualified(link.child),
            decimals = sum.decimals,
        );
        db.rows(&sql, &params.refs())
            .map_err(|e| revise_error(link.parent, e))?;
    }
    Ok(())
}
