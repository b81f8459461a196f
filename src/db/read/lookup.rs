//! Small point lookups other layers need: does a row with these values
//! exist, how many rows, the largest number of a sequence column.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::db::catalog::TableInfo;
use crate::db::ident::{quote, quote_list};
use crate::db::{DbError, Sqlite};

/// Whether `table` has a row whose `columns` equal `values` (an index
/// lookup when the columns are indexed, as UNIQUE and key columns are).
pub fn exists(
    db: &Sqlite,
    table: &str,
    columns: &[String],
    values: &[Value],
) -> Result<bool, DbError> {
    let sql = format!(
        "SELECT 1 FROM main.{} WHERE ({}) = ({}) LIMIT 1",
        quote(table),
        quote_list(columns.iter().map(String::as_str)),
        (1..=values.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    db.conn()
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.exists(params_from_iter(values.iter())))
        .map_err(|e| db.err(e))
}

/// The number of rows of a table.
pub fn count(db: &Sqlite, table: &TableInfo) -> Result<u64, DbError> {
    db.conn()
        .query_row(
            &format!("SELECT count(*) FROM main.{}", table.quoted()),
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n.max(0) as u64)
        .map_err(|e| db.err(e))
}

/// The largest number in a column, or after a code prefix (`INV-000123`),
/// read through the column's index rather than a scan; `None` when there is
/// none or it cannot be read.
pub fn sequence_max(
    db: &Sqlite,
    table: &TableInfo,
    column: &str,
    prefix: Option<&str>,
) -> Option<i64> {
    let c = quote(column);
    match prefix {
        None => db
            .conn()
            .query_row(
                &format!("SELECT max({c}) FROM main.{}", table.quoted()),
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ok()
            .flatten(),
        Some(prefix) => {
            // Zero-padded codes sort as their numbers do.
            let mut upper = prefix.to_string();
            upper.push(char::MAX);
            let top: Option<String> = db
                .conn()
                .query_row(
                    &format!(
                        "SELECT max({c}) FROM main.{} WHERE {c} >= ?1 AND {c} < ?2",
                        table.quoted()
                    ),
                    [prefix, upper.as_str()],
                    |r| r.get(0),
                )
                .ok()
                .flatten();
            top.and_then(|t| t.strip_prefix(prefix).and_then(|n| n.parse().ok()))
        }
    }
}

/// Reads `columns` of every row of `table` once, in storage order, handing each row to
/// `each`: for facts that must hold against the whole table, not a sample.
pub fn scan_columns(
    db: &Sqlite,
    table: &TableInfo,
    columns: &[String],
    mut each: impl FnMut(&[Value]),
) -> Result<(), DbError> {
    let sql = format!(
        "SELECT {} FROM main.{}",
        quote_list(columns.iter().map(String::as_str)),
        table.quoted()
    );
    let mut stmt = db.conn().prepare(&sql).map_err(|e| db.err(e))?;
    let mut rows = stmt.query([]).map_err(|e| db.err(e))?;
    let mut values = Vec::with_capacity(columns.len());
    while let Some(row) = rows.next().map_err(|e| db.err(e))? {
        values.clear();
        for i in 0..columns.len() {
            values.push(row.get::<_, Value>(i).map_err(|e| db.err(e))?);
        }
        each(&values);
    }
    Ok(())
}
