//! The realism gate: rules learned from the table that every generated row must keep,
//! checked after parsing and before SQLite judges the row.
//!
//! SQLite's constraints are only the floor of realistic data. A column that is never NULL,
//! never empty, always an email or always shaped `(999) 999-9999`; a number that stays in
//! its range; a status from a closed set; a value every row has distinct; a city that
//! always comes with one state; a birth date always before the sign-up date; rows that
//! never repeat — the gate learns each of these from the data (the column profile and the
//! rows) and rejects a new row that breaks one, with a reason the model is told in its next
//! request. Rules are learned only from enough rows to say so ([`EVIDENCE_ROWS`]).

mod columns;
mod relations;
mod seen;

use std::collections::HashSet;
use std::fmt;

use rusqlite::types::Value;

use super::parse::Candidate;
use super::plan::Plan;
use crate::db::profile::TableProfile;
use columns::ColumnRule;
use relations::{Dependency, Order};
pub use seen::{Existing, WHOLE_TABLE_ROWS};

/// The fewest rows a rule is learned from. With 30 rows and no NULL, a column that is
/// NULL one time in ten would have shown one with 96% probability (1 − 0.9³⁰): fewer rows
/// than this and the gate would too often reject values the data simply has not shown yet.
pub const EVIDENCE_ROWS: u64 = 30;

pub use crate::config::GateMode;

/// Why the gate turned a row away: `reason` groups rows (no values in it), `detail` names
/// the value for the one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: String,
    pub detail: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The rules learned from one table, and what this run has made so far.
#[derive(Debug)]
pub struct Gate {
    names: Vec<String>,
    columns: Vec<Vec<ColumnRule>>,
    dependencies: Vec<Dependency>,
    orders: Vec<Order>,
    existing: Existing,
    /// Fingerprints of this run's rows over the non-key columns.
    new_rows: HashSet<u64>,
    /// This run's values of each unique-looking column.
    new_values: Vec<HashSet<Vec<u8>>>,
}

impl Gate {
    /// Learns the rules of `plan`'s table from its profile and `rows` (in plan column
    /// order: the whole table when small, else a random sample), with what is already in
    /// the table.
    pub fn learn(
        plan: &Plan,
        profile: &TableProfile,
        rows: &[Vec<Value>],
        existing: Existing,
    ) -> Self {
        let columns = plan
            .columns
            .iter()
            .map(|c| {
                profile
                    .columns
                    .iter()
                    .find(|p| p.name == c.name)
                    .map(|p| columns::learn(c, p, profile.rows_read))
                    .unwrap_or_default()
            })
            .collect();
        let dependencies = relations::dependencies(plan, rows, &existing);
        let orders = relations::orders(plan, rows);
        Self {
            names: plan.columns.iter().map(|c| c.name.clone()).collect(),
            new_values: vec![HashSet::new(); plan.columns.len()],
            columns,
            dependencies,
            orders,
            existing,
            new_rows: HashSet::new(),
        }
    }

    /// Stops judging these columns on their own (their values are given, as a
    /// whole-database run gives foreign keys that point at new parents).
    pub fn free(&mut self, columns: &[usize]) {
        for &i in columns {
            if let Some(rules) = self.columns.get_mut(i) {
                rules.clear();
            }
        }
        self.free_dependencies(columns);
    }

    /// Stops judging how these columns go with the row's others: their values are given
    /// (a new country's key, its continent copied into a new city whose name no city of
    /// that continent had before).
    pub fn free_dependencies(&mut self, columns: &[usize]) {
        self.dependencies
            .retain(|d| !columns.iter().any(|&i| d.involves(i)));
    }

    /// How many rules the gate holds (for tests and `--json`).
    pub fn rule_count(&self) -> usize {
        self.columns.iter().map(Vec::len).sum::<usize>()
            + self.dependencies.len()
            + self.orders.len()
            + usize::from(self.existing.repeats_checked())
            + self.existing.unique_looking().len()
    }

    /// Accepts a row (and remembers it, so a repeat is caught) or says why not.
    pub fn check(&mut self, plan: &Plan, row: &Candidate) -> Result<(), Rejection> {
        for (i, rules) in self.columns.iter().enumerate() {
            if rules.is_empty() {
                continue;
            }
            let value = effective(plan, row, i);
            for rule in rules {
                rule.check(&self.names[i], value)?;
            }
        }
        for d in &self.dependencies {
            d.check(&self.names, row)?;
        }
        for o in &self.orders {
            o.check(&self.names, row)?;
        }
        let mut taken = Vec::new();
        for &i in self.existing.unique_looking() {
            let Some(Some(value)) = row.get(i) else {
                continue;
            };
            if matches!(value, Value::Null) {
                continue;
            }
            let key = crate::db::value::encode_row(std::slice::from_ref(value));
            let name = &self.names[i];
            if self.new_values[i].contains(&key) {
                return Err(Rejection {
                    reason: format!(
                        "{name} repeats another new row (every {name} in the data is different)"
                    ),
                    detail: format!("{name} {} repeats another new row", shown(value)),
                });
            }
            if self.existing.has_value(i, &key) {
                return Err(Rejection {
                    reason: format!(
                        "{name} is already in the table (every {name} in the data is different)"
                    ),
                    detail: format!("{name} {} is already in the table", shown(value)),
                });
            }
            taken.push((i, key));
        }
        let print = if self.existing.repeats_checked() {
            let print = self.existing.row_print(row);
            if self.new_rows.contains(&print) {
                return Err(Rejection {
                    reason: "the row repeats another new row".into(),
                    detail: "repeats another new row on every column".into(),
                });
            }
            if self.existing.has_row(print) {
                return Err(Rejection {
                    reason: "the row repeats an existing row".into(),
                    detail: "repeats an existing row on every column".into(),
                });
            }
            Some(print)
        } else {
            None
        };
        if let Some(print) = print {
            self.new_rows.insert(print);
        }
        for (i, key) in taken {
            self.new_values[i].insert(key);
        }
        Ok(())
    }
}

/// The value a row gives column `i`: what it holds, or the column's default when left out
/// (`None` when the default is an expression only SQLite can work out).
fn effective<'r>(plan: &Plan, row: &'r Candidate, i: usize) -> Option<&'r Value> {
    static NULL: Value = Value::Null;
    match row.get(i) {
        Some(Some(v)) => Some(v),
        _ => match plan.columns[i].default.as_deref() {
            None => Some(&NULL),
            Some(d) if d.eq_ignore_ascii_case("null") => Some(&NULL),
            Some(_) => None,
        },
    }
}

/// A value as a reason shows it: short, quoted text.
fn shown(value: &Value) -> String {
    match value {
        Value::Text(t) => format!("'{}'", crate::output::cell(t, 40)),
        other => crate::output::cell(&crate::db::value::display(other), 40),
    }
}
