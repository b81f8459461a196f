//! No real person in the output: a new row never reuses a real email, phone or street
//! address, and never equals a real row on its identifying columns taken together (a
//! real name with its user name, a real first and last name). Learned from the whole
//! table as hashes, so a million rows cost a few megabytes and one read.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value;
use xxhash_rust::xxh3::xxh3_64;

use super::identity::Identity;
use crate::db::catalog::TableInfo;
use crate::db::{Database, DbError};
use crate::generate::parse::Candidate;
use crate::generate::plan::Plan;

/// Why a row was turned away: which column, never the value.
#[derive(Debug, Clone, PartialEq)]
pub struct RealPerson {
    pub reason: String,
}

/// The real people of a table, as hashes of their identifying values.
#[derive(Debug, Default)]
pub struct RealPeople {
    /// Columns a value of which alone points at a person: index, kind, real values.
    alone: Vec<(usize, Identity, HashSet<u64>)>,
    /// Identifying columns taken together (two or more), with the real combinations.
    together: Option<(Vec<usize>, HashSet<u64>)>,
    names: Vec<String>,
}

/// Separates the parts of a combination so "a b" + "c" never hashes as "a" + "b c".
const UNIT: char = '\u{1f}';

impl RealPeople {
    /// Reads the identifying columns of every row of the table (`kinds` per planned
    /// column). Nothing to read, nothing to check.
    pub fn learn(
        db: &Database,
        table: &TableInfo,
        plan: &Plan,
        kinds: &[Option<Identity>],
    ) -> Result<Self, DbError> {
        let alone_kinds = |k: Identity| {
            matches!(
                k,
                Identity::Email | Identity::Phone | Identity::Street | Identity::PersonalNumber
            )
        };
        let mut alone: Vec<(usize, Identity, HashSet<u64>)> = kinds
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                k.filter(|k| alone_kinds(*k))
                    .map(|k| (i, k, HashSet::new()))
            })
            .collect();
        // Free text says too little to be a person on its own account and too much to
        // compare; the other identifying columns make up a person together.
        let joint: Vec<usize> = kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| k.is_some_and(|k| k != Identity::FreeText))
            .map(|(i, _)| i)
            .collect();
        let mut together = (joint.len() >= 2).then(|| (joint, HashSet::new()));
        let read: Vec<usize> = alone
            .iter()
            .map(|(i, ..)| *i)
            .chain(together.iter().flat_map(|(cols, _)| cols.iter().copied()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if read.is_empty() {
            return Ok(Self::default());
        }
        let columns: Vec<String> = read.iter().map(|&i| plan.columns[i].name.clone()).collect();
        let at = |i: usize| read.iter().position(|&r| r == i);
        db.scan_columns(table, &columns, &mut |row| {
            for (i, kind, seen) in &mut alone {
                if let Some(h) = at(*i).and_then(|p| key(*kind, &row[p])) {
                    seen.insert(h);
                }
            }
            if let Some((cols, seen)) = together.as_mut() {
                let values: Vec<&Value> = cols
                    .iter()
                    .filter_map(|&i| at(i).map(|p| &row[p]))
                    .collect();
                if let Some(h) = joint_key(cols, kinds, &values) {
                    seen.insert(h);
                }
            }
        })?;
        Ok(Self {
            alone,
            together,
            names: plan.columns.iter().map(|c| c.name.clone()).collect(),
        })
    }

    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.alone.is_empty() && self.together.is_none()
    }

    /// Turns away a row that would copy a real person.
    pub fn check(&self, row: &Candidate, kinds: &[Option<Identity>]) -> Result<(), RealPerson> {
        let value = |i: usize| match row.get(i) {
            Some(Some(v)) => v,
            _ => &Value::Null,
        };
        for (i, kind, seen) in &self.alone {
            if key(*kind, value(*i)).is_some_and(|h| seen.contains(&h)) {
                let what = match kind {
                    Identity::Email => "email",
                    Identity::Phone => "phone number",
                    Identity::PersonalNumber => "number",
                    _ => "street address",
                };
                return Err(RealPerson {
                    reason: format!(
                        "{} is a real person's {what} from the table",
                        self.names[*i]
                    ),
                });
            }
        }
        if let Some((cols, seen)) = &self.together {
            let values: Vec<&Value> = cols.iter().map(|&i| value(i)).collect();
            if joint_key(cols, kinds, &values).is_some_and(|h| seen.contains(&h)) {
                let names: Vec<&str> = cols.iter().map(|&i| self.names[i].as_str()).collect();
                return Err(RealPerson {
                    reason: format!(
                        "{} together are a real person from the table",
                        names.join(" and ")
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A value as compared: emails and names without case, phones by their digits (at least
/// six, else it is not a phone number), addresses without case, punctuation or extra space.
fn normalized(kind: Identity, value: &Value) -> Option<String> {
    let text = match value {
        Value::Text(t) => t.clone(),
        Value::Integer(n) => n.to_string(),
        _ => return None,
    };
    let folded = |t: &str| {
        t.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let out = match kind {
        Identity::Email => text.trim().to_lowercase(),
        Identity::Phone | Identity::PersonalNumber => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 6 {
                return None;
            }
            digits
        }
        _ => folded(&text),
    };
    (!out.is_empty()).then_some(out)
}

/// A value's hash as compared for its kind.
pub(super) fn value_key(kind: Identity, value: &Value) -> Option<u64> {
    normalized(kind, value).map(|t| xxh3_64(t.as_bytes()))
}

fn key(kind: Identity, value: &Value) -> Option<u64> {
    value_key(kind, value)
}

/// The table's own values of each identifying column but free text, hashed as compared:
/// what a masked request's stand-ins must not be.
pub fn column_values(
    db: &Database,
    table: &TableInfo,
    plan: &Plan,
    kinds: &[Option<Identity>],
) -> Result<HashMap<String, HashSet<u64>>, DbError> {
    let read: Vec<(usize, Identity)> = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.filter(|k| *k != Identity::FreeText).map(|k| (i, k)))
        .collect();
    let mut sets: Vec<HashSet<u64>> = vec![HashSet::new(); read.len()];
    if !read.is_empty() {
        let columns: Vec<String> = read
            .iter()
            .map(|(i, _)| plan.columns[*i].name.clone())
            .collect();
        db.scan_columns(table, &columns, &mut |row| {
            for ((_, kind), (set, value)) in read.iter().zip(sets.iter_mut().zip(row)) {
                if let Some(h) = value_key(*kind, value) {
                    set.insert(h);
                }
            }
        })?;
    }
    Ok(read
        .iter()
        .map(|(i, _)| plan.columns[*i].name.clone())
        .zip(sets)
        .collect())
}

/// The combination's hash; `None` when any part is missing (a row without a name is not
/// that person).
fn joint_key(cols: &[usize], kinds: &[Option<Identity>], values: &[&Value]) -> Option<u64> {
    let mut text = String::new();
    for (&i, value) in cols.iter().zip(values) {
        let part = normalized(kinds[i]?, value)?;
        text.push_str(&part);
        text.push(UNIT);
    }
    Some(xxh3_64(text.as_bytes()))
}
