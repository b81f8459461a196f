//! Column profiles: what the values of each column look like, computed in SQL.
//!
//! Small tables are profiled whole. Past `ProfileOptions::full_scan_limit`
//! rows, a uniform random sample (see `sample`) is copied into a TEMP table
//! (which lives outside the user's file) and profiled instead, so the cost
//! stays bounded; the profile records that it was sampled.

use rand::Rng;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::db::catalog::{ColumnKind, TableInfo};
use crate::db::formats::{Format, code_parts};
use crate::db::ident::{quote, quote_list};
use crate::db::sample::sample_rows;
use crate::db::value::{from_json, to_json};
use crate::db::{DbError, Sqlite};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// Tables with more rows than this are profiled from a sample.
    pub full_scan_limit: usize,
    /// Rows in that sample.
    pub sample_size: usize,
    /// How many most frequent values to keep.
    pub top_values: usize,
    /// Quantiles at 0, 1/(n-1), ..., 1 for numbers and dates.
    pub quantiles: usize,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            full_scan_limit: 100_000,
            sample_size: 20_000,
            top_values: 10,
            quantiles: 21,
        }
    }
}

impl ProfileOptions {
    /// Options sized to a generation of `rows` new rows.
    ///
    /// A value that turns up in N new rows about once has a share near 1/N; a sample
    /// of 20 × N rows holds it some 20 times, enough for its share, and a few thousand
    /// rows are enough for 5% quantiles whatever N is. So a 10-row job reads 2,000 rows
    /// and a job of 1,000 rows or more reads 20,000, as every job did before. Reading a
    /// table whole costs about as much per row as the sample (the per-value SQL
    /// dominates), so small jobs read whole only tables no bigger than their sample,
    /// and from 1,000 rows on tables up to 100,000 rows are read whole again.
    pub fn for_job(rows: u64) -> Self {
        let default = Self::default();
        let scaled = |per_row: u64, floor: usize, cap: usize| {
            usize::try_from(rows.saturating_mul(per_row))
                .unwrap_or(usize::MAX)
                .clamp(floor, cap)
        };
        Self {
            sample_size: scaled(20, 2_000, default.sample_size),
            full_scan_limit: scaled(100, 2_000, default.full_scan_limit),
            ..default
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    pub table: String,
    /// Rows the statistics were computed from.
    pub rows_read: u64,
    /// True when `rows_read` is a random sample of a larger table.
    pub sampled: bool,
    pub columns: Vec<ColumnProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    #[serde(
        serialize_with = "serialize_value",
        deserialize_with = "deserialize_value"
    )]
    pub value: Value,
    pub count: u64,
}

fn serialize_value<S: serde::Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
    to_json(v).serialize(s)
}

/// The inverse of `serialize_value`, for profiles read back from the cache.
fn deserialize_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    let json = serde_json::Value::deserialize(d)?;
    from_json(&json).ok_or_else(|| serde::de::Error::custom("not a SQLite value"))
}

/// How many values of each storage class a column holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageCounts {
    pub integer: u64,
    pub real: u64,
    pub text: u64,
    pub blob: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Evenly spaced quantiles from min (first) to max (last).
    pub quantiles: Vec<f64>,
    /// Every value is a whole number.
    pub integers_only: bool,
    /// The most decimal places seen (reals as SQLite prints them).
    pub max_decimals: u32,
    /// True when the numbers were read from text such as "19.99".
    pub from_text: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextStats {
    pub min_length: u64,
    pub max_length: u64,
    pub mean_length: f64,
}

/// Dates and datetimes in ISO text; ISO text sorts chronologically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateStats {
    pub min: String,
    pub max: String,
    pub quantiles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatShare {
    pub format: Format,
    /// Share of the column's non-null text values in this format.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapeCount {
    pub shape: String,
    pub count: u64,
    pub example: String,
}

/// A code such as `INV-000123`: prefix, zero-padded width, highest number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodePattern {
    pub prefix: String,
    pub digits: usize,
    pub max_number: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub null_count: u64,
    pub null_fraction: f64,
    pub distinct_count: u64,
    pub storage: StorageCounts,
    pub top_values: Vec<ValueCount>,
    pub numeric: Option<NumericStats>,
    pub text: Option<TextStats>,
    pub dates: Option<DateStats>,
    /// The dominant format, when at least 90% of the text values share it.
    pub format: Option<FormatShare>,
    /// Every format seen, most common first.
    pub formats: Vec<FormatShare>,
    pub shapes: Vec<ShapeCount>,
    pub code: Option<CodePattern>,
}

/// A format must cover this share of a column's text to be its format.
const DOMINANT_SHARE: f64 = 0.9;

const SAMPLE_TABLE: &str = "temp.rowsmith_profile_sample";

/// Profiles every visible column of `table`.
pub fn profile_table<R: Rng + ?Sized>(
    db: &Sqlite,
    table: &TableInfo,
    options: &ProfileOptions,
    rng: &mut R,
) -> Result<TableProfile, DbError> {
    table.require_generatable()?;
    let conn = db.conn();
    let columns: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.kind != ColumnKind::Hidden)
        .map(|c| c.name.as_str())
        .collect();
    let limit = options.full_scan_limit as i64;
    // Counting at most limit+1 rows keeps this check bounded too.
    let probe_sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM main.{} LIMIT ?1)",
        table.quoted()
    );
    let seen: i64 = conn
        .query_row(&probe_sql, [limit + 1], |r| r.get(0))
        .map_err(|e| db.err(e))?;
    let sampled = seen > limit;

    let (source, rows_read) = if sampled {
        let sample = sample_rows(db, table, options.sample_size, rng)?;
        copy_to_temp(conn, &columns, &sample.rows).map_err(|e| db.err(e))?;
        (SAMPLE_TABLE.to_string(), sample.rows.len() as u64)
    } else {
        (format!("main.{}", table.quoted()), seen as u64)
    };

    let result = columns
        .iter()
        .map(|c| profile_column(conn, &source, c, rows_read, options))
        .collect::<rusqlite::Result<Vec<_>>>();
    if sampled {
        let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {SAMPLE_TABLE}"));
    }
    Ok(TableProfile {
        table: table.name.clone(),
        rows_read,
        sampled,
        columns: result.map_err(|e| db.err(e))?,
    })
}

fn copy_to_temp(conn: &Connection, columns: &[&str], rows: &[Vec<Value>]) -> rusqlite::Result<()> {
    // No declared types: values keep their storage class exactly.
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {SAMPLE_TABLE}; CREATE TABLE {SAMPLE_TABLE} ({})",
        quote_list(columns.iter().copied())
    ))?;
    let placeholders = vec!["?"; columns.len()].join(", ");
    let mut insert = conn.prepare(&format!(
        "INSERT INTO {SAMPLE_TABLE} VALUES ({placeholders})"
    ))?;
    for row in rows {
        insert.execute(params_from_iter(row.iter()))?;
    }
    Ok(())
}

fn profile_column(
    conn: &Connection,
    source: &str,
    column: &str,
    rows: u64,
    options: &ProfileOptions,
) -> rusqlite::Result<ColumnProfile> {
    let c = quote(column);
    let (non_null, distinct, integer, real, text, blob): (u64, u64, u64, u64, u64, u64) = conn.query_row(
        &format!(
            "SELECT count({c}), count(DISTINCT {c}), \
                    coalesce(sum(typeof({c}) = 'integer'), 0), coalesce(sum(typeof({c}) = 'real'), 0), \
                    coalesce(sum(typeof({c}) = 'text'), 0), coalesce(sum(typeof({c}) = 'blob'), 0) \
             FROM {source}"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    let null_count = rows.saturating_sub(non_null);
    let storage = StorageCounts {
        integer,
        real,
        text,
        blob,
    };

    let mut top = conn.prepare(&format!(
        "SELECT {c}, count(*) AS n FROM {source} WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?1"
    ))?;
    let top_values = top
        .query_map([options.top_values as i64], |r| {
            Ok(ValueCount {
                value: crate::db::value::value_at(r, 0)?,
                count: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let text_stats = if text > 0 {
        Some(conn.query_row(
            &format!(
                "SELECT min(length({c})), max(length({c})), avg(length({c})) FROM {source} WHERE typeof({c}) = 'text'"
            ),
            [],
            |r| Ok(TextStats { min_length: r.get(0)?, max_length: r.get(1)?, mean_length: r.get(2)? }),
        )?)
    } else {
        None
    };

    let formats = if text > 0 {
        format_shares(conn, source, &c, text)?
    } else {
        Vec::new()
    };
    let format = formats
        .first()
        .filter(|f| f.share >= DOMINANT_SHARE)
        .cloned();
    let shapes = if text > 0 {
        shapes(conn, source, &c)?
    } else {
        Vec::new()
    };

    let numeric = if integer + real > 0 && integer + real >= text {
        numeric_stats(
            conn,
            source,
            &c,
            &format!("typeof({c}) IN ('integer', 'real')"),
            false,
            options,
        )?
    } else {
        match format.as_ref().map(|f| f.format) {
            Some(Format::IntegerText | Format::DecimalText) => numeric_stats(
                conn,
                source,
                &c,
                &format!("rowsmith_format({c}) IN ('integer_text', 'decimal_text')"),
                true,
                options,
            )?,
            _ => None,
        }
    };

    let dates = match format.as_ref().map(|f| f.format) {
        Some(f) if f.is_temporal() => date_stats(conn, source, &c, f, options)?,
        _ => None,
    };

    let code = match format.as_ref().map(|f| f.format) {
        Some(Format::Code) => code_pattern(conn, source, &c, &shapes)?,
        _ => None,
    };

    Ok(ColumnProfile {
        name: column.to_string(),
        null_count,
        null_fraction: if rows == 0 {
            0.0
        } else {
            null_count as f64 / rows as f64
        },
        distinct_count: distinct,
        storage,
        top_values,
        numeric,
        text: text_stats,
        dates,
        format,
        formats,
        shapes,
        code,
    })
}

fn format_shares(
    conn: &Connection,
    source: &str,
    c: &str,
    text: u64,
) -> rusqlite::Result<Vec<FormatShare>> {
    let mut stmt = conn.prepare(&format!(
        // Named in a subquery: in GROUP BY and HAVING a column of the table called `f`
        // would win over an alias.
        "SELECT f, count(*) AS n FROM (SELECT rowsmith_format({c}) AS f FROM {source} \
         WHERE typeof({c}) = 'text') WHERE f IS NOT NULL GROUP BY f ORDER BY n DESC, f"
    ))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (name, n) = row?;
        if let Some(format) = Format::parse(&name) {
            out.push(FormatShare {
                format,
                share: n as f64 / text as f64,
            });
        }
    }
    Ok(out)
}

fn shapes(conn: &Connection, source: &str, c: &str) -> rusqlite::Result<Vec<ShapeCount>> {
    let mut stmt = conn.prepare(&format!(
        // Named in a subquery (see `format_shares`): a column called `s` must not win.
        "SELECT s, count(*) AS n, min(v) FROM (SELECT rowsmith_shape({c}) AS s, {c} AS v \
         FROM {source} WHERE typeof({c}) = 'text') WHERE s IS NOT NULL GROUP BY s \
         ORDER BY n DESC, s LIMIT 5"
    ))?;
    // Text that is not valid UTF-8 has no shape (NULL, left out above) and
    // may still be the group's smallest value: read it lossily.
    stmt.query_map([], |r| {
        Ok(ShapeCount {
            shape: r.get(0)?,
            count: r.get(1)?,
            example: crate::db::value::display(&crate::db::value::value_at(r, 2)?),
        })
    })?
    .collect()
}

/// Positions (1-based) of `n` evenly spaced quantiles among `count` sorted values.
fn quantile_positions(count: u64, n: usize) -> Vec<u64> {
    if count == 0 || n == 0 {
        return Vec::new();
    }
    (0..n)
        .map(|i| {
            let q = if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            };
            1 + (q * (count - 1) as f64).round() as u64
        })
        .collect()
}

/// Reads the values at the given sorted positions with a window function.
fn values_at_positions(
    conn: &Connection,
    source: &str,
    expr: &str,
    filter: &str,
    positions: &[u64],
) -> rusqlite::Result<Vec<Value>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: std::rc::Rc<Vec<Value>> = std::rc::Rc::new(
        positions
            .iter()
            .map(|p| Value::Integer(*p as i64))
            .collect(),
    );
    let mut stmt = conn.prepare(&format!(
        "SELECT rn, v FROM (SELECT {expr} AS v, row_number() OVER (ORDER BY {expr}) AS rn \
                           FROM {source} WHERE {filter}) WHERE rn IN rarray(?1)"
    ))?;
    let found: Vec<(u64, Value)> = stmt
        .query_map([wanted], |r| {
            Ok((r.get(0)?, crate::db::value::value_at(r, 1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Positions may repeat (few values, many quantiles): look each one up.
    Ok(positions
        .iter()
        .filter_map(|p| found.iter().find(|(rn, _)| rn == p).map(|(_, v)| v.clone()))
        .collect())
}

fn numeric_stats(
    conn: &Connection,
    source: &str,
    c: &str,
    filter: &str,
    from_text: bool,
    options: &ProfileOptions,
) -> rusqlite::Result<Option<NumericStats>> {
    let expr = if from_text {
        format!("CAST({c} AS REAL)")
    } else {
        c.to_string()
    };
    let (count, min, max, mean, integers, decimals): (u64, Option<f64>, Option<f64>, Option<f64>, u64, Option<i64>) =
        conn.query_row(
            &format!(
                "SELECT count(*), min({expr}), max({expr}), avg({expr}), \
                        coalesce(sum({expr} = CAST({expr} AS INTEGER)), 0), \
                        max(CASE WHEN instr(CAST({c} AS TEXT), '.') > 0 AND instr(CAST({c} AS TEXT), 'e') = 0 \
                                 THEN length(CAST({c} AS TEXT)) - instr(CAST({c} AS TEXT), '.') ELSE 0 END) \
                 FROM {source} WHERE {filter}"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?;
    let (Some(min), Some(max), Some(mean)) = (min, max, mean) else {
        return Ok(None);
    };
    let quantiles = values_at_positions(
        conn,
        source,
        &expr,
        filter,
        &quantile_positions(count, options.quantiles),
    )?
    .into_iter()
    .filter_map(|v| match v {
        Value::Integer(i) => Some(i as f64),
        Value::Real(f) => Some(f),
        _ => None,
    })
    .collect();
    Ok(Some(NumericStats {
        min,
        max,
        mean,
        quantiles,
        integers_only: integers == count,
        max_decimals: decimals.unwrap_or(0).clamp(0, 15) as u32,
        from_text,
    }))
}

fn date_stats(
    conn: &Connection,
    source: &str,
    c: &str,
    format: Format,
    options: &ProfileOptions,
) -> rusqlite::Result<Option<DateStats>> {
    let filter = format!("rowsmith_format({c}) = '{}'", format.as_str());
    let (count, min, max): (u64, Option<String>, Option<String>) = conn.query_row(
        &format!("SELECT count(*), min({c}), max({c}) FROM {source} WHERE {filter}"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (Some(min), Some(max)) = (min, max) else {
        return Ok(None);
    };
    let quantiles = values_at_positions(
        conn,
        source,
        c,
        &filter,
        &quantile_positions(count, options.quantiles),
    )?
    .into_iter()
    .filter_map(|v| match v {
        Value::Text(s) => Some(s),
        _ => None,
    })
    .collect();
    Ok(Some(DateStats {
        min,
        max,
        quantiles,
    }))
}

fn code_pattern(
    conn: &Connection,
    source: &str,
    c: &str,
    shapes: &[ShapeCount],
) -> rusqlite::Result<Option<CodePattern>> {
    let Some((prefix, digits)) = shapes.first().and_then(|s| code_parts(&s.example)) else {
        return Ok(None);
    };
    let start = prefix.chars().count() as i64 + 1;
    let max_number: Option<i64> = conn.query_row(
        &format!(
            "SELECT max(CAST(substr({c}, ?1) AS INTEGER)) FROM {source} \
             WHERE typeof({c}) = 'text' AND substr({c}, 1, ?2) = ?3"
        ),
        rusqlite::params![start, start - 1, prefix],
        |r| r.get(0),
    )?;
    Ok(max_number.map(|max_number| CodePattern {
        prefix,
        digits,
        max_number,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_grow_with_the_job() {
        let small = ProfileOptions::for_job(10);
        assert_eq!((small.sample_size, small.full_scan_limit), (2_000, 2_000));
        let mid = ProfileOptions::for_job(100);
        assert_eq!((mid.sample_size, mid.full_scan_limit), (2_000, 10_000));
        // From 1,000 rows on, what every job read before.
        assert_eq!(ProfileOptions::for_job(1_000), ProfileOptions::default());
        assert_eq!(ProfileOptions::for_job(u64::MAX), ProfileOptions::default());
    }

    #[test]
    fn quantile_positions_span_the_range() {
        assert_eq!(quantile_positions(101, 5), vec![1, 26, 51, 76, 101]);
        assert_eq!(quantile_positions(1, 3), vec![1, 1, 1]);
        assert!(quantile_positions(0, 3).is_empty());
    }
}
