//! How a column's values are made: the generator chosen for each column,
//! from what its values look like or, with no rows, from the schema alone.

use rusqlite::types::Value;

use super::freetext::FreeText;
use super::values::{bounds, gaps_of, kernel_step, number, restart_of, text};
use super::{Gen, fakes, kernel, temporal};
use crate::db::catalog::Affinity;
use crate::db::formats::Format;
use crate::db::profile::ColumnProfile;
use fakes::Semantic;

/// With no rows to learn from: the CHECK's allowed values, a name-like
/// column's fake values, else values of the declared type.
pub(super) fn schema_only_gen(column: &crate::generate::plan::ColumnPlan) -> Gen {
    if let Some(values) = column
        .checks
        .iter()
        .find_map(|c| crate::generate::plan::allowed_values(c, &column.name))
    {
        return Gen::Choice(values);
    }
    if column.unique && matches!(column.affinity, Affinity::Integer | Affinity::Numeric) {
        return Gen::Counter {
            next: 1,
            gaps: vec![1],
            restart: 0,
        };
    }
    if let Some(part) = fakes::semantic_of(&column.name) {
        return match part {
            Semantic::Street => Gen::Street {
                names: Vec::new(),
                fake_share: 1.0,
            },
            Semantic::Company => Gen::Company {
                names: Vec::new(),
                fake_share: 1.0,
            },
            part => Gen::Person {
                part,
                firsts: Vec::new(),
                lasts: Vec::new(),
                fake_share: 1.0,
            },
        };
    }
    if column.name.to_ascii_lowercase().contains("email") {
        return Gen::Email {
            model: None,
            locals: Vec::new(),
        };
    }
    Gen::Typed {
        affinity: column.affinity,
        column: column.name.clone(),
    }
}

/// Whether every profiled value is different, with enough values to say so (the gate's
/// evidence threshold).
fn all_distinct(profile: Option<&ColumnProfile>) -> bool {
    profile.is_some_and(|p| {
        let s = &p.storage;
        let non_null = s.integer + s.real + s.text + s.blob;
        non_null >= crate::generate::gate::EVIDENCE_ROWS && p.distinct_count >= non_null
    })
}

/// Picks how a column is generated from what its values look like.
pub(super) fn choose_gen(
    affinity: Affinity,
    unique: bool,
    name: &str,
    values: &[&Value],
    profile: Option<&ColumnProfile>,
    sequence_max: Option<i64>,
) -> Gen {
    let present: Vec<&Value> = values
        .iter()
        .copied()
        .filter(|v| !matches!(v, Value::Null))
        .collect();
    let texts: Vec<&str> = present.iter().filter_map(|v| text(v)).collect();
    let format = profile.and_then(|p| p.format.as_ref()).map(|f| f.format);
    let distinct = profile.map_or(present.len() as u64, |p| p.distinct_count);

    // A column called `name` may hold songs or products: it is a person's
    // name only when its values look like one.
    let semantic = fakes::semantic_of(name)
        .filter(|s| *s != Semantic::FullName || fakes::looks_like_people(&texts));
    if let Some(semantic) = semantic
        && !texts.is_empty()
        && texts.len() * 2 >= present.len()
    {
        // A column every row has its own (last names of 59 customers from 24 countries):
        // the realism gate keeps it so, so names are made anew rather than reused.
        let fake_share = if all_distinct(profile) {
            1.0
        } else {
            (1.0 - distinct as f64 / 200.0).clamp(0.0, 0.7)
        };
        let owned = |f: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
            texts.iter().filter_map(|t| f(t)).collect()
        };
        return match semantic {
            Semantic::Street => Gen::Street {
                names: owned(&|t| {
                    let (head, rest) = t.split_once(' ')?;
                    head.chars()
                        .all(|c| c.is_ascii_digit())
                        .then(|| rest.to_string())
                }),
                fake_share,
            },
            Semantic::Company => Gen::Company {
                names: texts.iter().map(|t| t.to_string()).collect(),
                fake_share,
            },
            part => {
                let (firsts, lasts) = match part {
                    Semantic::FullName => (
                        owned(&|t| t.split_whitespace().next().map(String::from)),
                        owned(&|t| t.split_whitespace().nth(1).map(String::from)),
                    ),
                    _ => (
                        texts.iter().map(|t| t.to_string()).collect(),
                        texts.iter().map(|t| t.to_string()).collect(),
                    ),
                };
                Gen::Person {
                    part,
                    firsts,
                    lasts,
                    fake_share,
                }
            }
        };
    }

    match format {
        Some(Format::Email) => {
            return Gen::Email {
                model: None,
                locals: texts
                    .iter()
                    .filter_map(|t| t.split('@').next().map(String::from))
                    .collect(),
            };
        }
        Some(Format::Uuid) => {
            return Gen::Uuid {
                upper: texts
                    .iter()
                    .any(|t| t.chars().any(|c| c.is_ascii_uppercase())),
            };
        }
        Some(Format::Phone) => return Gen::Phone,
        // A code every row has its own (`INV-001043`), declared UNIQUE or not: the gate
        // keeps such a column unique, so the sequence goes on instead of repeating one.
        Some(Format::Code) if unique || all_distinct(profile) => {
            if let Some(code) = profile.and_then(|p| p.code.as_ref()) {
                let max = sequence_max.unwrap_or(code.max_number).max(code.max_number);
                let mut numbers: Vec<i64> = texts
                    .iter()
                    .filter_map(|t| {
                        t.strip_prefix(code.prefix.as_str())
                            .and_then(|n| n.parse().ok())
                    })
                    .collect();
                let gaps = gaps_of(&mut numbers);
                return Gen::Code {
                    prefix: code.prefix.clone(),
                    width: code.digits,
                    next: max.saturating_add(1),
                    restart: restart_of(&numbers),
                    gaps,
                };
            }
        }
        Some(Format::IsoDate | Format::IsoDateTime) => {
            let times: Vec<f64> = texts
                .iter()
                .filter_map(|t| temporal::parse(t).map(|p| p.0))
                .collect();
            if let (Some(style), false) = (
                texts.iter().find_map(|t| temporal::parse(t).map(|p| p.1)),
                times.is_empty(),
            ) {
                let (lo, hi) = bounds(&times);
                return Gen::Time {
                    lo,
                    hi,
                    step: kernel_step(&times),
                    style,
                    // Enough dates to tell: one in a hundred datetimes falls at midnight.
                    days: times.len() >= 20
                        && times.iter().all(|t| t.rem_euclid(temporal::DAY) == 0.0),
                };
            }
        }
        _ => {}
    }

    let table_distinct_share = profile.and_then(|p| {
        let s = &p.storage;
        let non_null = s.integer + s.real + s.text + s.blob;
        (non_null > 0).then(|| p.distinct_count as f64 / non_null as f64)
    });
    if let Some(model) = FreeText::learn(name, &texts, present.len(), table_distinct_share) {
        return Gen::FreeText(Box::new(model));
    }
    // One-word names every row has its own (countries, brands): new names, not copies.
    if all_distinct(profile)
        && let Some(model) = super::coined::Coined::learn(&texts)
    {
        return Gen::Coined(Box::new(model));
    }

    let numbers: Vec<f64> = present.iter().filter_map(|v| number(v)).collect();
    let numeric = !numbers.is_empty() && numbers.len() == present.len();
    if unique {
        if numeric && numbers.iter().all(|n| n.fract() == 0.0) {
            let mut ints: Vec<i64> = numbers.iter().map(|n| *n as i64).collect();
            let max = sequence_max
                .unwrap_or(0)
                .max(ints.iter().copied().max().unwrap_or(0));
            let gaps = gaps_of(&mut ints);
            return Gen::Counter {
                next: max.saturating_add(1),
                restart: restart_of(&ints),
                gaps,
            };
        }
        if texts.is_empty() {
            return if matches!(
                affinity,
                Affinity::Integer | Affinity::Numeric | Affinity::Real
            ) {
                Gen::Counter {
                    next: sequence_max.unwrap_or(0).saturating_add(1),
                    gaps: vec![1],
                    restart: 0,
                }
            } else {
                Gen::Shape {
                    shapes: vec![("aaaaaaaa-9999".into(), 1)],
                }
            };
        }
        return Gen::Shape {
            shapes: profile
                .map(|p| {
                    p.shapes
                        .iter()
                        .map(|s| (s.shape.clone(), s.count))
                        .collect()
                })
                .unwrap_or_default(),
        };
    }
    // Text every row has its own that is neither a name nor free text (postal codes of
    // customers in many countries): the anchor's value with its last characters changed,
    // so it stays where it belongs ("14700" in Prague → "14736") and is new.
    // Codes with digits only: a word with two letters changed is no word ("Kelmar" would
    // become "Kelmqh").
    if !numeric
        && !texts.is_empty()
        && all_distinct(profile)
        && texts.iter().all(|t| t.chars().any(|c| c.is_ascii_digit()))
    {
        return Gen::Varied;
    }
    // Numbers with many values move; few distinct values are categories.
    if numeric && distinct > 20 {
        let integer = numbers.iter().all(|n| n.fract() == 0.0);
        let real =
            present.iter().any(|v| matches!(v, Value::Real(_))) || affinity == Affinity::Real;
        let decimals = profile
            .and_then(|p| p.numeric.as_ref())
            .map_or(2, |n| n.max_decimals);
        let shape = kernel::shape_of(&numbers);
        // Bounds and step live in the scale the step is taken in.
        let scaled: Vec<f64> = numbers
            .iter()
            .map(|v| kernel::forward(*v, shape.log))
            .collect();
        let (lo, hi) = bounds(&scaled);
        return Gen::Number {
            lo,
            hi,
            step: kernel_step(&scaled),
            integer,
            decimals,
            real,
            shape,
        };
    }
    Gen::Anchor
}
