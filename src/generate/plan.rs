//! Which columns a generator writes, and what constrains each of them.
//!
//! Columns SQLite assigns itself (rowid aliases, AUTOINCREMENT keys, generated
//! columns) are left out; everything else is filled, with its type, NULL
//! rule, default, CHECKs, UNIQUE sets and foreign-key parent attached so the
//! prompt, the offline generator and validation all read the same facts.

use crate::db::catalog::{Affinity, ColumnKind, TableInfo};

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    pub name: String,
    pub decl_type: String,
    pub affinity: Affinity,
    pub not_null: bool,
    /// The declared default as SQL text.
    pub default: Option<String>,
    /// CHECK expressions declared on this column.
    pub checks: Vec<String>,
    /// The column alone must be unique.
    pub unique: bool,
    /// Index into `Plan::foreign_keys` of the key this column belongs to.
    pub foreign_key: Option<usize>,
}

impl ColumnPlan {
    /// A value must be given: NOT NULL and no default to fall back on.
    pub fn required(&self) -> bool {
        self.not_null && self.default.is_none()
    }
}

/// A foreign key whose columns are all filled by the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyPlan {
    /// Indexes into `Plan::columns`.
    pub columns: Vec<usize>,
    pub parent: String,
    pub parent_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub table: TableInfo,
    /// The columns to fill, in table order.
    pub columns: Vec<ColumnPlan>,
    /// Columns SQLite fills, with the reason, for the prompt and the user.
    pub assigned: Vec<(String, &'static str)>,
    /// UNIQUE column sets (indexes into `columns`), partial indexes excluded.
    pub unique_sets: Vec<Vec<usize>>,
    pub foreign_keys: Vec<ForeignKeyPlan>,
    /// Table-level CHECK expressions.
    pub table_checks: Vec<String>,
}

impl Plan {
    pub fn new(table: &TableInfo) -> Self {
        let mut columns = Vec::new();
        let mut assigned = Vec::new();
        for c in table.visible_columns() {
            if c.rowid_alias {
                assigned.push((
                    c.name.clone(),
                    if table.autoincrement {
                        "AUTOINCREMENT key"
                    } else {
                        "INTEGER PRIMARY KEY (rowid)"
                    },
                ));
                continue;
            }
            if c.kind.is_generated() {
                assigned.push((c.name.clone(), "generated column"));
                continue;
            }
            if c.kind == ColumnKind::Identity {
                assigned.push((
                    c.name.clone(),
                    "identity or serial column (numbered by the database)",
                ));
                continue;
            }
            columns.push(ColumnPlan {
                name: c.name.clone(),
                decl_type: c.decl_type.clone(),
                affinity: c.affinity,
                not_null: c.not_null,
                default: c.default.clone(),
                checks: table
                    .checks
                    .iter()
                    .filter(|k| {
                        k.column
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&c.name))
                    })
                    .map(|k| k.expr.clone())
                    .collect(),
                unique: false,
                foreign_key: None,
            });
        }
        let index_of = |name: &str| {
            columns
                .iter()
                .position(|c: &ColumnPlan| c.name.eq_ignore_ascii_case(name))
        };

        let mut unique_sets: Vec<Vec<usize>> = Vec::new();
        for set in table.unique.iter().filter(|u| !u.partial) {
            let idx: Option<Vec<usize>> = set.columns.iter().map(|n| index_of(n)).collect();
            if let Some(idx) = idx
                && !unique_sets.contains(&idx)
            {
                unique_sets.push(idx);
            }
        }
        let mut foreign_keys = Vec::new();
        for fk in &table.foreign_keys {
            let idx: Option<Vec<usize>> = fk.from.iter().map(|n| index_of(n)).collect();
            if let Some(idx) = idx {
                foreign_keys.push(ForeignKeyPlan {
                    columns: idx,
                    parent: fk.table.clone(),
                    parent_columns: fk.to.clone(),
                });
            }
        }
        for set in &unique_sets {
            if let [only] = set.as_slice() {
                columns[*only].unique = true;
            }
        }
        for (k, fk) in foreign_keys.iter().enumerate() {
            for &i in &fk.columns {
                columns[i].foreign_key = Some(k);
            }
        }
        Self {
            table: table.clone(),
            columns,
            assigned,
            unique_sets,
            foreign_keys,
            table_checks: table
                .checks
                .iter()
                .filter(|k| k.column.is_none())
                .map(|k| k.expr.clone())
                .collect(),
        }
    }

    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .or_else(|| {
                self.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            })
    }
}

/// The literal values a CHECK of the form `col IN ('a', 'b', 3)` allows, so
/// generators can choose among them. `None` for any other CHECK.
pub fn allowed_values(check: &str, column: &str) -> Option<Vec<rusqlite::types::Value>> {
    use rusqlite::types::Value;
    static IN_LIST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?is)^\s*(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][A-Za-z0-9_]*))\s+IN\s*\((.*)\)\s*$"#)
            .expect("valid regex")
    });
    let caps = IN_LIST.captures(check)?;
    let name = caps
        .get(1)
        .or(caps.get(2))
        .or(caps.get(3))
        .or(caps.get(4))?
        .as_str();
    if !name.eq_ignore_ascii_case(column) {
        return None;
    }
    let list = caps.get(5)?.as_str();
    let mut out = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        if let Some(stripped) = rest.strip_prefix('\'') {
            // A string literal; '' inside is an escaped quote.
            let mut text = String::new();
            let mut chars = stripped.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|(_, n)| *n) == Some('\'') {
                        text.push('\'');
                        chars.next();
                        continue;
                    }
                    end = Some(i + 1);
                    break;
                }
                text.push(c);
            }
            out.push(Value::Text(text));
            rest = stripped[end?..].trim_start();
        } else {
            let item: String = rest.chars().take_while(|c| *c != ',').collect();
            let t = item.trim();
            out.push(if let Ok(i) = t.parse::<i64>() {
                Value::Integer(i)
            } else {
                Value::Real(t.parse::<f64>().ok()?)
            });
            rest = rest[item.len()..].trim_start();
        }
        rest = rest.strip_prefix(',').map(str::trim_start).unwrap_or(rest);
        if !rest.is_empty()
            && !rest.starts_with('\'')
            && rest.starts_with(|c: char| !c.is_ascii_digit() && c != '-')
        {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value;

    #[test]
    fn reads_in_lists_from_checks() {
        assert_eq!(
            allowed_values("status IN ('pending', 'it''s', 'done')", "status"),
            Some(vec![
                Value::Text("pending".into()),
                Value::Text("it's".into()),
                Value::Text("done".into())
            ])
        );
        assert_eq!(
            allowed_values("\"flag\" in (0, 1)", "flag"),
            Some(vec![Value::Integer(0), Value::Integer(1)])
        );
        assert_eq!(allowed_values("status IN ('a')", "other"), None);
        assert_eq!(allowed_values("price > 0", "price"), None);
        assert_eq!(allowed_values("x IN (SELECT y FROM t)", "x"), None);
    }
}
