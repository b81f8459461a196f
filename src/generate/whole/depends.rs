//! What children keep from their parents, found in the rows that exist: a column equal to
//! the parent's (billing city = the customer's city), a time never before the parent's
//! (an order after the customer's signup), and a parent column that is the sum over its
//! children (an order's total of its lines' totals).

use rusqlite::types::Value;
use serde::Serialize;

use crate::db::lineage::Rows;
use crate::generate::lineage::{Rule, same, time_of};

/// Pairs seen at least this often before a rule is believed.
const MIN_PAIRS: usize = 20;
/// Share of the pairs a rule must hold in.
const HOLDS: f64 = 0.99;
/// Share of the parents a sum must hold in (a refund line or a rounding may break one).
const SUM_HOLDS: f64 = 0.98;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

/// Rules children keep with their parent. `of_child[i]`: the parent row of child row `i`.
/// `skip_child`/`skip_parent`: columns that take no part (the key itself, columns the
/// database assigns).
pub fn learn_rules(
    children: &Rows,
    parents: &Rows,
    of_child: &[Option<usize>],
    skip_child: &[String],
    skip_parent: &[String],
) -> Vec<Rule> {
    let mut rules = Vec::new();
    let pairs: Vec<(&Vec<Value>, &Vec<Value>)> = children
        .rows
        .iter()
        .zip(of_child)
        .filter_map(|(c, p)| Some((c, parents.rows.get((*p)?)?)))
        .collect();
    if pairs.len() < MIN_PAIRS {
        return rules;
    }
    let skipped = |list: &[String], name: &str| list.iter().any(|s| s.eq_ignore_ascii_case(name));
    for (ci, child) in children.columns.iter().enumerate() {
        if skipped(skip_child, child) {
            continue;
        }
        let distinct = {
            let mut seen: Vec<&Value> = Vec::new();
            for (c, _) in &pairs {
                if !seen.contains(&&c[ci]) {
                    seen.push(&c[ci]);
                }
                if seen.len() > 1 {
                    break;
                }
            }
            seen.len()
        };
        if distinct < 2 {
            continue;
        }
        let mut found: Option<Rule> = None;
        for (pi, parent) in parents.columns.iter().enumerate() {
            if skipped(skip_parent, parent) {
                continue;
            }
            let both: Vec<(&Value, &Value)> = pairs
                .iter()
                .map(|(c, p)| (&c[ci], &p[pi]))
                .filter(|(a, b)| !matches!(a, Value::Null) && !matches!(b, Value::Null))
                .collect();
            if both.len() < MIN_PAIRS {
                continue;
            }
            let n = both.len() as f64;
            let equal = both.iter().filter(|(a, b)| same(a, b)).count() as f64;
            if equal / n >= HOLDS {
                found = Some(Rule::Equal {
                    child: child.clone(),
                    parent: parent.clone(),
                });
                break;
            }
            let times: Vec<(f64, f64)> = both
                .iter()
                .filter_map(|(a, b)| Some((time_of(a)?, time_of(b)?)))
                .collect();
            if times.len() as f64 >= n * HOLDS && times.len() >= MIN_PAIRS {
                let after = times.iter().filter(|(a, b)| a >= b).count() as f64;
                if after / times.len() as f64 >= HOLDS && equal < n {
                    let mut gaps: Vec<f64> = times
                        .iter()
                        .map(|(a, b)| a - b)
                        .filter(|g| *g >= 0.0)
                        .collect();
                    gaps.sort_by(f64::total_cmp);
                    // The tightest parent time wins (an order follows the signup, not
                    // the birth date).
                    let median = gaps[gaps.len() / 2];
                    let better = match &found {
                        Some(Rule::After { gaps: g, .. }) => median < g[g.len() / 2],
                        _ => true,
                    };
                    if better {
                        let latest = children
                            .rows
                            .iter()
                            .filter_map(|r| time_of(&r[ci]))
                            .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
                        found = Some(Rule::After {
                            child: child.clone(),
                            parent: parent.clone(),
                            gaps,
                            latest,
                        });
                    }
                }
            }
        }
        if found.is_none() {
            found = times_rule(&pairs, children, parents, ci, skip_child, skip_parent);
        }
        rules.extend(found);
    }
    // One time rule per parent column: the child's time that is earliest in its own row
    // (an order's date follows the customer's signup; its ship date follows the order
    // date within the row, as the table's own rules keep it).
    let earliest = |a: &str, b: &str| {
        let (Some(ia), Some(ib)) = (
            children.columns.iter().position(|c| c == a),
            children.columns.iter().position(|c| c == b),
        ) else {
            return false;
        };
        let both: Vec<(f64, f64)> = children
            .rows
            .iter()
            .filter_map(|r| Some((time_of(&r[ia])?, time_of(&r[ib])?)))
            .collect();
        !both.is_empty()
            && both.iter().filter(|(x, y)| x <= y).count() as f64 >= both.len() as f64 * HOLDS
    };
    let mut kept: Vec<Rule> = Vec::new();
    for rule in rules {
        let Rule::After { parent, child, .. } = &rule else {
            kept.push(rule);
            continue;
        };
        match kept
            .iter()
            .position(|k| matches!(k, Rule::After { parent: p, .. } if p == parent))
        {
            Some(i) => {
                if earliest(child, kept[i].child()) {
                    kept[i] = rule;
                }
            }
            None => kept.push(rule),
        }
    }
    kept
}

/// Child column `ci` as another of the child's columns times a parent's column (a line's
/// total = its quantity × the product's price), when that holds in the pairs.
fn times_rule(
    pairs: &[(&Vec<Value>, &Vec<Value>)],
    children: &Rows,
    parents: &Rows,
    ci: usize,
    skip_child: &[String],
    skip_parent: &[String],
) -> Option<Rule> {
    let skipped = |list: &[String], name: &str| list.iter().any(|s| s.eq_ignore_ascii_case(name));
    if pairs
        .iter()
        .any(|(c, _)| !matches!(c[ci], Value::Null) && number(&c[ci]).is_none())
    {
        return None;
    }
    for (ai, factor) in children.columns.iter().enumerate() {
        if ai == ci || skipped(skip_child, factor) {
            continue;
        }
        // A factor that is always 1 makes an equality, found before.
        if pairs
            .iter()
            .all(|(c, _)| number(&c[ai]).is_none_or(|x| x == 1.0))
        {
            continue;
        }
        for (pi, parent) in parents.columns.iter().enumerate() {
            if skipped(skip_parent, parent) {
                continue;
            }
            let triples: Vec<(f64, f64, f64)> = pairs
                .iter()
                .filter_map(|(c, p)| Some((number(&c[ci])?, number(&c[ai])?, number(&p[pi])?)))
                .collect();
            if triples.len() < MIN_PAIRS {
                continue;
            }
            let held = triples
                .iter()
                .filter(|(v, a, p)| (v - a * p).abs() <= 0.005 + 1e-9 * v.abs())
                .count();
            if held as f64 >= triples.len() as f64 * HOLDS {
                let decimals = triples
                    .iter()
                    .map(|(v, _, _)| decimals_of(*v))
                    .max()
                    .unwrap_or(0);
                return Some(Rule::Times {
                    child: children.columns[ci].clone(),
                    factor: factor.clone(),
                    parent: parent.clone(),
                    decimals,
                });
            }
        }
    }
    None
}

/// A parent column that is the sum over its children of one child column, or of the
/// product of two.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SumRule {
    pub parent_column: String,
    pub terms: Vec<String>,
    pub decimals: u32,
}

impl SumRule {
    /// "orders.total = sum(order_items.line_total)"
    pub fn describe(&self, parent: &str, child: &str) -> String {
        format!(
            "{parent}.{} = sum of {child}.{}",
            self.parent_column,
            self.terms.join(" × ")
        )
    }
}

/// Parent columns that hold the sum over their children. `of_parent[i]`: the child rows of
/// parent row `i`.
pub fn learn_sums(
    parents: &Rows,
    children: &Rows,
    of_parent: &[Vec<usize>],
    skip_child: &[String],
    skip_parent: &[String],
) -> Vec<SumRule> {
    let with_children: Vec<usize> = (0..parents.rows.len())
        .filter(|&i| of_parent.get(i).is_some_and(|c| !c.is_empty()))
        .collect();
    if with_children.len() < MIN_PAIRS {
        return Vec::new();
    }
    let skipped = |list: &[String], name: &str| list.iter().any(|s| s.eq_ignore_ascii_case(name));
    let numeric = |rows: &Rows, i: usize| {
        rows.rows
            .iter()
            .all(|r| matches!(r[i], Value::Null) || number(&r[i]).is_some())
            && rows.rows.iter().any(|r| number(&r[i]).is_some())
    };
    let child_cols: Vec<usize> = (0..children.columns.len())
        .filter(|&i| !skipped(skip_child, &children.columns[i]) && numeric(children, i))
        .collect();
    let mut terms: Vec<Vec<usize>> = child_cols.iter().map(|&c| vec![c]).collect();
    for (a, &x) in child_cols.iter().enumerate() {
        for &y in &child_cols[a + 1..] {
            terms.push(vec![x, y]);
        }
    }
    let mut out = Vec::new();
    for (pi, name) in parents.columns.iter().enumerate() {
        if skipped(skip_parent, name) || !numeric(parents, pi) {
            continue;
        }
        let values: Vec<f64> = with_children
            .iter()
            .filter_map(|&i| number(&parents.rows[i][pi]))
            .collect();
        if values.iter().all(|v| *v == values[0]) {
            continue;
        }
        for term in &terms {
            let mut held = 0usize;
            for &i in &with_children {
                let Some(want) = number(&parents.rows[i][pi]) else {
                    continue;
                };
                let sum: Option<f64> = of_parent[i]
                    .iter()
                    .map(|&c| {
                        term.iter()
                            .map(|&t| number(&children.rows[c][t]))
                            .product::<Option<f64>>()
                    })
                    .sum();
                if sum.is_some_and(|s| (s - want).abs() <= 0.005 + 1e-9 * want.abs()) {
                    held += 1;
                }
            }
            if held as f64 >= with_children.len() as f64 * SUM_HOLDS {
                let decimals = values.iter().map(|v| decimals_of(*v)).max().unwrap_or(0);
                out.push(SumRule {
                    parent_column: name.clone(),
                    terms: term.iter().map(|&t| children.columns[t].clone()).collect(),
                    decimals,
                });
                break;
            }
        }
    }
    out
}

/// Decimal places a value is written with (at most 6).
fn decimals_of(v: f64) -> u32 {
    (0..=6)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            ((v * scale).round() / scale - v).abs() < 1e-9
        })
        .unwrap_or(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn finds_a_copied_city_and_a_later_date_and_ignores_what_only_happens_to_match() {
        let cities = ["Oslo", "Lima", "Kyiv", "Pune"];
        let parents = Rows {
            columns: vec!["id".into(), "city".into(), "signup".into(), "tier".into()],
            rows: (0..40)
                .map(|i| {
                    vec![
                        Value::Integer(i),
                        text(cities[i as usize % 4]),
                        text(&format!("2023-01-{:02}", 1 + i % 28)),
                        text("gold"),
                    ]
                })
                .collect(),
        };
        let children = Rows {
            columns: vec![
                "id".into(),
                "customer".into(),
                "billing_city".into(),
                "ordered".into(),
            ],
            rows: (0..80)
                .map(|i| {
                    let p = (i / 2) as usize;
                    vec![
                        Value::Integer(i),
                        Value::Integer(p as i64),
                        text(cities[p % 4]),
                        text(&format!("2023-02-{:02}", 1 + i % 28)),
                    ]
                })
                .collect(),
        };
        let of_child: Vec<Option<usize>> = (0..80).map(|i| Some(i / 2)).collect();
        let rules = learn_rules(
            &children,
            &parents,
            &of_child,
            &["id".into(), "customer".into()],
            &["id".into()],
        );
        assert_eq!(rules.len(), 2, "{rules:?}");
        assert_eq!(
            rules[0],
            Rule::Equal {
                child: "billing_city".into(),
                parent: "city".into()
            }
        );
        assert!(
            matches!(&rules[1], Rule::After { child, parent, .. } if child == "ordered" && parent == "signup")
        );
    }

    #[test]
    fn finds_a_total_of_the_lines_and_its_decimals() {
        let parents = Rows {
            columns: vec!["id".into(), "total".into(), "items".into()],
            rows: Vec::new(),
        };
        let children = Rows {
            columns: vec!["order_id".into(), "qty".into(), "price".into()],
            rows: Vec::new(),
        };
        let (mut parents, mut children) = (parents, children);
        let mut of_parent = Vec::new();
        for i in 0..30i64 {
            let mut total = 0.0;
            let mut mine = Vec::new();
            for j in 0..(1 + i % 3) {
                let (qty, price) = (1 + j, 2.5 + i as f64);
                total += qty as f64 * price;
                children.rows.push(vec![
                    Value::Integer(i),
                    Value::Integer(qty),
                    Value::Real(price),
                ]);
                mine.push(children.rows.len() - 1);
            }
            parents.rows.push(vec![
                Value::Integer(i),
                Value::Real(total),
                Value::Integer(7),
            ]);
            of_parent.push(mine);
        }
        let sums = learn_sums(
            &parents,
            &children,
            &of_parent,
            &["order_id".into()],
            &["id".into()],
        );
        assert_eq!(
            sums,
            [SumRule {
                parent_column: "total".into(),
                terms: vec!["qty".into(), "price".into()],
                decimals: 1
            }]
        );
    }
}
