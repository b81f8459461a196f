//! Deleting a table or view: a preview for the confirmation, then the drop,
//! refused while other tables' foreign keys point at it.

use serde::Serialize;

use super::refusal::DropRefusal;
use crate::db::catalog::{ObjectKind, find_object, referencing_keys, row_count};
use crate::db::ident::quote;
use crate::db::{Backend, DbError, Sqlite};

/// What deleting a table would remove, for the confirmation dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropPreview {
    pub name: String,
    pub kind: ObjectKind,
    /// Rows it holds (`None` for a virtual table whose module is missing).
    pub rows: Option<u64>,
    /// Other tables whose foreign keys point at it; non-empty means
    /// [`drop_table`] will refuse.
    pub referenced_by: Vec<String>,
}

/// What a drop removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropOutcome {
    pub name: String,
    pub kind: ObjectKind,
    pub rows: Option<u64>,
}

/// Says what deleting `name` would remove, without changing anything.
pub fn preview_drop(db: &dyn Backend, name: &str) -> Result<DropPreview, DbError> {
    db.preview_drop(name)
}

/// Deletes a table (with its rows, indexes and triggers) or a view. Refuses
/// when other tables have foreign keys pointing at it.
pub fn drop_table(db: &mut dyn Backend, name: &str) -> Result<DropOutcome, DbError> {
    db.drop_table(name)
}

/// SQLite: what deleting `name` would remove.
pub(crate) fn preview_sqlite(db: &Sqlite, name: &str) -> Result<DropPreview, DbError> {
    let object = find_object(db, name)?;
    let rows = row_count(db, &object)?;
    let referenced_by = if object.kind == ObjectKind::View {
        Vec::new()
    } else {
        referencing_tables(db, &object.name)?
    };
    Ok(DropPreview {
        name: object.name,
        kind: object.kind,
        rows,
        referenced_by,
    })
}

/// Tables other than `table` with a foreign key pointing at it.
fn referencing_tables(db: &Sqlite, table: &str) -> Result<Vec<String>, DbError> {
    let mut names: Vec<String> = referencing_keys(db, table)?
        .into_iter()
        .map(|(child, _)| child)
        .filter(|child| !child.eq_ignore_ascii_case(table))
        .collect();
    names.dedup();
    Ok(names)
}

/// SQLite: deletes `name` in one write transaction.
pub(crate) fn drop_sqlite(db: &mut Sqlite, name: &str) -> Result<DropOutcome, DbError> {
    db.require_writable()?;
    let db: &Sqlite = db;
    let tx = crate::db::write_transaction(db.conn()).map_err(|e| db.err(e))?;
    let preview = preview_sqlite(db, name)?;
    if !preview.referenced_by.is_empty() {
        return Err(DropRefusal::Referenced {
            table: preview.name,
            referenced_by: preview.referenced_by,
        }
        .into());
    }
    let what = if preview.kind == ObjectKind::View {
        "VIEW"
    } else {
        "TABLE"
    };
    db.conn()
        .execute_batch(&format!("DROP {what} main.{}", quote(&preview.name)))
        .map_err(|e| db.err(e))?;
    tx.commit().map_err(|e| db.err(e))?;
    Ok(DropOutcome {
        name: preview.name,
        kind: preview.kind,
        rows: preview.rows,
    })
}
