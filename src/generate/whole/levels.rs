//! Who may point at whom in a table that points at itself, learned from a column that
//! says a row's place in the hierarchy (an employee's title: staff report to managers,
//! managers to the general manager, who reports to no one).

use std::collections::HashMap;

use rand::Rng;
use rusqlite::types::Value;
use serde::Serialize;

use crate::db::lineage::Rows;

/// Rows with a parent seen at least this often before a column is believed to say levels.
const MIN_ROWS: usize = 6;
/// Share of a value's rows whose parent has that value's most common parent value.
const PREDICTS: f64 = 0.8;
/// Most distinct values a level column has (a title, a role, a kind; not a name).
const MAX_VALUES: usize = 20;

/// A column whose value says which rows a row points at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Levels {
    pub column: String,
    /// Per value of a row: its parent's values as seen (`None`: no parent), with counts.
    #[serde(skip)]
    pub parents: HashMap<String, Vec<(Option<String>, u64)>>,
    /// Per value: how far below the top its rows stand (0: no parent).
    #[serde(skip)]
    pub level: HashMap<String, u32>,
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

impl Levels {
    /// Learns from rows of the table and their parent rows (`of_row[i]`: the parent of row
    /// `i`, `None` for a row with no parent). `skip`: the keys, which say nothing.
    pub fn learn(
        rows: &Rows,
        parents: &Rows,
        of_row: &[Option<usize>],
        skip: &[String],
    ) -> Option<Self> {
        let mut best: Option<(f64, Levels)> = None;
        for (c, column) in rows.columns.iter().enumerate() {
            if skip.iter().any(|s| s.eq_ignore_ascii_case(column)) {
                continue;
            }
            let Some(pc) = parents.position(column) else {
                continue;
            };
            let mut seen: HashMap<String, HashMap<Option<String>, u64>> = HashMap::new();
            for (row, parent) in rows.rows.iter().zip(of_row) {
                let Some(value) = row.get(c).and_then(text) else {
                    continue;
                };
                let up = parent
                    .and_then(|p| parents.rows.get(p))
                    .and_then(|p| p.get(pc))
                    .and_then(text)
                    .map(str::to_string);
                *seen
                    .entry(value.to_string())
                    .or_default()
                    .entry(up)
                    .or_default() += 1;
            }
            let total: u64 = seen.values().flat_map(|m| m.values()).sum();
            let with_parent: u64 = seen
                .values()
                .flat_map(|m| m.iter().filter(|(k, _)| k.is_some()).map(|(_, n)| n))
                .sum();
            if seen.len() < 2 || seen.len() > MAX_VALUES || (with_parent as usize) < MIN_ROWS {
                continue;
            }
            // Every row's value is its own (names): no levels in that.
            if seen.len() as u64 == total {
                continue;
            }
            let predicted: u64 = seen
                .values()
                .map(|m| m.values().max().copied().unwrap_or(0))
                .sum();
            let share = predicted as f64 / total as f64;
            if share < PREDICTS || best.as_ref().is_some_and(|(b, _)| *b >= share) {
                continue;
            }
            let parents: HashMap<String, Vec<(Option<String>, u64)>> = seen
                .into_iter()
                .map(|(v, m)| {
                    let mut list: Vec<(Option<String>, u64)> = m.into_iter().collect();
                    list.sort();
                    (v, list)
                })
                .collect();
            let level = levels_of(&parents);
            best = Some((
                share,
                Levels {
                    column: column.clone(),
                    parents,
                    level,
                },
            ));
        }
        best.map(|(_, l)| l)
    }

    /// The value a row with `value` points at (`Some(None)`: no parent), drawn as seen;
    /// `None` when the value was never seen.
    pub fn draw_parent<R: Rng + ?Sized>(&self, value: &str, rng: &mut R) -> Option<Option<&str>> {
        let list = self.parents.get(value)?;
        let total: u64 = list.iter().map(|(_, n)| n).sum();
        let mut at = rng.random_range(0..total.max(1));
        for (v, n) in list {
            if at < *n {
                return Some(v.as_deref());
            }
            at -= n;
        }
        None
    }

    /// Whether a row with `value` at position `i` may point at one with `other` at `j`:
    /// only upward (or, within one level, at a row made before it), so no chain loops.
    pub fn may_point(&self, value: &str, i: usize, other: &str, j: usize) -> bool {
        let (Some(a), Some(b)) = (self.level.get(value), self.level.get(other)) else {
            return j < i;
        };
        b < a || (b == a && j < i)
    }
}

/// Each value's level: 0 when its rows mostly have no parent, else one below the level of
/// the value its rows' parents mostly have. Values in a loop of their own get the deepest.
fn levels_of(parents: &HashMap<String, Vec<(Option<String>, u64)>>) -> HashMap<String, u32> {
    let mode = |v: &str| -> Option<Option<&str>> {
        parents
            .get(v)?
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|(p, _)| p.as_deref())
    };
    let mut level: HashMap<String, u32> = HashMap::new();
    for _ in 0..=parents.len() {
        let mut changed = false;
        for v in parents.keys() {
            let new = match mode(v) {
                Some(None) => Some(0),
                Some(Some(p)) if p == v => None,
                Some(Some(p)) => level.get(p).map(|l| l + 1),
                None => None,
            };
            if let Some(new) = new
                && level.get(v) != Some(&new)
            {
                level.insert(v.clone(), new);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let deepest = level.values().copied().max().unwrap_or(0) + 1;
    for v in parents.keys() {
        level.entry(v.clone()).or_insert(deepest);
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinook's employees: a general manager, two managers under them, staff under those.
    fn staff() -> (Rows, Vec<Option<usize>>) {
        let titles = [
            ("General Manager", None),
            ("Sales Manager", Some(0)),
            ("Sales Support Agent", Some(1)),
            ("Sales Support Agent", Some(1)),
            ("Sales Support Agent", Some(1)),
            ("IT Manager", Some(0)),
            ("IT Staff", Some(5)),
            ("IT Staff", Some(5)),
        ];
        let rows = Rows {
            columns: vec![
                "id".into(),
                "name".into(),
                "title".into(),
                "reports_to".into(),
            ],
            rows: titles
                .iter()
                .enumerate()
                .map(|(i, (t, p))| {
                    vec![
                        Value::Integer(i as i64 + 1),
                        Value::Text(format!("Person {i}")),
                        Value::Text((*t).into()),
                        p.map_or(Value::Null, |p| Value::Integer(p as i64 + 1)),
                    ]
                })
                .collect(),
        };
        (rows, titles.iter().map(|(_, p)| *p).collect())
    }

    #[test]
    fn titles_say_who_reports_to_whom_and_how_high_each_stands() {
        let (rows, of_row) = staff();
        let levels =
            Levels::learn(&rows, &rows, &of_row, &["id".into(), "reports_to".into()]).unwrap();
        assert_eq!(levels.column, "title");
        assert_eq!(levels.level["General Manager"], 0);
        assert_eq!(levels.level["Sales Manager"], 1);
        assert_eq!(levels.level["IT Staff"], 2);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..20 {
            assert_eq!(
                levels.draw_parent("IT Staff", &mut rng),
                Some(Some("IT Manager"))
            );
            assert_eq!(levels.draw_parent("General Manager", &mut rng), Some(None));
        }
        // Upward only, or within a level to an earlier row.
        assert!(levels.may_point("IT Staff", 3, "IT Manager", 7));
        assert!(!levels.may_point("IT Manager", 7, "IT Staff", 3));
        assert!(levels.may_point("IT Staff", 5, "IT Staff", 2));
        assert!(!levels.may_point("IT Staff", 2, "IT Staff", 5));
    }

    use rand::SeedableRng;
}
