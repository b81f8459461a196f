//! `rowsmith undo DB [--table T] [--dry-run] [--list] [--operation ID] [--forget ID]`.

use std::path::Path;

use super::{CommandResult, open, print_json};
use crate::db::journal::{Journal, Operation, OperationId, Run};
use crate::db::undo::{self, Target, UndoOutcome, UndoPreview, quoted_names};
use crate::output::{rows_from_tables, rows_word, thousands};

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
        return list(&undo::list(&*db, &journal, args.table)?, args.json);
    }
    if let Some(id) = args.forget {
        let db = open(args.db, false, false)?;
        if args.dry_run {
            let found = journal.operation(db.address(), OperationId(id))?;
            match found.and_then(|(op, _)| op.run) {
                Some(run) => crate::say!(
                    "Would clear operation {id}, the whole run of {} UTC by {} ({}); no row would be touched.",
                    run.created_at,
                    run.source,
                    recorded(&run)
                ),
                None => crate::say!("Would clear operation {id}; no row would be touched."),
            }
            return Ok(());
        }
        let op = undo::forget(&*db, &journal, OperationId(id))?;
        match &op.run {
            Some(run) => crate::say!(
                "Cleared operation {id}, the whole run of {} UTC by {} ({}); no row was touched.",
                run.created_at,
                run.source,
                recorded(run)
            ),
            None => crate::say!(
                "Cleared operation {id} ({} rows added to '{}' on {} UTC by {}); no row was touched.",
                thousands(op.rows),
                op.table,
                op.created_at,
                op.source
            ),
        }
        return Ok(());
    }
    if args.dry_run {
        let db = open(args.db, false, false)?;
        let preview = undo::preview(&*db, &journal, target)?;
        if args.json {
            return print_json(&preview);
        }
        match &preview.run {
            Some(_) => crate::say!("{}", run_preview_sentence(args, &preview)),
            None => crate::say!(
                "Undo would remove {} {} from table '{}' (added {} UTC by {}).",
                thousands(preview.rows),
                rows_word(preview.rows),
                preview.table,
                preview.created_at,
                preview.source
            ),
        }
        return Ok(());
    }
    let mut db = open(args.db, true, false)?;
    let outcome = undo::undo(&mut *db, &journal, target)?;
    if args.json {
        return print_json(&outcome);
    }
    match &outcome.run {
        Some(_) => crate::say!("{}", run_outcome_sentence(args, &outcome)),
        None => {
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
                rows_word(outcome.removed),
                outcome.table,
                outcome.created_at,
                outcome.source,
                thousands(outcome.new_row_count),
                rows_word(outcome.new_row_count)
            );
        }
    }
    if let Some(note) = &outcome.note {
        crate::say_err!("{note}");
    }
    Ok(())
}

/// How the user came to a run: by undoing the latest, by naming one of its operations
/// other than the one it is listed as, or through one of its tables.
enum Reached<'a> {
    Directly,
    Member(i64),
    Table(&'a str),
}

fn reached<'a>(args: &Args<'_>, listed_as: i64, table: &'a str) -> Reached<'a> {
    match (args.operation, args.table) {
        (Some(id), _) if id != listed_as => Reached::Member(id),
        (Some(_), _) | (None, None) => Reached::Directly,
        (None, Some(_)) => Reached::Table(table),
    }
}

/// The reason the whole run is taken back, when the user asked through a part of it.
fn because(reached: &Reached<'_>, created_at: &str, source: &str) -> Option<String> {
    match reached {
        Reached::Directly => None,
        Reached::Member(id) => Some(format!(
            "Operation {id} is part of the run of {created_at} UTC by {source}"
        )),
        Reached::Table(table) => Some(format!(
            "The latest rows of '{table}' came from the run of {created_at} UTC by {source}"
        )),
    }
}

fn run_outcome_sentence(args: &Args<'_>, o: &UndoOutcome) -> String {
    let Some(run) = &o.run else {
        return String::new();
    };
    let parts: Vec<(&str, u64)> = run
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.removed))
        .collect();
    let gone = if o.already_gone > 0 {
        format!(
            "; {} more had already been deleted",
            thousands(o.already_gone)
        )
    } else {
        String::new()
    };
    let body = rows_from_tables(&parts);
    match because(&reached(args, run.id, &o.table), &o.created_at, &o.source) {
        None => format!(
            "Undid the run of {} UTC by {}: removed {body}{gone}.",
            o.created_at, o.source
        ),
        Some(why) => format!("{why}, so undo took back the whole run: removed {body}{gone}."),
    }
}

fn run_preview_sentence(args: &Args<'_>, p: &UndoPreview) -> String {
    let Some(run) = &p.run else {
        return String::new();
    };
    let parts: Vec<(&str, u64)> = run
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.rows))
        .collect();
    let gone = if p.already_gone > 0 {
        format!("; {} more were already deleted", thousands(p.already_gone))
    } else {
        String::new()
    };
    let body = rows_from_tables(&parts);
    match because(&reached(args, run.id, &p.table), &p.created_at, &p.source) {
        None => format!(
            "Undo would remove {body}, the run of {} UTC by {}{gone}.",
            p.created_at, p.source
        ),
        Some(why) => format!("{why}, so undo would take back the whole run: {body}{gone}."),
    }
}

/// `2,450 rows added to 4 tables: 'customers', 'products', 'orders' and 'order_items'`.
fn recorded(run: &Run) -> String {
    let names: Vec<String> = run.tables.iter().map(|(t, _)| t.clone()).collect();
    format!(
        "{} {} added to {} {}: {}",
        thousands(run.rows()),
        rows_word(run.rows()),
        names.len(),
        crate::output::plural(names.len() as u64, "table", "tables"),
        quoted_names(&names)
    )
}

fn list(ops: &[(Operation, Option<String>)], json: bool) -> CommandResult {
    if json {
        let items: Vec<serde_json::Value> = ops
            .iter()
            .map(|(op, undone)| {
                let mut item = serde_json::json!({
                    "id": op.id.0, "table": op.table, "created_at": op.created_at,
                    "source": op.source, "rows": op.rows, "undone_at": undone,
                });
                if let Some(run) = &op.run {
                    item["tables"] = run
                        .tables
                        .iter()
                        .map(|(table, rows)| serde_json::json!({"table": table, "rows": rows}))
                        .collect();
                }
                item
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
        let what = match &op.run {
            Some(run) => {
                let each: Vec<String> = run
                    .tables
                    .iter()
                    .map(|(t, n)| format!("'{t}' {}", thousands(*n)))
                    .collect();
                format!(
                    "run of {} {}: {}",
                    run.tables.len(),
                    crate::output::plural(run.tables.len() as u64, "table", "tables"),
                    each.join(", ")
                )
            }
            None => format!("'{}'", op.table),
        };
        crate::say!(
            "{:>6}  {} UTC  {:>8} {}  {what}  {}  ({state})",
            op.id.0,
            op.created_at,
            thousands(op.rows),
            rows_word(op.rows),
            op.source
        );
    }
    Ok(())
}
