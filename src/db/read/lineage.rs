//! What a whole-database run reads about parents and children: how many children each
//! parent has, parent rows with how often they are referenced, rows read back by key,
//! and children next to their parents (to learn what children copy from them).

use std::collections::HashMap;
use std::rc::Rc;

use rand::Rng;
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::journal::RowKey;
use crate::db::sample::sample_rows;
use crate::db::value::{encode_row, value_at};
use crate::db::{DbError, Sqlite};

/// One foreign key seen from both ends.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub child: &'a TableInfo,
    /// The child's key columns.
    pub from: &'a [String],
    pub parent: &'a TableInfo,
    /// The parent's columns they point at.
    pub to: &'a [String],
}

impl Link<'_> {
    /// `c."a" = p."x" AND ...`
    fn join(&self, c: &str, p: &str) -> String {
        self.from
            .iter()
            .zip(self.to)
            .map(|(f, t)| format!("{c}.{} = {p}.{}", quote(f), quote(t)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn child_key_list(&self, alias: &str) -> String {
        self.from
            .iter()
            .map(|f| format!("{alias}.{}", quote(f)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn not_null(&self, alias: &str) -> String {
        self.from
            .iter()
            .map(|f| format!("{alias}.{} IS NOT NULL", quote(f)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// How many parents have how many children: `(children, parents)` pairs, parents with
/// no child included, fewest children first.
pub fn fan_out(db: &Sqlite, link: Link<'_>) -> Result<Vec<(u64, u64)>, DbError> {
    let sql = format!(
        "SELECT coalesce(g.n, 0) AS n, count(*) FROM main.{parent} AS p \
         LEFT JOIN (SELECT {keys}, count(*) AS n FROM main.{child} AS c WHERE {not_null} GROUP BY {keys}) AS g \
         ON {join} GROUP BY 1 ORDER BY 1",
        parent = link.parent.quoted(),
        child = link.child.quoted(),
        keys = link.child_key_list("c"),
        not_null = link.not_null("c"),
        join = link.join("g", "p"),
    );
    let mut stmt = db.conn().prepare(&sql).map_err(|e| db.err(e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| db.err(e))?;
    Ok(rows
        .into_iter()
        .map(|(n, p)| (n.max(0) as u64, p.max(0) as u64))
        .collect())
}

/// The share of the child's rows whose key is NULL (they belong to no parent).
pub fn null_share(db: &Sqlite, link: Link<'_>) -> Result<f64, DbError> {
    let sql = format!(
        "SELECT count(*), coalesce(sum(NOT ({})), 0) FROM main.{} AS c",
        link.not_null("c"),
        link.child.quoted()
    );
    let (all, null): (i64, i64) = db
        .conn()
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| db.err(e))?;
    Ok(if all > 0 {
        null as f64 / all as f64
    } else {
        0.0
    })
}

/// Rows of a table (every visible column, in table order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column).or_else(|| {
            self.columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(column))
        })
    }
}

/// Existing parent rows (all of them, or `cap` drawn at random from a bigger table), each
/// with how many children point at it through `link`.
pub fn parents_with_counts<R: Rng + ?Sized>(
    db: &Sqlite,
    link: Link<'_>,
    cap: usize,
    rng: &mut R,
) -> Result<(Rows, Vec<u64>), DbError> {
    let sample = sample_rows(db, link.parent, cap, rng)?;
    let rows = Rows {
        columns: sample.columns,
        rows: sample.rows,
    };
    let sql = format!(
        "SELECT {keys}, count(*) FROM main.{child} AS c WHERE {not_null} GROUP BY {keys}",
        keys = link.child_key_list("c"),
        child = link.child.quoted(),
        not_null = link.not_null("c"),
    );
    let width = link.from.len();
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut stmt = db.conn().prepare(&sql).map_err(|e| db.err(e))?;
    let mut found = stmt.query([]).map_err(|e| db.err(e))?;
    while let Some(row) = found.next().map_err(|e| db.err(e))? {
        let key: Vec<Value> = (0..width)
            .map(|i| value_at(row, i))
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| db.err(e))?;
        let n: i64 = row.get(width).map_err(|e| db.err(e))?;
        counts.insert(key_bytes(&key), n.max(0) as u64);
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

/// A key's values as bytes that compare equal when SQLite would find the same row
/// (an integer-valued real is the integer).
pub fn key_bytes(values: &[Value]) -> Vec<u8> {
    let normal: Vec<Value> = values
        .iter()
        .map(|v| match v {
            Value::Real(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Integer(*f as i64),
            other => other.clone(),
        })
        .collect();
    encode_row(&normal)
}

/// The rows with these keys, in the keys' order (a key no longer there is left out).
pub fn rows_by_key(db: &Sqlite, table: &TableInfo, keys: &[RowKey]) -> Result<Rows, DbError> {
    let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
    let found = crate::db::write::read_keyed(db.conn(), table, &columns, keys.iter(), |v| v)
        .map_err(|e| db.err(e))?;
    Ok(Rows {
        columns,
        rows: found.into_iter().filter_map(|(_, row)| row).collect(),
    })
}

/// Up to `k` random child rows, each with its parent row (`None` when the key is NULL
/// or points at nothing).
pub fn children_with_parents<R: Rng + ?Sized>(
    db: &Sqlite,
    link: Link<'_>,
    k: usize,
    rng: &mut R,
) -> Result<(Rows, Rows, Vec<Option<usize>>), DbError> {
    let sample = sample_rows(db, link.child, k, rng)?;
    let children = Rows {
        columns: sample.columns,
        rows: sample.rows,
    };
    let parent_columns: Vec<String> = link
        .parent
        .visible_columns()
        .map(|c| c.name.clone())
        .collect();
    let select = parent_columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {select} FROM main.{} WHERE ({}) = ({}) LIMIT 1",
        link.parent.quoted(),
        link.to
            .iter()
            .map(|t| quote(t))
            .collect::<Vec<_>>()
            .join(", "),
        (1..=link.to.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = db.conn().prepare(&sql).map_err(|e| db.err(e))?;
    let positions: Vec<Option<usize>> = link.from.iter().map(|f| children.position(f)).collect();
    let mut parents = Rows {
        columns: parent_columns.clone(),
        rows: Vec::new(),
    };
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
        let mut rows = stmt
            .query(params_from_iter(key.iter()))
            .map_err(|e| db.err(e))?;
        let found = match rows.next().map_err(|e| db.err(e))? {
            Some(r) => {
                let values: Vec<Value> = (0..parent_columns.len())
                    .map(|i| value_at(r, i))
                    .collect::<rusqlite::Result<_>>()
                    .map_err(|e| db.err(e))?;
                parents.rows.push(values);
                Some(parents.rows.len() - 1)
            }
            None => None,
        };
        cache.insert(bytes, found);
        of_child.push(found);
    }
    Ok((children, parents, of_child))
}

/// Up to `k` parents that have children, each with its children's rows (every visible
/// column of both). Two passes over the child at most, whether or not its key is indexed:
/// the first `k` distinct keys it uses, then (for a one-column key) every child of those.
pub fn families(
    db: &Sqlite,
    link: Link<'_>,
    k: usize,
) -> Result<(Rows, Rows, Vec<Vec<usize>>), DbError> {
    let err = |e| db.err(e);
    let read_rows = |sql: &str, params: &[&dyn rusqlite::ToSql], width: usize| {
        let mut stmt = db.conn().prepare_cached(sql).map_err(err)?;
        let mut rows = stmt.query(params).map_err(err)?;
        let mut out: Vec<Vec<Value>> = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            out.push(
                (0..width)
                    .map(|i| value_at(r, i))
                    .collect::<rusqlite::Result<_>>()
                    .map_err(err)?,
            );
        }
        Ok::<_, DbError>(out)
    };
    let visible =
        |t: &TableInfo| -> Vec<String> { t.visible_columns().map(|c| c.name.clone()).collect() };
    let list = |cols: &[String], alias: &str| {
        cols.iter()
            .map(|c| format!("{alias}.{}", quote(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parent_columns = visible(link.parent);
    let child_columns = visible(link.child);
    let width = link.from.len();
    let placeholders = (1..=width)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let keys = read_rows(
        &format!(
            "SELECT DISTINCT {} FROM main.{} AS c WHERE {} LIMIT {k}",
            link.child_key_list("c"),
            link.child.quoted(),
            link.not_null("c")
        ),
        &[],
        width,
    )?;
    let parent_sql = format!(
        "SELECT {} FROM main.{} AS p WHERE ({}) = ({placeholders}) LIMIT 1",
        list(&parent_columns, "p"),
        link.parent.quoted(),
        list(link.to, "p"),
    );
    let mut parents = Rows {
        columns: parent_columns.clone(),
        rows: Vec::with_capacity(keys.len()),
    };
    let mut index: HashMap<Vec<u8>, usize> = HashMap::with_capacity(keys.len());
    for key in &keys {
        let params: Vec<&dyn rusqlite::ToSql> =
            key.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
        if let Some(row) = read_rows(&parent_sql, &params, parent_columns.len())?.pop() {
            index.insert(key_bytes(key), parents.rows.len());
            parents.rows.push(row);
        }
    }
    let mut children = Rows {
        columns: child_columns.clone(),
        rows: Vec::new(),
    };
    let mut of_parent = vec![Vec::new(); parents.rows.len()];
    let key_positions: Vec<Option<usize>> =
        link.from.iter().map(|f| children.position(f)).collect();
    let found: Vec<Vec<Value>> = if width == 1 {
        let ids: Vec<Value> = keys.iter().map(|k| k[0].clone()).collect();
        let sql = format!(
            "SELECT {} FROM main.{} AS c WHERE c.{} IN rarray(?1)",
            list(&child_columns, "c"),
            link.child.quoted(),
            quote(&link.from[0])
        );
        let ids = Rc::new(ids);
        read_rows(&sql, &[&ids], child_columns.len())?
    } else {
        let sql = format!(
            "SELECT {} FROM main.{} AS c WHERE ({}) = ({placeholders})",
            list(&child_columns, "c"),
            link.child.quoted(),
            link.child_key_list("c"),
        );
        let mut all = Vec::new();
        for key in &keys {
            let params: Vec<&dyn rusqlite::ToSql> =
                key.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
            all.extend(read_rows(&sql, &params, child_columns.len())?);
        }
        all
    };
    for row in found {
        let key: Option<Vec<Value>> = key_positions
            .iter()
            .map(|p| p.and_then(|p| row.get(p).cloned()))
            .collect();
        if let Some(&p) = key.as_ref().and_then(|k| index.get(&key_bytes(k))) {
            children.rows.push(row);
            of_parent[p].push(children.rows.len() - 1);
        }
    }
    Ok((parents, children, of_parent))
}
