//! `rowsmith undo DB [--table T] [--dry-run] [--list] [--operation ID] [--forget ID]`.

use std::path::Path;

use super::{CommandResult, open, print_json};
use crate::db::journal::{Journal, OperationId};
use crate::db::undo::{self, Target};
use crate::output::thousands;

pub struct Args<'a> {
    pub db: &'a Path,
    pub table: Option<&'a str>,
    pub dry_run: bool,
    pub list: bool,
    pub operation: Option<i64>,
    pub forget: Option<i64>,
    pub json: bool,
}

pub fn run(args: &Args<'_>) -> CommandResult {
    let journal = Journal::open_default()?;
    let target = match args.operation {
        Some(id) => Target::Operation(OperationId(id)),
        None => Target::Latest(args.table),
    };
    if args.list {
        let db = open(args.db, false, false)?;
        return list(&undo::list(&db, &journal, args.table)?, args.json);
    }
    if let Some(id) = args.forget {
        let db = open(args.db, false, false)?;
        if args.dry_run {
            crate::say!("Would clear operation {id}; no row would be touched.");
            return Ok(());
        }
        let op = undo::forget(&db, &journal, OperationId(id))?;
        crate::say!(
            "Cleared operation {id} ({} rows added to '{}' on {} UTC by {}); no row was touched.",
            thousands(op.rows),
            op.table,
            op.created_at,
            op.source
        );
        return Ok(());
    }
    if args.dry_run {
        let db = open(args.db, false, false)?;
        let preview = undo::preview(&db, &journal, target)?;
        if args.json {
            return print_json(&preview);
        }
        crate::say!(
            "Undo would remove {} {} from table '{}' (added {} UTC by {}).",
            thousands(preview.rows),
            crate::output::rows_word(preview.rows),
            preview.table,
            preview.created_at,
            preview.source
        );
        return Ok(());
    }
    let mut db = open(args.db, true, false)?;
    let outcome = undo::undo(&mut db, &journal, target)?;
    if args.json {
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
    crate::say!(
        "Removed {} {} from table '{}' (added {} UTC by {}){gone}. New total: {} {}.",
        thousands(outcome.removed),
        crate::output::rows_word(outcome.removed),
        outcome.table,
        outcome.created_at,
        outcome.source,
        thousands(outcome.new_row_count),
        crate::output::rows_word(outcome.new_row_count)
    );
    if let Some(note) = &outcome.note {
        crate::say_err!("{note}");
    }
    Ok(())
}

fn list(ops: &[(crate::db::journal::Operation, Option<String>)], json: bool) -> CommandResult {
    if json {
        let items: Vec<serde_json::Value> = ops
            .iter()
            .map(|(op, undone)| {
                serde_json::json!({
                    "id": op.id.0, "table": op.table, "created_at": op.created_at,
                    "source": op.source, "rows": op.rows, "undone_at": undone,
                })
            })
            .collect();
        return print_json(&items);
    }
    if ops.is_empty() {
        crate::say!("No operations on record.");
        return Ok(());
    }
    for (op, undone) in ops {
        let state = match undone {
            Some(at) => format!("undone {at} UTC"),
            None => "not undone".to_string(),
        };
        crate::say!(
            "{:>6}  {} UTC  {:>8} {}  '{}'  {}  ({state})",
            op.id.0,
            op.created_at,
            thousands(op.rows),
            crate::output::rows_word(op.rows),
            op.table,
            op.source
        );
    }
    Ok(())
}
