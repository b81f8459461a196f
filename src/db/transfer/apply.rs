//! Carrying out an import plan: the file read a second time inside one
//! transaction, each row inserted (naming its line when SQLite refuses it),
//! the rows recorded for undo, then COMMIT. Any error or a cancellation
//! rolls everything back.

use std::collections::HashMap;

use rusqlite::{Connection, ErrorCode, Statement};

use super::cache_boost::CacheBoost;
use super::convert::{Bound, convert};
use super::reader::next_row;
use super::record::{Keys, forget, record_rows};
use super::refusal::ImportRefusal;
use super::{ImportOptions, ImportOutcome, ImportPlan, Progress, Reporter, Stage};
use crate::db::catalog::{ColumnKind, TableInfo, table_info};
use crate::db::ident::{quote, quote_list, validate};
use crate::db::journal::RowKey;
use crate::db::sample::rowid_name;
use crate::db::{Backend, DbError, Sqlite};

/// Carries out a plan from [`plan_import`](super::plan_import), reading the file a second
/// time, in the engine's own way.
pub fn apply_import(
    db: &mut dyn Backend,
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    db.apply_import(plan, options, progress)
}

/// SQLite: the plan carried out in one IMMEDIATE transaction.
pub(crate) fn apply_sqlite(
    db: &mut Sqlite,
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    db.require_writable()?;
    let db: &Sqlite = db;
    let conn = db.conn();
    let err = |e: rusqlite::Error| db.err(e);
    let (mut reader, shown, size) = super::plan_rows::open_plan(plan, options)?;
    let mut reporter = Reporter::new(progress, options.progress_every, Some(size));
    reporter.report(Stage::Writing, 0, Some(plan.rows), 0);

    let _cache = CacheBoost::new(conn);
    let tx = crate::db::write_transaction(conn).map_err(err)?;
    if plan.create {
        let columns: Vec<String> = plan
            .columns
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), c.sql_type))
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE main.{} ({})",
            quote(&plan.table),
            columns.join(", ")
        ))
        .map_err(err)?;
    }
    let info = table_info(db, &plan.table)?;
    info.require_generatable()?;
    for c in &plan.columns {
        validate(&c.name)?;
        if info
            .column(&c.name)
            .is_none_or(|col| col.kind != ColumnKind::Normal)
        {
            return Err(ImportRefusal::ColumnGone {
                table: info.name.clone(),
                file: shown,
                column: c.name.clone(),
            }
            .into());
        }
    }
    let rowid = if info.has_rowid() {
        Some(rowid_name(&info).ok_or_else(|| DbError::RowidShadowed {
            table: info.name.clone(),
        })?)
    } else {
        None
    };
    let pk: Vec<String> = info.primary_key().iter().map(|c| c.name.clone()).collect();
    let returning = if rowid.is_some() {
        String::new()
    } else {
        format!(" RETURNING {}", quote_list(pk.iter().map(String::as_str)))
    };
    let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
    let full_sql = insert_sql(&info.name, &names, &returning);
    let mut full = conn.prepare(&full_sql).map_err(err)?;
    let deferred = info.foreign_keys.iter().any(|k| k.deferred);

    let mut keys = if rowid.is_some() {
        Keys::Rowid(Vec::with_capacity(plan.rows.min(1 << 24) as usize))
    } else {
        Keys::Primary(Vec::new())
    };
    // Lines of the inserted rows, kept only to name the line of a row that
    // breaks a deferred foreign key (checked before COMMIT).
    let mut lines: Vec<u64> = Vec::new();
    let width = plan.columns.len();
    let append = !plan.create;
    let mut inserted = 0u64;
    while next_row(&mut reader, width, &shown)? {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let values: Vec<Bound<'_>> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| convert(reader.cell(i), c.convert, append))
            .collect();
        let result = if values.contains(&Bound::Absent) {
            let present: Vec<usize> = (0..width).filter(|&i| values[i] != Bound::Absent).collect();
            let cols: Vec<&str> = present.iter().map(|&i| names[i]).collect();
            conn.prepare_cached(&insert_sql(&info.name, &cols, &returning))
                .and_then(|mut stmt| {
                    insert_row(conn, &mut stmt, present.iter().map(|&i| &values[i]), &keys)
                })
        } else {
            insert_row(conn, &mut full, values.iter(), &keys)
        };
        match result {
            Ok(key) => match (&mut keys, key) {
                (Keys::Rowid(ids), RowKey::Rowid(id)) => ids.push(id),
                (Keys::Primary(all), key) => all.push(key),
                (Keys::Rowid(_), RowKey::Primary(_)) => {}
            },
            Err(e) if is_row_error(&e) => {
                return Err(ImportRefusal::RowRefused {
                    file: shown,
                    line: reader.line(),
                    detail: sqlite_message(&e),
                }
                .into());
            }
            Err(e) => return Err(err(e)),
        }
        if deferred {
            lines.push(reader.line());
        }
        inserted += 1;
        if reporter.due(inserted) {
            reporter.report(
                Stage::Writing,
                inserted,
                Some(plan.rows.max(inserted)),
                reader.bytes(),
            );
        }
    }
    drop(full);
    reporter.report(Stage::Finishing, inserted, Some(inserted), reader.bytes());
    if deferred {
        check_deferred_keys(db, &info, &keys, &lines, &shown)?;
    }

    // Record the rows for undo before COMMIT: a crash in between leaves a
    // record of rows that do not exist, which undo recognises.
    let recorded = match options.journal {
        Some(journal) if inserted > 0 => Some((
            journal,
            record_rows(db, journal, &info, &keys, rowid, &shown)?,
        )),
        _ => None,
    };
    if options.cancel.is_cancelled() {
        if let Some((journal, chunks)) = &recorded {
            forget(journal, chunks);
        }
        return Err(DbError::Cancelled);
    }
    if let Err(e) = tx.commit() {
        if let Some((journal, chunks)) = &recorded {
            forget(journal, chunks);
        }
        return Err(match e {
            ref f @ rusqlite::Error::SqliteFailure(..) if is_row_error(f) => {
                ImportRefusal::CommitRefused {
                    file: shown,
                    detail: sqlite_message(f),
                }
                .into()
            }
            other => err(other),
        });
    }
    if let Some((journal, chunks)) = &recorded {
        for &chunk in chunks {
            let _ = journal.confirm_chunk(chunk);
        }
    }
    let count_sql = format!("SELECT count(*) FROM main.{}", quote(&info.name));
    let new_row_count: i64 = conn.query_row(&count_sql, [], |r| r.get(0)).map_err(err)?;
    reporter.report(Stage::Finishing, inserted, Some(inserted), size);
    Ok(ImportOutcome {
        table: info.name.clone(),
        created: plan.create,
        rows: inserted,
        columns: plan.columns.clone(),
        new_row_count: new_row_count.max(0) as u64,
        format: plan.format,
    })
}

/// `INSERT OR ABORT INTO main.t (columns) VALUES (?1, ...)` plus `returning`.
/// OR ABORT overrides ON CONFLICT REPLACE/IGNORE clauses in the schema,
/// which would otherwise delete existing rows or drop imported ones silently.
fn insert_sql(table: &str, columns: &[&str], returning: &str) -> String {
    if columns.is_empty() {
        return format!(
            "INSERT OR ABORT INTO main.{} DEFAULT VALUES{returning}",
            quote(table)
        );
    }
    format!(
        "INSERT OR ABORT INTO main.{} ({}) VALUES ({}){returning}",
        quote(table),
        quote_list(columns.iter().copied()),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn insert_row<'v>(
    conn: &Connection,
    stmt: &mut Statement<'_>,
    values: impl Iterator<Item = &'v Bound<'v>>,
    keys: &Keys,
) -> rusqlite::Result<RowKey> {
    for (i, v) in values.enumerate() {
        stmt.raw_bind_parameter(i + 1, v)?;
    }
    match keys {
        Keys::Rowid(_) => {
            stmt.raw_execute()?;
            Ok(RowKey::Rowid(conn.last_insert_rowid()))
        }
        Keys::Primary(_) => {
            let width = stmt.column_count();
            let mut rows = stmt.raw_query();
            match rows.next()? {
                Some(row) => Ok(RowKey::Primary(
                    (0..width)
                        .map(|i| crate::db::value::value_at(row, i))
                        .collect::<rusqlite::Result<_>>()?,
                )),
                None => Err(rusqlite::Error::QueryReturnedNoRows),
            }
        }
    }
}

/// Deferred foreign keys are only checked at COMMIT, which names no row;
/// check them first so the error can name the line.
fn check_deferred_keys(
    db: &Sqlite,
    info: &TableInfo,
    keys: &Keys,
    lines: &[u64],
    shown: &str,
) -> Result<(), DbError> {
    let conn = db.conn();
    let mut stmt = conn
        .prepare("SELECT rowid, \"parent\" FROM pragma_foreign_key_check(?1)")
        .map_err(|e| db.err(e))?;
    let violations: Vec<(Option<i64>, String)> = stmt
        .query_map([&info.name], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| db.err(e))?;
    if violations.is_empty() {
        return Ok(());
    }
    let line_of: HashMap<i64, u64> = match keys {
        Keys::Rowid(ids) => ids.iter().copied().zip(lines.iter().copied()).collect(),
        Keys::Primary(_) => HashMap::new(),
    };
    for (rowid, parent) in &violations {
        if let Some(line) = rowid.and_then(|id| line_of.get(&id)) {
            return Err(ImportRefusal::MissingParent {
                file: shown.to_string(),
                line: *line,
                parent: parent.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// Errors that concern one row, not the database or the connection.
fn is_row_error(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig)
    )
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqliteFailure(f, None) => f.to_string(),
        other => other.to_string(),
    }
}
