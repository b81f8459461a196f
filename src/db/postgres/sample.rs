//! Random rows of a Postgres table without reading it whole.
//!
//! Three ways, cheapest first that fits:
//! - a small table (at most [`SMALL`] rows, counted with a bounded probe) is read whole
//!   and `k` rows are chosen from it: exactly uniform;
//! - a table keyed by one integer column gets random keys between its smallest and
//!   largest, fetched through the key's index (`= ANY($1)`), kept when they exist:
//!   exactly uniform, however many gaps, at the cost of index lookups;
//! - anything else draws storage pages with `TABLESAMPLE SYSTEM`, reading only their row
//!   addresses, keeps one random row from each page, and fetches those rows by address,
//!   so rows that share a page do not come in clumps: close to uniform when pages hold
//!   similar numbers of rows.
//!
//! None of them sorts or scans the table; `ORDER BY random() LIMIT k` does both, and the
//! benchmark in `benches/postgres` measures the difference.

use std::collections::{HashMap, HashSet};

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

    // The statistics say at once when a table is big; when they are missing or say small,
    // a count that stops after SMALL + 1 rows decides.
    let size = table_size(db, table)?;
    let clearly_big = size.rows > (SMALL * 4) as f64;
    let seen: i64 = if clearly_big {
        i64::MAX
    } else {
        db.rows(
            &format!("SELECT count(*) FROM (SELECT 1 FROM {from} LIMIT $1) s"),
            &[&(SMALL + 1)],
        )?[0]
            .get(0)
    };
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
    let rows = sample_pages(db, &from, &select, size.pages, k, rng)?;
    let rows = rows.iter().map(|r| convert(r, 2)).collect();
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
        // Every row found is kept: the server returns them in key order, so keeping
        // only the first k would favour small keys. The caller shuffles and keeps k.
        for row in db.rows(&sql, &[&draws])? {
            let key: i64 = row.get(0);
            if have.insert(key) {
                found.push(row);
            }
        }
        if found.len() >= k {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// One random row from each of `k` pages drawn with `TABLESAMPLE SYSTEM`: the sample
/// reads only the row addresses of about `2k` pages, one address per page is chosen here,
/// and the chosen rows are fetched by address (a TID scan). More pages are drawn when the
/// statistics were stale and too few came back.
fn sample_pages(
    db: &Postgres,
    from: &str,
    select: &str,
    pages: f64,
    k: usize,
    rng: &mut dyn RngCore,
) -> Result<Vec<tokio_postgres::Row>, DbError> {
    let mut percent = (100.0 * (2 * k + 4) as f64 / pages.max(1.0)).clamp(0.0001, 100.0);
    loop {
        let seed: i32 = rng.random();
        let addresses = db.rows(
            &format!(
                "SELECT tableoid::int8, ctid::text FROM {from} \
                 TABLESAMPLE SYSTEM ($1::float4) REPEATABLE ($2::float8)"
            ),
            &[&(percent as f32), &f64::from(seed)],
        )?;
        // Rows of one page, by (relation, page).
        let mut by_page: HashMap<(i64, u64), Vec<String>> = HashMap::new();
        for row in &addresses {
            let relation: i64 = row.get(0);
            let tid: String = row.get(1);
            let page = tid
                .trim_matches(['(', ')'])
                .split(',')
                .next()
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(0);
            by_page.entry((relation, page)).or_default().push(tid);
        }
        if by_page.len() >= k || percent >= 100.0 {
            let mut pages: Vec<_> = by_page.into_iter().collect();
            pages.sort_unstable_by_key(|p| p.0);
            pages.shuffle(rng);
            pages.truncate(k);
            let chosen: Vec<(i64, String)> = pages
                .into_iter()
                .filter_map(|((relation, _), tids)| {
                    let pick = tids.get(rng.random_range(0..tids.len().max(1)))?.clone();
                    Some((relation, pick))
                })
                .collect();
            let tids: Vec<String> = chosen.iter().map(|(_, t)| t.clone()).collect();
            let rows = db.rows(
                &format!(
                    "SELECT tableoid::int8, ctid::text, {select} FROM {from} \
                     WHERE ctid = ANY($1::text[]::tid[])"
                ),
                &[&tids],
            )?;
            // A partitioned table repeats addresses across partitions: keep the pairs drawn.
            return Ok(rows
                .into_iter()
                .filter(|r| {
                    let pair = (r.get::<_, i64>(0), r.get::<_, String>(1));
                    chosen.contains(&pair)
                })
                .collect());
        }
        percent = (percent * 4.0).min(100.0);
    }
}

/// How big a table is: its pages now, and its rows as of the last statistics (-1 when it
/// was never analyzed); partitions included.
struct Size {
    pages: f64,
    rows: f64,
}

fn table_size(db: &Postgres, table: &TableInfo) -> Result<Size, DbError> {
    let rows = db.rows(
        "SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::float8 \
                / current_setting('block_size')::float8, \
                coalesce(sum(c.reltuples) FILTER (WHERE c.relkind <> 'p'), -1)::float8 \
         FROM pg_class c \
         WHERE c.oid = $1::text::regclass \
            OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::text::regclass)",
        &[&qualified(table)],
    )?;
    Ok(Size {
        pages: rows[0].get(0),
        rows: rows[0].get(1),
    })
}
