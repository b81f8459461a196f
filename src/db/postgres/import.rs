//! Importing a CSV or JSON file into Postgres: the plan (`transfer::plan_import`) carried
//! out in one transaction. A new table takes Postgres types for what the values looked
//! like (bigint, double precision, boolean, text) and a primary key, so its rows can be
//! undone and generated into: the file's own `id` when it is one (unique, never empty),
//! else an identity column Postgres numbers. Each row is inserted with typed binds; a row
//! Postgres refuses rolls the whole import back and names its line. The rows are recorded
//! for undo by key before COMMIT.

use tokio_postgres::types::ToSql;

use super::Postgres;
use super::bind::BindAs;
use super::catalog::qualified;
use super::values::{as_text, from_text};
use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::journal::{RecordedRow, RowKey};
use crate::db::transfer::{
    ImportOptions, ImportOutcome, ImportPlan, ImportRefusal, InferredType, PlanRows, Progress,
    Reporter, Stage,
};
use crate::db::value::{Value, fingerprint};
use crate::db::{Backend, DbError};

/// The column a new table is keyed by when the file has no usable `id`.
const IDENTITY: &str = "id";

fn postgres_type(inferred: InferredType) -> &'static str {
    match inferred {
        InferredType::Integer => "bigint",
        InferredType::Real => "double precision",
        InferredType::Boolean => "boolean",
        InferredType::Text => "text",
    }
}

pub fn apply_import(
    db: &mut Postgres,
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportOutcome, DbError> {
    if !db.writable {
        return Err(DbError::ReadOnly {
            path: db.shown().to_string(),
        });
    }
    db.execute_batch("BEGIN")?;
    match import_in_transaction(db, plan, options, progress) {
        Ok((outcome, chunks)) => {
            if let Err(e) = db.execute_batch("COMMIT") {
                if let Some(journal) = options.journal {
                    for chunk in &chunks {
                        let _ = journal.remove_chunk(*chunk);
                    }
                }
                return Err(e);
            }
            if let Some(journal) = options.journal {
                for chunk in &chunks {
                    let _ = journal.confirm_chunk(*chunk);
                }
            }
            db.forget_tables();
            Ok(outcome)
        }
        Err(e) => {
            let _ = db.execute_batch("ROLLBACK");
            db.forget_tables();
            Err(e)
        }
    }
}

fn import_in_transaction(
    db: &Postgres,
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(ImportOutcome, Vec<crate::db::journal::ChunkId>), DbError> {
    let mut rows = PlanRows::open(plan, options)?;
    let shown = rows.shown.clone();
    let size = rows.size;
    let mut reporter = Reporter::new(progress, options.progress_every, Some(size));
    reporter.report(Stage::Writing, 0, Some(plan.rows), 0);

    // The file's own id, when it has one: keyed after the load if its values allow.
    let own_id = plan
        .columns
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(IDENTITY));
    if plan.create {
        let mut columns: Vec<String> = Vec::new();
        if !own_id {
            columns.push(format!(
                "{} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                quote(IDENTITY)
            ));
        }
        columns.extend(
            plan.columns
                .iter()
                .map(|c| format!("{} {}", quote(&c.name), postgres_type(c.inferred))),
        );
        db.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            quote(&plan.table),
            columns.join(", ")
        ))?;
    }
    let mut info: TableInfo = super::catalog::table_info(db, &plan.table)?;
    info.require_generatable()?;
    // Rows without a key could not be found again for undo: an append needs one.
    if !plan.create && info.primary_key().is_empty() {
        return Err(DbError::NoPrimaryKey {
            table: info.name.clone(),
        });
    }
    let binds: Vec<BindAs> = plan
        .columns
        .iter()
        .map(|c| {
            info.column(&c.name)
                .map(BindAs::of)
                .ok_or_else(|| ImportRefusal::ColumnGone {
                    table: info.name.clone(),
                    file: shown.clone(),
                    column: c.name.clone(),
                })
        })
        .collect::<Result<_, _>>()?;
    let append = !plan.create;
    // An append reads back each new row's key and stored values as it goes (the table
    // has other rows); a new table's rows are all the import's, read once at the end.
    let pk: Vec<String> = info.primary_key().iter().map(|c| c.name.clone()).collect();
    let visible: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
    let returning = if append {
        let list: Vec<String> = pk.iter().chain(&visible).map(|c| as_text(c)).collect();
        format!(" RETURNING {}", list.join(", "))
    } else {
        String::new()
    };
    let mut appended: Vec<RecordedRow> = Vec::new();
    let mut inserted = 0u64;
    let mut statements: std::collections::HashMap<Vec<bool>, tokio_postgres::Statement> =
        std::collections::HashMap::new();
    db.execute_batch("SET CONSTRAINTS ALL DEFERRED")?;
    while let Some(values) = rows.next()? {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let present: Vec<bool> = values.iter().map(Option::is_some).collect();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        for ((value, bind), column) in values.iter().zip(&binds).zip(&plan.columns) {
            let Some(value) = value else { continue };
            let param = bind.param(value).map_err(|why| ImportRefusal::RowRefused {
                file: shown.clone(),
                line: rows.line(),
                detail: format!("column '{}': {why}", column.name),
            })?;
            params.push(param);
        }
        let statement = match statements.get(&present) {
            Some(s) => s.clone(),
            None => {
                let mut n = 0;
                let names: Vec<String> = plan
                    .columns
                    .iter()
                    .zip(&present)
                    .filter(|(_, here)| **here)
                    .map(|(c, _)| quote(&c.name))
                    .collect();
                let placeholders: Vec<String> = binds
                    .iter()
                    .zip(&present)
                    .filter(|(_, here)| **here)
                    .map(|(b, _)| {
                        n += 1;
                        b.placeholder(n)
                    })
                    .collect();
                let sql = if names.is_empty() {
                    format!("INSERT INTO {} DEFAULT VALUES{returning}", qualified(&info))
                } else {
                    format!(
                        "INSERT INTO {} ({}) VALUES ({}){returning}",
                        qualified(&info),
                        names.join(", "),
                        placeholders.join(", ")
                    )
                };
                let s = db.wait(db.client.prepare(&sql)).map_err(|e| db.err(&e))?;
                statements.insert(present.clone(), s.clone());
                s
            }
        };
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let done = db.wait(db.client.query(&statement, &refs));
        if let (true, Ok(rows)) = (append, &done)
            && let Some(r) = rows.first()
        {
            appended.push(recorded_row(&info, &pk, &visible, r));
        }
        if let Err(e) = done {
            return Err(match e.as_db_error() {
                Some(refused) if is_row_error(refused.code().code()) => ImportRefusal::RowRefused {
                    file: shown,
                    line: rows.line(),
                    detail: refused.message().to_string(),
                }
                .into(),
                _ => db.err(&e),
            });
        }
        inserted += 1;
        if reporter.due(inserted) {
            reporter.report(
                Stage::Writing,
                inserted,
                Some(plan.rows.max(inserted)),
                rows.bytes(),
            );
        }
    }
    reporter.report(Stage::Finishing, inserted, Some(inserted), rows.bytes());
    // Deferred keys are judged now, while the import can still say so.
    if let Err(e) = db.execute_batch("SET CONSTRAINTS ALL IMMEDIATE") {
        return Err(ImportRefusal::CommitRefused {
            file: shown,
            detail: e.to_string(),
        }
        .into());
    }
    if plan.create && own_id {
        info = key_new_table(db, &info)?;
    }

    let chunks = match options.journal {
        Some(journal) if inserted > 0 => {
            let rows = if append {
                appended
            } else {
                every_row(db, &info)?
            };
            record(db, journal, &info, rows, &shown)?
        }
        _ => Vec::new(),
    };
    let new_row_count = db.count(&info)?;
    reporter.report(Stage::Finishing, inserted, Some(inserted), size);
    // The columns as Postgres typed them.
    let mut columns = plan.columns.clone();
    for c in &mut columns {
        if let Some(column) = info.column(&c.name) {
            c.sql_type = column.decl_type.clone();
        }
    }
    Ok((
        ImportOutcome {
            table: info.name.clone(),
            created: plan.create,
            rows: inserted,
            columns,
            new_row_count,
            format: plan.format,
        },
        chunks,
    ))
}

/// Class 22 (bad data) and 23 (a constraint) are about one row of the file.
fn is_row_error(code: &str) -> bool {
    code.starts_with("22") || code.starts_with("23")
}

/// Makes the file's `id` the new table's primary key when its values allow (unique,
/// never empty); otherwise adds an identity column Postgres numbers.
fn key_new_table(db: &Postgres, info: &TableInfo) -> Result<TableInfo, DbError> {
    let id = info
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(IDENTITY))
        .map(|c| c.name.clone())
        .unwrap_or_else(|| IDENTITY.to_string());
    db.execute_batch("SAVEPOINT rowsmith_key")?;
    let keyed = db.execute_batch(&format!(
        "ALTER TABLE {} ADD PRIMARY KEY ({})",
        qualified(info),
        quote(&id)
    ));
    if keyed.is_err() {
        db.execute_batch("ROLLBACK TO SAVEPOINT rowsmith_key")?;
        db.execute_batch(&format!(
            "ALTER TABLE {} ADD COLUMN rowsmith_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            qualified(info)
        ))?;
    }
    db.execute_batch("RELEASE SAVEPOINT rowsmith_key")?;
    db.forget_tables();
    super::catalog::table_info(db, &info.name)
}

fn recorded_row(
    info: &TableInfo,
    pk: &[String],
    visible: &[String],
    row: &tokio_postgres::Row,
) -> RecordedRow {
    let values: Vec<Value> = pk
        .iter()
        .chain(visible)
        .enumerate()
        .map(|(i, c)| from_text(info.column(c), row.get(i)))
        .collect();
    let (key, stored) = values.split_at(pk.len());
    RecordedRow {
        key: RowKey::Primary(key.to_vec()),
        fingerprint: fingerprint(stored),
    }
}

/// Every row of a table the import created (all of them are the import's).
fn every_row(db: &Postgres, info: &TableInfo) -> Result<Vec<RecordedRow>, DbError> {
    let pk: Vec<String> = info.primary_key().iter().map(|c| c.name.clone()).collect();
    let visible: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
    let select: Vec<String> = pk.iter().chain(&visible).map(|c| as_text(c)).collect();
    Ok(db
        .rows(
            &format!("SELECT {} FROM {}", select.join(", "), qualified(info)),
            &[],
        )?
        .iter()
        .map(|r| recorded_row(info, &pk, &visible, r))
        .collect())
}

/// Records the rows the import added, with the fingerprints undo checks, before COMMIT.
fn record(
    db: &Postgres,
    journal: &crate::db::journal::Journal,
    info: &TableInfo,
    recorded: Vec<RecordedRow>,
    shown: &str,
) -> Result<Vec<crate::db::journal::ChunkId>, DbError> {
    let columns: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
    let op = journal.begin_operation(
        std::path::Path::new(&db.given),
        &info.name,
        &format!("import {shown}"),
        &columns,
    )?;
    let mut chunks = Vec::new();
    for chunk in recorded.chunks(100_000) {
        match journal.append_chunk(op, chunk) {
            Ok(id) => chunks.push(id),
            Err(e) => {
                for c in &chunks {
                    let _ = journal.remove_chunk(*c);
                }
                return Err(e);
            }
        }
    }
    journal.finish_operation(op)?;
    Ok(chunks)
}
