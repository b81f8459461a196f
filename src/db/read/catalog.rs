//! The schema of a database: tables, views and virtual tables, and for each
//! table its columns, keys and constraints.
//!
//! Everything comes from SQLite's own PRAGMAs (called as table-valued
//! functions so names are bound, never spliced), plus the CREATE TABLE text
//! for the few facts PRAGMAs omit (see `sql_text`).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::db::ident::quote;
use crate::db::sql_text::{CheckConstraint, parse_create_table};
use crate::db::{DbError, Sqlite};

/// What kind of schema object a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Table,
    View,
    Virtual,
    /// A Postgres materialized view: rows come from its query.
    MaterializedView,
    /// A Postgres foreign table: rows live on another server.
    Foreign,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
            ObjectKind::Virtual => "virtual table",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Foreign => "foreign table",
        }
    }

    /// Only ordinary tables can receive generated rows.
    pub fn generatable(self) -> bool {
        self == ObjectKind::Table
    }
}

/// A name in the schema and its kind; cheap to list, so names paint at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectSummary {
    pub name: String,
    pub kind: ObjectKind,
}

/// SQLite's type affinity, derived from the declared type by SQLite's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Affinity {
    Integer,
    Real,
    Numeric,
    Text,
    Blob,
}

impl Affinity {
    /// Section 3.1 of SQLite's "Datatypes In SQLite".
    pub fn from_declared(decl: &str) -> Self {
        let d = decl.to_ascii_uppercase();
        if d.contains("INT") {
            Affinity::Integer
        } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
            Affinity::Text
        } else if d.contains("BLOB") || d.trim().is_empty() {
            Affinity::Blob
        } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }
}

/// Whether a column is stored, hidden or computed (PRAGMA table_xinfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Normal,
    /// A hidden column of a virtual table.
    Hidden,
    GeneratedVirtual,
    GeneratedStored,
    /// An identity or serial column (Postgres): the database numbers new rows.
    Identity,
}

impl ColumnKind {
    fn from_code(code: i64) -> Self {
        match code {
            1 => ColumnKind::Hidden,
            2 => ColumnKind::GeneratedVirtual,
            3 => ColumnKind::GeneratedStored,
            _ => ColumnKind::Normal,
        }
    }

    pub fn is_generated(self) -> bool {
        matches!(
            self,
            ColumnKind::GeneratedVirtual | ColumnKind::GeneratedStored
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub decl_type: String,
    pub affinity: Affinity,
    pub not_null: bool,
    /// The default as SQL text, exactly as declared.
    pub default: Option<String>,
    /// 1-based position in the primary key, if the column is part of it.
    pub pk_position: Option<u32>,
    pub kind: ColumnKind,
    /// True for an `INTEGER PRIMARY KEY` column of a rowid table: SQLite
    /// assigns it, so generators leave it out.
    pub rowid_alias: bool,
}

impl Column {
    /// Columns a generator must not write: SQLite fills them itself.
    pub fn assigned_by_sqlite(&self) -> bool {
        self.rowid_alias || self.kind != ColumnKind::Normal
    }
}

/// Where a uniqueness rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "index")]
pub enum UniqueSource {
    PrimaryKey,
    Constraint,
    Index(String),
}

/// A set of columns whose values together must be unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UniqueSet {
    pub columns: Vec<String>,
    pub source: UniqueSource,
    /// A partial unique index only constrains the rows its WHERE selects.
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// The parent table.
    pub table: String,
    /// Columns of this table.
    pub from: Vec<String>,
    /// Columns of the parent (its primary key when the declaration omits them).
    pub to: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
    /// Checked at COMMIT rather than per statement.
    pub deferred: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexInfo {
    pub name: String,
    pub unique: bool,
    pub partial: bool,
    /// `c` for CREATE INDEX, `u` for a UNIQUE constraint, `pk` for the key.
    pub origin: String,
    /// Column names; an expression part is shown as `<expr>`.
    pub columns: Vec<String>,
}

/// Everything rowsmith needs to know about one table, view or virtual table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableInfo {
    pub name: String,
    pub kind: ObjectKind,
    pub columns: Vec<Column>,
    pub unique: Vec<UniqueSet>,
    pub checks: Vec<CheckConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<IndexInfo>,
    pub without_rowid: bool,
    pub strict: bool,
    pub autoincrement: bool,
    /// The schema a Postgres table lives in; `None` for SQLite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The CREATE statement as stored in the schema.
    pub sql: Option<String>,
}

impl TableInfo {
    pub fn quoted(&self) -> String {
        quote(&self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// True when rows have a rowid (ordinary tables without WITHOUT ROWID).
    pub fn has_rowid(&self) -> bool {
        self.kind == ObjectKind::Table && !self.without_rowid
    }

    /// Columns visible to `SELECT *`: everything except virtual-table hidden columns.
    pub fn visible_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind != ColumnKind::Hidden)
    }

    /// The primary-key columns in key order (empty for a rowid table without
    /// a declared key).
    pub fn primary_key(&self) -> Vec<&Column> {
        let mut pk: Vec<&Column> = self
            .columns
            .iter()
            .filter(|c| c.pk_position.is_some())
            .collect();
        pk.sort_by_key(|c| c.pk_position);
        pk
    }

    /// Fails unless rows can be added to this object.
    pub fn require_generatable(&self) -> Result<(), DbError> {
        if self.kind.generatable() {
            Ok(())
        } else {
            Err(DbError::NotATable {
                name: self.name.clone(),
                kind: self.kind.as_str(),
            })
        }
    }
}

/// Names that belong to SQLite itself.
fn is_internal(name: &str) -> bool {
    // Bytes, not a str slice: the 7th byte may fall inside a character.
    name.as_bytes()
        .get(..7)
        .is_some_and(|b| b.eq_ignore_ascii_case(b"sqlite_"))
}

/// Lists tables, views and virtual tables by name, without reading any rows.
/// SQLite's own `sqlite_*` tables and the shadow tables behind virtual tables
/// are left out.
pub fn list_objects(db: &Sqlite) -> Result<Vec<ObjectSummary>, DbError> {
    list_objects_conn(db.conn()).map_err(|e| db.err(e))
}

fn list_objects_conn(conn: &Connection) -> rusqlite::Result<Vec<ObjectSummary>> {
    let mut stmt = conn.prepare(
        "SELECT name, type, sql FROM main.sqlite_schema \
         WHERE type IN ('table', 'view') ORDER BY name COLLATE NOCASE, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut all = Vec::new();
    for row in rows {
        let (name, ty, sql) = row?;
        if is_internal(&name) {
            continue;
        }
        let kind = if ty == "view" {
            ObjectKind::View
        } else if sql.as_deref().is_some_and(is_virtual_sql) {
            ObjectKind::Virtual
        } else {
            ObjectKind::Table
        };
        all.push(ObjectSummary { name, kind });
    }
    let shadows = shadow_tables(conn, &all);
    all.retain(|o| !shadows.contains(&o.name));
    Ok(all)
}

fn is_virtual_sql(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    words.get(1).map(String::as_str) == Some("VIRTUAL")
}

/// The shadow tables SQLite keeps for virtual tables (FTS, R-tree, ...).
/// `PRAGMA table_list` knows them; when it cannot run (for example a virtual
/// table whose module is missing) nothing is hidden.
fn shadow_tables(conn: &Connection, objects: &[ObjectSummary]) -> Vec<String> {
    if !objects.iter().any(|o| o.kind == ObjectKind::Virtual) {
        return Vec::new();
    }
    let query = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'",
        )?;
        stmt.query_map([], |r| r.get(0))?.collect()
    };
    query().unwrap_or_default()
}

/// Finds an object by name: exact match first, then case-insensitive as
/// SQLite itself resolves names.
pub fn find_object(db: &Sqlite, name: &str) -> Result<ObjectSummary, DbError> {
    crate::db::Backend::find_object(db, name)
}

/// Reads the full description of one table, view or virtual table.
pub fn table_info(db: &Sqlite, name: &str) -> Result<TableInfo, DbError> {
    let object = find_object(db, name)?;
    read_table_info(db.conn(), &object).map_err(|e| db.err(e))
}

/// Describes every object in the database.
pub fn load_catalog(db: &Sqlite) -> Result<Vec<TableInfo>, DbError> {
    list_objects(db)?
        .iter()
        .map(|o| read_table_info(db.conn(), o).map_err(|e| db.err(e)))
        .collect()
}

fn read_table_info(conn: &Connection, object: &ObjectSummary) -> rusqlite::Result<TableInfo> {
    let name = object.name.as_str();
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM main.sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let text = match (object.kind, &sql) {
        (ObjectKind::Table, Some(sql)) => parse_create_table(sql),
        _ => Default::default(),
    };
    let (without_rowid, strict) = if object.kind == ObjectKind::Table {
        conn.query_row(
            "SELECT wr, strict FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
            [name],
            |r| Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?)),
        )
        .optional()?
        .unwrap_or((false, false))
    } else {
        (false, false)
    };

    // Virtual tables whose module is missing cannot be described; list them
    // without columns rather than failing the whole catalog.
    let mut columns = match read_columns(conn, name) {
        Ok(c) => c,
        Err(_) if object.kind == ObjectKind::Virtual => Vec::new(),
        Err(e) => return Err(e),
    };
    if object.kind == ObjectKind::Table && !without_rowid {
        let pk: Vec<&Column> = columns.iter().filter(|c| c.pk_position.is_some()).collect();
        if pk.len() == 1 && pk[0].decl_type.eq_ignore_ascii_case("INTEGER") {
            let alias = pk[0].name.clone();
            if let Some(c) = columns.iter_mut().find(|c| c.name == alias) {
                c.rowid_alias = true;
            }
        }
    }

    let (indexes, mut unique) = if object.kind == ObjectKind::Table {
        read_indexes(conn, name)?
    } else {
        (Vec::new(), Vec::new())
    };
    if let Some(alias) = columns.iter().find(|c| c.rowid_alias) {
        unique.insert(
            0,
            UniqueSet {
                columns: vec![alias.name.clone()],
                source: UniqueSource::PrimaryKey,
                partial: false,
            },
        );
    }

    let foreign_keys = if object.kind == ObjectKind::Table {
        read_foreign_keys(conn, name, &text.deferred_foreign_keys)?
    } else {
        Vec::new()
    };

    Ok(TableInfo {
        name: name.to_string(),
        kind: object.kind,
        columns,
        unique,
        checks: text.checks,
        foreign_keys,
        indexes,
        without_rowid,
        strict,
        autoincrement: text.autoincrement,
        schema: None,
        sql,
    })
}

fn read_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut stmt = conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
    )?;
    let rows = stmt.query_map([table], |r| {
        let decl_type: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
        let pk: i64 = r.get(4)?;
        Ok(Column {
            name: r.get(0)?,
            affinity: Affinity::from_declared(&decl_type),
            decl_type,
            not_null: r.get(2)?,
            default: r.get(3)?,
            pk_position: (pk > 0).then_some(pk as u32),
            kind: ColumnKind::from_code(r.get(5)?),
            rowid_alias: false,
        })
    })?;
    rows.collect()
}

fn read_indexes(
    conn: &Connection,
    table: &str,
) -> rusqlite::Result<(Vec<IndexInfo>, Vec<UniqueSet>)> {
    let mut list = conn.prepare(
        "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) ORDER BY seq DESC",
    )?;
    let listed: Vec<(String, bool, String, bool)> = list
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut parts = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    let mut indexes = Vec::new();
    let mut unique = Vec::new();
    for (name, is_unique, origin, partial) in listed {
        let cols: Vec<Option<String>> = parts
            .query_map([&name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let has_expression = cols.iter().any(Option::is_none);
        let columns: Vec<String> = cols
            .into_iter()
            .map(|c| c.unwrap_or_else(|| "<expr>".into()))
            .collect();
        if is_unique && !has_expression {
            let source = match origin.as_str() {
                "pk" => UniqueSource::PrimaryKey,
                "u" => UniqueSource::Constraint,
                _ => UniqueSource::Index(name.clone()),
            };
            unique.push(UniqueSet {
                columns: columns.clone(),
                source,
                partial,
            });
        }
        indexes.push(IndexInfo {
            name,
            unique: is_unique,
            partial,
            origin,
            columns,
        });
    }
    // Primary key first, then constraints, then indexes: the order users read.
    unique.sort_by_key(|u| match u.source {
        UniqueSource::PrimaryKey => 0,
        UniqueSource::Constraint => 1,
        UniqueSource::Index(_) => 2,
    });
    Ok((indexes, unique))
}

fn read_foreign_keys(
    conn: &Connection,
    table: &str,
    deferred: &[Vec<String>],
) -> rusqlite::Result<Vec<ForeignKey>> {
    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let rows: Vec<(i64, String, String, Option<String>, String, String)> = stmt
        .query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut keys: Vec<(i64, ForeignKey, bool)> = Vec::new();
    for (id, parent, from, to, on_update, on_delete) in rows {
        if keys.last().map(|k| k.0) != Some(id) {
            keys.push((
                id,
                ForeignKey {
                    table: parent,
                    from: Vec::new(),
                    to: Vec::new(),
                    on_update,
                    on_delete,
                    deferred: false,
                },
                false,
            ));
        }
        if let Some((_, key, to_missing)) = keys.last_mut() {
            key.from.push(from);
            match to {
                Some(to) => key.to.push(to),
                None => *to_missing = true,
            }
        }
    }
    let mut out = Vec::with_capacity(keys.len());
    for (_, mut key, to_missing) in keys {
        if to_missing {
            key.to = parent_primary_key(conn, &key.table)?;
        }
        key.deferred = deferred.iter().any(|cols| {
            cols.len() == key.from.len()
                && cols
                    .iter()
                    .zip(&key.from)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        });
        out.push(key);
    }
    Ok(out)
}

/// `REFERENCES parent` without columns means the parent's primary key; for a
/// rowid table without a declared key that is the rowid itself.
fn parent_primary_key(conn: &Connection, parent: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
    let cols: Vec<String> = stmt
        .query_map(params![parent], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(if cols.is_empty() {
        vec!["rowid".into()]
    } else {
        cols
    })
}

/// Counts the rows of a table or view. Virtual tables whose module is not
/// available give `None` rather than an error.
pub fn row_count(db: &Sqlite, object: &ObjectSummary) -> Result<Option<u64>, DbError> {
    let sql = format!("SELECT count(*) FROM main.{}", quote(&object.name));
    match db.conn().query_row(&sql, [], |r| r.get::<_, i64>(0)) {
        Ok(n) => Ok(Some(n.max(0) as u64)),
        Err(_) if object.kind == ObjectKind::Virtual => Ok(None),
        Err(e) => Err(db.err(e)),
    }
}

/// Foreign keys in other tables (or this one) that point at `table`, as
/// (child table, key) pairs.
pub fn referencing_keys(db: &Sqlite, table: &str) -> Result<Vec<(String, ForeignKey)>, DbError> {
    let mut out = Vec::new();
    for object in list_objects(db)? {
        if object.kind != ObjectKind::Table {
            continue;
        }
        let keys = read_foreign_keys(db.conn(), &object.name, &[]).map_err(|e| db.err(e))?;
        for key in keys {
            if key.table.eq_ignore_ascii_case(table) {
                out.push((object.name.clone(), key));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_follows_sqlite_rules() {
        assert_eq!(Affinity::from_declared("INTEGER"), Affinity::Integer);
        assert_eq!(Affinity::from_declared("BIGINT"), Affinity::Integer);
        assert_eq!(Affinity::from_declared("VARCHAR(20)"), Affinity::Text);
        assert_eq!(Affinity::from_declared(""), Affinity::Blob);
        assert_eq!(Affinity::from_declared("DOUBLE PRECISION"), Affinity::Real);
        assert_eq!(Affinity::from_declared("DECIMAL(10,2)"), Affinity::Numeric);
        assert_eq!(Affinity::from_declared("DATETIME"), Affinity::Numeric);
        // "POINT" contains INT: SQLite's rule, quirks included.
        assert_eq!(Affinity::from_declared("FLOATING POINT"), Affinity::Integer);
    }
}
