//! Checks candidate rows against the database before insertion: UNIQUE
//! values that already exist or repeat within this generation, and foreign
//! keys without a parent row. SQLite judges the rest when the writer inserts.

use std::collections::{HashMap, HashSet, VecDeque};

use rusqlite::types::Value;

use super::parse::Candidate;
use super::plan::Plan;
use crate::db::value::{display, encode_row};
use crate::db::{Database, DbError};

/// Remembers the UNIQUE values this generation has produced so far.
pub struct Guard {
    seen: Vec<HashSet<Vec<u8>>>,
    /// For the batch being checked: per UNIQUE set and per foreign key, the values asked
    /// about all at once and whether the table (the parent) has them.
    known_unique: Vec<HashMap<Vec<u8>, bool>>,
    known_parents: Vec<HashMap<Vec<u8>, bool>>,
    /// Recent values per UNIQUE set (generated or refused as duplicates),
    /// shown to the model as values to avoid.
    avoid: Vec<VecDeque<String>>,
}

/// How many values to avoid are remembered per UNIQUE set.
const AVOID_LIMIT: usize = 60;

impl Guard {
    pub fn new(plan: &Plan) -> Self {
        Self {
            seen: vec![HashSet::new(); plan.unique_sets.len()],
            known_unique: vec![HashMap::new(); plan.unique_sets.len()],
            known_parents: vec![HashMap::new(); plan.foreign_keys.len()],
            avoid: vec![VecDeque::new(); plan.unique_sets.len()],
        }
    }

    fn note(&mut self, set_index: usize, values: &[Value]) {
        let text = values.iter().map(display).collect::<Vec<_>>().join(" / ");
        let list = &mut self.avoid[set_index];
        if !list.contains(&text) {
            if list.len() == AVOID_LIMIT {
                list.pop_front();
            }
            list.push_back(text);
        }
    }

    /// Forgets the values of committed rows (the table now holds them).
    pub fn forget_generated(&mut self) {
        for seen in &mut self.seen {
            seen.clear();
        }
    }

    /// Values to avoid for each UNIQUE set, newest last.
    pub fn avoid_lists(&self) -> &[VecDeque<String>] {
        &self.avoid
    }

    /// Asks the database once, for a whole batch, which of its UNIQUE values are taken
    /// and which of its parent keys exist, so [`check`](Self::check) asks nothing per row
    /// (each question would be a round trip to a server).
    pub fn prefetch(
        &mut self,
        db: &Database,
        plan: &Plan,
        rows: &[Candidate],
    ) -> Result<(), DbError> {
        for (set_index, set) in plan.unique_sets.iter().enumerate() {
            let asked: Vec<Vec<Value>> = rows.iter().filter_map(|r| present(r, set)).collect();
            let found = db.exists_many(&plan.table.name, &names(plan, set), &asked)?;
            self.known_unique[set_index] = asked.iter().map(|v| encode_row(v)).zip(found).collect();
        }
        for (k, fk) in plan.foreign_keys.iter().enumerate() {
            let asked: Vec<Vec<Value>> = rows
                .iter()
                .filter_map(|r| present(r, &fk.columns))
                .collect();
            let found = db.exists_many(&fk.parent, &fk.parent_columns, &asked)?;
            self.known_parents[k] = asked.iter().map(|v| encode_row(v)).zip(found).collect();
        }
        Ok(())
    }

    /// Accepts a candidate (and remembers its UNIQUE values) or says why not.
    pub fn check(
        &mut self,
        db: &Database,
        plan: &Plan,
        row: &Candidate,
    ) -> Result<Result<(), String>, DbError> {
        let mut keys = Vec::with_capacity(plan.unique_sets.len());
        for (set_index, set) in plan.unique_sets.iter().enumerate() {
            let Some(values) = present(row, set) else {
                keys.push(None);
                continue;
            };
            let key = encode_row(&values);
            if self.seen[set_index].contains(&key) {
                self.note(set_index, &values);
                return Ok(Err(format!(
                    "{} repeats another generated row (UNIQUE)",
                    names(plan, set).join(", ")
                )));
            }
            let taken = match self.known_unique[set_index].get(&key) {
                Some(&known) => known,
                None => db.exists(&plan.table.name, &names(plan, set), &values)?,
            };
            if taken {
                self.note(set_index, &values);
                return Ok(Err(format!(
                    "{} is already in the table (UNIQUE)",
                    names(plan, set).join(", ")
                )));
            }
            keys.push(Some((key, values)));
        }
        for (k, fk) in plan.foreign_keys.iter().enumerate() {
            let Some(values) = present(row, &fk.columns) else {
                continue;
            };
            let there = match self.known_parents[k].get(&encode_row(&values)) {
                Some(&known) => known,
                None => db.exists(&fk.parent, &fk.parent_columns, &values)?,
            };
            if !there {
                return Ok(Err(format!(
                    "{} has no matching row in {}({}) (FOREIGN KEY)",
                    names(plan, &fk.columns).join(", "),
                    fk.parent,
                    fk.parent_columns.join(", ")
                )));
            }
        }
        for (set_index, key) in keys.into_iter().enumerate() {
            if let Some((key, values)) = key {
                self.seen[set_index].insert(key);
                self.note(set_index, &values);
            }
        }
        Ok(Ok(()))
    }
}

/// The set's values when all are present and non-NULL (NULLs never collide).
fn present(row: &Candidate, set: &[usize]) -> Option<Vec<Value>> {
    set.iter()
        .map(|&i| match &row[i] {
            Some(Value::Null) | None => None,
            Some(v) => Some(v.clone()),
        })
        .collect()
}

fn names(plan: &Plan, set: &[usize]) -> Vec<String> {
    set.iter().map(|&i| plan.columns[i].name.clone()).collect()
}
