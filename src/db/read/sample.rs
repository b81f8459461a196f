//! Random rows without scanning or sorting the table.
//!
//! Rowid tables (and WITHOUT ROWID tables keyed by one integer) are sampled by
//! drawing random keys between the smallest and largest key and keeping the
//! ones that exist. Every existing row is equally likely however many gaps
//! deleted rows left, and each draw is an index lookup, so the cost grows with
//! the sample, not the table. Other keys (text, composite) are sampled by
//! seeking to a random point of the key's range, which is close to uniform
//! when keys are spread evenly; the result says which method ran.

use std::collections::HashSet;
use std::rc::Rc;

use rand::Rng;
use rand::seq::SliceRandom;
use rusqlite::OptionalExtension;
use rusqlite::types::Value;
use serde::Serialize;

use crate::db::catalog::{Affinity, TableInfo};
use crate::db::ident::{quote, quote_list};
use crate::db::{DbError, Sqlite};

/// How a sample was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleMethod {
    /// The table had no more rows than asked for: all of them.
    AllRows,
    /// Uniform draws of existing integer keys.
    Uniform,
    /// Seeks to random points of the key range; close to uniform.
    KeySeek,
    /// Storage pages drawn at random (Postgres `TABLESAMPLE SYSTEM`), one row from each;
    /// close to uniform when pages hold about as many rows each.
    Pages,
}

/// Rows chosen at random, in random order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub columns: Vec<String>,
    #[serde(serialize_with = "serialize_rows")]
    pub rows: Vec<Vec<Value>>,
    pub method: SampleMethod,
}

fn serialize_rows<S: serde::Serializer>(rows: &[Vec<Value>], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(rows.len()))?;
    for row in rows {
        let json: Vec<serde_json::Value> = row.iter().map(crate::db::value::to_json).collect();
        seq.serialize_element(&json)?;
    }
    seq.end()
}

/// Draws up to `k` distinct rows of `table` at random (all rows when the table
/// has `k` or fewer).
pub fn sample_rows<R: Rng + ?Sized>(
    db: &Sqlite,
    table: &TableInfo,
    k: usize,
    rng: &mut R,
) -> Result<Sample, DbError> {
    table.require_generatable()?;
    let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
    let sampler = Sampler::new(db, table, &columns);
    let (mut rows, method) = sampler.run(k, rng).map_err(|e| db.err(e))?;
    rows.shuffle(rng);
    Ok(Sample {
        columns,
        rows,
        method,
    })
}

/// Draws up to `k` rows like [`sample_rows`] but reads only `columns`, which
/// may name the rowid (for foreign keys that point at it).
pub fn sample_columns<R: Rng + ?Sized>(
    db: &Sqlite,
    table: &TableInfo,
    columns: &[String],
    k: usize,
    rng: &mut R,
) -> Result<Sample, DbError> {
    table.require_generatable()?;
    let sampler = Sampler::new(db, table, columns);
    let (mut rows, method) = sampler.run(k, rng).map_err(|e| db.err(e))?;
    rows.shuffle(rng);
    Ok(Sample {
        columns: columns.to_vec(),
        rows,
        method,
    })
}

/// How rows are addressed by key.
enum Key {
    /// One integer: the rowid (under whichever alias is not shadowed by a
    /// column) or an integer primary key of a WITHOUT ROWID table.
    Integer(String),
    /// The leading column of a primary key, and the whole key for ordering.
    Seek { lead: String, order: String },
}

struct Sampler<'a> {
    db: &'a Sqlite,
    from: String,
    select: String,
    key: Key,
}

impl<'a> Sampler<'a> {
    fn new(db: &'a Sqlite, table: &TableInfo, columns: &[String]) -> Self {
        let key = if table.has_rowid() {
            match rowid_name(table) {
                Some(name) => Key::Integer(name.to_string()),
                None => seek_key(table),
            }
        } else {
            let pk = table.primary_key();
            if pk.len() == 1 && pk[0].affinity == Affinity::Integer {
                Key::Integer(quote(&pk[0].name))
            } else {
                seek_key(table)
            }
        };
        Self {
            db,
            from: format!("main.{}", table.quoted()),
            select: quote_list(columns.iter().map(String::as_str)),
            key,
        }
    }

    fn run<R: Rng + ?Sized>(
        &self,
        k: usize,
        rng: &mut R,
    ) -> rusqlite::Result<(Vec<Vec<Value>>, SampleMethod)> {
        if k == 0 {
            return Ok((Vec::new(), SampleMethod::AllRows));
        }
        // Counting at most k+1 rows tells whether the table is small, and
        // touches no more than that.
        let small: i64 = self.db.conn().query_row(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT ?1)",
                self.from
            ),
            [k as i64 + 1],
            |r| r.get(0),
        )?;
        if small as usize <= k {
            let all = self.query_rows(&format!("SELECT {} FROM {}", self.select, self.from), [])?;
            return Ok((all, SampleMethod::AllRows));
        }
        match &self.key {
            Key::Integer(expr) => {
                let bounds: (Value, Value) =
                    self.db
                        .conn()
                        .query_row(&bounds_sql(expr, &self.from), [], |r| {
                            Ok((
                                crate::db::value::value_at(r, 0)?,
                                crate::db::value::value_at(r, 1)?,
                            ))
                        })?;
                match bounds {
                    (Value::Integer(lo), Value::Integer(hi)) => {
                        self.integer_draws(expr, lo, hi, k, rng)
                    }
                    // Non-integers in an integer column (allowed outside STRICT):
                    // fall back to seeking.
                    _ => self.seek_draws(expr, expr, k, rng),
                }
            }
            Key::Seek { lead, order } => self.seek_draws(lead, order, k, rng),
        }
    }

    /// Rejection sampling: random keys in [lo, hi], kept when a row has that
    /// key. Probes go out in batches through `rarray`, sized from the hit
    /// rate seen so far.
    fn integer_draws<R: Rng + ?Sized>(
        &self,
        expr: &str,
        lo: i64,
        hi: i64,
        k: usize,
        rng: &mut R,
    ) -> rusqlite::Result<(Vec<Vec<Value>>, SampleMethod)> {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        let sql = format!(
            "SELECT {} FROM {} WHERE {expr} IN rarray(?1)",
            self.select, self.from
        );
        let mut stmt = self.db.conn().prepare_cached(&sql)?;
        let mut tried: HashSet<i64> = HashSet::new();
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(k);
        let (mut probes, mut hits) = (0usize, 0usize);
        // Past this many probes the keys are too sparse for rejection
        // sampling to pay; seeking fills the rest.
        let budget = 64 * k + 1024;
        while rows.len() < k && probes < budget && (tried.len() as u128) < span {
            let want = k - rows.len();
            let hit_rate = (hits as f64 + 1.0) / (probes as f64 + 1.0);
            let batch = ((want as f64 / hit_rate) * 1.2)
                .ceil()
                .clamp(16.0, 20_000.0) as usize;
            let mut keys = Vec::with_capacity(batch);
            while keys.len() < batch && (tried.len() as u128) < span {
                let key = rng.random_range(lo..=hi);
                if tried.insert(key) {
                    keys.push(Value::Integer(key));
                }
            }
            probes += keys.len();
            let mut found = collect_rows(stmt.query([Rc::new(keys)])?)?;
            hits += found.len();
            // Found rows are a uniform subset; a random part of it stays uniform.
            found.shuffle(rng);
            found.truncate(want);
            rows.extend(found);
        }
        if rows.len() == k {
            return Ok((rows, SampleMethod::Uniform));
        }
        drop(stmt);
        // Too sparse: top up by seeking, skipping rows already chosen.
        let (more, _) = self.seek_draws(expr, expr, k, rng)?;
        let mut have: HashSet<Vec<u8>> = rows
            .iter()
            .map(|r| crate::db::value::encode_row(r))
            .collect();
        for row in more {
            if rows.len() == k {
                break;
            }
            if have.insert(crate::db::value::encode_row(&row)) {
                rows.push(row);
            }
        }
        Ok((rows, SampleMethod::KeySeek))
    }

    /// Seeks to random points of the leading key column's range. For a
    /// composite key, one of the rows sharing the found leading value is
    /// chosen uniformly.
    fn seek_draws<R: Rng + ?Sized>(
        &self,
        lead: &str,
        order: &str,
        k: usize,
        rng: &mut R,
    ) -> rusqlite::Result<(Vec<Vec<Value>>, SampleMethod)> {
        let conn = self.db.conn();
        let (lo, hi): (Value, Value) = conn.query_row(&bounds_sql(lead, &self.from), [], |r| {
            Ok((
                crate::db::value::value_at(r, 0)?,
                crate::db::value::value_at(r, 1)?,
            ))
        })?;
        let mut seek = conn.prepare_cached(&format!(
            "SELECT {lead} FROM {} WHERE {lead} >= ?1 ORDER BY {lead} LIMIT 1",
            self.from
        ))?;
        let mut group_size = conn.prepare_cached(&format!(
            "SELECT count(*) FROM {} WHERE {lead} = ?1",
            self.from
        ))?;
        let mut pick = conn.prepare_cached(&format!(
            "SELECT {} FROM {} WHERE {lead} = ?1 ORDER BY {order} LIMIT 1 OFFSET ?2",
            self.select, self.from
        ))?;
        let mut next = conn.prepare_cached(&format!(
            "SELECT {lead} FROM {} WHERE {lead} > ?1 ORDER BY {lead} LIMIT 1",
            self.from
        ))?;
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut rows = Vec::with_capacity(k);
        for _ in 0..(8 * k + 64) {
            if rows.len() == k {
                break;
            }
            let probe = between(&lo, &hi, rng);
            let Some(mut lead_value) = seek
                .query_row([&probe], |r| crate::db::value::value_at(r, 0))
                .optional()?
            else {
                continue;
            };
            // When the row found was drawn before, walk on to the next key
            // (wrapping around) so sparse key ranges still yield new rows.
            for _ in 0..32 {
                let n: i64 = group_size.query_row([&lead_value], |r| r.get(0))?;
                if n > 0 {
                    let offset = rng.random_range(0..n);
                    let found = collect_rows(pick.query(rusqlite::params![lead_value, offset])?)?;
                    if let Some(row) = found.into_iter().next()
                        && seen.insert(crate::db::value::encode_row(&row))
                    {
                        rows.push(row);
                        break;
                    }
                }
                lead_value = next
                    .query_row([&lead_value], |r| crate::db::value::value_at(r, 0))
                    .optional()?
                    .unwrap_or_else(|| lo.clone());
            }
        }
        Ok((rows, SampleMethod::KeySeek))
    }

    fn query_rows<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> rusqlite::Result<Vec<Vec<Value>>> {
        let mut stmt = self.db.conn().prepare_cached(sql)?;
        collect_rows(stmt.query(params)?)
    }
}

/// The smallest and largest key. Two subqueries, because SQLite answers a
/// lone min() or max() from the index but scans the whole table for both in
/// one SELECT.
fn bounds_sql(key: &str, from: &str) -> String {
    format!("SELECT (SELECT min({key}) FROM {from}), (SELECT max({key}) FROM {from})")
}

fn seek_key(table: &TableInfo) -> Key {
    let pk = table.primary_key();
    let lead = pk
        .first()
        .map(|c| quote(&c.name))
        .or_else(|| table.visible_columns().next().map(|c| quote(&c.name)))
        .unwrap_or_else(|| "1".into());
    let order = if pk.is_empty() {
        lead.clone()
    } else {
        quote_list(pk.iter().map(|c| c.name.as_str()))
    };
    Key::Seek { lead, order }
}

/// The first of SQLite's three names for the rowid that no column shadows.
pub fn rowid_name(table: &TableInfo) -> Option<&'static str> {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| table.column(alias).is_none())
}

fn collect_rows(mut rows: rusqlite::Rows<'_>) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let n = row.as_ref().column_count();
        out.push(
            (0..n)
                .map(|i| crate::db::value::value_at(row, i))
                .collect::<rusqlite::Result<_>>()?,
        );
    }
    Ok(out)
}

/// A random value between `lo` and `hi` in SQLite's ordering, for seeking.
fn between<R: Rng + ?Sized>(lo: &Value, hi: &Value, rng: &mut R) -> Value {
    match (lo, hi) {
        (Value::Integer(a), Value::Integer(b)) if a <= b => {
            Value::Integer(rng.random_range(*a..=*b))
        }
        (Value::Integer(_) | Value::Real(_), Value::Integer(_) | Value::Real(_)) => {
            let (a, b) = (as_f64(lo), as_f64(hi));
            // Infinite bounds, or a span too wide for f64, have no uniform draw.
            if a < b && a.is_finite() && b.is_finite() && (b - a).is_finite() {
                Value::Real(rng.random_range(a..=b))
            } else {
                lo.clone()
            }
        }
        (Value::Text(a), Value::Text(b)) => Value::Text(between_text(a, b, rng)),
        (Value::Blob(a), Value::Blob(b)) => Value::Blob(between_bytes(a, b, rng)),
        _ => lo.clone(),
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Real(f) => *f,
        _ => 0.0,
    }
}

/// A random text between `lo` and `hi` that looks like the keys: after the
/// shared prefix, one character between theirs, then characters of the same
/// class (digit, lower, upper) as the keys have at each position.
fn between_text<R: Rng + ?Sized>(lo: &str, hi: &str, rng: &mut R) -> String {
    let lo: Vec<char> = lo.chars().collect();
    let hi: Vec<char> = hi.chars().collect();
    let common = lo.iter().zip(&hi).take_while(|(a, b)| a == b).count();
    let mut out: String = lo[..common].iter().collect();
    let (Some(&b), a) = (hi.get(common), lo.get(common).copied().unwrap_or('\0')) else {
        return out;
    };
    // Under a collation such as NOCASE, min and max need not be in code
    // point order; the probe only has to land somewhere near the range.
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let first = rng.random_range(a as u32..=b as u32);
    out.push(char::from_u32(first).unwrap_or(a));
    let len = lo.len().max(hi.len());
    for i in common + 1..len {
        let model = hi.get(i).or_else(|| lo.get(i)).copied().unwrap_or('0');
        out.push(match model {
            '0'..='9' => rng.random_range('0'..='9'),
            'a'..='z' => rng.random_range('a'..='z'),
            'A'..='Z' => rng.random_range('A'..='Z'),
            other => other,
        });
    }
    out
}

/// Interpolates between two byte strings: the shared prefix, then a random
/// number between the next eight bytes of each.
fn between_bytes<R: Rng + ?Sized>(lo: &[u8], hi: &[u8], rng: &mut R) -> Vec<u8> {
    let common = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
    let window = |s: &[u8]| -> u64 {
        let mut buf = [0u8; 8];
        for (i, b) in s.iter().skip(common).take(8).enumerate() {
            buf[i] = *b;
        }
        u64::from_be_bytes(buf)
    };
    let (a, b) = (window(lo), window(hi));
    if b <= a {
        return lo.to_vec();
    }
    let x = rng.random_range(a..=b);
    let mut out = lo[..common].to_vec();
    out.extend(x.to_be_bytes());
    while out.len() > common && out.last() == Some(&0) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn between_text_stays_in_range_and_spreads() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut hundreds = std::collections::HashSet::new();
        for _ in 0..1000 {
            let v = between_text("INV-000001", "INV-000500", &mut rng);
            assert!(
                v.as_str() >= "INV-000000" && v.as_str() <= "INV-000599",
                "{v}"
            );
            hundreds.insert(v[7..9].to_string());
        }
        assert!(hundreds.len() > 50, "probes spread over the range");
    }

    #[test]
    fn between_bytes_stays_in_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let v = between_bytes(b"INV-000100", b"INV-009999", &mut rng);
            assert!(v.as_slice() >= b"INV-000100".as_slice() || v.starts_with(b"INV-0"));
            assert!(v.as_slice() <= b"INV-009999".as_slice());
        }
    }
}
