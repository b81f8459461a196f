//! Postgres: opening by URL, the catalog, counts, sampling and profiles, against a real
//! server (see `tests/common/pg.rs`).

use std::path::Path;

use rowsmith::db::catalog::{Affinity, ColumnKind, ObjectKind};
use rowsmith::db::sample::SampleMethod;
use rowsmith::db::{Database, OpenOptions};

use crate::common::pg::PgDb;
use crate::common::seeded;

const SHOP: &str = r#"
CREATE TYPE tier AS ENUM ('free', 'pro', 'team');
CREATE DOMAIN email AS text CHECK (VALUE ~ '@');
CREATE SCHEMA sales;
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email email UNIQUE,
    tier tier NOT NULL DEFAULT 'free',
    signed_up timestamptz NOT NULL,
    active boolean,
    score numeric(6,2),
    meta jsonb,
    tags text[],
    uid uuid,
    photo bytea
);
CREATE TABLE sales.orders (
    id serial PRIMARY KEY,
    customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(10,2) CHECK (total >= 0),
    status varchar(10) CHECK (status IN ('new', 'paid', 'shipped')),
    placed date,
    doubled numeric GENERATED ALWAYS AS (total * 2) STORED,
    UNIQUE (customer_id, placed)
);
CREATE TABLE events (at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE VIEW paying AS SELECT * FROM customers WHERE tier <> 'free';
INSERT INTO customers (name, email, tier, signed_up, active, score, meta, tags, uid, photo)
SELECT 'Name ' || g, 'u' || g || '@x.io', (ARRAY['free', 'pro', 'team'])[1 + g % 3]::tier,
       timestamptz '2024-01-01 00:00:00+00' + (g || ' hours')::interval, g % 2 = 0,
       g % 100 + 0.25, jsonb_build_object('k', g), ARRAY['a', 'b'],
       md5(g::text)::uuid, '\x00ff'::bytea
FROM generate_series(1, 3000) g;
INSERT INTO sales.orders (customer_id, total, status, placed)
SELECT 1 + g % 3000, g % 100 + 0.99, (ARRAY['new', 'paid', 'shipped'])[1 + g % 3],
       date '2024-01-01' + g % 300
FROM generate_series(1, 500) g;
INSERT INTO events SELECT timestamptz '2024-03-01' + (g || ' minutes')::interval, 'k' || g % 4
FROM generate_series(1, 50) g;
CREATE MATERIALIZED VIEW tiers AS SELECT tier, count(*) FROM customers GROUP BY tier;
"#;

#[test]
fn tables_in_every_schema_are_listed_with_their_kinds_and_counts() {
    let pg = PgDb::new(SHOP);
    let db = pg.open(false);
    let objects = db.list_objects().unwrap();
    let listed: Vec<(&str, ObjectKind)> =
        objects.iter().map(|o| (o.name.as_str(), o.kind)).collect();
    assert_eq!(
        listed,
        vec![
            ("customers", ObjectKind::Table),
            ("events", ObjectKind::Table),
            ("paying", ObjectKind::View),
            ("tiers", ObjectKind::MaterializedView),
            ("sales.orders", ObjectKind::Table),
        ],
        "partitions are reached through their parent; other schemas are qualified"
    );
    let counts: Vec<Option<u64>> = objects.iter().map(|o| db.row_count(o).unwrap()).collect();
    assert_eq!(
        counts,
        vec![Some(3000), Some(50), Some(2000), Some(3), Some(500)]
    );
    assert_eq!(db.find_object("SALES.ORDERS").unwrap().name, "sales.orders");
    let missing = db.table_info("nope").unwrap_err().to_string();
    assert!(missing.contains("no table 'nope'"), "{missing}");
    assert!(
        !missing.contains("pw"),
        "no password in sentences: {missing}"
    );
}

#[test]
fn the_catalog_knows_postgres_types_keys_and_constraints() {
    let pg = PgDb::new(SHOP);
    let db = pg.open(false);
    let c = db.table_info("customers").unwrap();
    let col = |name: &str| c.column(name).unwrap();
    assert_eq!(
        col("id").kind,
        ColumnKind::Identity,
        "identity is left to the database"
    );
    assert_eq!(col("id").pk_position, Some(1));
    assert_eq!(col("email").decl_type, "email");
    assert_eq!(col("tier").decl_type, "tier");
    assert_eq!(col("signed_up").decl_type, "timestamp with time zone");
    assert_eq!(col("score").decl_type, "numeric(6,2)");
    assert_eq!(col("tags").decl_type, "text[]");
    assert_eq!(
        [
            col("active").affinity,
            col("score").affinity,
            col("meta").affinity,
            col("photo").affinity
        ],
        [
            Affinity::Integer,
            Affinity::Numeric,
            Affinity::Text,
            Affinity::Blob
        ]
    );
    let checks: Vec<&str> = c.checks.iter().map(|k| k.expr.as_str()).collect();
    assert!(
        checks.contains(&"\"tier\" IN ('free', 'pro', 'team')"),
        "an enum reads as its list of values: {checks:?}"
    );
    assert!(
        checks.contains(&"\"email\" ~ '@'::text"),
        "a domain's CHECK is about the column: {checks:?}"
    );
    assert!(c.unique.iter().any(|u| u.columns == ["email"]));

    let o = db.table_info("sales.orders").unwrap();
    assert_eq!(o.schema.as_deref(), Some("sales"));
    assert_eq!(o.column("id").unwrap().kind, ColumnKind::Identity, "serial");
    assert_eq!(
        o.column("doubled").unwrap().kind,
        ColumnKind::GeneratedStored
    );
    let fk = &o.foreign_keys[0];
    assert_eq!(
        (
            fk.table.as_str(),
            fk.from.clone(),
            fk.to.clone(),
            fk.on_delete.as_str()
        ),
        (
            "customers",
            vec!["customer_id".to_string()],
            vec!["id".to_string()],
            "CASCADE"
        )
    );
    assert!(
        o.checks
            .iter()
            .any(|k| k.expr == "status IN ('new', 'paid', 'shipped')"),
        "{:?}",
        o.checks
    );
    assert!(
        o.unique
            .iter()
            .any(|u| u.columns == ["customer_id", "placed"])
    );

    assert_eq!(db.table_info("paying").unwrap().kind, ObjectKind::View);
    assert!(!db.table_info("tiers").unwrap().kind.generatable());
    assert!(
        db.table_info("events").unwrap().kind.generatable(),
        "partitioned"
    );
}

#[test]
fn samples_are_random_rows_with_typed_values_and_profiles_match_the_data() {
    let pg = PgDb::new(SHOP);
    let db = pg.open(false);
    let c = db.table_info("customers").unwrap();
    let s = db.sample_rows(&c, 10, &mut seeded(1)).unwrap();
    assert_eq!(s.rows.len(), 10);
    let ids: std::collections::HashSet<String> =
        s.rows.iter().map(|r| format!("{:?}", r[0])).collect();
    assert_eq!(ids.len(), 10, "distinct rows");
    let row = &s.rows[0];
    use rusqlite::types::Value;
    assert!(matches!(row[0], Value::Integer(_)));
    assert!(matches!(row[5], Value::Integer(0 | 1)), "boolean as 0/1");
    assert!(matches!(row[6], Value::Real(_)), "numeric as a number");
    assert_eq!(row[10], Value::Blob(vec![0, 255]));

    let p = db
        .profile_table(&c, &Default::default(), &mut seeded(2))
        .unwrap();
    assert_eq!(p.rows_read, 3000);
    let tier = p.columns.iter().find(|c| c.name == "tier").unwrap();
    assert_eq!(tier.distinct_count, 3);
    let signed = p.columns.iter().find(|c| c.name == "signed_up").unwrap();
    assert_eq!(
        signed.format.as_ref().map(|f| f.format.as_str()),
        Some("iso_datetime")
    );

    // A bigger table than the small-table limit: key probes on the integer key.
    let o = db.table_info("sales.orders").unwrap();
    let s = db.sample_rows(&o, 5, &mut seeded(3)).unwrap();
    assert_eq!(s.rows.len(), 5);
    let big = PgDb::new(
        "CREATE TABLE t (code text PRIMARY KEY, n int);
         INSERT INTO t SELECT md5(g::text), g FROM generate_series(1, 20000) g; ANALYZE t;",
    );
    let db = big.open(false);
    let t = db.table_info("t").unwrap();
    let s = db.sample_rows(&t, 10, &mut seeded(4)).unwrap();
    assert_eq!((s.rows.len(), s.method), (10, SampleMethod::Pages));
}

#[test]
fn a_wrong_address_says_what_is_wrong_without_the_password() {
    let pg = PgDb::new("");
    let open = |url: &str| {
        Database::open(Path::new(url), &OpenOptions::read_only())
            .unwrap_err()
            .to_string()
    };
    let (scheme_user, rest) = pg.url.rsplit_once('@').unwrap();
    let user_part = &scheme_user[..scheme_user.rfind(':').unwrap()];
    let wrong_password = format!("{user_part}:nottheword@{rest}");
    let said = open(&wrong_password);
    assert!(said.contains("refused user 'postgres'"), "{said}");
    assert!(!said.contains("nottheword"), "{said}");

    let missing = crate::common::pg::url_with_database(&pg.url, "no_such_db");
    let said = open(&missing);
    assert!(said.contains("no database 'no_such_db'"), "{said}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let said = open(&format!("postgres://u:secret@127.0.0.1:{port}/db"));
    assert!(
        said.contains(&format!(
            "Cannot reach a Postgres server at 127.0.0.1:{port}"
        )),
        "{said}"
    );
    assert!(!said.contains("secret"), "{said}");

    let said = open("postgres://u:secret@host:port/db");
    assert!(said.contains("not a valid Postgres URL"), "{said}");
    assert!(!said.contains("secret"), "{said}");
}

#[test]
fn the_grid_pages_by_key_searches_and_sorts() {
    use rowsmith::db::browse::{Anchor, Key, Lens, Sort};
    use rusqlite::types::Value;
    let pg = PgDb::new(SHOP);
    let db = pg.open(false);
    let c = db.table_info("customers").unwrap();
    let plain = Lens::default();
    let first = db.read_page(&c, &plain, &Anchor::Start, 25).unwrap();
    assert_eq!(first.rows.len(), 25);
    assert!(first.at_start && !first.at_end);
    let ids = |page: &rowsmith::db::browse::Page| -> Vec<Value> {
        page.rows.iter().map(|r| r.values[0].clone()).collect()
    };
    assert_eq!(
        ids(&first)[..3],
        [Value::Integer(1), Value::Integer(2), Value::Integer(3)]
    );
    let next = db
        .read_page(&c, &plain, &Anchor::After(first.rows[24].key.clone()), 25)
        .unwrap();
    assert_eq!(ids(&next)[0], Value::Integer(26), "keyed, in number order");
    let last = db.read_page(&c, &plain, &Anchor::End, 10).unwrap();
    assert!(last.at_end);
    assert_eq!(ids(&last)[9], Value::Integer(3000));
    let before = db
        .read_page(&c, &plain, &Anchor::Before(last.rows[0].key.clone()), 5)
        .unwrap();
    assert_eq!(ids(&before)[4], Value::Integer(2990));

    let searched = Lens {
        search: Some("name 42".into()),
        sort: None,
    };
    let found = db.read_page(&c, &searched, &Anchor::Start, 50).unwrap();
    // Name 42, Name 420..429, Name 4200.. (up to 3000: none): 11 rows.
    assert_eq!(found.matches, Some(11));
    assert_eq!(found.rows.len(), 11);

    let sorted = Lens {
        search: None,
        sort: Some(Sort {
            column: "score".into(),
            descending: true,
        }),
    };
    let top = db.read_page(&c, &sorted, &Anchor::Start, 5).unwrap();
    assert_eq!(top.rows[0].values[6], Value::Real(99.25));
    assert!(matches!(top.rows[0].key, Key::Offset(0)));
    let cell = db.read_cell(&c, &sorted, &top.rows[0].key, "name").unwrap();
    assert_eq!(cell, top.rows[0].values[1]);
}

/// Draws from a table too big to read whole land evenly across it, by key probes and by
/// pages alike: 3,000 draws in ten bands of 2,000 rows, a chi-square well under the 0.1%
/// critical value (27.9 for 9 degrees of freedom).
#[test]
fn samples_of_big_tables_are_close_to_uniform() {
    let pg = PgDb::new(
        "CREATE TABLE by_int (id int PRIMARY KEY, n int);
         INSERT INTO by_int SELECT g, g FROM generate_series(1, 20000) g;
         CREATE TABLE by_text (code text PRIMARY KEY, n int);
         INSERT INTO by_text SELECT md5(g::text), g FROM generate_series(1, 20000) g;
         ANALYZE by_int; ANALYZE by_text;",
    );
    let db = pg.open(false);
    let mut rng = seeded(11);
    for (table, method) in [
        ("by_int", SampleMethod::Uniform),
        ("by_text", SampleMethod::Pages),
    ] {
        let info = db.table_info(table).unwrap();
        let mut bands = [0u32; 10];
        for _ in 0..300 {
            let s = db.sample_rows(&info, 10, &mut rng).unwrap();
            assert_eq!((s.rows.len(), s.method), (10, method), "{table}");
            for row in &s.rows {
                let rusqlite::types::Value::Integer(n) = row[1] else {
                    panic!("{row:?}")
                };
                bands[((n - 1) / 2000) as usize] += 1;
            }
        }
        let expected = 300.0;
        let chi: f64 = bands
            .iter()
            .map(|&b| (f64::from(b) - expected).powi(2) / expected)
            .sum();
        assert!(chi < 27.9, "{table}: {bands:?} chi-square {chi:.1}");
    }
}

/// TLS as libpq means it: `prefer` and `require` encrypt, `disable` does not, and
/// `verify-full` refuses a certificate no authority signed, in one sentence.
#[test]
fn sslmodes_mean_what_they_mean_to_libpq() {
    let server = crate::common::pg::server();
    if !server.tls {
        eprintln!("ROWSMITH_PG_URL's server: its TLS is not known, so this test checks nothing");
        return;
    }
    let pg = PgDb::new("");
    let encrypted = |mode: &str| -> String {
        let url = format!("{}?sslmode={mode}", pg.url);
        let db = Database::open(Path::new(&url), &OpenOptions::read_only()).unwrap();
        let session = rowsmith::db::query::QuerySession::open(
            Path::new(&url),
            std::time::Duration::from_millis(500),
        )
        .unwrap();
        drop(db);
        let r = session
            .run(
                "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &rowsmith::db::query::QueryControl::new(),
            )
            .unwrap();
        format!("{:?}", r.rows[0][0])
    };
    assert_eq!(encrypted("prefer"), "Text(\"true\")");
    assert_eq!(encrypted("require"), "Text(\"true\")");
    assert_eq!(encrypted("disable"), "Text(\"false\")");
    let url = format!("{}?sslmode=verify-full", pg.url);
    let said = Database::open(Path::new(&url), &OpenOptions::read_only())
        .unwrap_err()
        .to_string();
    assert!(
        said.starts_with("Could not set up TLS with the Postgres server at 127.0.0.1:"),
        "{said}"
    );
    assert!(said.to_lowercase().contains("certificate"), "{said}");
}

#[test]
fn foreign_tables_are_listed_but_never_generated_into() {
    let pg = PgDb::new(
        "CREATE EXTENSION file_fdw;
         CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
         CREATE FOREIGN TABLE outside (a int) SERVER files OPTIONS (filename '/dev/null');",
    );
    let db = pg.open(false);
    let listed = db.list_objects().unwrap();
    assert_eq!(listed[0].name, "outside");
    assert_eq!(listed[0].kind, ObjectKind::Foreign);
    let info = db.table_info("outside").unwrap();
    let err = db
        .sample_rows(&info, 3, &mut seeded(1))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "'outside' is a foreign table, not a table, so rowsmith cannot add rows to it."
    );
}
