//! The plan of a whole-database run, learned from the database before anything is
//! written: the tables in order, how many rows each gets, where each foreign key's
//! parents come from, how many children a parent has, and what children keep from their
//! parents. It is shown to the user first.

use rand::Rng;
use serde::Serialize;

use super::depends::{SumRule, learn_rules, learn_sums};
use super::graph::{KeyFill, Order, Skip, order};
use super::levels::Levels;
use crate::db::catalog::TableInfo;
use crate::db::lineage::Link;
use crate::db::{Database, DbError};
use crate::generate::lineage::Rule;
use crate::generate::plan::Plan;
use crate::output::thousands;

/// Child rows read to learn what children keep from their parents.
const RULE_SAMPLE: usize = 2_000;
/// Parents (with their children) read to learn parent totals.
const SUM_SAMPLE: usize = 500;

/// How big the run is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Each table grows to this many times its rows.
    Scale(f64),
    /// Each table the run starts from (no parent in the run) gets this many rows;
    /// children follow their parents.
    Rows(u64),
}

/// How many children a parent has, as observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FanOut {
    /// `(children, parents)`: this many parents have this many children.
    pub counts: Vec<(u64, u64)>,
    /// Share of child rows that belong to no parent (a NULL key).
    pub null_share: f64,
}

impl FanOut {
    pub fn parents(&self) -> u64 {
        self.counts.iter().map(|(_, p)| p).sum()
    }

    pub fn mean(&self) -> f64 {
        let parents = self.parents();
        if parents == 0 {
            return 0.0;
        }
        self.counts.iter().map(|(c, p)| c * p).sum::<u64>() as f64 / parents as f64
    }

    pub fn zero_share(&self) -> f64 {
        let parents = self.parents();
        if parents == 0 {
            return 1.0;
        }
        self.counts
            .iter()
            .filter(|(c, _)| *c == 0)
            .map(|(_, p)| p)
            .sum::<u64>() as f64
            / parents as f64
    }

    pub fn min(&self) -> u64 {
        self.counts
            .iter()
            .filter(|(_, p)| *p > 0)
            .map(|(c, _)| *c)
            .min()
            .unwrap_or(0)
    }

    pub fn max(&self) -> u64 {
        self.counts.iter().map(|(c, _)| *c).max().unwrap_or(0)
    }

    /// Deals children counts as the parents of today have them: each observed count
    /// once per round, in random order, so that new parents, taken together, have
    /// exactly today's distribution (a run that doubles a table doubles its children).
    pub fn dealer(&self) -> Dealer {
        let deck = self
            .counts
            .iter()
            .flat_map(|(c, p)| std::iter::repeat_n(*c, *p as usize))
            .collect();
        Dealer {
            deck,
            next: usize::MAX,
        }
    }
}

/// Children counts dealt from a shuffled deck of today's (see [`FanOut::dealer`]).
pub struct Dealer {
    deck: Vec<u64>,
    next: usize,
}

impl Dealer {
    pub fn deal<R: Rng + ?Sized>(&mut self, rng: &mut R) -> u64 {
        use rand::seq::SliceRandom;
        if self.deck.is_empty() {
            return 0;
        }
        if self.next >= self.deck.len() {
            self.deck.shuffle(rng);
            self.next = 0;
        }
        self.next += 1;
        self.deck[self.next - 1]
    }
}

/// One foreign key of a table in the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPlan {
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub fill: KeyFill,
    /// Children per parent today.
    pub fan_out: FanOut,
    /// What children keep from the parent.
    pub rules: Vec<Rule>,
    /// Parent columns that are the sum over these children.
    pub sums: Vec<SumRule>,
    /// For a table that points at itself: the column that says which rows point at which.
    pub levels: Option<Levels>,
}

/// One table of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TablePlan {
    pub table: String,
    /// Rows before the run.
    pub before: u64,
    /// Rows the run adds (expected, when they follow a parent's fan-out).
    pub rows: u64,
    /// The key whose parents' fan-out sets the rows (index into `keys`).
    pub driving: Option<usize>,
    pub keys: Vec<KeyPlan>,
    #[serde(skip)]
    pub info: TableInfo,
}

impl TablePlan {
    pub fn plan(&self) -> Plan {
        Plan::new(&self.info)
    }
}

/// The whole run, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WholePlan {
    pub size: Size,
    pub tables: Vec<TablePlan>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub table: String,
    pub reason: Skip,
}

impl WholePlan {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// The plan as the user reads it, one line per table (and per table left out).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, t) in self.tables.iter().enumerate() {
            let about = if t.driving.is_some() { "about " } else { "" };
            let mut line = format!(
                "{}. {}: {about}+{} rows ({} → {about}{})",
                i + 1,
                t.table,
                thousands(t.rows),
                thousands(t.before),
                thousands(t.before + t.rows)
            );
            let mut notes = Vec::new();
            for (k, key) in t.keys.iter().enumerate() {
                let cols = key.columns.join(", ");
                notes.push(match key.fill {
                    KeyFill::New if Some(k) == t.driving => format!(
                        "{:.1} per new row of {} ({}–{}, as today)",
                        key.fan_out.mean(),
                        key.parent,
                        key.fan_out.min(),
                        key.fan_out.max()
                    ),
                    KeyFill::New => format!("{cols} → new rows of {}, by popularity", key.parent),
                    KeyFill::Existing => {
                        format!("{cols} → existing rows of {}, by popularity", key.parent)
                    }
                    KeyFill::Later => match &key.levels {
                        Some(l) => format!(
                            "{cols} → set in a second pass, as {} says (rows point up its levels)",
                            l.column
                        ),
                        None => format!("{cols} → set in a second pass"),
                    },
                    KeyFill::Null => format!("{cols} left empty ({} has no rows)", key.parent),
                });
                for rule in &key.rules {
                    notes.push(rule.describe(&key.parent));
                }
            }
            if !notes.is_empty() {
                line.push_str(&format!("; {}", notes.join("; ")));
            }
            out.push(line);
        }
        for s in &self.skipped {
            out.push(format!("skipped {}: {}", s.table, s.reason));
        }
        out
    }

    /// The sums children keep in their parents, as (child table, key, rule).
    pub fn sums(&self) -> Vec<(&TablePlan, usize, &SumRule)> {
        self.tables
            .iter()
            .flat_map(|t| {
                t.keys
                    .iter()
                    .enumerate()
                    .flat_map(move |(k, key)| key.sums.iter().map(move |s| (t, k, s)))
            })
            .collect()
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("{0}")]
    UnknownTable(#[from] super::graph::UnknownTable),
    #[error("Nothing to generate: {0}")]
    Nothing(String),
}

/// Reads the database and makes the plan.
pub fn learn<R: Rng>(
    db: &Database,
    size: Size,
    chosen: Option<&[String]>,
    rng: &mut R,
) -> Result<WholePlan, PlanError> {
    let catalog = db.load_catalog()?;
    let mut tables = Vec::with_capacity(catalog.len());
    for info in catalog {
        let rows = if info.kind.generatable() {
            db.count(&info)?
        } else {
            0
        };
        tables.push((info, rows));
    }
    let Order { steps, skipped } = order(&tables, chosen)?;
    let skipped: Vec<Skipped> = skipped
        .into_iter()
        .map(|(table, reason)| Skipped { table, reason })
        .collect();
    if steps.is_empty() {
        let why = skipped
            .iter()
            .map(|s| format!("{} ({})", s.table, s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(PlanError::Nothing(if why.is_empty() {
            "the database has no tables.".into()
        } else {
            format!("no table can be filled: {why}.")
        }));
    }
    let info_of = |name: &str| {
        tables
            .iter()
            .find(|(t, _)| t.name.eq_ignore_ascii_case(name))
            .map(|(t, _)| t)
    };
    let mut planned: Vec<TablePlan> = Vec::with_capacity(steps.len());
    for step in &steps {
        let plan = step.plan();
        let assigned: Vec<String> = plan.assigned.iter().map(|(n, _)| n.clone()).collect();
        let mut keys = Vec::with_capacity(plan.foreign_keys.len());
        for (k, fk) in plan.foreign_keys.iter().enumerate() {
            let columns: Vec<String> = fk
                .columns
                .iter()
                .map(|&c| plan.columns[c].name.clone())
                .collect();
            let fill = step.fills[k];
            let parent = info_of(&fk.parent);
            let (fan, rules, sums, levels) = match (parent, fill) {
                (Some(parent), KeyFill::New | KeyFill::Existing | KeyFill::Later) => {
                    let link = Link {
                        child: &step.table,
                        from: &columns,
                        parent,
                        to: &fk.parent_columns,
                    };
                    let fan = FanOut {
                        counts: db.fan_out(link)?,
                        null_share: db.null_share(link)?,
                    };
                    let parent_plan = Plan::new(parent);
                    let mut skip_parent: Vec<String> = fk.parent_columns.clone();
                    skip_parent.extend(parent_plan.assigned.iter().map(|(n, _)| n.clone()));
                    let mut skip_child = columns.clone();
                    skip_child.extend(assigned.iter().cloned());
                    // Keys of other parents and the table's own keys copy nothing.
                    for other in &plan.foreign_keys {
                        skip_child
                            .extend(other.columns.iter().map(|&c| plan.columns[c].name.clone()));
                    }
                    let rules = if fill == KeyFill::Later {
                        Vec::new()
                    } else {
                        let (children, parents, of_child) =
                            db.children_with_parents(link, RULE_SAMPLE, rng)?;
                        learn_rules(&children, &parents, &of_child, &skip_child, &skip_parent)
                    };
                    let sums = if fill == KeyFill::New {
                        let (parents, children, of_parent) = db.families(link, SUM_SAMPLE)?;
                        learn_sums(&parents, &children, &of_parent, &skip_child, &skip_parent)
                    } else {
                        Vec::new()
                    };
                    // A table that points at itself, linked in the second pass: which rows
                    // may point at which (staff at managers, managers at the top).
                    let levels = if fill == KeyFill::Later && parent.name == step.table.name {
                        let (rows, parents, of_row) =
                            db.children_with_parents(link, RULE_SAMPLE, rng)?;
                        Levels::learn(&rows, &parents, &of_row, &skip_child)
                    } else {
                        None
                    };
                    (fan, rules, sums, levels)
                }
                _ => (
                    FanOut {
                        counts: Vec::new(),
                        null_share: 1.0,
                    },
                    Vec::new(),
                    Vec::new(),
                    None,
                ),
            };
            keys.push(KeyPlan {
                columns,
                parent: parent.map_or(fk.parent.clone(), |p| p.name.clone()),
                parent_columns: fk.parent_columns.clone(),
                fill,
                fan_out: fan,
                rules,
                sums,
                levels,
            });
        }
        let driving = driving_key(&plan, &keys);
        let rows = match driving {
            Some(d) => {
                let parent_rows = planned
                    .iter()
                    .find(|t| t.table.eq_ignore_ascii_case(&keys[d].parent))
                    .map_or(0, |t| t.rows);
                let fan = &keys[d].fan_out;
                let attached = parent_rows as f64 * fan.mean();
                let unattached = unattached_rows(attached, fan.null_share);
                (attached + unattached).round() as u64
            }
            None => match size {
                Size::Scale(f) => (step.rows as f64 * (f - 1.0)).round() as u64,
                Size::Rows(n) => n,
            },
        };
        planned.push(TablePlan {
            table: step.table.name.clone(),
            before: step.rows,
            rows,
            driving,
            keys,
            info: step.table.clone(),
        });
    }
    Ok(WholePlan {
        size,
        tables: planned,
        skipped,
    })
}

/// Rows with a NULL key to add beside `attached` rows that have a parent, so that the
/// share of parentless rows stays as it is.
pub fn unattached_rows(attached: f64, null_share: f64) -> f64 {
    if null_share <= 0.0 || null_share >= 1.0 {
        return 0.0;
    }
    attached * null_share / (1.0 - null_share)
}

/// The key whose parents' fan-out sets how many rows a table gets: among keys to new
/// parents, the one that starts the primary key (a link table's first side), else the
/// one every parent uses most evenly (fewest parents without children), else the one
/// with the most parents.
fn driving_key(plan: &Plan, keys: &[KeyPlan]) -> Option<usize> {
    let new: Vec<usize> = (0..keys.len())
        .filter(|&k| keys[k].fill == KeyFill::New)
        .collect();
    let first_pk = plan
        .table
        .primary_key()
        .first()
        .map(|c| c.name.to_ascii_lowercase());
    if let Some(&k) = new
        .iter()
        .find(|&&k| keys[k].columns.first().map(|c| c.to_ascii_lowercase()) == first_pk)
    {
        return Some(k);
    }
    new.into_iter().min_by(|&a, &b| {
        let (fa, fb) = (&keys[a].fan_out, &keys[b].fan_out);
        fa.zero_share()
            .total_cmp(&fb.zero_share())
            .then(fb.parents().cmp(&fa.parents()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn fan_out_summaries_count_parents_without_children() {
        let fan = FanOut {
            counts: vec![(0, 10), (1, 60), (5, 30)],
            null_share: 0.0,
        };
        assert!((fan.mean() - 2.1).abs() < 1e-9);
        assert!((fan.zero_share() - 0.1).abs() < 1e-9);
        assert_eq!((fan.min(), fan.max()), (0, 5));
    }

    #[test]
    fn dealt_counts_give_new_parents_exactly_todays_distribution_per_round() {
        let fan = FanOut {
            counts: vec![(0, 2), (1, 3), (7, 1)],
            null_share: 0.0,
        };
        let mut dealer = fan.dealer();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..3 {
            let mut round: Vec<u64> = (0..6).map(|_| dealer.deal(&mut rng)).collect();
            round.sort_unstable();
            assert_eq!(round, [0, 0, 1, 1, 1, 7]);
        }
    }

    #[test]
    fn parentless_rows_keep_their_share() {
        assert_eq!(unattached_rows(80.0, 0.2), 20.0);
        assert_eq!(unattached_rows(80.0, 0.0), 0.0);
    }
}
