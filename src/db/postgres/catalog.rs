//! The schema of a Postgres database, read from `pg_catalog`: relations in every schema
//! the user can see (those in `public` by their bare name, the rest as `schema.table`),
//! and for each table its columns with their real types, keys, checks and foreign keys.

use super::Postgres;
use crate::db::DbError;
use crate::db::catalog::{
    Affinity, Column, ColumnKind, ForeignKey, IndexInfo, ObjectKind, ObjectSummary, TableInfo,
    UniqueSet, UniqueSource,
};
use crate::db::ident::quote;
use crate::db::sql_text::CheckConstraint;

/// Schemas that belong to Postgres itself.
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// How a relation is named to the user: bare in `public`, qualified elsewhere.
fn display_name(schema: &str, relation: &str) -> String {
    if schema == "public" {
        relation.to_string()
    } else {
        format!("{schema}.{relation}")
    }
}

/// The relation's name inside its schema.
pub(super) fn relation_name(table: &TableInfo) -> &str {
    match table.schema.as_deref() {
        Some(schema) if schema != "public" => table
            .name
            .strip_prefix(schema)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(&table.name),
        _ => &table.name,
    }
}

/// `"schema"."relation"`, for SQL text.
pub(super) fn qualified(table: &TableInfo) -> String {
    format!(
        "{}.{}",
        quote(table.schema.as_deref().unwrap_or("public")),
        quote(relation_name(table))
    )
}

struct Listed {
    schema: String,
    relation: String,
    kind: ObjectKind,
}

fn kind_of(relkind: i8) -> ObjectKind {
    match relkind as u8 {
        b'v' => ObjectKind::View,
        b'm' => ObjectKind::MaterializedView,
        b'f' => ObjectKind::Foreign,
        _ => ObjectKind::Table,
    }
}

fn listed(db: &Postgres) -> Result<Vec<Listed>, DbError> {
    // Partitions are reached through their parent, which is where rows are generated.
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, c.relkind \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND {SYSTEM_SCHEMAS} \
         ORDER BY n.nspname <> 'public', n.nspname, lower(c.relname), c.relname"
    );
    let all: Vec<Listed> = db
        .rows(&sql, &[])?
        .iter()
        .map(|r| Listed {
            schema: r.get(0),
            relation: r.get(1),
            kind: kind_of(r.get(2)),
        })
        .collect();
    // Remembered by shown name, so counting each listed table asks for its count alone.
    if let Ok(mut names) = db.relations.lock() {
        *names = all
            .iter()
            .map(|l| {
                let name = display_name(&l.schema, &l.relation);
                (name, (l.schema.clone(), l.relation.clone()))
            })
            .collect();
    }
    Ok(all)
}

pub fn list_objects(db: &Postgres) -> Result<Vec<ObjectSummary>, DbError> {
    Ok(listed(db)?
        .into_iter()
        .map(|l| ObjectSummary {
            name: display_name(&l.schema, &l.relation),
            kind: l.kind,
        })
        .collect())
}

/// Finds `name` (`table`, `schema.table`, exact first, then ignoring case).
fn find(db: &Postgres, name: &str) -> Result<Listed, DbError> {
    let all = listed(db)?;
    let position = all
        .iter()
        .position(|l| display_name(&l.schema, &l.relation) == name)
        .or_else(|| {
            all.iter().position(|l| {
                display_name(&l.schema, &l.relation).eq_ignore_ascii_case(name)
                    || (l.schema == "public"
                        && format!("public.{}", l.relation).eq_ignore_ascii_case(name))
            })
        });
    position
        .and_then(|i| all.into_iter().nth(i))
        .ok_or_else(|| DbError::UnknownTable {
            name: name.to_string(),
            path: db.shown().to_string(),
        })
}

pub fn row_count(db: &Postgres, object: &ObjectSummary) -> Result<Option<u64>, DbError> {
    let known = db
        .relations
        .lock()
        .ok()
        .and_then(|names| names.get(&object.name).cloned());
    let (schema, relation) = match known {
        Some(pair) => pair,
        None => {
            let found = find(db, &object.name)?;
            (found.schema, found.relation)
        }
    };
    let sql = format!(
        "SELECT count(*) FROM {}.{}",
        quote(&schema),
        quote(&relation)
    );
    match db.rows(&sql, &[]) {
        Ok(rows) => Ok(Some(rows[0].get::<_, i64>(0).max(0) as u64)),
        // A foreign table whose server is away, a view over a missing function; a count
        // stopped for a page is counted again by whoever stopped it.
        Err(e) if object.kind != ObjectKind::Table && e != DbError::Cancelled => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn count(db: &Postgres, table: &TableInfo) -> Result<u64, DbError> {
    let rows = db.rows(&format!("SELECT count(*) FROM {}", qualified(table)), &[])?;
    Ok(rows[0].get::<_, i64>(0).max(0) as u64)
}

/// The affinity a type's values take in rowsmith (by its base type for a domain).
fn affinity_of(base_type: &str, category: &str) -> Affinity {
    match base_type {
        "int2" | "int4" | "int8" | "oid" | "bool" => Affinity::Integer,
        "float4" | "float8" => Affinity::Real,
        "numeric" | "money" => Affinity::Numeric,
        "bytea" => Affinity::Blob,
        _ if category == "N" => Affinity::Numeric,
        _ => Affinity::Text,
    }
}

pub fn table_info(db: &Postgres, name: &str) -> Result<TableInfo, DbError> {
    let found = find(db, name)?;
    let oid_rows = db.rows(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2",
        &[&found.schema, &found.relation],
    )?;
    let oid: u32 = oid_rows
        .first()
        .map(|r| r.get(0))
        .ok_or_else(|| DbError::UnknownTable {
            name: name.to_string(),
            path: db.shown().to_string(),
        })?;

    let column_rows = db.rows(
        "SELECT a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
                t.typtype::text, coalesce(b.typname, t.typname)::text, \
                coalesce(b.typcategory, t.typcategory)::text, t.oid, \
                coalesce(b.typnotnull, false) OR t.typnotnull \
         FROM pg_attribute a \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
        &[&oid],
    )?;
    let mut columns = Vec::new();
    let mut numbers = Vec::new();
    let mut checks = Vec::new();
    for r in &column_rows {
        let number: i16 = r.get(0);
        let name: String = r.get(1);
        let decl_type: String = r.get(2);
        let default: Option<String> = r.get(4);
        let identity: String = r.get(5);
        let generated: String = r.get(6);
        let typtype: String = r.get(7);
        let base: String = r.get(8);
        let category: String = r.get(9);
        let type_oid: u32 = r.get(10);
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        let kind = if generated == "s" {
            ColumnKind::GeneratedStored
        } else if !identity.is_empty() || serial {
            ColumnKind::Identity
        } else {
            ColumnKind::Normal
        };
        if typtype == "e" {
            checks.push(enum_check(db, &name, type_oid)?);
        } else if typtype == "d" {
            checks.extend(domain_checks(db, &name, type_oid)?);
        }
        columns.push(Column {
            affinity: affinity_of(&base, &category),
            not_null: r.get::<_, bool>(3) || r.get::<_, bool>(11),
            default,
            pk_position: None,
            kind,
            rowid_alias: false,
            name,
            decl_type,
        });
        numbers.push(number);
    }
    let names_by_number: Vec<(i16, String)> = numbers
        .iter()
        .zip(&columns)
        .map(|(&n, c)| (n, c.name.clone()))
        .collect();
    let column_name = |n: i16| -> String {
        names_by_number
            .iter()
            .find(|(x, _)| *x == n)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| "<expr>".into())
    };

    let constraint_rows = db.rows(
        "SELECT con.contype::text, con.conname::text, con.conkey, con.confrelid, con.confkey, \
                con.confupdtype::text, con.confdeltype::text, con.condeferred, \
                pg_get_constraintdef(con.oid) \
         FROM pg_constraint con WHERE con.conrelid = $1 ORDER BY con.contype, con.conname",
        &[&oid],
    )?;
    let mut unique = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut pk_columns: Vec<String> = Vec::new();
    for r in &constraint_rows {
        let kind: String = r.get(0);
        let keys: Vec<i16> = r.get::<_, Option<Vec<i16>>>(2).unwrap_or_default();
        let names: Vec<String> = keys.iter().map(|&k| column_name(k)).collect();
        match kind.as_str() {
            "p" => {
                pk_columns = names.clone();
                unique.push(UniqueSet {
                    columns: names,
                    source: UniqueSource::PrimaryKey,
                    partial: false,
                });
            }
            "u" => unique.push(UniqueSet {
                columns: names,
                source: UniqueSource::Constraint,
                partial: false,
            }),
            "c" => {
                let definition: String = r.get(8);
                let expr = check_expression(&definition);
                checks.push(CheckConstraint {
                    column: (names.len() == 1).then(|| names[0].clone()),
                    expr,
                });
            }
            "f" => {
                let parent_oid: u32 = r.get(3);
                let parent_keys: Vec<i16> = r.get::<_, Option<Vec<i16>>>(4).unwrap_or_default();
                let (parent, parent_columns) = parent_of(db, parent_oid, &parent_keys)?;
                foreign_keys.push(ForeignKey {
                    table: parent,
                    from: names,
                    to: parent_columns,
                    on_update: action(&r.get::<_, String>(5)),
                    on_delete: action(&r.get::<_, String>(6)),
                    deferred: r.get(7),
                });
            }
            _ => {}
        }
    }
    for (position, name) in pk_columns.iter().enumerate() {
        if let Some(c) = columns.iter_mut().find(|c| &c.name == name) {
            c.pk_position = Some(position as u32 + 1);
        }
    }

    let index_rows = db.rows(
        "SELECT ic.relname::text, i.indisunique, i.indpred IS NOT NULL, i.indkey::int2[], \
                coalesce(con.contype::text, '') \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid \
         WHERE i.indrelid = $1 ORDER BY ic.relname",
        &[&oid],
    )?;
    let mut indexes = Vec::new();
    for r in &index_rows {
        let name: String = r.get(0);
        let is_unique: bool = r.get(1);
        let partial: bool = r.get(2);
        let keys: Vec<i16> = r.get(3);
        let origin = match r.get::<_, String>(4).as_str() {
            "p" => "pk",
            "u" => "u",
            _ => "c",
        };
        let names: Vec<String> = keys.iter().map(|&k| column_name(k)).collect();
        if is_unique && origin == "c" && !names.iter().any(|n| n == "<expr>") {
            unique.push(UniqueSet {
                columns: names.clone(),
                source: UniqueSource::Index(name.clone()),
                partial,
            });
        }
        indexes.push(IndexInfo {
            name,
            unique: is_unique,
            partial,
            origin: origin.into(),
            columns: names,
        });
    }

    Ok(TableInfo {
        name: display_name(&found.schema, &found.relation),
        kind: found.kind,
        columns,
        unique,
        checks,
        foreign_keys,
        indexes,
        // Postgres has no rowid: rows are addressed by their primary key.
        without_rowid: true,
        strict: true,
        autoincrement: false,
        schema: Some(found.schema),
        sql: None,
    })
}

/// The foreign keys that point at `table`, with the tables they belong to.
pub(super) fn referencing_keys(
    db: &Postgres,
    table: &TableInfo,
) -> Result<Vec<(TableInfo, ForeignKey)>, DbError> {
    let children: Vec<String> = db
        .rows(
            "SELECT DISTINCT n.nspname::text, c.relname::text \
             FROM pg_constraint con \
             JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE con.contype = 'f' AND con.confrelid = $1::text::regclass",
            &[&qualified(table)],
        )?
        .iter()
        .map(|r| display_name(&r.get::<_, String>(0), &r.get::<_, String>(1)))
        .collect();
    let mut out = Vec::new();
    for child in children {
        let info = table_info(db, &child)?;
        for fk in info.foreign_keys.iter().filter(|fk| fk.table == table.name) {
            out.push((info.clone(), fk.clone()));
        }
    }
    Ok(out)
}

/// The parent relation of a foreign key, by display name, and its key columns.
fn parent_of(db: &Postgres, oid: u32, keys: &[i16]) -> Result<(String, Vec<String>), DbError> {
    let rows = db.rows(
        "SELECT n.nspname::text, c.relname::text, \
                array(SELECT a.attname::text FROM unnest($2::int2[]) WITH ORDINALITY k(num, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num ORDER BY k.ord) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
        &[&oid, &keys],
    )?;
    let row = rows.first().ok_or_else(|| DbError::Server {
        path: db.shown().to_string(),
        detail: format!("a foreign key points at relation {oid}, which is gone"),
    })?;
    Ok((
        display_name(&row.get::<_, String>(0), &row.get::<_, String>(1)),
        row.get(2),
    ))
}

fn action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .into()
}

/// An enum column reads as `col IN ('a', 'b')`, the form the generators already take
/// their choices from.
fn enum_check(db: &Postgres, column: &str, type_oid: u32) -> Result<CheckConstraint, DbError> {
    let labels: Vec<String> = db
        .rows(
            "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder",
            &[&type_oid],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(CheckConstraint {
        column: Some(column.to_string()),
        expr: format!("{} IN ({})", quote(column), literal_list(&labels)),
    })
}

/// A domain's CHECKs, written about the column (`VALUE` becomes its name).
fn domain_checks(
    db: &Postgres,
    column: &str,
    type_oid: u32,
) -> Result<Vec<CheckConstraint>, DbError> {
    Ok(db
        .rows(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = $1 AND contype = 'c'",
            &[&type_oid],
        )?
        .iter()
        .map(|r| {
            let expr = check_expression(&r.get::<_, String>(0));
            CheckConstraint {
                column: Some(column.to_string()),
                expr: value_as_column(&expr, &quote(column)),
            }
        })
        .collect())
}

fn literal_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A domain CHECK's `VALUE` written as the column it constrains.
fn value_as_column(check: &str, column: &str) -> String {
    static VALUE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\bVALUE\b").expect("valid regex"));
    VALUE
        .replace_all(check, regex::NoExpand(column))
        .into_owned()
}

/// The expression of `CHECK (...)` as Postgres prints it, with the list form Postgres
/// makes of `col IN ('a', 'b')` (`(col)::text = ANY ((ARRAY['a'::varchar, ...])::text[])`)
/// turned back into it, so allowed values read the same as from a SQLite CHECK.
pub(super) fn check_expression(definition: &str) -> String {
    let inner = definition
        .trim()
        .strip_prefix("CHECK")
        .map(str::trim)
        .unwrap_or(definition)
        .trim_end_matches(" NOT VALID");
    let inner = strip_outer_parens(inner);
    in_list(inner).unwrap_or_else(|| inner.to_string())
}

fn strip_outer_parens(mut text: &str) -> &str {
    loop {
        let t = text.trim();
        if t.starts_with('(') && t.ends_with(')') && balanced(&t[1..t.len() - 1]) {
            text = &t[1..t.len() - 1];
        } else {
            return t;
        }
    }
}

/// Whether parentheses outside string literals balance.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut in_string = false;
    for c in text.chars() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn in_list(expr: &str) -> Option<String> {
    static ANY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(?s)^\(*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\)*(?::{2}[a-z ]+)?\s*=\s*ANY\s*\(\(*ARRAY\[(.*?)\]\)*(?::{2}[a-z ]+(?:\[\])?)?\)$"#,
        )
        .expect("valid regex")
    });
    static ITEM: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^\(*('(?:[^']|'')*'|-?[0-9.]+)\)*(?::{2}[a-z ]+)?$"#)
            .expect("valid regex")
    });
    let caps = ANY.captures(expr.trim())?;
    let column = caps.get(1)?.as_str();
    let mut items = Vec::new();
    for part in split_top_level(caps.get(2)?.as_str()) {
        items.push(ITEM.captures(part.trim())?.get(1)?.as_str().to_string());
    }
    Some(format!("{column} IN ({})", items.join(", ")))
}

/// Splits on commas outside string literals and parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut in_string, mut start) = (0i32, false, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_in_lists_read_back_as_in() {
        assert_eq!(
            check_expression(
                "CHECK (((status)::text = ANY ((ARRAY['new'::character varying, 'it''s'::character varying])::text[])))"
            ),
            "status IN ('new', 'it''s')"
        );
        assert_eq!(
            check_expression("CHECK ((qty = ANY (ARRAY[1, 2, 3])))"),
            "qty IN (1, 2, 3)"
        );
        assert_eq!(
            check_expression("CHECK ((price > (0)::numeric))"),
            "price > (0)::numeric"
        );
    }
}
