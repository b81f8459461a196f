//! Random rows of a Postgres table without reading it whole.
//!
//! Three ways, cheapest first that fits:
//! - a small table (at most [`SMALL`] rows, counted with a bounded probe) is read whole
//!   and `k` rows are chosen from it: exactly uniform;
//! - a table keyed by one integer column gets random keys between its smallest and
//!   largest, fetched through the key's index (`= ANY($1)`), kept when they exist:
//!   exactly uniform, however many gaps, at the cost of index lookups;
//! - anything else draws storage pages with `TABLESAMPLE SYSTEM` and keeps one random
//!   row from each page (`DISTINCT ON` the page), so rows that share a page do not come
//!   in clumps: close to uniform when pages hold similar numbers of rows.
//!
//! None of them sorts or scans the table; `ORDER BY random() LIMIT k` does both, and the
//! benchmark in `benches/postgres` measures the difference.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use rusqlite::types::Value;

use super::Postgres;
use super::catalog::qualified;
use super::values::{as_text, from_text};
use crate::db::DbError;
use crate::db::catalog::{Affinity, TableInfo};
use crate::db::ident::quote;
use crate::db::sample::{Sample, SampleMethod};

/// Tables up to this many rows are read whole: cheaper than any cleverness.
const SMALL: i64 = 2_000;

/// Rounds of key probes before a sparse key range gives way to page sampling.
const PROBE_ROUNDS: usize = 4;

pub fn sample_columns(
    db: &Postgres,
    table: &TableInfo,
    columns: &[String],
    k: usize,
    rng: &mut dyn RngCore,
) -> Result<Sample, DbError> {
    table.require_generatable()?;
    let select = columns
        .iter()
        .map(|c| as_text(c))
        .collect::<Vec<_>>()
        .join(", ");
    let from = qualified(table);
    let convert = |row: &tokio_postgres::Row, offset: usize| -> Vec<Value> {
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| from_text(table.column(c), row.get(i + offset)))
            .collect()
    };
    let done = |mut rows: Vec<Vec<Value>>, method, rng: &mut dyn RngCore| {
        rows.shuffle(rng);
        rows.truncate(k);
        Ok(Sample {
            columns: columns.to_vec(),
            rows,
            method,
        })
    };
    if k == 0 {
        return done(Vec::new(), SampleMethod::AllRows, rng);
    }

    let seen: i64 = db.rows(
        &format!("SELECT count(*) FROM (SELECT 1 FROM {from} LIMIT $1) s"),
        &[&(SMALL + 1)],
    )?[0]
        .get(0);
    if seen <= SMALL {
        let rows = db.rows(&format!("SELECT {select} FROM {from}"), &[])?;
        let method = if seen as usize <= k {
            SampleMethod::AllRows
        } else {
            SampleMethod::Uniform
        };
        let rows = rows.iter().map(|r| convert(r, 0)).collect();
        return done(rows, method, rng);
    }

    let pk = table.primary_key();
    if pk.len() == 1
        && pk[0].affinity == Affinity::Integer
        && pk[0].decl_type != "boolean"
        && let Some(rows) = probe_keys(db, &from, &select, &pk[0].name, k, rng)?
    {
        let rows = rows.iter().map(|r| convert(r, 1)).collect();
        return done(rows, SampleMethod::Uniform, rng);
    }
    let rows = sample_pages(db, table, &from, &select, k, rng)?;
    let rows = rows.iter().map(|r| convert(r, 0)).collect();
    done(rows, SampleMethod::Pages, rng)
}

/// Uniform draws of existing integer keys; `None` when the keys are too sparse for a few
/// rounds to find `k` of them.
fn probe_keys(
    db: &Postgres,
    from: &str,
    select: &str,
    key: &str,
    k: usize,
    rng: &mut dyn RngCore,
) -> Result<Option<Vec<tokio_postgres::Row>>, DbError> {
    let key_q = quote(key);
    let bounds = db.rows(
        &format!("SELECT min({key_q})::int8, max({key_q})::int8 FROM {from}"),
        &[],
    )?;
    let (Some(low), Some(high)) = (
        bounds[0].get::<_, Option<i64>>(0),
        bounds[0].get::<_, Option<i64>>(1),
    ) else {
        return Ok(None);
    };
    let sql = format!("SELECT {key_q}::int8, {select} FROM {from} WHERE {key_q} = ANY($1::int8[])");
    let mut found: Vec<tokio_postgres::Row> = Vec::new();
    let mut have: HashSet<i64> = HashSet::new();
    for _ in 0..PROBE_ROUNDS {
        let want = k - found.len();
        let draws: Vec<i64> = (0..want * 2 + 8)
            .map(|_| rng.random_range(low..=high))
            .filter(|key| !have.contains(key))
            .collect();
        for row in db.rows(&sql, &[&draws])? {
            let key: i64 = row.get(0);
            if have.insert(key) && found.len() < k {
                found.push(row);
            }
        }
        if found.len() >= k {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// One random row from each of about `3k` pages drawn with `TABLESAMPLE SYSTEM`, drawing
/// more pages when the statistics were stale and too few came back.
fn sample_pages(
    db: &Postgres,
    table: &TableInfo,
    from: &str,
    select: &str,
    k: usize,
    rng: &mut dyn RngCore,
) -> Result<Vec<tokio_postgres::Row>, DbError> {
    let pages = table_pages(db, table)?.max(1.0);
    let mut percent = (100.0 * (3 * k) as f64 / pages).clamp(0.0001, 100.0);
    loop {
        let seed: i32 = rng.random();
        let sql = format!(
            "SELECT DISTINCT ON (tableoid, (ctid::text::point)[0]) {select} \
             FROM {from} TABLESAMPLE SYSTEM ($1::float4) REPEATABLE ($2::float8) \
             ORDER BY tableoid, (ctid::text::point)[0], random()"
        );
        // random() above picks the row within each page; seeded so a seed repeats.
        db.rows(
            "SELECT setseed($1)",
            &[&(f64::from(seed) / f64::from(i32::MAX))],
        )?;
        let rows = db.rows(&sql, &[&(percent as f32), &f64::from(seed)])?;
        if rows.len() >= k || percent >= 100.0 {
            return Ok(rows);
        }
        percent = (percent * 4.0).min(100.0);
    }
}

/// The table's pages, partitions included, as the server knows them now.
fn table_pages(db: &Postgres, table: &TableInfo) -> Result<f64, DbError> {
    let rows = db.rows(
        "SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::float8 \
                / current_setting('block_size')::float8 \
         FROM pg_class c \
         WHERE c.oid = $1::text::regclass \
            OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::text::regclass)",
        &[&qualified(table)],
    )?;
    Ok(rows[0].get(0))
}
