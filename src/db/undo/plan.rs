//! Which operations an undo acts on, and their rows checked against the tables as they
//! are now. Nothing here writes, the journal included.

use super::{Target, UndoBlock, UndoRefusal};
use crate::db::catalog::TableInfo;
use crate::db::journal::{Journal, Operation, OperationId, RowKey, Run};
use crate::db::{Backend, DbError};

/// The rows of one operation, checked against the table as it is now.
pub(super) struct Plan {
    pub operation: Operation,
    pub table: TableInfo,
    /// Rows still there as rowsmith wrote them: the ones to delete.
    pub ours: Vec<RowKey>,
    /// Rows of the operation deleted by someone else already.
    pub gone: u64,
}

/// Everything one undo acts on: one operation, or every operation of a run.
pub(super) struct Checked {
    /// One plan per operation, in the order the operations were made (parents first).
    pub plans: Vec<Plan>,
    /// The run, when the undo takes back a run.
    pub run: Option<Run>,
    /// The table the undo was asked about, or found the operation through.
    pub table: String,
    pub created_at: String,
    pub source: String,
}

impl Checked {
    /// The plans in the order their rows are deleted: the reverse of the order they were
    /// written, so children go before their parents.
    pub fn deletion_order(&self) -> impl Iterator<Item = (usize, &Plan)> {
        self.plans.iter().enumerate().rev()
    }
}

/// What a target names before any row is looked at.
enum Subject {
    One(Operation),
    Run {
        run: Run,
        operations: Vec<Operation>,
    },
}

/// Checks the rows of exactly one operation, or of every operation of one run, against
/// the tables as they are now. It never moves on to an older operation: refusals say why
/// and how to go on.
pub(super) fn check(
    db: &dyn Backend,
    journal: &Journal,
    target: Target<'_>,
) -> Result<Checked, DbError> {
    let (entry, subject) = resolve(db, journal, target)?;
    match subject {
        Subject::One(operation) => {
            if let Some(pid) = journal.writer_of(operation.id)? {
                return Err(UndoRefusal::StillWriting {
                    pid,
                    table: operation.table,
                }
                .into());
            }
            let plan = check_operation(db, journal, &operation, operation.id)?;
            if plan.ours.is_empty() {
                return Err(blocked(
                    db,
                    operation.id,
                    UndoBlock::NoneLeft {
                        table: plan.table.name.clone(),
                        created_at: operation.created_at.clone(),
                    },
                ));
            }
            Ok(Checked {
                table: plan.table.name.clone(),
                created_at: operation.created_at.clone(),
                source: operation.source.clone(),
                plans: vec![plan],
                run: None,
            })
        }
        Subject::Run { run, operations } => check_run(db, journal, entry, run, operations),
    }
}

/// The operation a target names (the one asked for or found as the latest), and what the
/// undo takes back with it: that operation, or its whole run.
fn resolve(
    db: &dyn Backend,
    journal: &Journal,
    target: Target<'_>,
) -> Result<(Option<String>, Subject), DbError> {
    let operation = match target {
        Target::Run(id) => {
            let unknown = || UndoRefusal::UnknownRun {
                run: id.0,
                path: db.display_name(),
            };
            let run = journal.run(id)?.ok_or_else(unknown)?;
            if run.tables.is_empty() {
                return Err(UndoRefusal::RunAddedNothing { run: id.0 }.into());
            }
            let operations = journal.run_operations(db.address(), id)?;
            if operations.is_empty() {
                return Err(unknown().into());
            }
            return run_subject(None, run, operations);
        }
        Target::Operation(id) => {
            let (op, undone) = journal
                .operation(db.address(), id)?
                .ok_or_else(|| unknown_operation(db, id))?;
            if undone.is_some() {
                return Err(UndoRefusal::AlreadyUndone { operation: id.0 }.into());
            }
            op
        }
        Target::Latest(table) => {
            let table_name = match table {
                Some(name) => Some(db.table_info(name)?.name),
                None => None,
            };
            latest_committed(db, journal, table_name.as_deref())?.ok_or_else(|| {
                DbError::from(match table_name {
                    Some(table) => UndoRefusal::NothingForTable { table },
                    None => UndoRefusal::NothingInDatabase {
                        path: db.display_name(),
                    },
                })
            })?
        }
    };
    match operation.run.clone() {
        None => Ok((None, Subject::One(operation))),
        Some(run) => {
            let operations = journal.run_operations(db.address(), run.id)?;
            run_subject(Some(operation.table), run, operations)
        }
    }
}

/// A run's operations not undone yet; a run all undone is refused as the operation it is
/// listed as.
fn run_subject(
    entry: Option<String>,
    run: Run,
    operations: Vec<(Operation, Option<String>)>,
) -> Result<(Option<String>, Subject), DbError> {
    let operations: Vec<Operation> = operations
        .into_iter()
        .filter(|(_, undone)| undone.is_none())
        .map(|(op, _)| op)
        .collect();
    if operations.is_empty() {
        return Err(UndoRefusal::AlreadyUndone {
            operation: run.listed_as.0,
        }
        .into());
    }
    Ok((entry, Subject::Run { run, operations }))
}

/// Every operation of a run checked first, so that a refusal about any of them leaves all
/// of them as they are.
fn check_run(
    db: &dyn Backend,
    journal: &Journal,
    entry: Option<String>,
    run: Run,
    operations: Vec<Operation>,
) -> Result<Checked, DbError> {
    let last_table = || {
        operations
            .last()
            .map(|op| op.table.clone())
            .unwrap_or_default()
    };
    if let Some(pid) = journal.run_writer(run.id)? {
        return Err(UndoRefusal::StillWriting {
            pid,
            table: last_table(),
        }
        .into());
    }
    for op in &operations {
        if let Some(pid) = journal.writer_of(op.id)? {
            return Err(UndoRefusal::StillWriting {
                pid,
                table: op.table.clone(),
            }
            .into());
        }
    }
    let mut plans = Vec::new();
    for op in &operations {
        // An operation with no rows recorded, or none ever committed, has nothing to take
        // back (a table the run reached but filled with nothing, or a crash before the
        // commit of its first batch).
        if op.rows == 0 || never_committed(db, journal, op)? {
            continue;
        }
        plans.push(check_operation(db, journal, op, run.listed_as)?);
    }
    if plans.iter().all(|p| p.ours.is_empty()) {
        return Err(blocked(
            db,
            run.listed_as,
            UndoBlock::RunNoneLeft {
                tables: run.tables.iter().map(|(t, _)| t.clone()).collect(),
                created_at: run.created_at.clone(),
            },
        ));
    }
    let table = entry
        .and_then(|asked| {
            plans
                .iter()
                .find(|p| p.table.name.eq_ignore_ascii_case(&asked))
                .map(|p| p.table.name.clone())
        })
        .or_else(|| plans.first().map(|p| p.table.name.clone()))
        .unwrap_or_default();
    Ok(Checked {
        table,
        created_at: run.created_at.clone(),
        source: run.source.clone(),
        plans,
        run: Some(run),
    })
}

pub(super) fn unknown_operation(db: &dyn Backend, id: OperationId) -> DbError {
    UndoRefusal::UnknownOperation {
        operation: id.0,
        path: db.display_name(),
    }
    .into()
}

/// A refusal the caller can follow with the history, or with `--forget listed` (the
/// operation's id, or the id its run is listed under).
fn blocked(db: &dyn Backend, listed: OperationId, why: UndoBlock) -> DbError {
    DbError::UndoBlocked {
        why,
        path: db.display_name(),
        operation: listed.0,
    }
}

/// The rows of one operation against its table as it is now: refused when the table or a
/// fingerprinted column is gone, or when any row was edited.
fn check_operation(
    db: &dyn Backend,
    journal: &Journal,
    operation: &Operation,
    listed: OperationId,
) -> Result<Plan, DbError> {
    let info = match db.table_info(&operation.table) {
        Ok(info) => info,
        Err(DbError::UnknownTable { .. }) => {
            return Err(blocked(
                db,
                listed,
                UndoBlock::TableGone {
                    table: operation.table.clone(),
                    rows: operation.rows,
                    created_at: operation.created_at.clone(),
                },
            ));
        }
        Err(e) => return Err(e),
    };
    if let Some(missing) = operation.columns.iter().find(|c| info.column(c).is_none()) {
        return Err(blocked(
            db,
            listed,
            UndoBlock::ColumnGone {
                table: info.name.clone(),
                column: missing.clone(),
            },
        ));
    }
    let (mut ours, mut gone, mut changed) = (Vec::new(), 0u64, 0u64);
    for (confirmed, recorded) in journal.batches(operation.id)? {
        let keys: Vec<RowKey> = recorded.iter().map(|r| r.key.clone()).collect();
        let current = db.read_fingerprints(&info, &operation.columns, &keys)?;
        let mut batch = (Vec::new(), 0u64, 0u64);
        for (row, (key, now)) in recorded.iter().zip(current) {
            match now {
                Some(fp) if fp == row.fingerprint => batch.0.push(key),
                Some(_) => batch.1 += 1,
                None => batch.2 += 1,
            }
        }
        // A batch recorded but never confirmed, none of whose rows is there as written,
        // never committed (a crash between the record and the commit): its rowids may
        // belong to rows the user added since, which are not ours to judge.
        if !confirmed && batch.0.is_empty() {
            continue;
        }
        ours.extend(batch.0);
        changed += batch.1;
        gone += batch.2;
    }
    if changed > 0 {
        return Err(blocked(
            db,
            listed,
            UndoBlock::RowsEdited {
                changed,
                total: ours.len() as u64 + changed + gone,
                table: info.name.clone(),
                created_at: operation.created_at.clone(),
            },
        ));
    }
    Ok(Plan {
        operation: operation.clone(),
        table: info,
        ours,
        gone,
    })
}

/// The newest operation not yet undone whose rows were ever committed. A generation
/// killed before its first commit leaves a record of batches that never reached the
/// table: that operation never happened, so it is passed over (not skipped: there is
/// nothing of it).
fn latest_committed(
    db: &dyn Backend,
    journal: &Journal,
    table: Option<&str>,
) -> Result<Option<Operation>, DbError> {
    for (operation, undone) in journal.list(db.address(), table)? {
        if undone.is_none() && !never_committed(db, journal, &operation)? {
            return Ok(Some(operation));
        }
    }
    Ok(None)
}

/// Whether no batch of `op` was ever committed: none confirmed, its writer gone, and none
/// of its recorded rows in the table as written.
fn never_committed(db: &dyn Backend, journal: &Journal, op: &Operation) -> Result<bool, DbError> {
    let batches = journal.batches(op.id)?;
    if batches.iter().any(|(confirmed, _)| *confirmed) || journal.writer_of(op.id)?.is_some() {
        return Ok(false);
    }
    let info = match db.table_info(&op.table) {
        Ok(info) => info,
        // An import into a new table that was never created.
        Err(DbError::UnknownTable { .. }) => return Ok(true),
        Err(e) => return Err(e),
    };
    if op.columns.iter().any(|c| info.column(c).is_none()) {
        return Ok(false);
    }
    for (_, recorded) in &batches {
        let keys: Vec<RowKey> = recorded.iter().map(|r| r.key.clone()).collect();
        let current = db.read_fingerprints(&info, &op.columns, &keys)?;
        let written = recorded
            .iter()
            .zip(current)
            .any(|(row, (_, now))| now == Some(row.fingerprint));
        if written {
            return Ok(false);
        }
    }
    Ok(true)
}
