//! The part of a model request that names each row's parents (a whole-database run):
//! one line per row to write, with the parent rows as the privacy setting allows, and
//! what the rows must keep from them.

use std::fmt::Write;

use rand::Rng;
use rusqlite::types::Value;
use serde_json::{Map, Value as Json};

use crate::config::Privacy;
use crate::db::value::to_json;
use crate::generate::lineage::{Lineage, Rule};
use crate::generate::plan::Plan;
use crate::generate::privacy::mask_sample;

/// "Write one row for each line below …" with a line per slot.
pub fn parents_message<R: Rng + ?Sized>(
    plan: &Plan,
    lineage: &Lineage,
    slots: &[usize],
    privacy: Option<Privacy>,
    rng: &mut R,
) -> String {
    if slots.is_empty() || plan.foreign_keys.is_empty() {
        return String::new();
    }
    // Per key: the parent rows this request shows, masked as the privacy says.
    let mut shown: Vec<Vec<Option<Json>>> = Vec::with_capacity(lineage.keys.len());
    for (k, source) in lineage.keys.iter().enumerate() {
        let Some(pool) = &source.pool else {
            shown.push(vec![None; slots.len()]);
            continue;
        };
        let rows: Vec<Option<Vec<Value>>> = slots
            .iter()
            .map(|&s| lineage.parent_row(s, k).map(|(_, r)| r.clone()))
            .collect();
        let present: Vec<Vec<Value>> = rows.iter().flatten().cloned().collect();
        let masked = match privacy {
            Some(Privacy::Mask) => mask_sample(&pool.rows.columns, &present, rng),
            _ => present,
        };
        let mut masked = masked.into_iter();
        let key_columns: Vec<&String> = pool
            .key_positions
            .iter()
            .filter_map(|&p| pool.rows.columns.get(p))
            .collect();
        shown.push(
            rows.iter()
                .map(|r| {
                    let row = r.as_ref().and(masked.next())?;
                    let mut obj = Map::new();
                    for (name, value) in pool.rows.columns.iter().zip(&row) {
                        // With no rows to show (privacy = schema), the key alone.
                        if privacy == Some(Privacy::Schema) && !key_columns.contains(&name) {
                            continue;
                        }
                        obj.insert(name.clone(), to_json(value));
                    }
                    Some(Json::Object(obj))
                })
                .collect(),
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Write exactly one row for each line below, in this order. Each row belongs to the parent rows shown; write values that fit them. Key columns ({}) are filled in for you.",
        plan.foreign_keys
            .iter()
            .flat_map(|fk| fk.columns.iter().map(|&c| plan.columns[c].name.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (i, _) in slots.iter().enumerate() {
        let parts: Vec<String> = plan
            .foreign_keys
            .iter()
            .enumerate()
            .map(
                |(k, fk)| match shown.get(k).and_then(|s| s.get(i)).cloned().flatten() {
                    Some(row) => format!("{} {row}", fk.parent),
                    None => format!("{} (none)", fk.parent),
                },
            )
            .collect();
        let _ = writeln!(out, "Row {}: {}", i + 1, parts.join("; "));
    }
    let rules: Vec<String> = lineage
        .keys
        .iter()
        .enumerate()
        .flat_map(|(k, source)| {
            let parent = plan.foreign_keys[k].parent.clone();
            source.rules.iter().map(move |r| match r {
                Rule::Equal { .. } | Rule::Times { .. } => {
                    format!("{} (filled in for you)", r.describe(&parent))
                }
                Rule::After { .. } => {
                    format!("{} (checked: not before the parent's)", r.describe(&parent))
                }
            })
        })
        .collect();
    if !rules.is_empty() {
        let _ = writeln!(
            out,
            "Each row keeps with its parents: {}.",
            rules.join("; ")
        );
    }
    out
}
