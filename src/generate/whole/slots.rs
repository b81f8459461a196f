//! Which parent row each new row of a table points at: the parents' pools (new rows of
//! the run, or rows the parent already has) and one slot per row to make, with fan-out
//! dealt as today's and other parents chosen by popularity.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;

use super::graph::KeyFill;
use super::plan::{TablePlan, unattached_rows};
use crate::db::journal::RunId;
use crate::db::lineage::{Link, Rows};
use crate::db::{Database, DbError};
use crate::generate::lineage::{KeySource, Lineage, Pool, Slot};

/// Existing parents a key draws from at most (a random sample of a bigger table).
const EXISTING_PARENTS: usize = 50_000;

/// The parents and the slots of one table: which parent row each new row points at.
pub(super) fn lineage_for<R: Rng>(
    db: &Database,
    table: &TablePlan,
    written: &HashMap<String, Arc<Rows>>,
    run: RunId,
    rng: &mut R,
) -> Result<Lineage, DbError> {
    let plan = table.plan();
    let mut keys = Vec::with_capacity(table.keys.len());
    for key in &table.keys {
        let pool = match key.fill {
            KeyFill::New => written.get(&key.parent.to_ascii_lowercase()).map(|rows| {
                let key_positions = positions(rows, &key.parent_columns);
                let mut dealer = key.fan_out.dealer();
                Pool {
                    weights: (0..rows.rows.len())
                        .map(|_| dealer.deal(rng) as f64)
                        .collect(),
                    rows: Arc::clone(rows),
                    key_positions,
                }
            }),
            KeyFill::Existing => {
                let parent = db.table_info(&key.parent)?;
                let link = Link {
                    child: &table.info,
                    from: &key.columns,
                    parent: &parent,
                    to: &key.parent_columns,
                };
                let (rows, counts) = db.parents_with_counts(link, EXISTING_PARENTS, rng)?;
                Some(Pool {
                    key_positions: positions(&rows, &key.parent_columns),
                    weights: counts.iter().map(|c| *c as f64).collect(),
                    rows: Arc::new(rows),
                })
            }
            KeyFill::Later | KeyFill::Null => None,
        };
        let rules = if pool.is_some() {
            key.rules.clone()
        } else {
            Vec::new()
        };
        keys.push(KeySource { pool, rules });
    }
    let slots = slots_for(&plan, table, &keys, rng);
    Ok(Lineage::new(keys, slots, table.driving, rng.random()).in_run(run))
}

pub(super) fn positions(rows: &Rows, columns: &[String]) -> Vec<usize> {
    columns
        .iter()
        .map(|c| rows.position(c).unwrap_or(0))
        .collect()
}

/// One slot per row to make. With a driving key, each new parent gets as many children
/// as a parent today may have (drawn from the observed counts, none included), plus
/// parentless rows in their share; other keys draw parents by popularity, and a link
/// table's other side is drawn without repeats within one parent.
fn slots_for<R: Rng + ?Sized>(
    plan: &crate::generate::plan::Plan,
    table: &TablePlan,
    keys: &[KeySource],
    rng: &mut R,
) -> Vec<Slot> {
    let width = keys.len();
    let mut choosers: Vec<Chooser<'_>> = keys
        .iter()
        .zip(&table.keys)
        .map(|(source, key)| match (&source.pool, key.fill) {
            (Some(pool), KeyFill::New) => Tickets::new(&pool.weights)
                .map(Chooser::Tickets)
                .unwrap_or(Chooser::Weighted(pool)),
            (Some(pool), _) => Chooser::Weighted(pool),
            (None, _) => Chooser::Nothing,
        })
        .collect();
    let draw_others =
        |choosers: &mut [Chooser<'_>], slot: &mut Slot, skip: Option<usize>, rng: &mut R| {
            for (k, chooser) in choosers.iter_mut().enumerate() {
                if Some(k) != skip {
                    slot.parents[k] = chooser.one(rng).map(|i| i as u32);
                }
            }
        };
    let mut slots = Vec::new();
    let Some(d) = table.driving else {
        for _ in 0..table.rows {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            draw_others(&mut choosers, &mut slot, None, rng);
            slots.push(slot);
        }
        return slots;
    };
    let Some(driving) = keys[d].pool.as_ref() else {
        return slots;
    };
    // Keys that form a UNIQUE set together with the driving key: no repeats per parent.
    let distinct: Vec<bool> = (0..width)
        .map(|k| {
            k != d && keys[k].pool.is_some() && {
                let mut union: Vec<usize> = plan.foreign_keys[d].columns.clone();
                union.extend(&plan.foreign_keys[k].columns);
                union.sort_unstable();
                plan.unique_sets.iter().any(|set| {
                    let mut s = set.clone();
                    s.sort_unstable();
                    s == union
                })
            }
        })
        .collect();
    let fan = &table.keys[d].fan_out;
    let mut dealer = fan.dealer();
    for r in 0..driving.len() {
        let mut n = dealer.deal(rng) as usize;
        let mut picks: Vec<Vec<usize>> = vec![Vec::new(); width];
        for k in (0..width).filter(|&k| distinct[k]) {
            picks[k] = choosers[k].distinct(n, rng);
            n = n.min(picks[k].len());
        }
        for t in 0..n {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            slot.parents[d] = Some(r as u32);
            for (k, chooser) in choosers.iter_mut().enumerate() {
                if k == d {
                    continue;
                }
                slot.parents[k] = if distinct[k] {
                    picks[k].get(t).map(|&i| i as u32)
                } else {
                    chooser.one(rng).map(|i| i as u32)
                };
            }
            slots.push(slot);
        }
    }
    let nullable = plan.foreign_keys[d]
        .columns
        .iter()
        .all(|&c| !plan.columns[c].not_null);
    if nullable {
        let extra = unattached_rows(slots.len() as f64, fan.null_share).round() as usize;
        for _ in 0..extra {
            let mut slot = Slot {
                parents: vec![None; width],
            };
            draw_others(&mut choosers, &mut slot, Some(d), rng);
            slots.push(slot);
        }
    }
    slots
}

/// How a key's parent is chosen for each new row.
enum Chooser<'a> {
    /// New parents, each as often as its dealt count of children says.
    Tickets(Tickets),
    /// Existing parents, by how often they are referenced today.
    Weighted(&'a Pool),
    /// NULL.
    Nothing,
}

impl Chooser<'_> {
    fn one<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<usize> {
        match self {
            Chooser::Tickets(t) => Some(t.one(rng)),
            Chooser::Weighted(pool) => pool.draw(rng),
            Chooser::Nothing => None,
        }
    }

    fn distinct<R: Rng + ?Sized>(&mut self, k: usize, rng: &mut R) -> Vec<usize> {
        match self {
            Chooser::Tickets(t) => t.distinct(k, rng),
            Chooser::Weighted(pool) => pool.draw_distinct(k, rng),
            Chooser::Nothing => Vec::new(),
        }
    }
}

/// A shuffled deck holding each new parent as many times as children it was dealt: the
/// rows that point at those parents take one ticket each, so every new parent ends with
/// its dealt number of children (drawing by weight instead would pile children on some
/// and leave others without any). Reshuffled when it runs out.
struct Tickets {
    template: Vec<u32>,
    deck: Vec<u32>,
    next: usize,
}

impl Tickets {
    fn new(weights: &[f64]) -> Option<Self> {
        let template: Vec<u32> = weights
            .iter()
            .enumerate()
            .flat_map(|(i, w)| std::iter::repeat_n(i as u32, w.max(0.0) as usize))
            .collect();
        (!template.is_empty()).then(|| Self {
            template,
            deck: Vec::new(),
            next: 0,
        })
    }

    fn one<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        use rand::seq::SliceRandom;
        if self.next >= self.deck.len() {
            self.deck.clone_from(&self.template);
            self.deck.shuffle(rng);
            self.next = 0;
        }
        self.next += 1;
        self.deck[self.next - 1] as usize
    }

    /// `k` tickets of different parents (fewer when the deck cannot give them).
    fn distinct<R: Rng + ?Sized>(&mut self, k: usize, rng: &mut R) -> Vec<usize> {
        let mut seen = std::collections::HashSet::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        let mut tries = 0;
        while out.len() < k && tries < k * 4 + 16 {
            let t = self.one(rng);
            if seen.insert(t) {
                out.push(t);
            }
            tries += 1;
        }
        out
    }
}
