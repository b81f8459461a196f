//! Export and delete on Postgres: a table's rows streamed as CSV (the CSV dialect of
//! `transfer`, values read as for every Postgres read), and a relation dropped in one
//! transaction, refused while other tables' foreign keys point at it.

use std::io::Write;

use futures_util::TryStreamExt;
use rusqlite::types::ValueRef;
use tokio_postgres::types::ToSql;

use super::Postgres;
use super::catalog::{qualified, referencing_keys};
use super::values::{as_text, from_text};
use crate::db::catalog::{Affinity, ObjectKind, ObjectSummary};
use crate::db::transfer::{
    CsvWriter, DropOutcome, DropPreview, DropRefusal, ExportOptions, ExportOutcome, Progress,
    Reporter, Stage, csv_write_error,
};
use crate::db::value::Value;
use crate::db::{Backend, DbError};

pub fn export_csv(
    db: &Postgres,
    object: &ObjectSummary,
    out: &mut dyn Write,
    options: &ExportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportOutcome, DbError> {
    let info = db.table_info(&object.name)?;
    let columns: Vec<String> = info.visible_columns().map(|c| c.name.clone()).collect();
    // Counting a table is cheap next to exporting it; a view would run twice.
    let total = if object.kind.generatable() {
        Some(db.count(&info)?)
    } else {
        None
    };
    let write_err = csv_write_error;
    let mut reporter = Reporter::new(progress, options.progress_every, None);
    reporter.report(Stage::Writing, 0, total, 0);
    let mut csv = CsvWriter::new(out).neutralize_formulas(options.neutralize_formulas);
    csv.header(&columns).map_err(write_err)?;
    let sql = format!(
        "SELECT {} FROM {}",
        columns
            .iter()
            .map(|c| as_text(c))
            .collect::<Vec<_>>()
            .join(", "),
        qualified(&info)
    );
    // A numeric keeps Postgres's exact text (`20.00`, not the float 20.0).
    let kinds: Vec<_> = columns
        .iter()
        .map(|c| info.column(c).filter(|c| c.affinity != Affinity::Numeric))
        .collect();
    let mut written = 0u64;
    let mut failure: Option<DbError> = None;
    let streamed = db.wait(async {
        let stream = db
            .client
            .query_raw(&sql, std::iter::empty::<&(dyn ToSql + Sync)>())
            .await?;
        futures_util::pin_mut!(stream);
        let mut values: Vec<Value> = Vec::with_capacity(columns.len());
        while let Some(row) = stream.try_next().await? {
            if options.cancel.is_cancelled() {
                failure = Some(DbError::Cancelled);
                break;
            }
            values.clear();
            for (i, kind) in kinds.iter().enumerate() {
                values.push(from_text(*kind, row.get(i)));
            }
            if let Err(e) = csv.row(values.iter().map(ValueRef::from)) {
                failure = Some(write_err(e));
                break;
            }
            written += 1;
            if reporter.due(written) {
                reporter.report(Stage::Writing, written, total, 0);
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    streamed.map_err(|e| db.err(&e))?;
    if let Some(e) = failure {
        return Err(e);
    }
    csv.flush().map_err(write_err)?;
    reporter.report(Stage::Writing, written, total.or(Some(written)), 0);
    Ok(ExportOutcome {
        rows: written,
        columns,
        path: None,
    })
}

pub fn preview_drop(db: &Postgres, name: &str) -> Result<DropPreview, DbError> {
    let object = db.find_object(name)?;
    let rows = db.row_count(&object)?;
    let mut referenced_by: Vec<String> = if object.kind.generatable() {
        let info = db.table_info(&object.name)?;
        referencing_keys(db, &info)?
            .into_iter()
            .map(|(child, _)| child.name)
            .filter(|child| *child != object.name)
            .collect()
    } else {
        Vec::new()
    };
    referenced_by.dedup();
    Ok(DropPreview {
        name: object.name,
        kind: object.kind,
        rows,
        referenced_by,
    })
}

pub fn drop_table(db: &mut Postgres, name: &str) -> Result<DropOutcome, DbError> {
    if !db.writable {
        return Err(DbError::ReadOnly {
            path: db.shown().to_string(),
        });
    }
    db.execute_batch("BEGIN")?;
    let dropped = (|| {
        let preview = preview_drop(db, name)?;
        if !preview.referenced_by.is_empty() {
            return Err(DropRefusal::Referenced {
                table: preview.name,
                referenced_by: preview.referenced_by,
            }
            .into());
        }
        let info = db.table_info(&preview.name)?;
        let what = match preview.kind {
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Foreign => "FOREIGN TABLE",
            _ => "TABLE",
        };
        db.execute_batch(&format!("DROP {what} {}", qualified(&info)))?;
        Ok(DropOutcome {
            name: preview.name,
            kind: preview.kind,
            rows: preview.rows,
        })
    })();
    match dropped {
        Ok(outcome) => {
            db.execute_batch("COMMIT")?;
            db.forget_tables();
            Ok(outcome)
        }
        Err(e) => {
            let _ = db.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
