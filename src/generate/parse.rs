//! Turns a model's answer into candidate rows, leniently and row by row.
//!
//! Models wrap rows in different keys, send numbers as strings and add
//! columns nobody asked for. One bad row is rejected with its reason and never
//! sinks the others. Values are coerced to the column's affinity only where
//! nothing is lost.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::plan::{ColumnPlan, Plan};
use crate::db::catalog::Affinity;

/// Keys models commonly wrap a row list in.
const WRAPPERS: [&str; 8] = [
    "rows", "data", "records", "items", "results", "result", "output", "entries",
];

/// A row ready for validation: one slot per planned column; `None` means the
/// model left it out and the column's default (or NULL) applies.
pub type Candidate = Vec<Option<Value>>;

/// Finds the list of rows in an answer.
pub fn row_list(answer: &Json) -> Result<Vec<Json>, String> {
    match answer {
        Json::Array(rows) => Ok(rows.clone()),
        Json::String(text) => match crate::llm::extract_json(text) {
            Some(inner) if inner != *answer => row_list(&inner),
            _ => Err("the answer was text, not a list of rows".into()),
        },
        Json::Object(map) => {
            for key in WRAPPERS {
                if let Some((_, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                    return row_list(v);
                }
            }
            let arrays: Vec<&Json> = map.values().filter(|v| v.is_array()).collect();
            match arrays.as_slice() {
                [only] => row_list(only),
                [] => Ok(vec![answer.clone()]),
                _ => Err("the answer held several lists and none was named rows".into()),
            }
        }
        _ => Err("the answer was not a list of rows".into()),
    }
}

/// Reads one row: an object keyed by column name (case-insensitive, extra
/// keys dropped) or an array in column order.
pub fn candidate(row: &Json, plan: &Plan, text_allowed: &[bool]) -> Result<Candidate, String> {
    let mut out: Candidate = vec![None; plan.columns.len()];
    match row {
        Json::Object(map) => {
            for (key, value) in map {
                if let Some(i) = plan.index_of(key.trim()) {
                    out[i] = Some(coerce(
                        value,
                        &plan.columns[i],
                        text_allowed.get(i).copied().unwrap_or(true),
                    )?);
                }
            }
        }
        Json::Array(values) => {
            if values.len() != plan.columns.len() {
                return Err(format!(
                    "the row has {} values for {} columns",
                    values.len(),
                    plan.columns.len()
                ));
            }
            for (i, value) in values.iter().enumerate() {
                out[i] = Some(coerce(
                    value,
                    &plan.columns[i],
                    text_allowed.get(i).copied().unwrap_or(true),
                )?);
            }
        }
        _ => return Err("a row was not an object".into()),
    }
    for (i, column) in plan.columns.iter().enumerate() {
        let missing = matches!(out[i], None | Some(Value::Null));
        if missing && column.required() {
            return Err(format!("no value for NOT NULL column '{}'", column.name));
        }
    }
    Ok(out)
}

/// Converts one JSON value to what the column stores, when that loses nothing.
/// `text_allowed` says whether a numeric column already holds text values
/// (SQLite allows it outside STRICT); if not, words in a number column are
/// refused.
pub fn coerce(value: &Json, column: &ColumnPlan, text_allowed: bool) -> Result<Value, String> {
    let bad = |what: &str| {
        format!(
            "column '{}' ({}) got {what}",
            column.name,
            affinity_name(column.affinity)
        )
    };
    Ok(match (value, column.affinity) {
        (Json::Null, _) => Value::Null,
        (Json::Bool(b), Affinity::Text) => Value::Text(b.to_string()),
        (Json::Bool(b), _) => Value::Integer(*b as i64),
        (Json::Number(n), Affinity::Text) => Value::Text(n.to_string()),
        (Json::Number(n), Affinity::Real) => {
            Value::Real(n.as_f64().ok_or_else(|| bad("a number out of range"))?)
        }
        (Json::Number(n), _) => number(n).ok_or_else(|| bad("a number out of range"))?,
        (Json::String(s), Affinity::Integer | Affinity::Real | Affinity::Numeric) => {
            match numeric_text(s, column.affinity) {
                Some(v) => v,
                // NUMERIC columns often hold dates and words (DATETIME, BOOLEAN
                // declared types); SQLite keeps such text as text.
                None if column.affinity == Affinity::Numeric || text_allowed => {
                    Value::Text(s.clone())
                }
                None => return Err(bad("text that is not a number")),
            }
        }
        (Json::String(s), _) => Value::Text(s.clone()),
        (Json::Array(_) | Json::Object(_), Affinity::Text | Affinity::Blob) => {
            Value::Text(value.to_string())
        }
        (Json::Array(_) | Json::Object(_), _) => return Err(bad("a list or object")),
    })
}

fn number(n: &serde_json::Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return Some(Value::Integer(i));
    }
    let f = n.as_f64()?;
    // 3.0 is the integer 3 without loss; SQLite's affinity would do the same.
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(Value::Integer(f as i64))
    } else {
        Some(Value::Real(f))
    }
}

/// "42" -> 42, " 4.50 " -> 4.5, for numeric columns; `None` for words.
fn numeric_text(s: &str, affinity: Affinity) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(if affinity == Affinity::Real {
            Value::Real(i as f64)
        } else {
            Value::Integer(i)
        });
    }
    let looks_numeric = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    match t.parse::<f64>() {
        Ok(f) if looks_numeric && f.is_finite() => Some(
            if affinity != Affinity::Real && f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::Integer(f as i64)
            } else {
                Value::Real(f)
            },
        ),
        _ => None,
    }
}

fn affinity_name(a: Affinity) -> &'static str {
    match a {
        Affinity::Integer => "INTEGER",
        Affinity::Real => "REAL",
        Affinity::Numeric => "NUMERIC",
        Affinity::Text => "TEXT",
        Affinity::Blob => "BLOB",
    }
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use serde_json::json;

    fn column(name: &str, affinity: Affinity, not_null: bool) -> ColumnPlan {
        ColumnPlan {
            name: name.into(),
            decl_type: String::new(),
            affinity,
            not_null,
            default: None,
            checks: Vec::new(),
            unique: false,
            foreign_key: None,
        }
    }

    fn plan(columns: Vec<ColumnPlan>) -> Plan {
        let table = crate::db::catalog::TableInfo {
            name: "t".into(),
            kind: crate::db::catalog::ObjectKind::Table,
            columns: Vec::new(),
            unique: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            without_rowid: false,
            strict: false,
            autoincrement: false,
            schema: None,
            sql: None,
        };
        Plan {
            table,
            columns,
            assigned: Vec::new(),
            unique_sets: Vec::new(),
            foreign_keys: Vec::new(),
            table_checks: Vec::new(),
        }
    }

    #[test]
    fn finds_rows_under_wrappers() -> TestResult {
        assert_eq!(row_list(&json!({"rows": [{"a": 1}]}))?.len(), 1);
        assert_eq!(row_list(&json!({"Data": [{"a": 1}, {"a": 2}]}))?.len(), 2);
        assert_eq!(row_list(&json!([{"a": 1}]))?.len(), 1);
        assert_eq!(row_list(&json!({"generated": [{"a": 1}]}))?.len(), 1);
        assert_eq!(
            row_list(&json!("```json\n{\"records\": [{\"a\": 1}]}\n```"))?.len(),
            1
        );
        assert_eq!(
            row_list(&json!({"a": 1}))?,
            vec![json!({"a": 1})],
            "a lone row"
        );
        assert!(row_list(&json!(42)).is_err());
        Ok(())
    }

    #[test]
    fn coerces_losslessly_and_refuses_words_in_number_columns() {
        let int = column("n", Affinity::Integer, false);
        assert_eq!(coerce(&json!("42"), &int, false), Ok(Value::Integer(42)));
        assert_eq!(coerce(&json!(7.0), &int, false), Ok(Value::Integer(7)));
        assert_eq!(coerce(&json!(true), &int, false), Ok(Value::Integer(1)));
        assert_eq!(
            coerce(&json!("forty two"), &int, false),
            Err("column 'n' (INTEGER) got text that is not a number".into())
        );
        assert_eq!(
            coerce(&json!("n/a"), &int, true),
            Ok(Value::Text("n/a".into()))
        );
        let text = column("s", Affinity::Text, false);
        assert_eq!(
            coerce(&json!(42), &text, false),
            Ok(Value::Text("42".into()))
        );
        assert_eq!(
            coerce(&json!(2.5), &text, false),
            Ok(Value::Text("2.5".into()))
        );
        let real = column("r", Affinity::Real, false);
        assert_eq!(coerce(&json!("19.90"), &real, false), Ok(Value::Real(19.9)));
        let numeric = column("d", Affinity::Numeric, false);
        assert_eq!(
            coerce(&json!("2024-05-01"), &numeric, false),
            Ok(Value::Text("2024-05-01".into()))
        );
        assert_eq!(
            coerce(&json!("12"), &numeric, false),
            Ok(Value::Integer(12))
        );
        assert!(coerce(&json!([1]), &int, false).is_err());
    }

    #[test]
    fn rows_drop_extra_keys_and_need_required_columns() -> TestResult {
        let p = plan(vec![
            column("id", Affinity::Integer, true),
            column("Name", Affinity::Text, false),
        ]);
        let ok = candidate(
            &json!({"ID": "3", "name": "x", "extra": 1}),
            &p,
            &[false, true],
        )?;
        assert_eq!(
            ok,
            vec![Some(Value::Integer(3)), Some(Value::Text("x".into()))]
        );
        let partial = candidate(&json!({"id": 1}), &p, &[false, true])?;
        assert_eq!(partial, vec![Some(Value::Integer(1)), None]);
        assert_eq!(
            candidate(&json!({"name": "x"}), &p, &[false, true]),
            Err("no value for NOT NULL column 'id'".into())
        );
        assert_eq!(
            candidate(&json!([1, "y"]), &p, &[false, true])?[1],
            Some(Value::Text("y".into()))
        );
        assert!(candidate(&json!("row"), &p, &[false, true]).is_err());
        Ok(())
    }
}
