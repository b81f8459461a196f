//! The schema as the model reads it: tables, views, columns, types, keys,
//! foreign keys and a few example values per column from a random sample.

use std::fmt::Write;

use rand::Rng;
use rusqlite::types::Value;
use serde_json::json;

use crate::db::DbError;
use crate::db::catalog::{ObjectKind, TableInfo};
use crate::db::value::display;
use crate::generate::privacy::{Privacy, mask_sample};
use crate::output::cell;

/// Rows drawn per table to find example values.
const SAMPLE_ROWS: usize = 10;
/// Distinct example values shown per column.
const EXAMPLES_PER_COLUMN: usize = 3;
/// Longest example value, in display columns.
const EXAMPLE_WIDTH: usize = 40;
/// Upper bound of the schema text: a huge schema is cut, with a note.
const MAX_SCHEMA_CHARS: usize = 60_000;

/// The schema text for the prompt, and how many objects it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaContext {
    /// The dialect the model is asked to write.
    pub dialect: crate::db::Dialect,
    pub text: String,
    /// Tables, views and virtual tables described.
    pub objects: usize,
    /// True when the schema was too large and some objects were left out.
    pub cut: bool,
}

/// Describes every table and view of `db`, with example values drawn at
/// random (a few index lookups per table, never a scan): as they are, masked where they
/// identify a person, or none at all, as `privacy` says.
pub fn describe_schema<R: Rng>(
    db: &dyn crate::db::Backend,
    rng: &mut R,
    privacy: Privacy,
) -> Result<SchemaContext, DbError> {
    let catalog = db.load_catalog()?;
    let mut text = String::new();
    let mut objects = 0;
    let mut cut = false;
    for table in &catalog {
        // Example values are a help, not a requirement: a table that cannot
        // be sampled (a virtual table whose module is missing) is described
        // without them.
        let examples = if table.kind == ObjectKind::Table && privacy != Privacy::Schema {
            db.sample_rows(table, SAMPLE_ROWS, rng)
                .map(|s| {
                    let rows = match privacy {
                        Privacy::Mask => mask_sample(&s.columns, &s.rows, rng),
                        _ => s.rows,
                    };
                    examples_by_column(&s.columns, &rows)
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let block = describe_table(table, &examples);
        if text.len() + block.len() > MAX_SCHEMA_CHARS {
            cut = true;
            break;
        }
        text.push_str(&block);
        objects += 1;
    }
    if cut {
        let rest: Vec<String> = catalog[objects..]
            .iter()
            .map(|t| json!(t.name).to_string())
            .collect();
        let mut note = format!("\nMore objects, not described: {}\n", rest.join(", "));
        if note.len() > 4000 {
            note = format!("\n{} more objects are not described.\n", rest.len());
        }
        text.push_str(&note);
    }
    if catalog.is_empty() {
        text.push_str("The database has no tables.\n");
    }
    Ok(SchemaContext {
        dialect: db.dialect(),
        text,
        objects,
        cut,
    })
}

/// Up to a few distinct, non-NULL example values for each column, as JSON
/// literals so quotes and line breaks stay unambiguous.
fn examples_by_column(columns: &[String], rows: &[Vec<Value>]) -> Vec<(String, Vec<String>)> {
    columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut values: Vec<String> = Vec::new();
            for row in rows {
                if values.len() >= EXAMPLES_PER_COLUMN {
                    break;
                }
                let shown = match row.get(i) {
                    None | Some(Value::Null) | Some(Value::Blob(_)) => continue,
                    Some(Value::Text(s)) => json!(cell(s, EXAMPLE_WIDTH)).to_string(),
                    Some(v) => display(v),
                };
                if !values.contains(&shown) {
                    values.push(shown);
                }
            }
            (name.clone(), values)
        })
        .collect()
}

fn describe_table(table: &TableInfo, examples: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    let kind = match table.kind {
        ObjectKind::Table => "Table",
        ObjectKind::View => "View",
        ObjectKind::Virtual => "Virtual table",
        ObjectKind::MaterializedView => "Materialized view",
        ObjectKind::Foreign => "Foreign table",
    };
    let _ = writeln!(out, "{kind} {}", json!(table.name));
    for column in table.visible_columns() {
        let mut line = format!("  - {}", json!(column.name));
        if !column.decl_type.is_empty() {
            let _ = write!(line, " {}", column.decl_type);
        }
        if column.pk_position.is_some() {
            line.push_str(" PRIMARY KEY");
        }
        if column.not_null && column.pk_position.is_none() {
            line.push_str(" NOT NULL");
        }
        let unique_alone = table
            .unique
            .iter()
            .any(|u| !u.partial && u.columns.len() == 1 && u.columns[0] == column.name);
        if unique_alone && column.pk_position.is_none() {
            line.push_str(" UNIQUE");
        }
        if let Some((_, values)) = examples.iter().find(|(n, _)| n == &column.name)
            && !values.is_empty()
        {
            let _ = write!(line, "; e.g. {}", values.join(", "));
        }
        let _ = writeln!(out, "{line}");
    }
    for key in &table.foreign_keys {
        let from: Vec<String> = key.from.iter().map(|c| json!(c).to_string()).collect();
        let to: Vec<String> = key.to.iter().map(|c| json!(c).to_string()).collect();
        let _ = writeln!(
            out,
            "  foreign key ({}) references {} ({})",
            from.join(", "),
            json!(key.table),
            to.join(", ")
        );
    }
    out
}
