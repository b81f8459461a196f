//! `rowsmith tables DB`: every table with its row count.

use std::path::Path;

use serde::Serialize;

use super::{CommandResult, print_json};
use crate::db::catalog::ObjectKind;
use crate::output::{Align, grid, thousands};

#[derive(Serialize)]
struct Listed {
    name: String,
    rows: Option<u64>,
    kind: ObjectKind,
}

pub fn run(path: &Path, create: bool, json: bool) -> CommandResult {
    let db = super::open_creatable(path, create, create)?;
    let mut listed = Vec::new();
    for object in db.list_objects()? {
        let rows = db.row_count(&object)?;
        listed.push(Listed {
            name: object.name,
            rows,
            kind: object.kind,
        });
    }
    if json {
        return print_json(&listed);
    }
    if listed.is_empty() {
        crate::say!("No tables in {}.", db.display_path());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|l| {
            vec![
                crate::output::cell(&l.name, 60),
                l.rows.map(thousands).unwrap_or_else(|| "?".into()),
                l.kind.as_str().to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        grid(
            &["TABLE", "ROWS", "KIND"],
            &[Align::Left, Align::Right, Align::Left],
            &rows
        )
    );
    Ok(())
}
