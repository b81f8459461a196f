//! Postgres values as rowsmith's [`Value`]s. Every read selects a column as text (its
//! canonical output in the session's ISO date style) and turns it into the value its type
//! calls for, so one path serves every type: integers and booleans as integers, floats
//! and numerics as numbers, bytea as bytes, and dates, uuids, json, arrays and enums as
//! the text Postgres writes for them.

use rusqlite::types::Value;

use crate::db::catalog::{Affinity, Column, TableInfo};
use crate::db::ident::quote;

/// Rows of values bound as one text array per column (NULL as a NULL element), for
/// [`typed_rows`] to read back: one parameter per column however many rows.
pub fn text_arrays(rows: &[&[Value]], width: usize) -> Vec<Vec<Option<String>>> {
    (0..width)
        .map(|i| {
            rows.iter()
                .map(|row| match row.get(i) {
                    Some(Value::Null) | None => None,
                    Some(v) => Some(crate::db::value::display(v)),
                })
                .collect()
        })
        .collect()
}

/// `SELECT u.k0::t0, … FROM unnest($first::text[], …) AS u(k0, …)`: the rows bound by
/// [`text_arrays`], read back as the given types, so they compare as the columns do.
pub fn typed_rows(types: &[String], first: usize) -> String {
    let casts: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("u.k{i}::{ty}"))
        .collect();
    let arrays: Vec<String> = (0..types.len())
        .map(|i| format!("${}::text[]", first + i))
        .collect();
    let names: Vec<String> = (0..types.len()).map(|i| format!("k{i}")).collect();
    format!(
        "SELECT {} FROM unnest({}) AS u({})",
        casts.join(", "),
        arrays.join(", "),
        names.join(", ")
    )
}

/// The declared types of `columns` of `table` (text for a column it lacks).
pub fn types_of(table: &TableInfo, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .map(|c| {
            table
                .column(c)
                .map(|c| c.decl_type.clone())
                .unwrap_or_else(|| "text".into())
        })
        .collect()
}

/// The bytes of bytea's text form (`\x00ff`).
pub fn bytea(text: &str) -> Option<Vec<u8>> {
    text.strip_prefix("\\x").and_then(crate::db::value::unhex)
}

/// The select-list item that reads `column` as text.
pub fn as_text(column: &str) -> String {
    format!("{}::text", quote(column))
}

/// The value of `column` whose text is `text`.
pub fn from_text(column: Option<&Column>, text: Option<String>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    let Some(column) = column else {
        return Value::Text(text);
    };
    if column.decl_type == "boolean" {
        return Value::Integer(i64::from(text == "t" || text == "true"));
    }
    match column.affinity {
        Affinity::Integer => text
            .parse::<i64>()
            .map(Value::Integer)
            .unwrap_or(Value::Text(text)),
        Affinity::Real => text
            .parse::<f64>()
            .map(Value::Real)
            .unwrap_or(Value::Text(text)),
        Affinity::Numeric => {
            if let Ok(i) = text.parse::<i64>() {
                Value::Integer(i)
            } else {
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => Value::Real(x),
                    _ => Value::Text(text),
                }
            }
        }
        Affinity::Blob => match bytea(&text) {
            Some(bytes) => Value::Blob(bytes),
            None => Value::Text(text),
        },
        Affinity::Text => Value::Text(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::catalog::ColumnKind;

    fn column(decl: &str, affinity: Affinity) -> Column {
        Column {
            name: "c".into(),
            decl_type: decl.into(),
            affinity,
            not_null: false,
            default: None,
            pk_position: None,
            kind: ColumnKind::Normal,
            rowid_alias: false,
        }
    }

    #[test]
    fn text_becomes_the_value_its_type_calls_for() {
        let b = column("boolean", Affinity::Integer);
        assert_eq!(from_text(Some(&b), Some("t".into())), Value::Integer(1));
        let n = column("numeric(10,2)", Affinity::Numeric);
        assert_eq!(from_text(Some(&n), Some("19.90".into())), Value::Real(19.9));
        assert_eq!(from_text(Some(&n), Some("20".into())), Value::Integer(20));
        let bytes = column("bytea", Affinity::Blob);
        assert_eq!(
            from_text(Some(&bytes), Some("\\x00ff".into())),
            Value::Blob(vec![0, 255])
        );
        let ts = column("timestamp with time zone", Affinity::Text);
        assert_eq!(
            from_text(Some(&ts), Some("2024-07-29 10:00:00+00".into())),
            Value::Text("2024-07-29 10:00:00+00".into())
        );
        assert_eq!(from_text(Some(&ts), None), Value::Null);
    }
}
