//! Inserting a batch into Postgres: one transaction, a SAVEPOINT per row (an error inside
//! a Postgres transaction spoils the whole of it, so each row must be able to fail
//! alone), values bound with their column's type (see `bind`), and the new row's key and
//! stored values read back with `RETURNING`, so identity and serial numbers, defaults
//! and what BEFORE triggers did are known exactly. The undo journal records each row by
//! its primary key and a fingerprint of those stored values.

use std::collections::HashMap;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::Postgres;
use super::bind::BindAs;
use super::catalog::qualified;
use super::values::{as_text, from_text};
use crate::db::DbError;
use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::journal::{RecordedRow, RowKey};
use crate::db::value::{Value, fingerprint};
use crate::db::write::{
    Accepted, BatchOutcome, Rejected, WriteOptions, fingerprint_columns, writable_columns,
};

pub fn write_rows(
    db: &mut Postgres,
    table: &TableInfo,
    columns: &[String],
    rows: &[Vec<Option<Value>>],
    options: &WriteOptions<'_>,
) -> Result<BatchOutcome, DbError> {
    if !options.dry_run && !db.writable {
        return Err(DbError::ReadOnly {
            path: db.shown().to_string(),
        });
    }
    table.require_generatable()?;
    let columns = &writable_columns(table, columns)?;
    let key: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
    if key.is_empty() {
        return Err(DbError::NoPrimaryKey {
            table: table.name.clone(),
        });
    }
    let binds: Vec<BindAs> = columns
        .iter()
        .filter_map(|c| table.column(c))
        .map(BindAs::of)
        .collect();
    let stored = fingerprint_columns(table);
    let returning: Vec<String> = key.iter().chain(&stored).map(|c| as_text(c)).collect();
    let writer = Writer {
        table,
        columns,
        binds: &binds,
        key: &key,
        stored: &stored,
        returning: returning.join(", "),
    };

    db.execute_batch("BEGIN")?;
    let result = writer.insert_all(db, rows, options);
    let outcome = match result {
        Ok(outcome) if !options.cancel.is_cancelled() => outcome,
        Ok(_) => {
            let _ = db.execute_batch("ROLLBACK");
            return Err(DbError::Cancelled);
        }
        Err(e) => {
            let _ = db.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    if options.dry_run {
        db.execute_batch("ROLLBACK")?;
        return Ok(outcome.outcome);
    }
    let chunk = match options.journal {
        Some(target) if !outcome.recorded.is_empty() => {
            match target
                .journal
                .append_chunk(target.operation, &outcome.recorded)
            {
                Ok(id) => Some((target, id)),
                Err(e) => {
                    let _ = db.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    if let Err(e) = db.execute_batch("COMMIT") {
        if let Some((target, id)) = chunk {
            let _ = target.journal.remove_chunk(id);
        }
        return Err(e);
    }
    if let Some((target, id)) = chunk {
        // Best effort: an unconfirmed chunk whose rows are there still counts as
        // committed when undo checks it.
        let _ = target.journal.confirm_chunk(id);
    }
    Ok(outcome.outcome)
}

struct Writer<'a> {
    table: &'a TableInfo,
    columns: &'a [String],
    binds: &'a [BindAs],
    key: &'a [String],
    stored: &'a [String],
    returning: String,
}

struct Written {
    outcome: BatchOutcome,
    recorded: Vec<RecordedRow>,
}

/// A row ready to insert: its place in the batch, which values it gives, and them bound.
struct Ready {
    index: usize,
    present: Vec<bool>,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

/// Rows one multi-row INSERT carries at most (and Postgres takes 65,535 parameters).
const ROWS_PER_INSERT: usize = 500;

impl Writer<'_> {
    /// Every row of the batch, judged by Postgres. Rows that give the same columns go in
    /// multi-row INSERTs, each under a savepoint; when Postgres refuses one of them (or a
    /// trigger skips a row), that INSERT is rolled back and its rows go in one at a time,
    /// each under its own savepoint, so the refused row alone is turned away with its
    /// reason. Postgres returns the rows of `INSERT … VALUES … RETURNING` in the order of
    /// the VALUES, which is how each returned key finds its row.
    fn insert_all(
        &self,
        db: &Postgres,
        rows: &[Vec<Option<Value>>],
        options: &WriteOptions<'_>,
    ) -> Result<Written, DbError> {
        let mut written = Written {
            outcome: BatchOutcome::default(),
            recorded: Vec::new(),
        };
        let mut ready = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                written.outcome.rejected.push(Rejected {
                    index,
                    reason: format!(
                        "the row has {} values for {} columns",
                        row.len(),
                        self.columns.len()
                    ),
                });
                continue;
            }
            match self.params(row) {
                Ok(params) => ready.push(Ready {
                    index,
                    present: row.iter().map(Option::is_some).collect(),
                    params,
                }),
                Err(reason) => written.outcome.rejected.push(Rejected { index, reason }),
            }
        }
        let mut statements: HashMap<Vec<bool>, tokio_postgres::Statement> = HashMap::new();
        let mut rest = ready.into_iter().peekable();
        while let Some(first) = rest.next() {
            let mut group = vec![first];
            while group.len() < ROWS_PER_INSERT
                && rest.peek().is_some_and(|r| r.present == group[0].present)
            {
                group.extend(rest.next());
            }
            self.insert_group(db, &mut statements, group, options, &mut written)?;
        }
        written.outcome.accepted.sort_by_key(|a| a.index);
        written.outcome.rejected.sort_by_key(|r| r.index);
        Ok(written)
    }

    /// Rows giving the same columns: all in one INSERT when Postgres takes them all, else
    /// halves of them the same way, down to the refused rows alone, so one bad row among
    /// many costs a few statements rather than one per row.
    fn insert_group(
        &self,
        db: &Postgres,
        statements: &mut HashMap<Vec<bool>, tokio_postgres::Statement>,
        mut group: Vec<Ready>,
        options: &WriteOptions<'_>,
        written: &mut Written,
    ) -> Result<(), DbError> {
        if options.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        if group.len() <= 1 {
            return match group.pop() {
                Some(row) => self.insert_one(db, statements, row, written),
                None => Ok(()),
            };
        }
        if self.insert_many(db, &group, written)? {
            return Ok(());
        }
        let second = group.split_off(group.len() / 2);
        self.insert_group(db, statements, group, options, written)?;
        self.insert_group(db, statements, second, options, written)
    }

    /// One INSERT of `group` (rows giving the same columns) under a savepoint; `false`
    /// when Postgres refused a row of it or a trigger skipped one, and nothing of it stays.
    fn insert_many(
        &self,
        db: &Postgres,
        group: &[Ready],
        written: &mut Written,
    ) -> Result<bool, DbError> {
        let sql = self.insert_sql_rows(&group[0].present, group.len());
        if sql.is_empty() {
            return Ok(false);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = group
            .iter()
            .flat_map(|r| r.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)))
            .collect();
        db.execute_batch("SAVEPOINT rowsmith_rows")?;
        match db.wait(db.client.query(sql.as_str(), &refs)) {
            Ok(returned) if returned.len() == group.len() => {
                db.execute_batch("RELEASE SAVEPOINT rowsmith_rows")?;
                for (row, r) in group.iter().zip(&returned) {
                    self.accept(row.index, r, written);
                }
                Ok(true)
            }
            Ok(_) => {
                db.execute_batch("ROLLBACK TO SAVEPOINT rowsmith_rows")?;
                Ok(false)
            }
            Err(e) if is_row_error(&e) => {
                db.execute_batch("ROLLBACK TO SAVEPOINT rowsmith_rows")?;
                Ok(false)
            }
            Err(e) => Err(db.err(&e)),
        }
    }

    fn accept(&self, index: usize, r: &tokio_postgres::Row, written: &mut Written) {
        let values: Vec<Value> = self
            .key
            .iter()
            .chain(self.stored)
            .enumerate()
            .map(|(i, c)| from_text(self.table.column(c), r.get(i)))
            .collect();
        let (key, stored) = values.split_at(self.key.len());
        let key = RowKey::Primary(key.to_vec());
        written.recorded.push(RecordedRow {
            key: key.clone(),
            fingerprint: fingerprint(stored),
        });
        written.outcome.accepted.push(Accepted { index, key });
    }

    /// One row under its own savepoint: accepted, or refused alone with Postgres's reason.
    fn insert_one(
        &self,
        db: &Postgres,
        statements: &mut HashMap<Vec<bool>, tokio_postgres::Statement>,
        row: Ready,
        written: &mut Written,
    ) -> Result<(), DbError> {
        let statement = match statements.get(&row.present) {
            Some(s) => s.clone(),
            None => {
                let sql = self.insert_sql(&row.present);
                let s = db.wait(db.client.prepare(&sql)).map_err(|e| db.err(&e))?;
                statements.insert(row.present.clone(), s.clone());
                s
            }
        };
        let refs: Vec<&(dyn ToSql + Sync)> = row
            .params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let index = row.index;
        db.execute_batch("SAVEPOINT rowsmith_row")?;
        match db.wait(db.client.query(&statement, &refs)) {
            Ok(returned) => match returned.first() {
                Some(r) => {
                    db.execute_batch("RELEASE SAVEPOINT rowsmith_row")?;
                    self.accept(index, r, written);
                }
                None => {
                    db.execute_batch("ROLLBACK TO SAVEPOINT rowsmith_row")?;
                    written.outcome.rejected.push(Rejected {
                        index,
                        reason: format!(
                            "a trigger on '{}' skipped the row, so it was not added",
                            self.table.name
                        ),
                    });
                }
            },
            Err(e) if is_row_error(&e) => {
                db.execute_batch("ROLLBACK TO SAVEPOINT rowsmith_row")?;
                written.outcome.rejected.push(Rejected {
                    index,
                    reason: row_reason(&e),
                });
            }
            Err(e) => return Err(db.err(&e)),
        }
        Ok(())
    }

    fn params(&self, row: &[Option<Value>]) -> Result<Vec<Box<dyn ToSql + Sync + Send>>, String> {
        row.iter()
            .zip(self.binds)
            .zip(self.columns)
            .filter_map(|((value, bind), column)| {
                value.as_ref().map(|v| {
                    bind.param(v)
                        .map_err(|why| format!("column '{column}': {why}"))
                })
            })
            .collect()
    }

    /// [`insert_sql`](Self::insert_sql) for `rows` rows in one statement.
    fn insert_sql_rows(&self, present: &[bool], rows: usize) -> String {
        let given: Vec<(&String, &BindAs)> = self
            .columns
            .iter()
            .zip(self.binds)
            .zip(present)
            .filter(|(_, here)| **here)
            .map(|((c, b), _)| (c, b))
            .collect();
        if given.is_empty() {
            // DEFAULT VALUES takes one row: each goes on its own.
            return String::new();
        }
        let mut n = 0;
        let tuples: Vec<String> = (0..rows)
            .map(|_| {
                let values: Vec<String> = given
                    .iter()
                    .map(|(_, b)| {
                        n += 1;
                        b.placeholder(n)
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES {} RETURNING {}",
            qualified(self.table),
            given
                .iter()
                .map(|(c, _)| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            tuples.join(", "),
            self.returning
        )
    }

    /// `INSERT … VALUES ($1::int8, DEFAULT, …) RETURNING key::text, columns::text`; a
    /// missing value takes the column's default.
    fn insert_sql(&self, present: &[bool]) -> String {
        let mut n = 0;
        let values: Vec<String> = present
            .iter()
            .zip(self.binds)
            .map(|(&here, bind)| {
                if here {
                    n += 1;
                    bind.placeholder(n)
                } else {
                    "DEFAULT".into()
                }
            })
            .collect();
        if self.columns.is_empty() {
            return format!(
                "INSERT INTO {} DEFAULT VALUES RETURNING {}",
                qualified(self.table),
                self.returning
            );
        }
        format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
            qualified(self.table),
            self.columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            values.join(", "),
            self.returning
        )
    }
}

/// Errors about the row itself: bad data (class 22), a constraint (class 23), or a
/// trigger's RAISE EXCEPTION. Anything else (a lost connection, a lock timeout, a
/// permission) is about the batch.
fn is_row_error(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        let code = db.code().code();
        code.starts_with("22") || code.starts_with("23") || *db.code() == SqlState::RAISE_EXCEPTION
    })
}

/// Postgres's reason, with its detail ("Key (email)=(a@x.io) already exists").
fn row_reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({})", db.message(), detail.trim_end_matches('.')),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}
