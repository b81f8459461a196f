//! `rowsmith undo DB [--table T]`.

use std::path::Path;

use super::{CommandResult, open, print_json};
use crate::db::journal::Journal;
use crate::db::undo::{preview_undo, undo_last};
use crate::output::thousands;

pub fn run(path: &Path, table: Option<&str>, dry_run: bool, json: bool) -> CommandResult {
    let journal = Journal::open_default()?;
    if dry_run {
        let db = open(path, false, false)?;
        let preview = preview_undo(&db, &journal, table)?;
        if json {
            return print_json(&preview);
        }
        println!(
            "Undo would remove {} {} from table '{}' (added {} UTC by {}).",
            thousands(preview.rows),
            plural(preview.rows),
            preview.table,
            preview.created_at,
            preview.source
        );
        return Ok(());
    }
    let mut db = open(path, true, false)?;
    let outcome = undo_last(&mut db, &journal, table)?;
    if json {
        return print_json(&outcome);
    }
    let gone = if outcome.already_gone > 0 {
        format!(
            " ({} more had already been deleted)",
            thousands(outcome.already_gone)
        )
    } else {
        String::new()
    };
    println!(
        "Removed {} {} from table '{}' (added {} UTC by {}){gone}. New total: {} {}.",
        thousands(outcome.removed),
        plural(outcome.removed),
        outcome.table,
        outcome.created_at,
        outcome.source,
        thousands(outcome.new_row_count),
        plural(outcome.new_row_count)
    );
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}
