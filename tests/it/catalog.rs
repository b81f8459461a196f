//! The catalog on odd schemas: composite keys, STRICT, WITHOUT ROWID,
//! generated columns, quoted and unicode names, views, triggers, virtual tables.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use common::{Fixture, open_ro};
use rowsmith::db::catalog::{Affinity, ColumnKind, ObjectKind, UniqueSource};

const ODD_SCHEMA: &str = r#"
CREATE TABLE parent ("key part" TEXT, "n°" INTEGER, PRIMARY KEY ("key part", "n°")) WITHOUT ROWID;
CREATE TABLE "select" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "order" TEXT NOT NULL DEFAULT 'x' CHECK ("order" <> ''),
    "quote""d" REAL,
    "名前" TEXT UNIQUE,
    a INT, b INT,
    total INT GENERATED ALWAYS AS (a + b) VIRTUAL,
    stored TEXT AS (upper("order")) STORED,
    pk_text TEXT,
    pk_n INTEGER,
    UNIQUE (a, b),
    CHECK (a IS NULL OR a >= 0),
    FOREIGN KEY (pk_text, pk_n) REFERENCES parent ("key part", "n°") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX select_pk_text ON "select" (pk_text) WHERE pk_text IS NOT NULL;
CREATE INDEX by_lower ON "select" (lower("order"));
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n ANY) STRICT;
CREATE TABLE plain_text_pk (code TEXT PRIMARY KEY, label TEXT);
CREATE VIEW "my view" AS SELECT id, "order" FROM "select";
CREATE TRIGGER t_ins AFTER INSERT ON strict_t BEGIN SELECT 1; END;
CREATE VIRTUAL TABLE docs USING fts5(body);
INSERT INTO parent VALUES ('a', 1);
INSERT INTO "select" ("order", a, b, pk_text, pk_n) VALUES ('first', 1, 2, 'a', 1);
INSERT INTO docs VALUES ('hello');
"#;

#[test]
fn lists_tables_views_and_virtual_tables_but_hides_internal_ones() {
    let fx = Fixture::new();
    let db = open_ro(&fx.db("odd.db", ODD_SCHEMA));
    let objects = db.list_objects().unwrap();
    let names: Vec<(&str, ObjectKind)> =
        objects.iter().map(|o| (o.name.as_str(), o.kind)).collect();
    assert_eq!(
        names,
        vec![
            ("docs", ObjectKind::Virtual),
            ("my view", ObjectKind::View),
            ("parent", ObjectKind::Table),
            ("plain_text_pk", ObjectKind::Table),
            ("select", ObjectKind::Table),
            ("strict_t", ObjectKind::Table),
        ],
        "sqlite_sequence and the fts5 shadow tables must be hidden"
    );
    for o in &objects {
        assert_eq!(o.kind.generatable(), o.kind == ObjectKind::Table);
    }
    let counts: Vec<Option<u64>> = objects.iter().map(|o| db.row_count(o).unwrap()).collect();
    assert_eq!(
        counts,
        vec![Some(1), Some(1), Some(1), Some(0), Some(1), Some(0)]
    );
}

#[test]
fn describes_columns_keys_and_constraints() {
    let fx = Fixture::new();
    let db = open_ro(&fx.db("odd.db", ODD_SCHEMA));
    let t = db.table_info("select").unwrap();
    assert!(t.autoincrement && !t.without_rowid && !t.strict);

    let id = t.column("id").unwrap();
    assert!(id.rowid_alias && id.assigned_by_sqlite());
    assert_eq!(id.pk_position, Some(1));

    let order = t.column("order").unwrap();
    assert!(order.not_null);
    assert_eq!(order.default.as_deref(), Some("'x'"));
    assert_eq!(order.affinity, Affinity::Text);

    assert_eq!(t.column("quote\"d").unwrap().affinity, Affinity::Real);
    assert_eq!(
        t.column("total").unwrap().kind,
        ColumnKind::GeneratedVirtual
    );
    assert_eq!(
        t.column("stored").unwrap().kind,
        ColumnKind::GeneratedStored
    );
    assert!(t.column("total").unwrap().assigned_by_sqlite());

    let unique: Vec<(Vec<&str>, &UniqueSource, bool)> = t
        .unique
        .iter()
        .map(|u| {
            (
                u.columns.iter().map(String::as_str).collect(),
                &u.source,
                u.partial,
            )
        })
        .collect();
    assert!(unique.contains(&(vec!["id"], &UniqueSource::PrimaryKey, false)));
    assert!(unique.contains(&(vec!["名前"], &UniqueSource::Constraint, false)));
    assert!(unique.contains(&(vec!["a", "b"], &UniqueSource::Constraint, false)));
    assert!(unique.contains(&(
        vec!["pk_text"],
        &UniqueSource::Index("select_pk_text".into()),
        true
    )));
    // The expression index is listed but is not a column set.
    assert!(
        t.indexes
            .iter()
            .any(|i| i.name == "by_lower" && i.columns == vec!["<expr>"])
    );
    assert_eq!(t.unique.len(), 4);

    let checks: Vec<(Option<&str>, &str)> = t
        .checks
        .iter()
        .map(|c| (c.column.as_deref(), c.expr.as_str()))
        .collect();
    assert_eq!(
        checks,
        vec![
            (Some("order"), "\"order\" <> ''"),
            (None, "a IS NULL OR a >= 0")
        ]
    );

    assert_eq!(t.foreign_keys.len(), 1);
    let fk = &t.foreign_keys[0];
    assert_eq!(fk.table, "parent");
    assert_eq!(fk.from, vec!["pk_text", "pk_n"]);
    assert_eq!(fk.to, vec!["key part", "n°"]);
    assert_eq!(fk.on_delete, "CASCADE");
    assert!(fk.deferred);
}

#[test]
fn flags_without_rowid_strict_and_composite_keys() {
    let fx = Fixture::new();
    let db = open_ro(&fx.db("odd.db", ODD_SCHEMA));
    let parent = db.table_info("parent").unwrap();
    assert!(parent.without_rowid && !parent.has_rowid());
    let pk: Vec<&str> = parent
        .primary_key()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(pk, vec!["key part", "n°"]);
    assert!(parent.columns.iter().all(|c| !c.rowid_alias));

    let strict = db.table_info("strict_t").unwrap();
    assert!(strict.strict && !strict.without_rowid);

    // A TEXT primary key is not a rowid alias: the generator must fill it.
    let text_pk = db.table_info("plain_text_pk").unwrap();
    assert!(!text_pk.column("code").unwrap().rowid_alias);

    let view = db.table_info("my view").unwrap();
    assert_eq!(view.kind, ObjectKind::View);
    assert!(view.require_generatable().is_err());
}

#[test]
fn names_resolve_case_insensitively_and_unknown_names_are_clear() {
    let fx = Fixture::new();
    let db = open_ro(&fx.db("odd.db", ODD_SCHEMA));
    assert_eq!(db.table_info("SELECT").unwrap().name, "select");
    let err = db.table_info("nope").unwrap_err().to_string();
    assert!(err.starts_with("There is no table 'nope'"), "{err}");
    assert_eq!(db.load_catalog().unwrap().len(), 6);
}
