//! What a table's generation knows of its parents when it is one step of a
//! whole-database run: for each row to make, which parent row each foreign key points
//! at (its *slot*), the parent rows themselves, and what a child copies from its parent
//! (a city equal to the customer's, an order date after the customer's signup).
//!
//! The job fills slots in order; a row turned away gives its slot back, so the fan-out
//! that was planned is the fan-out that lands.

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rusqlite::types::Value;
use serde::Serialize;

use crate::db::journal::{OperationId, RowKey, RunId};
use crate::db::lineage::Rows;
use crate::generate::offline::temporal;
use crate::generate::parse::Candidate;
use crate::generate::plan::Plan;

/// Parent rows a foreign key may point at, each with how likely it is to be chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pool {
    /// Shared with the run (a parent table's new rows serve each of its children).
    pub rows: std::sync::Arc<Rows>,
    /// Positions in `rows.columns` of the columns the key points at.
    pub key_positions: Vec<usize>,
    /// How popular each row is (children it has, or is drawn to have).
    pub weights: Vec<f64>,
}

impl Pool {
    pub fn key(&self, row: usize) -> Vec<Value> {
        self.key_positions
            .iter()
            .map(|&p| self.rows.rows[row].get(p).cloned().unwrap_or(Value::Null))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.rows.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.rows.is_empty()
    }

    /// Draws one row by popularity (uniformly when nobody is popular).
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        match WeightedIndex::new(&self.weights) {
            Ok(w) => Some(w.sample(rng)),
            Err(_) => Some(rng.random_range(0..self.len())),
        }
    }

    /// Draws up to `k` different rows by popularity.
    pub fn draw_distinct<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Vec<usize> {
        let positive = self.weights.iter().filter(|w| **w > 0.0).count();
        if positive == 0 {
            let k = k.min(self.len());
            return rand::seq::index::sample(rng, self.len(), k).into_vec();
        }
        let k = k.min(positive);
        rand::seq::index::sample_weighted(rng, self.len(), |i| self.weights[i], k)
            .map(|v| v.into_vec())
            .unwrap_or_default()
    }
}

/// One row to make: per foreign key of the plan, the pool row it points at (`None`:
/// NULL, to be set in the second pass or left empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub parents: Vec<Option<u32>>,
}

/// What a child keeps from its parent, learned from the rows that exist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rule {
    /// The child's column equals the parent's (an invoice's billing city is its
    /// customer's city).
    Equal { child: String, parent: String },
    /// The child's time is never before the parent's (an order after the customer's
    /// signup); `gaps` are the observed differences in seconds, sorted.
    After {
        child: String,
        parent: String,
        #[serde(skip)]
        gaps: Vec<f64>,
        /// The child's latest time seen: new times stay at or before it where a gap
        /// allows (the data ends where the table's history does).
        #[serde(skip)]
        latest: Option<f64>,
    },
    /// The child's column is another of its columns times the parent's (a line's total is
    /// its quantity times the product's price), written with `decimals` places.
    Times {
        child: String,
        factor: String,
        parent: String,
        decimals: u32,
    },
}

impl Rule {
    pub fn child(&self) -> &str {
        match self {
            Rule::Equal { child, .. } | Rule::After { child, .. } | Rule::Times { child, .. } => {
                child
            }
        }
    }

    pub fn parent(&self) -> &str {
        match self {
            Rule::Equal { parent, .. }
            | Rule::After { parent, .. }
            | Rule::Times { parent, .. } => parent,
        }
    }

    /// "billing_city = customers.city", "ordered_at ≥ customers.created_at",
    /// "line_total = quantity × products.price".
    pub fn describe(&self, parent_table: &str) -> String {
        match self {
            Rule::Equal { child, parent } => format!("{child} = {parent_table}.{parent}"),
            Rule::After { child, parent, .. } => format!("{child} ≥ {parent_table}.{parent}"),
            Rule::Times {
                child,
                factor,
                parent,
                ..
            } => format!("{child} = {factor} × {parent_table}.{parent}"),
        }
    }

    /// What a `Times` rule makes of `row`'s own factor and the parent's value.
    fn product_for(&self, plan: &Plan, row: &Candidate, theirs: &Value) -> Option<Value> {
        let Rule::Times {
            factor, decimals, ..
        } = self
        else {
            return None;
        };
        let f = row.get(plan.index_of(factor)?).cloned().flatten()?;
        Rule::times(&f, theirs, *decimals)
    }

    /// The value of a `Times` rule for a row whose factor is `factor`.
    fn times(factor: &Value, parent: &Value, decimals: u32) -> Option<Value> {
        let v = number(factor)? * number(parent)?;
        Some(if decimals == 0 {
            Value::Integer(v.round() as i64)
        } else {
            let scale = 10f64.powi(decimals.min(12) as i32);
            Value::Real((v * scale).round() / scale)
        })
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

/// One foreign key's source of parents and the rules its children keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeySource {
    /// `None`: the key is NULL on insert.
    pub pool: Option<Pool>,
    pub rules: Vec<Rule>,
}

/// What a row must hold because of its parents, for the generator to build around.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Given {
    /// Per foreign key: the parent key (`None`: NULL).
    pub parents: Vec<Option<Vec<Value>>>,
    /// Per planned column: a value copied from a parent.
    pub values: Vec<Option<Value>>,
    /// Per planned column: a time (seconds since 1970) a parent's time leads to.
    pub times: Vec<Option<f64>>,
    /// Columns made last, from the row's own factor column times a parent's value:
    /// (column, factor column, parent's value, decimals).
    pub products: Vec<(usize, usize, Value, u32)>,
}

/// Slots waiting to be filled; a slot whose row is turned away comes back a few times.
struct Queue {
    pending: VecDeque<usize>,
    tries: Vec<u8>,
}

/// How many times a slot is tried before it is given up (its row counts as short).
const SLOT_TRIES: u8 = 6;

/// A table's place in a whole-database run, as its generation job sees it.
pub struct Lineage {
    /// Per foreign key of the plan.
    pub keys: Vec<KeySource>,
    /// The slots, in order; a slot turned away twice gets other parents for its keys
    /// other than `driving` (a cheaper product when the line total came out too big).
    slots: std::sync::RwLock<Vec<Slot>>,
    /// The key whose parent a slot keeps whatever happens (its fan-out was planned).
    driving: Option<usize>,
    /// Draws the new parents of slots that are tried again.
    redraws: Mutex<rand::rngs::StdRng>,
    queue: Mutex<Queue>,
    /// The slots filled, with the keys of the rows that filled them, in write order.
    written: Mutex<Vec<(usize, RowKey)>>,
    /// The run's undo record this table's rows go to, once it has one.
    pub operation: Mutex<Option<OperationId>>,
    /// The whole-database run the table's undo record belongs to.
    pub run: Option<RunId>,
}

impl std::fmt::Debug for Lineage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lineage")
            .field("keys", &self.keys.len())
            .field("slots", &self.len())
            .field("run", &self.run)
            .finish()
    }
}

impl Lineage {
    pub fn new(keys: Vec<KeySource>, slots: Vec<Slot>, driving: Option<usize>, seed: u64) -> Self {
        let n = slots.len();
        Self {
            keys,
            queue: Mutex::new(Queue {
                pending: (0..n).collect(),
                tries: vec![0; n],
            }),
            slots: std::sync::RwLock::new(slots),
            driving,
            redraws: Mutex::new(rand::SeedableRng::seed_from_u64(seed)),
            written: Mutex::new(Vec::new()),
            operation: Mutex::new(None),
            run: None,
        }
    }

    /// Records the table's rows as part of `run`, undone with it.
    pub fn in_run(mut self, run: RunId) -> Self {
        self.run = Some(run);
        self
    }

    /// Takes up to `n` slots to fill.
    pub fn take(&self, n: usize) -> Vec<usize> {
        let Ok(mut q) = self.queue.lock() else {
            return Vec::new();
        };
        let n = n.min(q.pending.len());
        let taken: Vec<usize> = q.pending.drain(..n).collect();
        for &s in &taken {
            q.tries[s] = q.tries[s].saturating_add(1);
        }
        taken
    }

    /// How many rows the table is to get.
    pub fn len(&self) -> usize {
        self.slots.read().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gives back slots whose rows were turned away (each only a few times). From the
    /// second time on, the slot's other keys get other parents: the combination may be
    /// what was wrong (a line total too big for any real order).
    pub fn give_back(&self, slots: impl IntoIterator<Item = usize>) {
        let Ok(mut q) = self.queue.lock() else {
            return;
        };
        for s in slots {
            let tries = q.tries.get(s).copied().unwrap_or(SLOT_TRIES);
            if tries >= SLOT_TRIES {
                continue;
            }
            if tries >= 2 {
                self.redraw(s);
            }
            q.pending.push_back(s);
        }
    }

    fn redraw(&self, slot: usize) {
        let (Ok(mut slots), Ok(mut rng)) = (self.slots.write(), self.redraws.lock()) else {
            return;
        };
        let Some(slot) = slots.get_mut(slot) else {
            return;
        };
        for (k, source) in self.keys.iter().enumerate() {
            if Some(k) == self.driving || slot.parents.get(k).copied().flatten().is_none() {
                continue;
            }
            if let Some(i) = source.pool.as_ref().and_then(|p| p.draw(&mut *rng)) {
                slot.parents[k] = Some(i as u32);
            }
        }
    }

    /// The pool row slot `slot` points at through key `k`.
    fn parent_index(&self, slot: usize, k: usize) -> Option<usize> {
        let slots = self.slots.read().ok()?;
        Some(slots.get(slot)?.parents.get(k).copied().flatten()? as usize)
    }

    /// Records the rows written for slots.
    pub fn wrote(&self, rows: impl IntoIterator<Item = (usize, RowKey)>) {
        if let Ok(mut w) = self.written.lock() {
            w.extend(rows);
        }
    }

    /// The rows written, in write order, with their slots.
    pub fn written(&self) -> Vec<(usize, RowKey)> {
        self.written.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Parent keys per foreign key (for a generator's fallbacks).
    pub fn parent_keys(&self) -> Vec<Vec<Vec<Value>>> {
        self.keys
            .iter()
            .map(|k| {
                k.pool
                    .as_ref()
                    .map(|p| (0..p.len()).map(|i| p.key(i)).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The parent row of `slot` through key `k`.
    pub fn parent_row(&self, slot: usize, k: usize) -> Option<(&Rows, &Vec<Value>)> {
        let i = self.parent_index(slot, k)?;
        let pool = self.keys.get(k)?.pool.as_ref()?;
        Some((&pool.rows, pool.rows.rows.get(i)?))
    }

    /// Each rule the row for `slot` keeps with its parents: the key it comes through, the
    /// rule, the row's column it sets or judges, and the parent's value.
    fn applying<'a>(
        &'a self,
        plan: &'a Plan,
        slot: usize,
    ) -> impl Iterator<Item = (usize, &'a Rule, usize, Value)> + 'a {
        self.keys.iter().enumerate().flat_map(move |(k, source)| {
            let parent = self.parent_row(slot, k);
            source.rules.iter().filter_map(move |rule| {
                let (columns, row) = parent?;
                let c = plan.index_of(rule.child())?;
                let p = columns.position(rule.parent())?;
                Some((k, rule, c, row.get(p).cloned().unwrap_or(Value::Null)))
            })
        })
    }

    /// What the row for `slot` must hold: its parents' keys, values copied from them,
    /// and times that follow theirs (a gap drawn from those observed).
    pub fn given<R: Rng + ?Sized>(&self, plan: &Plan, slot: usize, rng: &mut R) -> Given {
        let width = plan.columns.len();
        let mut given = Given {
            parents: Vec::with_capacity(self.keys.len()),
            values: vec![None; width],
            times: vec![None; width],
            products: Vec::new(),
        };
        for (k, source) in self.keys.iter().enumerate() {
            given.parents.push(self.parent_row(slot, k).map(|_| {
                let i = self.parent_index(slot, k).unwrap_or(0);
                source.pool.as_ref().map(|p| p.key(i)).unwrap_or_default()
            }));
        }
        for (_, rule, c, value) in self.applying(plan, slot) {
            match rule {
                Rule::Equal { .. } => given.values[c] = Some(value),
                Rule::After { gaps, latest, .. } => {
                    let Some(at) = time_of(&value) else { continue };
                    let room = latest.map(|l| l - at);
                    if let Some(gap) = draw_gap(gaps, room, rng) {
                        given.times[c] = Some(at + gap);
                    }
                }
                Rule::Times {
                    factor, decimals, ..
                } => {
                    if let Some(a) = plan.index_of(factor) {
                        given.products.push((c, a, value, *decimals));
                    }
                }
            }
        }
        given
    }

    /// Puts the slot's parent keys, and the values the row copies from its parents, into
    /// a row someone else wrote (a model): they are the run's to choose, not the model's.
    pub fn fill_from_parents(&self, plan: &Plan, slot: usize, row: &mut Candidate) {
        for (k, source) in self.keys.iter().enumerate() {
            let Some(fk) = plan.foreign_keys.get(k) else {
                continue;
            };
            let key = self
                .parent_index(slot, k)
                .zip(source.pool.as_ref())
                .map(|(i, pool)| pool.key(i));
            for (position, &c) in fk.columns.iter().enumerate() {
                if let Some(cell) = row.get_mut(c) {
                    *cell = Some(
                        key.as_ref()
                            .and_then(|k| k.get(position).cloned())
                            .unwrap_or(Value::Null),
                    );
                }
            }
        }
        let made: Vec<(usize, Value)> = self
            .applying(plan, slot)
            .filter_map(|(_, rule, c, theirs)| {
                let value = match rule {
                    Rule::Equal { .. } => Some(theirs),
                    Rule::Times { .. } => rule.product_for(plan, row, &theirs),
                    Rule::After { .. } => None,
                };
                Some((c, value?))
            })
            .collect();
        for (c, value) in made {
            if let Some(cell) = row.get_mut(c) {
                *cell = Some(value);
            }
        }
    }

    /// Why a row does not keep what its parents hold, if it does not (for rows a model
    /// wrote; the offline generator builds them that way).
    pub fn check(&self, plan: &Plan, slot: usize, row: &Candidate) -> Result<(), String> {
        for (k, rule, c, theirs) in self.applying(plan, slot) {
            let mine = row.get(c).cloned().flatten().unwrap_or(Value::Null);
            let kept = match rule {
                Rule::Equal { .. } => same(&mine, &theirs),
                Rule::After { .. } => match (time_of(&mine), time_of(&theirs)) {
                    (Some(a), Some(b)) => a >= b,
                    _ => matches!(mine, Value::Null),
                },
                Rule::Times { .. } => {
                    match (
                        rule.product_for(plan, row, &theirs)
                            .as_ref()
                            .and_then(number),
                        number(&mine),
                    ) {
                        (Some(w), Some(m)) => (w - m).abs() <= 0.005 + 1e-9 * w.abs(),
                        _ => true,
                    }
                }
            };
            if !kept {
                let fk = &plan.foreign_keys[k];
                return Err(match rule {
                    Rule::Equal { child, parent } => {
                        format!("{child} must equal its {}'s {parent}", fk.parent)
                    }
                    Rule::After { child, parent, .. } => {
                        format!("{child} must not be before its {}'s {parent}", fk.parent)
                    }
                    Rule::Times {
                        child,
                        factor,
                        parent,
                        ..
                    } => format!(
                        "{child} must be {factor} times its {}'s {parent}",
                        fk.parent
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Values equal as SQLite compares them (3 = 3.0).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Real(y)) | (Value::Real(y), Value::Integer(x)) => {
            (*x as f64 - y).abs() < 1e-9
        }
        (Value::Real(x), Value::Real(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    }
}

/// A time value as seconds since 1970 (ISO text).
pub fn time_of(v: &Value) -> Option<f64> {
    match v {
        Value::Text(t) => temporal::parse(t).map(|(at, _)| at),
        _ => None,
    }
}

/// A gap like the observed ones: one of them, moved a little toward its neighbours, and
/// never below the smallest seen; within `room` when some observed gap fits in it.
fn draw_gap<R: Rng + ?Sized>(gaps: &[f64], room: Option<f64>, rng: &mut R) -> Option<f64> {
    let fits = room.map_or(gaps.len(), |r| gaps.partition_point(|g| *g <= r));
    let gaps = if fits > 0 { &gaps[..fits] } else { gaps };
    let n = gaps.len();
    if n == 0 {
        return None;
    }
    let i = rng.random_range(0..n);
    let base = gaps[i];
    let neighbour = gaps[(i + 1).min(n - 1)];
    let gap = base + (neighbour - base) * rng.random::<f64>();
    Some(gap.max(gaps[0]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn pool(weights: &[f64]) -> Pool {
        Pool {
            rows: std::sync::Arc::new(Rows {
                columns: vec!["id".into()],
                rows: (0..weights.len())
                    .map(|i| vec![Value::Integer(i as i64 + 1)])
                    .collect(),
            }),
            key_positions: vec![0],
            weights: weights.to_vec(),
        }
    }

    #[test]
    fn popular_parents_are_drawn_as_often_as_their_weight_says_and_unpopular_never() {
        let p = pool(&[0.0, 1.0, 3.0]);
        let mut rng = StdRng::seed_from_u64(1);
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            seen[p.draw(&mut rng).unwrap()] += 1;
        }
        assert_eq!(seen[0], 0);
        let ratio = f64::from(seen[2]) / f64::from(seen[1]);
        assert!((2.6..3.4).contains(&ratio), "{seen:?}");
    }

    #[test]
    fn distinct_draws_never_repeat_and_stop_at_the_rows_that_can_be_drawn() {
        let p = pool(&[1.0, 1.0, 0.0, 5.0]);
        let mut rng = StdRng::seed_from_u64(2);
        let mut d = p.draw_distinct(10, &mut rng);
        d.sort();
        assert_eq!(d, [0, 1, 3]);
    }

    #[test]
    fn a_turned_away_slot_comes_back_a_few_times_then_is_given_up() {
        let lineage = Lineage::new(Vec::new(), vec![Slot { parents: vec![] }; 2], None, 1);
        assert_eq!(lineage.take(5), [0, 1]);
        for _ in 0..SLOT_TRIES {
            lineage.give_back([1]);
            let again = lineage.take(5);
            if again.is_empty() {
                return;
            }
            assert_eq!(again, [1]);
        }
        lineage.give_back([1]);
        assert!(lineage.take(5).is_empty());
    }

    #[test]
    fn gaps_stay_within_those_seen() {
        let gaps = [10.0, 20.0, 100.0];
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..500 {
            let g = draw_gap(&gaps, None, &mut rng).unwrap();
            assert!((10.0..=100.0).contains(&g), "{g}");
            let g = draw_gap(&gaps, Some(25.0), &mut rng).unwrap();
            assert!((10.0..=20.0).contains(&g), "{g}");
        }
    }
}
