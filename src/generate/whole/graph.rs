//! The order a whole-database run fills its tables in, read from the foreign-key graph:
//! parents before children, cycles and self-references broken through a nullable key
//! filled in a second pass (or, where every key of a cycle is NOT NULL, through rows the
//! parent already has), and the tables that cannot take part listed with the reason.
//!
//! Pure: it reads table descriptions and row counts, never the database.

use serde::Serialize;

use crate::db::catalog::{ObjectKind, TableInfo};
use crate::generate::plan::Plan;

/// How one foreign key of a table in the run gets its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyFill {
    /// The parent is filled earlier in the run: new rows point at the parent's new rows.
    New,
    /// Rows the parent already has (it is not in the run, or it closes a cycle of NOT
    /// NULL keys), drawn as often as they are referenced today.
    Existing,
    /// Left NULL on insert and set in the second pass, once the parent's new rows exist
    /// (a nullable key that closes a cycle, or points at its own table).
    Later,
    /// NULL: the parent has no rows and is not in the run.
    Null,
}

/// One table of the run, in the order it is filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub table: TableInfo,
    /// Its rows before the run.
    pub rows: u64,
    /// Per foreign key of its generation plan (`Plan::foreign_keys`), how it is filled.
    pub fills: Vec<KeyFill>,
}

impl Step {
    pub fn plan(&self) -> Plan {
        Plan::new(&self.table)
    }
}

/// Why a table takes no part in the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Skip {
    #[error("a view: its rows come from other tables")]
    View,
    #[error("a virtual table: its module keeps its rows")]
    Virtual,
    #[error("a materialized view: its rows come from its query")]
    MaterializedView,
    #[error("a foreign table: its rows live on another server")]
    Foreign,
    #[error("no rows to learn from (generate it alone with --from-schema)")]
    Empty,
    #[error("it needs rows in '{parent}', which has none and is not in the run")]
    ParentEmpty { parent: String },
    #[error("its foreign key points at '{parent}', which does not exist")]
    ParentMissing { parent: String },
    #[error("its parent '{parent}' cannot be filled")]
    ParentSkipped { parent: String },
}

/// The tables of a run in order, and those left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub steps: Vec<Step>,
    pub skipped: Vec<(String, Skip)>,
}

/// A table the user named that the database does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("There is no table '{name}' in this database. `rowsmith tables` lists them.")]
pub struct UnknownTable {
    pub name: String,
}

/// Orders `tables` (with their row counts) for a run over all of them, or over `chosen`
/// only: a chosen table's parents that are not chosen lend their existing rows.
pub fn order(
    tables: &[(TableInfo, u64)],
    chosen: Option<&[String]>,
) -> Result<Order, UnknownTable> {
    let find = |name: &str| {
        tables.iter().position(|(t, _)| t.name == name).or_else(|| {
            tables
                .iter()
                .position(|(t, _)| t.name.eq_ignore_ascii_case(name))
        })
    };
    let mut wanted = vec![chosen.is_none(); tables.len()];
    for name in chosen.unwrap_or_default() {
        let i = find(name).ok_or_else(|| UnknownTable { name: name.clone() })?;
        wanted[i] = true;
    }

    let mut skipped: Vec<(String, Skip)> = Vec::new();
    let mut out: Vec<Option<Skip>> = vec![None; tables.len()];
    for (i, (table, rows)) in tables.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        out[i] = match table.kind {
            ObjectKind::View => Some(Skip::View),
            ObjectKind::Virtual => Some(Skip::Virtual),
            ObjectKind::MaterializedView => Some(Skip::MaterializedView),
            ObjectKind::Foreign => Some(Skip::Foreign),
            ObjectKind::Table if *rows == 0 => Some(Skip::Empty),
            ObjectKind::Table => None,
        };
    }
    let plans: Vec<Plan> = tables.iter().map(|(t, _)| Plan::new(t)).collect();
    // A table whose NOT NULL key needs a parent that can give no rows is left out, and
    // so, in turn, are its own children: repeat until nothing changes.
    loop {
        let mut changed = false;
        for i in 0..tables.len() {
            if !wanted[i] || out[i].is_some() {
                continue;
            }
            for fk in &plans[i].foreign_keys {
                let nullable = fk.columns.iter().all(|&c| !plans[i].columns[c].not_null);
                let why = match find(&fk.parent) {
                    None => Some(Skip::ParentMissing {
                        parent: fk.parent.clone(),
                    }),
                    Some(p) if p == i || nullable => None,
                    Some(p) if wanted[p] && out[p].is_some() && tables[p].1 == 0 => {
                        Some(Skip::ParentEmpty {
                            parent: tables[p].0.name.clone(),
                        })
                    }
                    Some(p) if wanted[p] && out[p].is_some() => Some(Skip::ParentSkipped {
                        parent: tables[p].0.name.clone(),
                    }),
                    Some(p) if !wanted[p] && tables[p].1 == 0 => Some(Skip::ParentEmpty {
                        parent: tables[p].0.name.clone(),
                    }),
                    Some(_) => None,
                };
                if let Some(why) = why {
                    out[i] = Some(why);
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (i, why) in out.iter().enumerate() {
        if let (true, Some(why)) = (wanted[i], why) {
            skipped.push((tables[i].0.name.clone(), why.clone()));
        }
    }
    let in_run: Vec<bool> = (0..tables.len())
        .map(|i| wanted[i] && out[i].is_none())
        .collect();

    // Each key of a table in the run: which table it waits for, if any.
    let mut fills: Vec<Vec<KeyFill>> = Vec::with_capacity(tables.len());
    let mut waits: Vec<Vec<(usize, usize)>> = vec![Vec::new(); tables.len()];
    for i in 0..tables.len() {
        let mut row = Vec::new();
        for (k, fk) in plans[i].foreign_keys.iter().enumerate() {
            let nullable = fk.columns.iter().all(|&c| !plans[i].columns[c].not_null);
            let fill = match find(&fk.parent) {
                None => KeyFill::Null,
                Some(p) if p == i => {
                    if nullable {
                        KeyFill::Later
                    } else {
                        KeyFill::Existing
                    }
                }
                Some(p) if in_run[p] => {
                    waits[i].push((k, p));
                    KeyFill::New
                }
                Some(p) if tables[p].1 > 0 => KeyFill::Existing,
                Some(_) => KeyFill::Null,
            };
            row.push(fill);
        }
        fills.push(row);
    }

    // Kahn's algorithm in table order; a cycle is broken at its first nullable key (filled
    // in the second pass), else at its first key, whose parent lends existing rows.
    let mut done = vec![false; tables.len()];
    let mut steps = Vec::new();
    loop {
        let ready = (0..tables.len()).find(|&i| {
            in_run[i]
                && !done[i]
                && waits[i]
                    .iter()
                    .all(|&(k, p)| done[p] || fills[i][k] != KeyFill::New)
        });
        if let Some(i) = ready {
            done[i] = true;
            steps.push(Step {
                table: tables[i].0.clone(),
                rows: tables[i].1,
                fills: fills[i].clone(),
            });
            continue;
        }
        let blocked: Vec<(usize, usize, usize)> = (0..tables.len())
            .filter(|&i| in_run[i] && !done[i])
            .flat_map(|i| {
                waits[i]
                    .iter()
                    .filter(|&&(k, p)| !done[p] && fills[i][k] == KeyFill::New)
                    .map(move |&(k, p)| (i, k, p))
                    .collect::<Vec<_>>()
            })
            .collect();
        let Some(&first) = blocked.first() else {
            break;
        };
        let nullable = |&(i, k, _): &(usize, usize, usize)| {
            plans[i].foreign_keys[k]
                .columns
                .iter()
                .all(|&c| !plans[i].columns[c].not_null)
        };
        let (i, k, _) = blocked
            .iter()
            .find(|e| nullable(e))
            .copied()
            .unwrap_or(first);
        fills[i][k] = if nullable(&(i, k, 0)) {
            KeyFill::Later
        } else {
            KeyFill::Existing
        };
    }
    Ok(Order { steps, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::catalog::{Affinity, Column, ColumnKind, ForeignKey};

    fn column(name: &str, not_null: bool, pk: bool) -> Column {
        Column {
            name: name.into(),
            decl_type: "INTEGER".into(),
            affinity: Affinity::Integer,
            not_null,
            default: None,
            pk_position: pk.then_some(1),
            kind: ColumnKind::Normal,
            rowid_alias: pk,
        }
    }

    /// A table with an integer key `id` and one key column per parent: (parent, NOT NULL).
    fn table(name: &str, parents: &[(&str, bool)]) -> TableInfo {
        let mut columns = vec![column("id", true, true)];
        let mut foreign_keys = Vec::new();
        for (parent, not_null) in parents {
            let col = format!("{parent}_id");
            columns.push(column(&col, *not_null, false));
            foreign_keys.push(ForeignKey {
                table: (*parent).into(),
                from: vec![col],
                to: vec!["id".into()],
                on_update: "NO ACTION".into(),
                on_delete: "NO ACTION".into(),
                deferred: false,
            });
        }
        columns.push(column("value", false, false));
        TableInfo {
            name: name.into(),
            kind: ObjectKind::Table,
            columns,
            unique: Vec::new(),
            checks: Vec::new(),
            foreign_keys,
            indexes: Vec::new(),
            without_rowid: false,
            strict: false,
            autoincrement: false,
            schema: None,
            sql: None,
        }
    }

    fn names(order: &Order) -> Vec<&str> {
        order.steps.iter().map(|s| s.table.name.as_str()).collect()
    }

    #[test]
    fn parents_come_before_children_whatever_the_listing_order() {
        let tables = vec![
            (table("items", &[("orders", true), ("products", true)]), 9),
            (table("orders", &[("customers", true)]), 5),
            (table("products", &[]), 4),
            (table("customers", &[]), 3),
        ];
        let order = order(&tables, None).unwrap();
        assert_eq!(names(&order), ["products", "customers", "orders", "items"]);
        assert_eq!(order.steps[3].fills, [KeyFill::New, KeyFill::New]);
        assert!(order.skipped.is_empty());
    }

    #[test]
    fn a_cycle_is_broken_at_its_nullable_key_and_a_self_reference_waits_for_the_second_pass() {
        let tables = vec![
            // departments.manager_id -> employees (nullable); employees.departments_id NOT NULL.
            (table("departments", &[("employees", false)]), 3),
            (
                table("employees", &[("departments", true), ("employees", false)]),
                8,
            ),
        ];
        let order = order(&tables, None).unwrap();
        assert_eq!(names(&order), ["departments", "employees"]);
        assert_eq!(order.steps[0].fills, [KeyFill::Later]);
        assert_eq!(order.steps[1].fills, [KeyFill::New, KeyFill::Later]);
    }

    #[test]
    fn a_cycle_of_not_null_keys_borrows_existing_parents() {
        let tables = vec![
            (table("a", &[("b", true)]), 3),
            (table("b", &[("a", true)]), 3),
        ];
        let order = order(&tables, None).unwrap();
        assert_eq!(names(&order), ["a", "b"]);
        assert_eq!(order.steps[0].fills, [KeyFill::Existing]);
        assert_eq!(order.steps[1].fills, [KeyFill::New]);
    }

    #[test]
    fn a_subset_reuses_parents_it_leaves_out_and_says_why_tables_are_skipped() {
        let mut view = table("totals", &[]);
        view.kind = ObjectKind::View;
        let tables = vec![
            (table("customers", &[]), 3),
            (table("orders", &[("customers", true)]), 5),
            (table("notes", &[("orders", true)]), 0),
            (table("tags", &[("ghost", true)]), 2),
            (view, 3),
        ];
        let chosen = vec!["ORDERS".to_string()];
        let order1 = order(&tables, Some(&chosen)).unwrap();
        assert_eq!(names(&order1), ["orders"]);
        assert_eq!(order1.steps[0].fills, [KeyFill::Existing]);

        let all = order(&tables, None).unwrap();
        assert_eq!(names(&all), ["customers", "orders"]);
        assert_eq!(
            all.skipped,
            [
                ("notes".to_string(), Skip::Empty),
                (
                    "tags".to_string(),
                    Skip::ParentMissing {
                        parent: "ghost".into()
                    }
                ),
                ("totals".to_string(), Skip::View),
            ]
        );
        assert_eq!(
            order(&tables, Some(&["nope".to_string()])),
            Err(UnknownTable {
                name: "nope".into()
            })
        );
    }

    #[test]
    fn a_child_of_an_empty_parent_outside_the_run_is_skipped_unless_its_key_may_be_null() {
        let tables = vec![
            (table("owners", &[]), 0),
            (table("pets", &[("owners", true)]), 4),
            (table("toys", &[("owners", false)]), 4),
        ];
        let order = order(&tables, None).unwrap();
        assert_eq!(names(&order), ["toys"]);
        assert_eq!(order.steps[0].fills, [KeyFill::Null]);
        assert_eq!(
            order.skipped[1],
            (
                "pets".to_string(),
                Skip::ParentEmpty {
                    parent: "owners".into()
                }
            )
        );
    }
}
