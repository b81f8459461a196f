//! The second pass of a whole-database run, once every table has its new rows: keys left
//! NULL that close a cycle or point into their own table, and parents' totals of their
//! new children, in one transaction; then the undo journal learns the rows' new values.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::types::Value;

use super::graph::KeyFill;
use super::outcome::WholeError;
use super::plan::WholePlan;
use super::slots::positions;
use crate::db::journal::{Journal, RecordedRow, RowKey};
use crate::db::lineage::{Link, Rows};
use crate::db::revise::{ChildSum, SetValues};
use crate::db::write::fingerprint_columns;
use crate::db::{CancelFlag, Database};
use crate::generate::lineage::Lineage;

/// The new rows of one table, read back after it was filled.
pub(super) struct NewRows {
    pub(super) rows: Arc<Rows>,
    pub(super) keys: Vec<RowKey>,
    pub(super) lineage: Arc<Lineage>,
}

/// Sets what needed every table's new rows: keys left NULL that close a cycle or point at
/// their own table (drawn by popularity; a row points only at rows made before it, so a
/// hierarchy has no loops), and parents' totals of their new children. One transaction;
/// then the undo journal learns the rows' new values. Returns (keys set, totals set).
pub(super) fn second_pass<R: Rng + ?Sized>(
    db: &mut Database,
    journal: &Journal,
    plan: &WholePlan,
    written: &HashMap<String, NewRows>,
    cancel: &CancelFlag,
    rng: &mut R,
) -> Result<(u64, u64), WholeError> {
    let mut changed: HashMap<String, Vec<RowKey>> = HashMap::new();
    let mut linked = 0u64;
    let mut totals = 0u64;
    let infos: HashMap<String, crate::db::catalog::TableInfo> = plan
        .tables
        .iter()
        .map(|t| (t.table.to_ascii_lowercase(), t.info.clone()))
        .collect();
    db.in_write_transaction(&mut |db| {
        for table in &plan.tables {
            let name = table.table.to_ascii_lowercase();
            let Some(mine) = written.get(&name) else {
                continue;
            };
            for key in table.keys.iter().filter(|k| k.fill == KeyFill::Later) {
                let parent_name = key.parent.to_ascii_lowercase();
                let Some(parents) = written.get(&parent_name) else {
                    continue;
                };
                let own = parent_name == name;
                let key_positions = positions(&parents.rows, &key.parent_columns);
                let mut cumulative = Vec::with_capacity(parents.rows.rows.len() + 1);
                cumulative.push(0.0);
                let mut dealer = key.fan_out.dealer();
                for _ in &parents.rows.rows {
                    let w = dealer.deal(rng) as f64;
                    cumulative.push(cumulative.last().copied().unwrap_or(0.0) + w);
                }
                // Where a column says the hierarchy (titles), rows point up its levels.
                let levels = key.levels.as_ref().filter(|_| own).and_then(|l| {
                    let c = mine.rows.position(&l.column)?;
                    let mut by_value: HashMap<&str, Vec<usize>> = HashMap::new();
                    for (j, row) in mine.rows.rows.iter().enumerate() {
                        if let Some(Value::Text(v)) = row.get(c) {
                            by_value.entry(v.as_str()).or_default().push(j);
                        }
                    }
                    Some((l, c, by_value))
                });
                let mut changes = Vec::new();
                for (i, row_key) in mine.keys.iter().enumerate() {
                    let value = levels.as_ref().and_then(|(_, c, _)| {
                        match mine.rows.rows.get(i).and_then(|r| r.get(*c)) {
                            Some(Value::Text(v)) => Some(v.as_str()),
                            _ => None,
                        }
                    });
                    if let (Some((levels, _, by_value)), Some(value)) = (&levels, value) {
                        match levels.draw_parent(value, rng) {
                            // Rows like this one have no parent.
                            Some(None) => continue,
                            Some(Some(up)) => {
                                let found = by_value.get(up).and_then(|rows| {
                                    (0..20).find_map(|_| {
                                        let j = *rows.choose(rng)?;
                                        (j != i && levels.may_point(value, i, up, j)).then_some(j)
                                    })
                                });
                                if let Some(j) = found {
                                    changes.push(SetValues {
                                        key: row_key.clone(),
                                        values: key_positions
                                            .iter()
                                            .map(|&p| {
                                                parents.rows.rows[j]
                                                    .get(p)
                                                    .cloned()
                                                    .unwrap_or(Value::Null)
                                            })
                                            .collect(),
                                    });
                                    continue;
                                }
                            }
                            // A value never seen: linked as below.
                            None => {}
                        }
                    }
                    if rng.random::<f64>() < key.fan_out.null_share {
                        continue;
                    }
                    let limit = if own { i } else { parents.rows.rows.len() };
                    if limit == 0 {
                        continue;
                    }
                    let total = cumulative[limit];
                    let r = if total > 0.0 {
                        let at = rng.random::<f64>() * total;
                        cumulative[1..=limit]
                            .partition_point(|c| *c <= at)
                            .min(limit - 1)
                    } else {
                        rng.random_range(0..limit)
                    };
                    let values: Vec<Value> = key_positions
                        .iter()
                        .map(|&p| parents.rows.rows[r].get(p).cloned().unwrap_or(Value::Null))
                        .collect();
                    changes.push(SetValues {
                        key: row_key.clone(),
                        values,
                    });
                }
                db.set_values(&table.info, &key.columns, &changes, cancel)?;
                linked += changes.len() as u64;
                changed
                    .entry(name.clone())
                    .or_default()
                    .extend(changes.into_iter().map(|c| c.key));
            }
        }
        for (child, k, sum) in plan.sums() {
            let key = &child.keys[k];
            let parent_name = key.parent.to_ascii_lowercase();
            let (Some(parents), Some(parent_info)) =
                (written.get(&parent_name), infos.get(&parent_name))
            else {
                continue;
            };
            let link = Link {
                child: &child.info,
                from: &key.columns,
                parent: parent_info,
                to: &key.parent_columns,
            };
            db.sum_children(
                link,
                &ChildSum {
                    parent_column: sum.parent_column.clone(),
                    terms: sum.terms.clone(),
                    decimals: sum.decimals,
                },
                &parents.keys,
                cancel,
            )?;
            totals += parents.keys.len() as u64;
            changed
                .entry(parent_name)
                .or_default()
                .extend(parents.keys.iter().cloned());
        }
        Ok(())
    })?;
    for (name, mut keys) in changed {
        let (Some(info), Some(mine)) = (infos.get(&name), written.get(&name)) else {
            continue;
        };
        let Some(op) = mine.lineage.operation.lock().ok().and_then(|o| *o) else {
            continue;
        };
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        let rows: Vec<RecordedRow> = db
            .read_fingerprints(info, &fingerprint_columns(info), &keys)?
            .into_iter()
            .filter_map(|(key, fp)| fp.map(|fingerprint| RecordedRow { key, fingerprint }))
            .collect();
        journal.update_fingerprints(op, &rows)?;
    }
    Ok((linked, totals))
}
