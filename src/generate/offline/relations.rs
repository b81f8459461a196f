//! Relationships between columns found in the table's own rows: ordered
//! pairs (start <= end), exact arithmetic (price * qty = total), values that
//! determine others (product -> unit price), and emails built from names.

use std::collections::BTreeMap;

use rusqlite::types::Value;

use crate::db::value::encode_row;

/// `later` is never before `earlier` in any row, and usually close to it:
/// generate it as `earlier` plus a gap drawn from the observed gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedPair {
    pub earlier: usize,
    pub later: usize,
}

/// Finds ordered pairs among columns with a numeric view (numbers or times;
/// `kind` groups comparable columns). Each later column keeps the tightest
/// earlier one, so the pairs form a forest.
pub fn ordered_pairs(views: &[Option<Vec<Option<f64>>>], kinds: &[u8]) -> Vec<OrderedPair> {
    let mut best: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
    for (a, va) in views.iter().enumerate() {
        let Some(va) = va else { continue };
        for (b, vb) in views.iter().enumerate() {
            let Some(vb) = vb else { continue };
            if a == b || kinds[a] != kinds[b] {
                continue;
            }
            let pairs: Vec<(f64, f64)> = va
                .iter()
                .zip(vb)
                .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                .collect();
            if pairs.len() < 5
                || pairs.iter().any(|(x, y)| x > y)
                || pairs.iter().all(|(x, y)| x == y)
            {
                continue;
            }
            let mut gaps: Vec<f64> = pairs.iter().map(|(x, y)| y - x).collect();
            gaps.sort_by(f64::total_cmp);
            let median_gap = gaps[gaps.len() / 2];
            let mut earlier: Vec<f64> = pairs.iter().map(|(x, _)| *x).collect();
            earlier.sort_by(f64::total_cmp);
            let spread = earlier[earlier.len() * 3 / 4] - earlier[earlier.len() / 4];
            // Only close pairs need the rule; far-apart ones (birth date and
            // signup date) already come out in order.
            if median_gap > spread {
                continue;
            }
            if best.get(&b).is_none_or(|(_, g)| median_gap < *g) {
                best.insert(b, (a, median_gap));
            }
        }
    }
    best.into_iter()
        .map(|(later, (earlier, _))| OrderedPair { earlier, later })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Product,
    Sum,
}

/// `result = left (op) right` held exactly in every row.
#[derive(Debug, Clone, PartialEq)]
pub struct Arithmetic {
    pub left: usize,
    pub right: usize,
    pub result: usize,
    pub op: Op,
    pub decimals: u32,
}

/// Finds exact products and sums among numeric columns (`candidates` may be
/// results; inputs can be any numeric column that is not itself a result).
pub fn arithmetic(
    numbers: &[Option<Vec<Option<f64>>>],
    decimals: &[u32],
    candidates: &[bool],
) -> Vec<Arithmetic> {
    let mut found: Vec<Arithmetic> = Vec::new();
    let n = numbers.len();
    for c in (0..n).filter(|&c| candidates[c]) {
        let Some(vc) = &numbers[c] else { continue };
        'search: for a in 0..n {
            for b in a + 1..n {
                if a == c || b == c {
                    continue;
                }
                let (Some(va), Some(vb)) = (&numbers[a], &numbers[b]) else {
                    continue;
                };
                let rows: Vec<(f64, f64, f64)> = va
                    .iter()
                    .zip(vb)
                    .zip(vc)
                    .filter_map(|((x, y), z)| Some(((*x)?, (*y)?, (*z)?)))
                    .collect();
                // Enough rows, and inputs that vary, so the rule is not a fluke.
                if rows.len() < 5
                    || rows.iter().all(|r| r.0 == rows[0].0)
                    || rows.iter().all(|r| r.1 == rows[0].1)
                {
                    continue;
                }
                let tolerance = 0.5 * 10f64.powi(-(decimals[c] as i32)) + 1e-9;
                for op in [Op::Product, Op::Sum] {
                    let holds = rows.iter().all(|(x, y, z)| {
                        let v = if op == Op::Product { x * y } else { x + y };
                        (v - z).abs() <= tolerance + 1e-9 * z.abs()
                    });
                    if holds {
                        found.push(Arithmetic {
                            left: a,
                            right: b,
                            result: c,
                            op,
                            decimals: decimals[c],
                        });
                        break 'search;
                    }
                }
            }
        }
    }
    // A result must not feed another rule: keep the rules acyclic and simple.
    let results: Vec<usize> = found.iter().map(|r| r.result).collect();
    found.retain(|r| !results.contains(&r.left) && !results.contains(&r.right));
    found
}

/// Columns whose value is fixed by column `by` in every row (`by` repeats,
/// and each of its values always comes with the same value of the other).
pub fn determined_by(rows: &[Vec<Value>], by: usize, skip: &[usize]) -> Vec<usize> {
    let width = rows.first().map_or(0, Vec::len);
    let keys: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|r| (!matches!(r[by], Value::Null)).then(|| encode_row(std::slice::from_ref(&r[by]))))
        .collect();
    let present = keys.iter().flatten().count();
    let distinct: std::collections::BTreeSet<&Vec<u8>> = keys.iter().flatten().collect();
    if present < 5 || distinct.len() * 10 > present * 9 {
        return Vec::new();
    }
    (0..width)
        .filter(|&y| y != by && !skip.contains(&y))
        .filter(|&y| {
            let mut seen: BTreeMap<&Vec<u8>, Vec<u8>> = BTreeMap::new();
            rows.iter().zip(&keys).all(|(row, key)| {
                let Some(key) = key else { return true };
                let value = encode_row(std::slice::from_ref(&row[y]));
                match seen.get(key) {
                    Some(v) => *v == value,
                    None => {
                        seen.insert(key, value);
                        true
                    }
                }
            })
        })
        .collect()
}

/// How local parts of emails are built from first and last names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EmailPattern {
    FirstDotLast,
    FirstLast,
    FirstUnderscoreLast,
    InitialLast,
    InitialDotLast,
    First,
    LastDotFirst,
    FirstInitial,
}

const PATTERNS: [EmailPattern; 8] = [
    EmailPattern::FirstDotLast,
    EmailPattern::FirstLast,
    EmailPattern::FirstUnderscoreLast,
    EmailPattern::InitialLast,
    EmailPattern::InitialDotLast,
    EmailPattern::First,
    EmailPattern::LastDotFirst,
    EmailPattern::FirstInitial,
];

/// Lower-case ASCII letters and digits only: "Zoë O'Brien" -> "zoeobrien".
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl EmailPattern {
    pub fn local(self, first: &str, last: &str) -> String {
        let (f, l) = (fold(first), fold(last));
        let fi: String = f.chars().take(1).collect();
        let li: String = l.chars().take(1).collect();
        match self {
            EmailPattern::FirstDotLast => format!("{f}.{l}"),
            EmailPattern::FirstLast => format!("{f}{l}"),
            EmailPattern::FirstUnderscoreLast => format!("{f}_{l}"),
            EmailPattern::InitialLast => format!("{fi}{l}"),
            EmailPattern::InitialDotLast => format!("{fi}.{l}"),
            EmailPattern::First => f,
            EmailPattern::LastDotFirst => format!("{l}.{f}"),
            EmailPattern::FirstInitial => format!("{f}{li}"),
        }
    }
}

/// Emails made from the row's names: which patterns, how often digits follow.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailModel {
    pub patterns: Vec<(EmailPattern, u32)>,
    /// Share of emails with digits after the name part.
    pub digit_share: f64,
}

/// Learns how emails derive from (first, last) names; `None` when fewer
/// than half of the rows follow any pattern.
pub fn email_model(rows: &[(String, String, String)]) -> Option<EmailModel> {
    let mut counts: BTreeMap<EmailPattern, u32> = BTreeMap::new();
    let (mut matched, mut with_digits) = (0u32, 0u32);
    for (first, last, email) in rows {
        let local = email.split('@').next().unwrap_or("").to_ascii_lowercase();
        let base = local.trim_end_matches(|c: char| c.is_ascii_digit());
        if let Some(p) = PATTERNS
            .iter()
            .find(|p| !fold(first).is_empty() && p.local(first, last) == base)
        {
            *counts.entry(*p).or_default() += 1;
            matched += 1;
            if base.len() < local.len() {
                with_digits += 1;
            }
        }
    }
    if rows.is_empty() || (matched as usize) * 2 < rows.len() {
        return None;
    }
    Some(EmailModel {
        patterns: counts.into_iter().collect(),
        digit_share: with_digits as f64 / matched.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(values: &[f64]) -> Option<Vec<Option<f64>>> {
        Some(values.iter().map(|v| Some(*v)).collect())
    }

    #[test]
    fn finds_close_ordered_pairs_only() {
        let start = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
        let end = [12.0, 21.0, 35.0, 41.0, 52.0, 66.0];
        let far = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0, 1500.0];
        let pairs = ordered_pairs(&[col(&start), col(&end), col(&far)], &[0, 0, 0]);
        assert_eq!(
            pairs,
            vec![OrderedPair {
                earlier: 0,
                later: 1
            }]
        );
    }

    #[test]
    fn finds_exact_products() {
        let price = [2.5, 3.0, 10.0, 1.25, 4.0];
        let qty = [2.0, 1.0, 3.0, 4.0, 2.0];
        let total = [5.0, 3.0, 30.0, 5.0, 8.0];
        let rules = arithmetic(
            &[col(&price), col(&qty), col(&total)],
            &[2, 0, 2],
            &[false, false, true],
        );
        assert_eq!(rules.len(), 1);
        assert_eq!(
            (rules[0].left, rules[0].right, rules[0].result, rules[0].op),
            (0, 1, 2, Op::Product)
        );
    }

    #[test]
    fn learns_email_patterns() {
        let rows: Vec<(String, String, String)> = [
            ("Jane", "Doe", "jane.doe@gmail.com"),
            ("Ann", "Lee", "alee@outlook.com"),
            ("Bo", "Li", "bo.li42@yahoo.com"),
            ("Zoë", "O'Brien", "zoe.obrien@example.com"),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
        let model = email_model(&rows).unwrap();
        assert_eq!(
            model.patterns,
            vec![
                (EmailPattern::FirstDotLast, 3),
                (EmailPattern::InitialLast, 1)
            ]
        );
        assert!((model.digit_share - 0.25).abs() < 1e-9);
    }

    #[test]
    fn finds_determined_columns() {
        let rows: Vec<Vec<Value>> = [
            (1, 9.5, "a"),
            (2, 3.0, "b"),
            (1, 9.5, "c"),
            (2, 3.0, "d"),
            (1, 9.5, "e"),
            (3, 1.0, "f"),
        ]
        .iter()
        .map(|(k, p, t)| {
            vec![
                Value::Integer(*k),
                Value::Real(*p),
                Value::Text(t.to_string()),
            ]
        })
        .collect();
        assert_eq!(determined_by(&rows, 0, &[]), vec![1]);
    }
}
