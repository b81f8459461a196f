//! Values bound as parameters of the column's own type: integers as int8, floats as
//! float8, booleans as bool, bytes as bytea, uuids, json and dates as their Rust types, so
//! Postgres receives typed values and judges them (an int8 too big for an int4 column is
//! refused with Postgres's reason). A type with no binary form here (an enum, an array,
//! an interval, a domain) is bound as text with an explicit cast to the column's type, so
//! Postgres's own input rules read it: `$1::text::tier`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use tokio_postgres::types::ToSql;

use crate::db::catalog::Column;
use crate::db::value::Value;

/// How one column's values travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAs {
    Int,
    Float,
    Bool,
    Bytes,
    Text,
    Uuid,
    Json,
    Jsonb,
    Date,
    Timestamp,
    Timestamptz,
    /// Text read by the type's own input function.
    Cast(String),
}

impl BindAs {
    pub fn of(column: &Column) -> Self {
        let decl = column.decl_type.as_str();
        let base = decl.split('(').next().unwrap_or(decl).trim();
        match base {
            "smallint" | "integer" | "bigint" | "oid" => BindAs::Int,
            "real" | "double precision" => BindAs::Float,
            "boolean" => BindAs::Bool,
            "bytea" => BindAs::Bytes,
            "text" | "character varying" | "character" | "name" | "citext" => BindAs::Text,
            "uuid" => BindAs::Uuid,
            "json" => BindAs::Json,
            "jsonb" => BindAs::Jsonb,
            "date" => BindAs::Date,
            _ if decl.starts_with("timestamp") && decl.ends_with("with time zone") => {
                BindAs::Timestamptz
            }
            _ if decl.starts_with("timestamp") => BindAs::Timestamp,
            _ => BindAs::Cast(decl.to_string()),
        }
    }

    /// The placeholder for parameter `n`, cast so the server reads the bound type.
    pub fn placeholder(&self, n: usize) -> String {
        let ty = match self {
            BindAs::Int => "int8",
            BindAs::Float => "float8",
            BindAs::Bool => "bool",
            BindAs::Bytes => "bytea",
            BindAs::Text => "text",
            BindAs::Uuid => "uuid",
            BindAs::Json => "json",
            BindAs::Jsonb => "jsonb",
            BindAs::Date => "date",
            BindAs::Timestamp => "timestamp",
            BindAs::Timestamptz => "timestamptz",
            BindAs::Cast(ty) => return format!("${n}::text::{ty}"),
        };
        format!("${n}::{ty}")
    }

    /// `value` as a parameter of this kind, or why it cannot be one.
    pub fn param(&self, value: &Value) -> Result<Box<dyn ToSql + Sync + Send>, String> {
        if let Value::Null = value {
            return Ok(match self {
                BindAs::Int => Box::new(None::<i64>),
                BindAs::Float => Box::new(None::<f64>),
                BindAs::Bool => Box::new(None::<bool>),
                BindAs::Bytes => Box::new(None::<Vec<u8>>),
                BindAs::Uuid => Box::new(None::<uuid::Uuid>),
                BindAs::Json | BindAs::Jsonb => Box::new(None::<serde_json::Value>),
                BindAs::Date => Box::new(None::<NaiveDate>),
                BindAs::Timestamp => Box::new(None::<NaiveDateTime>),
                BindAs::Timestamptz => Box::new(None::<DateTime<Utc>>),
                BindAs::Text | BindAs::Cast(_) => Box::new(None::<String>),
            });
        }
        let text = || crate::db::value::display(value);
        Ok(match self {
            BindAs::Int => Box::new(match value {
                Value::Integer(i) => *i,
                Value::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => *f as i64,
                Value::Text(t) => t
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("'{t}' is not an integer"))?,
                _ => return Err(format!("{} is not an integer", text())),
            }),
            BindAs::Float => Box::new(match value {
                Value::Integer(i) => *i as f64,
                Value::Real(f) => *f,
                Value::Text(t) => t
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("'{t}' is not a number"))?,
                _ => return Err(format!("{} is not a number", text())),
            }),
            BindAs::Bool => Box::new(match value {
                Value::Integer(i) => *i != 0,
                Value::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                    "t" | "true" | "yes" | "y" | "on" | "1" => true,
                    "f" | "false" | "no" | "n" | "off" | "0" => false,
                    _ => return Err(format!("'{t}' is not true or false")),
                },
                _ => return Err(format!("{} is not true or false", text())),
            }),
            BindAs::Bytes => Box::new(match value {
                Value::Blob(b) => b.clone(),
                Value::Text(t) => t.as_bytes().to_vec(),
                _ => return Err(format!("{} is not bytes", text())),
            }),
            BindAs::Uuid => Box::new(
                uuid::Uuid::parse_str(text().trim())
                    .map_err(|_| format!("'{}' is not a uuid", text()))?,
            ),
            BindAs::Json | BindAs::Jsonb => Box::new(match value {
                Value::Text(t) => serde_json::from_str::<serde_json::Value>(t)
                    .map_err(|e| format!("'{t}' is not JSON ({e})"))?,
                other => crate::db::value::to_json(other),
            }),
            BindAs::Date => {
                Box::new(parse_date(&text()).ok_or_else(|| format!("'{}' is not a date", text()))?)
            }
            BindAs::Timestamp => Box::new(
                parse_timestamp(&text())
                    .map(|(local, _)| local)
                    .ok_or_else(|| format!("'{}' is not a timestamp", text()))?,
            ),
            BindAs::Timestamptz => Box::new(
                parse_timestamp(&text())
                    .map(|(local, offset)| {
                        DateTime::<Utc>::from_naive_utc_and_offset(
                            local - chrono::Duration::seconds(offset.unwrap_or(0)),
                            Utc,
                        )
                    })
                    .ok_or_else(|| format!("'{}' is not a timestamp", text()))?,
            ),
            BindAs::Text | BindAs::Cast(_) => Box::new(text()),
        })
    }
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_timestamp(t).map(|(local, _)| local.date()))
}

/// A timestamp as ISO 8601 / Postgres writes it, with its UTC offset in seconds when it
/// gives one (`Z`, `+00`, `+05:30`, `-0800`).
fn parse_timestamp(text: &str) -> Option<(NaiveDateTime, Option<i64>)> {
    let t = text.trim();
    let (body, offset) = split_offset(t);
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(body, format) {
            return Some((local, offset));
        }
    }
    NaiveDate::parse_from_str(body, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|local| (local, offset))
}

fn split_offset(t: &str) -> (&str, Option<i64>) {
    if let Some(body) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return (body, Some(0));
    }
    // The offset starts at the last + or - after the time's first colon.
    let Some(time_at) = t.find(':') else {
        return (t, None);
    };
    let Some(sign_at) = t[time_at..].rfind(['+', '-']).map(|i| i + time_at) else {
        return (t, None);
    };
    let digits: String = t[sign_at + 1..].chars().filter(|c| *c != ':').collect();
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i64>().ok(), Some(0)),
        4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
        _ => (None, None),
    };
    match (hours, minutes) {
        (Some(h), Some(m)) => {
            let sign = if t.as_bytes()[sign_at] == b'-' { -1 } else { 1 };
            (&t[..sign_at], Some(sign * (h * 3600 + m * 60)))
        }
        _ => (t, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_their_offsets() {
        let (local, offset) = parse_timestamp("2024-07-29 10:00:00.25+05:30").unwrap();
        assert_eq!(local.to_string(), "2024-07-29 10:00:00.250");
        assert_eq!(offset, Some(5 * 3600 + 30 * 60));
        assert_eq!(parse_timestamp("2024-07-29T10:00:00Z").unwrap().1, Some(0));
        assert_eq!(
            parse_timestamp("2024-07-29 10:00:00+00").unwrap().1,
            Some(0)
        );
        assert_eq!(parse_timestamp("2024-07-29 10:00:00").unwrap().1, None);
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert!(parse_date("2024-02-30").is_none());
    }

    #[test]
    fn placeholders_cast_to_what_is_bound() {
        assert_eq!(BindAs::Int.placeholder(3), "$3::int8");
        assert_eq!(BindAs::Cast("tier".into()).placeholder(1), "$1::text::tier");
    }
}
