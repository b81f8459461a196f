//! Turning the cells of a row into the values bound for their columns.

use crate::db::value::unhex;
use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::infer::InferredType;
use super::source::Cell;

/// How the values of one file column are turned into SQLite values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Convert {
    /// A new column of an inferred type.
    Inferred(InferredType),
    /// An existing INTEGER, REAL or NUMERIC column: text is bound as is and
    /// SQLite's affinity converts it; empty is NULL, true/false are 1/0.
    Numeric,
    /// An existing TEXT column: values as written.
    Text,
    /// An existing column declared BLOB: hex becomes bytes.
    Blob,
}

/// A value ready to bind, borrowing text from the row being read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bound<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(Vec<u8>),
    /// The column is left out of this row's INSERT (its default applies).
    Absent,
}

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Bound::Null | Bound::Absent => ValueRef::Null,
            Bound::Int(i) => ValueRef::Integer(*i),
            Bound::Real(f) => ValueRef::Real(*f),
            Bound::Text(t) => ValueRef::Text(t.as_bytes()),
            Bound::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn bool_word(text: &str) -> Option<i64> {
    if text.eq_ignore_ascii_case("true") {
        Some(1)
    } else if text.eq_ignore_ascii_case("false") {
        Some(0)
    } else {
        None
    }
}

/// Turns one cell into the value bound for its column. `append` leaves
/// missing JSON keys to the column's default.
pub(super) fn convert(cell: Cell<'_>, how: Convert, append: bool) -> Bound<'_> {
    match cell {
        Cell::Missing if append => Bound::Absent,
        Cell::Missing | Cell::Null => Bound::Null,
        Cell::Field(text, _) => match how {
            Convert::Text | Convert::Inferred(InferredType::Text) => Bound::Text(text),
            Convert::Blob => unhex(text).map(Bound::Blob).unwrap_or(Bound::Text(text)),
            _ if text.is_empty() => Bound::Null,
            Convert::Inferred(InferredType::Integer) => {
                text.parse().map(Bound::Int).unwrap_or(Bound::Text(text))
            }
            Convert::Inferred(InferredType::Real) => {
                text.parse().map(Bound::Real).unwrap_or(Bound::Text(text))
            }
            Convert::Inferred(InferredType::Boolean) | Convert::Numeric => {
                bool_word(text).map(Bound::Int).unwrap_or(Bound::Text(text))
            }
        },
        Cell::Str(text) => match how {
            Convert::Blob => unhex(text).map(Bound::Blob).unwrap_or(Bound::Text(text)),
            _ => Bound::Text(text),
        },
        Cell::Int(i) => match how {
            Convert::Inferred(InferredType::Real) => Bound::Real(i as f64),
            _ => Bound::Int(i),
        },
        Cell::Real(f) => Bound::Real(f),
        Cell::Bool(b) => match how {
            Convert::Text | Convert::Inferred(InferredType::Text) => {
                Bound::Text(if b { "true" } else { "false" })
            }
            _ => Bound::Int(b as i64),
        },
    }
}
