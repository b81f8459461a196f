//! Inserts batches of candidate rows and lets SQLite judge each one.
//!
//! A batch is one transaction. Each row is inserted on its own (inside a
//! SAVEPOINT when triggers or deferred keys could leave partial effects):
//! if SQLite refuses it (NOT NULL, UNIQUE, CHECK, foreign key, STRICT type, a
//! trigger's RAISE) only that row is rolled back and its reason kept, and the
//! other rows go on. Values are always bound as parameters. Any failure that
//! is not about one row, or a cancellation, rolls the whole batch back.

use std::borrow::Cow;
use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, params_from_iter};
use serde::Serialize;

use super::catalog::{ColumnKind, ForeignKey, TableInfo};
use super::ident::{quote, quote_list};
use super::journal::{ChunkId, Journal, OperationId, RecordedRow, RowKey};
use super::sample::rowid_name;
use super::value::fingerprint;
use super::{CancelFlag, DbError, Sqlite};

/// A row SQLite accepted, with the key it was stored under.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accepted {
    /// Position of the row in the batch.
    pub index: usize,
    pub key: RowKey,
}

/// A row SQLite (or our own checks) refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchOutcome {
    pub accepted: Vec<Accepted>,
    pub rejected: Vec<Rejected>,
}

/// A candidate row: one slot per writer column. A `None` slot leaves the
/// column to its default.
pub trait RowValues {
    fn width(&self) -> usize;
    fn slot(&self, i: usize) -> Option<&Value>;
}

impl RowValues for Vec<Value> {
    fn width(&self) -> usize {
        self.len()
    }
    fn slot(&self, i: usize) -> Option<&Value> {
        self.get(i)
    }
}

impl RowValues for Vec<Option<Value>> {
    fn width(&self) -> usize {
        self.len()
    }
    fn slot(&self, i: usize) -> Option<&Value> {
        self.get(i).and_then(Option::as_ref)
    }
}

/// How a batch is written.
pub struct WriteOptions<'a> {
    pub journal: Option<&'a JournalTarget<'a>>,
    pub cancel: &'a CancelFlag,
    /// Judge every row, then roll back.
    pub dry_run: bool,
}

/// Where the batch is recorded for undo.
pub struct JournalTarget<'a> {
    pub journal: &'a Journal,
    pub operation: OperationId,
}

/// The table's own names of `columns`, refused when one is not there or is one the
/// database fills itself (generated, identity): every engine's writer starts here.
pub fn writable_columns(table: &TableInfo, columns: &[String]) -> Result<Vec<String>, DbError> {
    let mut resolved = Vec::with_capacity(columns.len());
    for name in columns {
        super::ident::validate(name)?;
        let column = table.column(name).ok_or_else(|| DbError::UnknownColumn {
            table: table.name.clone(),
            column: name.clone(),
        })?;
        if column.kind != ColumnKind::Normal {
            return Err(DbError::ComputedColumn {
                table: table.name.clone(),
                column: column.name.clone(),
            });
        }
        resolved.push(column.name.clone());
    }
    Ok(resolved)
}

/// The columns whose values the undo journal fingerprints: every visible one, in table
/// order, whatever the engine.
pub fn fingerprint_columns(table: &TableInfo) -> Vec<String> {
    table.visible_columns().map(|c| c.name.clone()).collect()
}

/// Writes batches of rows for one set of columns of one table.
pub struct BatchWriter<'t> {
    table: &'t TableInfo,
    columns: Vec<String>,
    insert_sql: String,
    /// ` RETURNING <primary key>` for WITHOUT ROWID tables, else empty.
    returning: String,
    /// Columns covered by the fingerprints, in table order.
    fingerprint_columns: Vec<String>,
    key: KeyShape,
}

/// How the writer reads back the key of an inserted row.
enum KeyShape {
    Rowid(&'static str),
    Primary(Vec<String>),
}

impl<'t> BatchWriter<'t> {
    /// Prepares to insert `columns` of `table`. Columns SQLite computes
    /// (generated columns) cannot be written and are refused here.
    pub fn new(table: &'t TableInfo, columns: &[String]) -> Result<Self, DbError> {
        table.require_generatable()?;
        let resolved = writable_columns(table, columns)?;
        let key = if table.has_rowid() {
            KeyShape::Rowid(rowid_name(table).ok_or_else(|| DbError::RowidShadowed {
                table: table.name.clone(),
            })?)
        } else {
            KeyShape::Primary(table.primary_key().iter().map(|c| c.name.clone()).collect())
        };
        // Rowid tables read the key from last_insert_rowid(), which is cheaper
        // than RETURNING; WITHOUT ROWID tables return their primary key.
        let returning = match &key {
            KeyShape::Rowid(_) => String::new(),
            KeyShape::Primary(cols) => {
                format!(" RETURNING {}", quote_list(cols.iter().map(String::as_str)))
            }
        };
        let insert_sql = insert_sql(
            table,
            &resolved.iter().map(String::as_str).collect::<Vec<_>>(),
            &returning,
        );
        let fingerprint_columns = fingerprint_columns(table);
        Ok(Self {
            table,
            columns: resolved,
            insert_sql,
            returning,
            fingerprint_columns,
            key,
        })
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The columns whose values the journal fingerprints.
    pub fn fingerprint_columns(&self) -> &[String] {
        &self.fingerprint_columns
    }

    /// Inserts `rows` (each aligned with the writer's columns) in one
    /// transaction and commits. The batch is recorded in `journal` before
    /// the commit. On cancellation or any error nothing is written.
    pub fn write<R: RowValues>(
        &self,
        db: &mut Sqlite,
        rows: &[R],
        journal: Option<&JournalTarget<'_>>,
        cancel: &CancelFlag,
    ) -> Result<BatchOutcome, DbError> {
        self.write_with(
            db,
            rows,
            &WriteOptions {
                journal,
                cancel,
                dry_run: false,
            },
        )
    }

    /// Like [`write`](Self::write), with every option. A dry run lets SQLite
    /// judge each row, then rolls everything back.
    pub fn write_with<R: RowValues>(
        &self,
        db: &mut Sqlite,
        rows: &[R],
        options: &WriteOptions<'_>,
    ) -> Result<BatchOutcome, DbError> {
        if !options.dry_run {
            db.require_writable()?;
        }
        let path = db.display_path();
        let err = |e: rusqlite::Error| DbError::from_sqlite(e, &path);
        let tx = super::write_transaction(db.conn()).map_err(err)?;
        let outcome = self.insert_rows(&tx, rows, options.cancel, &path)?;
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        if options.dry_run {
            tx.rollback().map_err(err)?;
            return Ok(outcome);
        }
        let chunk = match options.journal {
            Some(target) if !outcome.accepted.is_empty() => {
                let recorded = self
                    .recorded_rows(&tx, rows, &outcome.accepted)
                    .map_err(err)?;
                Some((
                    target,
                    target.journal.append_chunk(target.operation, &recorded)?,
                ))
            }
            _ => None,
        };
        if let Err(e) = tx.commit() {
            forget(chunk);
            return Err(err(e));
        }
        if let Some((target, id)) = chunk {
            // Best effort: an unconfirmed chunk whose rows are there still counts as
            // committed when undo checks it.
            let _ = target.journal.confirm_chunk(id);
        }
        Ok(outcome)
    }

    fn insert_rows<R: RowValues>(
        &self,
        conn: &Connection,
        rows: &[R],
        cancel: &CancelFlag,
        path: &str,
    ) -> Result<BatchOutcome, DbError> {
        let err = |e: rusqlite::Error| DbError::from_sqlite(e, path);
        let mut insert = conn.prepare_cached(&self.insert_sql).map_err(err)?;
        let mut outcome = BatchOutcome::default();
        let deferred: Vec<&ForeignKey> = self
            .table
            .foreign_keys
            .iter()
            .filter(|k| k.deferred)
            .collect();
        // A failed INSERT is undone by SQLite itself (statement atomicity),
        // so a per-row SAVEPOINT only matters when more than that statement
        // can happen: triggers (RAISE(FAIL) keeps their earlier effects) and
        // deferred keys we check after the insert.
        let isolate = !deferred.is_empty() || has_triggers(conn, &self.table.name).map_err(err)?;
        let mut savepoint = conn.prepare_cached("SAVEPOINT rowsmith_row").map_err(err)?;
        let mut release = conn.prepare_cached("RELEASE rowsmith_row").map_err(err)?;
        let mut rollback = conn
            .prepare_cached("ROLLBACK TO rowsmith_row")
            .map_err(err)?;
        for (index, row) in rows.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(DbError::Cancelled);
            }
            if row.width() != self.columns.len() {
                outcome.rejected.push(Rejected {
                    index,
                    reason: format!(
                        "the row has {} values for {} columns",
                        row.width(),
                        self.columns.len()
                    ),
                });
                continue;
            }
            if isolate {
                savepoint.execute([]).map_err(err)?;
            }
            let complete = (0..row.width()).all(|i| row.slot(i).is_some());
            let inserted = if complete {
                self.insert_one(
                    conn,
                    &mut insert,
                    (0..row.width()).filter_map(|i| row.slot(i)),
                )
            } else {
                // Missing values take the column's default: leave them out.
                let present: Vec<usize> = (0..row.width())
                    .filter(|&i| row.slot(i).is_some())
                    .collect();
                let names: Vec<&str> = present.iter().map(|&i| self.columns[i].as_str()).collect();
                conn.prepare_cached(&insert_sql(self.table, &names, &self.returning))
                    .and_then(|mut stmt| {
                        self.insert_one(
                            conn,
                            &mut stmt,
                            present.iter().filter_map(|&i| row.slot(i)),
                        )
                    })
            };
            let verdict = match inserted {
                Ok(None) => Err(format!(
                    "a trigger on '{}' ignored the row (RAISE(IGNORE)), so it was not added",
                    self.table.name
                )),
                Ok(Some(key)) => match self.deferred_violation(conn, &deferred, &key) {
                    Ok(None) => Ok(key),
                    Ok(Some(reason)) => Err(reason),
                    Err(e) => return Err(err(e)),
                },
                Err(e) if is_row_error(&e) => {
                    if conn.is_autocommit() {
                        // A trigger ran RAISE(ROLLBACK): the batch is gone.
                        return Err(DbError::TriggerRolledBack {
                            table: self.table.name.clone(),
                            detail: sqlite_message(&e),
                        });
                    }
                    Err(self.explain(conn, row, &e))
                }
                Err(e) => return Err(err(e)),
            };
            match verdict {
                Ok(key) => {
                    if isolate {
                        release.execute([]).map_err(err)?;
                    }
                    outcome.accepted.push(Accepted { index, key });
                }
                Err(reason) => {
                    if isolate {
                        rollback.execute([]).map_err(err)?;
                        release.execute([]).map_err(err)?;
                    }
                    outcome.rejected.push(Rejected { index, reason });
                }
            }
        }
        Ok(outcome)
    }

    /// Runs one insert and reads the new row's key.
    fn insert_one<'v>(
        &self,
        conn: &Connection,
        stmt: &mut rusqlite::CachedStatement<'_>,
        values: impl Iterator<Item = &'v Value>,
    ) -> rusqlite::Result<Option<RowKey>> {
        // `None`: a trigger's RAISE(IGNORE) dropped the row without an error. Nothing was
        // inserted, so there is no key to record (the last rowid is an older row's).
        match &self.key {
            KeyShape::Rowid(_) => {
                let changed = stmt.execute(params_from_iter(values))?;
                Ok((changed > 0).then(|| RowKey::Rowid(conn.last_insert_rowid())))
            }
            KeyShape::Primary(_) => {
                match stmt.query_row(params_from_iter(values), |r| self.read_key(r)) {
                    Ok(key) => Ok(Some(key)),
                    Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }

    fn read_key(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<RowKey> {
        match &self.key {
            KeyShape::Rowid(_) => Ok(RowKey::Rowid(row.get(0)?)),
            KeyShape::Primary(cols) => Ok(RowKey::Primary(
                (0..cols.len())
                    .map(|i| super::value::value_at(row, i))
                    .collect::<rusqlite::Result<_>>()?,
            )),
        }
    }

    /// Deferred foreign keys are only checked at COMMIT, which would fail the
    /// whole batch; check them for this row now instead.
    fn deferred_violation(
        &self,
        conn: &Connection,
        deferred: &[&ForeignKey],
        key: &RowKey,
    ) -> rusqlite::Result<Option<String>> {
        for fk in deferred {
            let (filter, params) = self.key_filter(key);
            let child_cols: Vec<String> =
                fk.from.iter().map(|c| format!("c.{}", quote(c))).collect();
            let sql = format!(
                "SELECT 1 FROM main.{child} AS c WHERE {filter} AND {present} AND NOT EXISTS \
                 (SELECT 1 FROM main.{parent} AS p WHERE ({to}) = ({from}))",
                child = self.table.quoted(),
                present = child_cols
                    .iter()
                    .map(|c| format!("{c} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
                parent = quote(&fk.table),
                to = fk
                    .to
                    .iter()
                    .map(|c| format!("p.{}", quote(c)))
                    .collect::<Vec<_>>()
                    .join(", "),
                from = child_cols.join(", "),
            );
            let violated = conn
                .prepare_cached(&sql)?
                .exists(params_from_iter(params.iter()))?;
            if violated {
                return Ok(Some(fk_reason(&self.table.name, fk)));
            }
        }
        Ok(None)
    }

    /// A WHERE fragment (on alias `c`) matching one row by key.
    fn key_filter(&self, key: &RowKey) -> (String, Vec<Value>) {
        match (&self.key, key) {
            (KeyShape::Rowid(name), RowKey::Rowid(id)) => {
                (format!("c.{name} = ?1"), vec![Value::Integer(*id)])
            }
            (KeyShape::Primary(cols), RowKey::Primary(values)) => (
                format!(
                    "({}) = ({})",
                    cols.iter()
                        .map(|c| format!("c.{}", quote(c)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    (1..=cols.len())
                        .map(|i| format!("?{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                values.clone(),
            ),
            _ => ("0".into(), Vec::new()),
        }
    }

    /// SQLite's reason, made specific where SQLite is vague: a failed foreign
    /// key names the key that has no parent row.
    fn explain<R: RowValues>(&self, conn: &Connection, row: &R, e: &rusqlite::Error) -> String {
        let message = sqlite_message(e);
        if !message.starts_with("FOREIGN KEY constraint failed") {
            return message;
        }
        for fk in &self.table.foreign_keys {
            let values: Option<Vec<&Value>> = fk
                .from
                .iter()
                .map(|c| {
                    self.columns
                        .iter()
                        .position(|x| x.eq_ignore_ascii_case(c))
                        .and_then(|i| row.slot(i))
                })
                .collect();
            let Some(values) = values else { continue };
            if values.iter().any(|v| matches!(v, Value::Null)) {
                continue;
            }
            let sql = format!(
                "SELECT 1 FROM main.{} WHERE ({}) = ({})",
                quote(&fk.table),
                quote_list(fk.to.iter().map(String::as_str)),
                (1..=values.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let exists = conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.exists(params_from_iter(values.iter())));
            if let Ok(false) = exists {
                return fk_reason(&self.table.name, fk);
            }
        }
        message
    }

    /// Reads the accepted rows back (after triggers and defaults) and
    /// fingerprints them for the journal.
    fn recorded_rows<R: RowValues>(
        &self,
        conn: &Connection,
        rows: &[R],
        accepted: &[Accepted],
    ) -> rusqlite::Result<Vec<RecordedRow>> {
        // Where SQLite stores exactly what was bound (no triggers, defaults
        // or computed columns, values already in the column's type), the
        // fingerprint comes from the values; the rest are read back.
        let layout = if has_triggers(conn, &self.table.name)? {
            None
        } else {
            self.stored_layout()
        };
        let mut recorded = Vec::with_capacity(accepted.len());
        let mut unknown: Vec<&Accepted> = Vec::new();
        for a in accepted {
            match layout
                .as_ref()
                .and_then(|l| self.predicted_fingerprint(l, &rows[a.index], &a.key))
            {
                Some(fingerprint) => recorded.push(RecordedRow {
                    key: a.key.clone(),
                    fingerprint,
                }),
                None => unknown.push(a),
            }
        }
        if !unknown.is_empty() {
            let found = read_fingerprints(
                conn,
                self.table,
                &self.fingerprint_columns,
                unknown.iter().map(|a| &a.key),
            )?;
            recorded.extend(
                found
                    .into_iter()
                    .filter_map(|(key, fp)| fp.map(|fingerprint| RecordedRow { key, fingerprint })),
            );
        }
        Ok(recorded)
    }

    /// For each fingerprinted column: where its stored value comes from, or
    /// `None` when some column is filled by SQLite (defaults, generated).
    fn stored_layout(&self) -> Option<Vec<Stored>> {
        self.fingerprint_columns
            .iter()
            .map(|name| {
                let column = self.table.column(name)?;
                if column.kind != ColumnKind::Normal {
                    return None;
                }
                match self.columns.iter().position(|c| c == name) {
                    Some(_) if column.rowid_alias => Some(Stored::Key),
                    Some(i) => Some(Stored::Bound {
                        index: i,
                        affinity: column.affinity,
                        keeps_any: self.table.strict
                            && column.decl_type.eq_ignore_ascii_case("ANY"),
                    }),
                    None if column.rowid_alias => Some(Stored::Key),
                    None => None,
                }
            })
            .collect()
    }

    fn predicted_fingerprint<R: RowValues>(
        &self,
        layout: &[Stored],
        row: &R,
        key: &RowKey,
    ) -> Option<u64> {
        let mut values: Vec<Cow<'_, Value>> = Vec::with_capacity(layout.len());
        for stored in layout {
            values.push(match stored {
                Stored::Key => match key {
                    RowKey::Rowid(id) => Cow::Owned(Value::Integer(*id)),
                    RowKey::Primary(_) => return None,
                },
                Stored::Bound {
                    index,
                    affinity,
                    keeps_any,
                } => {
                    let v = row.slot(*index)?;
                    if *keeps_any {
                        Cow::Borrowed(v)
                    } else {
                        stored_as(v, *affinity)?
                    }
                }
            });
        }
        Some(crate::db::value::fingerprint_of(
            values.iter().map(|v| v.as_ref()),
        ))
    }
}

/// Where a fingerprinted column's stored value comes from.
enum Stored {
    /// The rowid (its alias column, bound or not).
    Key,
    /// The bound value at `index`, after the column's affinity.
    Bound {
        index: usize,
        affinity: crate::db::catalog::Affinity,
        keeps_any: bool,
    },
}

/// The value SQLite stores for `v` in a column of `affinity`, when that is
/// certain without asking SQLite; `None` when it is not (number-like text in
/// a numeric column, a real in a text column).
fn stored_as(v: &Value, affinity: crate::db::catalog::Affinity) -> Option<Cow<'_, Value>> {
    use crate::db::catalog::Affinity::*;
    Some(match (v, affinity) {
        (Value::Null, _) | (Value::Blob(_), _) => Cow::Borrowed(v),
        (Value::Integer(_), Integer | Numeric | Blob) => Cow::Borrowed(v),
        (Value::Integer(i), Real) => Cow::Owned(Value::Real(*i as f64)),
        (Value::Integer(i), Text) => Cow::Owned(Value::Text(i.to_string())),
        (Value::Real(_), Real | Blob) => Cow::Borrowed(v),
        (Value::Real(f), Integer | Numeric) => {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Cow::Owned(Value::Integer(*f as i64))
            } else if f.is_finite() && f.abs() < 9.0e15 {
                Cow::Borrowed(v)
            } else {
                return None;
            }
        }
        (Value::Real(_), Text) => return None,
        (Value::Text(_), Text | Blob) => Cow::Borrowed(v),
        (Value::Text(s), Integer | Real | Numeric) => {
            let t = s.trim();
            let numeric_looking = t.parse::<f64>().is_ok()
                || t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
            if numeric_looking || t.len() != s.len() {
                return None;
            }
            Cow::Borrowed(v)
        }
    })
}

/// `INSERT OR ABORT INTO t (columns) VALUES (?, ...)` plus `returning`.
/// OR ABORT overrides ON CONFLICT REPLACE/IGNORE clauses in the schema,
/// which would otherwise delete existing rows or drop ours silently.
fn insert_sql(table: &TableInfo, columns: &[&str], returning: &str) -> String {
    if columns.is_empty() {
        return format!(
            "INSERT OR ABORT INTO main.{} DEFAULT VALUES{returning}",
            table.quoted()
        );
    }
    format!(
        "INSERT OR ABORT INTO main.{} ({}) VALUES ({}){returning}",
        table.quoted(),
        quote_list(columns.iter().copied()),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Whether any trigger (of the file or of this connection's TEMP schema)
/// fires on `table`.
fn has_triggers(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE \
         UNION ALL SELECT 1 FROM temp.sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE",
    )?
    .exists([table])
}

fn forget(chunk: Option<(&JournalTarget<'_>, ChunkId)>) {
    if let Some((target, id)) = chunk {
        // Best effort: a stale record is harmless, undo verifies rows first.
        let _ = target.journal.remove_chunk(id);
    }
}

fn fk_reason(table: &str, fk: &ForeignKey) -> String {
    format!(
        "FOREIGN KEY constraint failed: {table}({}) has no matching row in {}({})",
        fk.from.join(", "),
        fk.table,
        fk.to.join(", ")
    )
}

/// Errors that concern one row, not the database or the connection.
fn is_row_error(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig | ErrorCode::Unknown)
    )
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqliteFailure(f, None) => f.to_string(),
        other => other.to_string(),
    }
}

/// The rows with these keys as they are now, fingerprinted over `columns` (the
/// operation's, [`BatchWriter::fingerprint_columns`]): what
/// [`Journal::update_fingerprints`] takes after a run updated rows it inserted. Read on
/// the connection's own view, so inside the transaction that updated them too. A key
/// with no row is left out.
pub fn fingerprints_now(
    db: &Sqlite,
    table: &TableInfo,
    columns: &[String],
    keys: &[RowKey],
) -> Result<Vec<RecordedRow>, DbError> {
    let now = read_fingerprints(db.conn(), table, columns, keys.iter()).map_err(|e| db.err(e))?;
    Ok(now
        .into_iter()
        .filter_map(|(key, fp)| fp.map(|fingerprint| RecordedRow { key, fingerprint }))
        .collect())
}

/// Reads the current fingerprint of each keyed row over `columns`; `None`
/// when the row no longer exists. Shared by the writer and undo.
pub(crate) fn read_fingerprints<'k>(
    conn: &Connection,
    table: &TableInfo,
    columns: &[String],
    keys: impl Iterator<Item = &'k RowKey>,
) -> rusqlite::Result<Vec<(RowKey, Option<u64>)>> {
    read_keyed(conn, table, columns, keys, |values| fingerprint(&values))
}

/// Reads `columns` of each keyed row (rowids in chunks through `rarray`, primary keys one
/// lookup each) and makes `of` of their values; `None` when the row no longer exists.
pub(crate) fn read_keyed<'k, T>(
    conn: &Connection,
    table: &TableInfo,
    columns: &[String],
    keys: impl Iterator<Item = &'k RowKey>,
    of: impl Fn(Vec<Value>) -> T,
) -> rusqlite::Result<Vec<(RowKey, Option<T>)>> {
    let select = quote_list(columns.iter().map(String::as_str));
    let keys: Vec<&RowKey> = keys.collect();
    let mut out = Vec::with_capacity(keys.len());
    if table.has_rowid() {
        let Some(rowid) = rowid_name(table) else {
            return Ok(out);
        };
        let sql = format!(
            "SELECT {rowid}, {select} FROM main.{} WHERE {rowid} IN rarray(?1)",
            table.quoted()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut found = std::collections::HashMap::new();
        for chunk in keys.chunks(10_000) {
            let ids: Vec<Value> = chunk
                .iter()
                .filter_map(|k| match k {
                    RowKey::Rowid(id) => Some(Value::Integer(*id)),
                    RowKey::Primary(_) => None,
                })
                .collect();
            let mut rows = stmt.query([Rc::new(ids)])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let values: Vec<Value> = (1..=columns.len())
                    .map(|i| super::value::value_at(row, i))
                    .collect::<rusqlite::Result<_>>()?;
                found.insert(id, of(values));
            }
        }
        for key in keys {
            let value = match key {
                RowKey::Rowid(id) => found.remove(id),
                RowKey::Primary(_) => None,
            };
            out.push((key.clone(), value));
        }
    } else {
        let pk: Vec<String> = table.primary_key().iter().map(|c| quote(&c.name)).collect();
        let sql = format!(
            "SELECT {select} FROM main.{} WHERE ({}) = ({})",
            table.quoted(),
            pk.join(", "),
            (1..=pk.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        for key in keys {
            let value = match key {
                RowKey::Primary(values) => {
                    let mut rows = stmt.query(params_from_iter(values.iter()))?;
                    match rows.next()? {
                        Some(row) => Some(of((0..columns.len())
                            .map(|i| super::value::value_at(row, i))
                            .collect::<rusqlite::Result<_>>()?)),
                        None => None,
                    }
                }
                RowKey::Rowid(_) => None,
            };
            out.push((key.clone(), value));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use crate::db::catalog::Affinity;

    /// Every prediction of `stored_as` matches what SQLite really stores.
    #[test]
    fn predicted_storage_matches_sqlite() -> TestResult {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE t (i INTEGER, r REAL, n NUMERIC, s TEXT, b BLOB)")?;
        let values = [
            Value::Null,
            Value::Integer(0),
            Value::Integer(-42),
            Value::Integer(i64::MAX),
            Value::Real(2.0),
            Value::Real(-0.5),
            Value::Real(1e20),
            Value::Real(2.71),
            Value::Text("42".into()),
            Value::Text("plain".into()),
            Value::Text("".into()),
            Value::Text("2024-01-01".into()),
            Value::Text(" 7".into()),
            Value::Blob(vec![0, 1, 2]),
        ];
        let affinities = [
            Affinity::Integer,
            Affinity::Real,
            Affinity::Numeric,
            Affinity::Text,
            Affinity::Blob,
        ];
        let mut checked = 0;
        for v in &values {
            conn.execute("DELETE FROM t", [])?;
            conn.execute("INSERT INTO t VALUES (?1, ?1, ?1, ?1, ?1)", [v])?;
            let stored: Vec<Value> = conn.query_row("SELECT i, r, n, s, b FROM t", [], |r| {
                (0..5).map(|i| r.get(i)).collect()
            })?;
            for (k, affinity) in affinities.iter().enumerate() {
                if let Some(predicted) = stored_as(v, *affinity) {
                    assert_eq!(*predicted, stored[k], "{v:?} in a {affinity:?} column");
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "most cases are predicted ({checked})");
        Ok(())
    }
}
