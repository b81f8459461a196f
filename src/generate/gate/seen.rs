//! What is already in the table that new rows must not repeat: whole rows (over the
//! columns that are not keys) and the values of columns every row has distinct.
//!
//! Tables up to [`WHOLE_TABLE_ROWS`] are read whole, so a repeat of any existing row or
//! value is caught. Larger tables are judged against a random sample of their rows (reading
//! millions of rows to add ten would cost more than the job): a repeat of a row outside
//! the sample can get through there, which the declared UNIQUE constraints still catch.

use std::collections::HashSet;

use rusqlite::types::Value;

use super::EVIDENCE_ROWS;
use crate::db::profile::TableProfile;
use crate::db::value::{encode_row, fingerprint_of};
use crate::generate::parse::Candidate;
use crate::generate::plan::Plan;

/// Tables with at most this many rows are read whole by the gate.
pub const WHOLE_TABLE_ROWS: u64 = 100_000;

#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// Columns every row of the data has distinct (emails), not declared UNIQUE.
    unique_looking: Vec<usize>,
    /// Their existing values, per plan column.
    values: Vec<HashSet<Vec<u8>>>,
    /// Columns a repeated row is judged on (not keys); empty when repeats are not checked.
    compared: Vec<usize>,
    rows: HashSet<u64>,
}

impl Existing {
    /// Learns from `rows` (in plan column order: the whole table, or a sample of it).
    pub fn learn(plan: &Plan, profile: &TableProfile, rows: &[Vec<Value>]) -> Self {
        let width = plan.columns.len();
        let declared = |i: usize| plan.unique_sets.iter().any(|s| s.contains(&i));
        let unique_looking: Vec<usize> = (0..width)
            .filter(|&i| {
                let c = &plan.columns[i];
                let Some(p) = profile.columns.iter().find(|p| p.name == c.name) else {
                    return false;
                };
                let non_null = profile.rows_read - p.null_count;
                // Text only (emails, names, titles): numbers and times are often
                // distinct by chance, and a repeated one is no sign of a copied row.
                let kind_fits = p.storage.real == 0
                    && p.storage.integer == 0
                    && p.dates.is_none()
                    && p.storage.text > 0;
                !declared(i)
                    && c.foreign_key.is_none()
                    && kind_fits
                    && non_null >= EVIDENCE_ROWS
                    && p.distinct_count == non_null
            })
            .collect();
        let mut values = vec![HashSet::new(); width];
        for &i in &unique_looking {
            values[i] = rows
                .iter()
                .filter(|r| !matches!(r[i], Value::Null))
                .map(|r| encode_row(std::slice::from_ref(&r[i])))
                .collect();
        }
        // Every non-key column, the unique-looking ones too: a row with a new email is not
        // a copy of an existing one, however ordinary its other values (a table of emails,
        // a few numbers and a constant repeated every row on the rest).
        let mut compared: Vec<usize> = (0..width).filter(|&i| !declared(i)).collect();
        let mut prints = HashSet::with_capacity(rows.len());
        if compared.len() >= 2 && rows.len() as u64 >= EVIDENCE_ROWS {
            for row in rows {
                prints.insert(fingerprint_of(compared.iter().map(|&i| &row[i])));
            }
            // Data that repeats itself on these columns (line items of one kind) makes a
            // repeated row ordinary, not a copy.
            if prints.len() < rows.len() {
                compared.clear();
                prints.clear();
            }
        } else {
            compared.clear();
        }
        Self {
            unique_looking,
            values,
            compared,
            rows: prints,
        }
    }

    pub fn unique_looking(&self) -> &[usize] {
        &self.unique_looking
    }

    pub fn has_value(&self, column: usize, key: &[u8]) -> bool {
        self.values.get(column).is_some_and(|v| v.contains(key))
    }

    pub fn repeats_checked(&self) -> bool {
        !self.compared.is_empty()
    }

    /// A row's fingerprint over the compared columns (a left-out value counts as NULL).
    pub fn row_print(&self, row: &Candidate) -> u64 {
        static NULL: Value = Value::Null;
        fingerprint_of(
            self.compared
                .iter()
                .map(|&i| row.get(i).and_then(Option::as_ref).unwrap_or(&NULL)),
        )
    }

    pub fn has_row(&self, print: u64) -> bool {
        self.rows.contains(&print)
    }
}
