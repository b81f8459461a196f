//! Making text and typed values: picking from learned pools or fakes,
//! weighted choices, shapes, phone numbers and the names of a row.

use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::types::Value;

use super::fakes::Locale;
use super::relations;
use super::values::text;
use crate::db::catalog::Affinity;

/// A value of the declared type for a table with no rows: small positive
/// numbers, or text made from the column's name and a number.
pub(super) fn typed_value<R: Rng + ?Sized>(
    affinity: Affinity,
    column: &str,
    locale: Locale,
    rng: &mut R,
) -> Value {
    match affinity {
        Affinity::Integer | Affinity::Numeric => Value::Integer(rng.random_range(1..1000)),
        Affinity::Real => Value::Real((rng.random_range(100..100_000) as f64) / 100.0),
        Affinity::Text | Affinity::Blob => {
            let word = if locale == Locale::En {
                column.replace('_', " ")
            } else {
                column.to_string()
            };
            Value::Text(format!("{word} {}", rng.random_range(1..10_000)))
        }
    }
}

pub(super) fn pick_or_fake<R: Rng + ?Sized>(
    pool: &[String],
    fake_share: f64,
    rng: &mut R,
    fake: impl FnOnce(&mut R) -> String,
) -> String {
    if pool.is_empty() || rng.random_bool(fake_share.clamp(0.0, 1.0)) {
        fake(rng)
    } else {
        pool.choose(rng).cloned().unwrap_or_default()
    }
}

pub(super) fn weighted<R: Rng + ?Sized>(items: &[(String, u64)], rng: &mut R) -> Option<String> {
    items
        .choose_weighted(rng, |(_, w)| *w)
        .ok()
        .map(|(s, _)| s.clone())
}

pub(super) fn weighted_pattern<R: Rng + ?Sized>(
    items: &[(relations::EmailPattern, u32)],
    rng: &mut R,
) -> relations::EmailPattern {
    items
        .choose_weighted(rng, |(_, w)| *w)
        .map(|(p, _)| *p)
        .unwrap_or(relations::EmailPattern::FirstDotLast)
}

/// Fills a shape: `A` upper-case letter, `a` lower-case, `9` digit, others kept.
pub(super) fn from_shape<R: Rng + ?Sized>(shape: &str, rng: &mut R) -> String {
    shape
        .chars()
        .filter(|c| *c != '…')
        .map(|c| match c {
            'A' => rng.random_range(b'A'..=b'Z') as char,
            'a' => rng.random_range(b'a'..=b'z') as char,
            '9' => rng.random_range(b'0'..=b'9') as char,
            other => other,
        })
        .collect()
}

/// Keeps the first group of digits (the area code) and the layout; new
/// digits elsewhere.
pub(super) fn new_phone<R: Rng + ?Sized>(template: &str, rng: &mut R) -> String {
    let mut out = String::with_capacity(template.len());
    let mut group = 0;
    let mut in_digits = false;
    for c in template.chars() {
        if c.is_ascii_digit() {
            let starts_group = !in_digits;
            if starts_group {
                group += 1;
                in_digits = true;
            }
            // With a country code (+1 ...) keep the first two groups.
            let keep = if template.starts_with('+') {
                group <= 2
            } else {
                group <= 1
            };
            out.push(if keep {
                c
            } else if starts_group {
                // Exchanges and subscriber groups do not start with 0 or 1.
                rng.random_range(b'2'..=b'9') as char
            } else {
                rng.random_range(b'0'..=b'9') as char
            });
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// The (first, last) names of a row, from first/last columns or a full name.
pub(super) fn names_of(
    row: &[Value],
    (first, last, full): (Option<usize>, Option<usize>, Option<usize>),
) -> Option<(String, String)> {
    match (first, last, full) {
        (Some(f), Some(l), _) => Some((text(&row[f])?.to_string(), text(&row[l])?.to_string())),
        (_, _, Some(n)) => {
            let t = text(&row[n])?;
            let mut words = t.split_whitespace();
            let first = words.next()?.to_string();
            let last = words.last().unwrap_or("").to_string();
            Some((first, last))
        }
        _ => None,
    }
}

/// `text` with its last two letters or digits replaced by others of the same class
/// (digit for digit, capital for capital): "14700" → "14736", "H2G 1A7" → "H2G 1K3".
pub(super) fn vary_tail<R: Rng + ?Sized>(text: &str, rng: &mut R) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut changed = 0;
    for c in chars.iter_mut().rev() {
        if changed == 2 {
            break;
        }
        let new = if c.is_ascii_digit() {
            char::from(b'0' + rng.random_range(0..10u8))
        } else if c.is_ascii_uppercase() {
            char::from(b'A' + rng.random_range(0..26u8))
        } else if c.is_ascii_lowercase() {
            char::from(b'a' + rng.random_range(0..26u8))
        } else {
            continue;
        };
        *c = new;
        changed += 1;
    }
    chars.into_iter().collect()
}
