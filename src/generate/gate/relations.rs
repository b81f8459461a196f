//! Rules between columns that every row of the data keeps: one value fixing another (a
//! city always in one state, a zip always in one city) and an order (a birth date before
//! the sign-up date, shipped after ordered).

use std::collections::HashMap;

use rusqlite::types::Value;

use super::seen::Existing;
use super::{EVIDENCE_ROWS, Rejection, shown};
use crate::db::value::encode_row;
use crate::generate::offline::relations::determined_by;
use crate::generate::offline::temporal;
use crate::generate::parse::Candidate;
use crate::generate::plan::Plan;

/// Values of the deciding column that must repeat (each with one value of the other) before
/// "always" means something.
const REPEATED_KEYS: usize = 5;

/// `by` fixes `dependent`: each value of `by` seen in the data came with one value of it.
#[derive(Debug, Clone)]
pub struct Dependency {
    by: usize,
    dependent: usize,
    seen: HashMap<Vec<u8>, Value>,
}

impl Dependency {
    /// Whether the rule reads or judges column `i`.
    pub fn involves(&self, i: usize) -> bool {
        self.by == i || self.dependent == i
    }
}

/// `earlier` is never after `later` in any row (ISO dates and times).
#[derive(Debug, Clone)]
pub struct Order {
    earlier: usize,
    later: usize,
}

/// The dependencies `rows` keep between text columns that are not keys.
pub fn dependencies(plan: &Plan, rows: &[Vec<Value>], existing: &Existing) -> Vec<Dependency> {
    if (rows.len() as u64) < EVIDENCE_ROWS {
        return Vec::new();
    }
    let width = plan.columns.len();
    let keyish: Vec<usize> = (0..width)
        .filter(|&i| {
            existing.unique_looking().contains(&i)
                || plan.unique_sets.iter().any(|s| s.contains(&i))
        })
        .collect();
    let mut found = Vec::new();
    for by in 0..width {
        // Categories decide (a city, a zip), not times: a timestamp that happens to repeat
        // with the same customer is a coincidence of the data, not a rule.
        if keyish.contains(&by)
            || !mostly_text(rows, by)
            || mostly_times(rows, by)
            || repeated_keys(rows, by) < REPEATED_KEYS
        {
            continue;
        }
        for dependent in determined_by(rows, by, &keyish) {
            if distinct(rows, dependent) < 2 {
                continue;
            }
            let seen = rows
                .iter()
                .filter(|r| !matches!(r[by], Value::Null))
                .map(|r| (key(&r[by]), r[dependent].clone()))
                .collect();
            found.push(Dependency {
                by,
                dependent,
                seen,
            });
        }
    }
    found
}

/// The orders `rows` keep between ISO date or time columns.
pub fn orders(plan: &Plan, rows: &[Vec<Value>]) -> Vec<Order> {
    let width = plan.columns.len();
    let times: Vec<Option<Vec<Option<f64>>>> = (0..width)
        .map(|i| {
            let parsed: Vec<Option<f64>> = rows.iter().map(|r| seconds(&r[i])).collect();
            let present = parsed.iter().flatten().count();
            let values = rows.iter().filter(|r| !matches!(r[i], Value::Null)).count();
            (present as u64 >= EVIDENCE_ROWS && present == values).then_some(parsed)
        })
        .collect();
    let mut found = Vec::new();
    for (a, ta) in times.iter().enumerate() {
        let Some(ta) = ta else { continue };
        for (b, tb) in times.iter().enumerate() {
            let Some(tb) = tb else { continue };
            if a == b {
                continue;
            }
            let pairs: Vec<(f64, f64)> = ta
                .iter()
                .zip(tb)
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .collect();
            if (pairs.len() as u64) >= EVIDENCE_ROWS
                && pairs.iter().all(|(x, y)| x <= y)
                && pairs.iter().any(|(x, y)| x < y)
            {
                found.push(Order {
                    earlier: a,
                    later: b,
                });
            }
        }
    }
    found
}

impl Dependency {
    pub fn check(&self, names: &[String], row: &Candidate) -> Result<(), Rejection> {
        let (Some(Some(by)), Some(Some(value))) = (row.get(self.by), row.get(self.dependent))
        else {
            return Ok(());
        };
        match self.seen.get(&key(by)) {
            Some(expected) if expected != value => {
                let (b, d) = (&names[self.by], &names[self.dependent]);
                Err(Rejection {
                    reason: format!("{d} does not go with {b} as in the data"),
                    detail: format!(
                        "{d} {} does not go with {b} {} (the data has {})",
                        shown(value),
                        shown(by),
                        shown(expected)
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}

impl Order {
    pub fn check(&self, names: &[String], row: &Candidate) -> Result<(), Rejection> {
        let (Some(Some(a)), Some(Some(b))) = (row.get(self.earlier), row.get(self.later)) else {
            return Ok(());
        };
        match (seconds(a), seconds(b)) {
            (Some(x), Some(y)) if x > y => {
                let (e, l) = (&names[self.earlier], &names[self.later]);
                Err(Rejection {
                    reason: format!("{l} is before {e}, never so in the data"),
                    detail: format!("{l} {} is before {e} {}", shown(b), shown(a)),
                })
            }
            _ => Ok(()),
        }
    }
}

fn seconds(v: &Value) -> Option<f64> {
    match v {
        Value::Text(t) => temporal::parse(t.trim()).map(|(s, _)| s),
        _ => None,
    }
}

fn key(v: &Value) -> Vec<u8> {
    encode_row(std::slice::from_ref(v))
}

fn mostly_text(rows: &[Vec<Value>], i: usize) -> bool {
    let text = rows
        .iter()
        .filter(|r| matches!(r[i], Value::Text(_)))
        .count();
    text * 2 > rows.len()
}

fn mostly_times(rows: &[Vec<Value>], i: usize) -> bool {
    let times = rows.iter().filter(|r| seconds(&r[i]).is_some()).count();
    times * 2 > rows.len()
}

fn distinct(rows: &[Vec<Value>], i: usize) -> usize {
    let set: std::collections::HashSet<Vec<u8>> = rows.iter().map(|r| key(&r[i])).collect();
    set.len()
}

/// Values of column `i` that appear in two rows or more.
fn repeated_keys(rows: &[Vec<Value>], i: usize) -> usize {
    let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for r in rows.iter().filter(|r| !matches!(r[i], Value::Null)) {
        *counts.entry(key(&r[i])).or_default() += 1;
    }
    counts.values().filter(|&&n| n >= 2).count()
}
