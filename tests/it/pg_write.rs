//! Postgres: generating rows and taking them back, as a user does from the command line,
//! and the writer's row-by-row judgement, against a real server.

use std::path::Path;
use std::time::Duration;

use rowsmith::db::journal::RowKey as Key;
use rowsmith::db::value::{Value, display};
use rowsmith::db::write::WriteOptions;
use rowsmith::db::{CancelFlag, Database, OpenOptions};

use crate::common::Fixture;
use crate::common::pg::PgDb;

const SHOP: &str = r#"
CREATE TYPE tier AS ENUM ('free', 'pro', 'team');
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email text UNIQUE NOT NULL,
    tier tier NOT NULL,
    signed_up timestamptz NOT NULL,
    active boolean NOT NULL,
    score numeric(6,2),
    meta jsonb,
    uid uuid NOT NULL
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric(10,2) NOT NULL CHECK (total > 0),
    placed date NOT NULL
);
INSERT INTO customers (name, email, tier, signed_up, active, score, meta, uid)
SELECT (ARRAY['Ana', 'Bo', 'Cy', 'Di', 'Ed', 'Flo'])[1 + g % 6] || ' ' ||
       (ARRAY['Ray', 'Lee', 'Kim', 'Fox', 'Gold'])[1 + g % 5],
       'user' || g || '@example.com', (ARRAY['free', 'pro', 'team'])[1 + g % 3]::tier,
       timestamptz '2024-01-01 00:00:00+00' + (g * 7 || ' hours')::interval, g % 3 = 0,
       (g * 37 % 1000) / 10.0, jsonb_build_object('plan', g % 4), md5(g::text)::uuid
FROM generate_series(1, 300) g;
INSERT INTO orders (customer_id, total, placed)
SELECT 1 + g % 300, 5 + (g * 13 % 200) + 0.99, date '2024-02-01' + g % 200
FROM generate_series(1, 900) g;
"#;

fn count(pg: &PgDb, table: &str) -> i64 {
    pg.admin()
        .query_text(&format!("SELECT count(*) FROM {table}"))
        .unwrap()[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn generate_adds_rows_postgres_accepts_and_undo_takes_exactly_them_back() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let (ok, out, err) = fx.run(&["generate", &pg.url, "customers", "-n", "10", "--seed", "1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Generated 10 rows for table 'customers'. New total: 310 rows."),
        "{out}"
    );
    let new = pg
        .admin()
        .query_text("SELECT id, tier::text, uid::text, meta::text FROM customers WHERE id > 300 ORDER BY id")
        .unwrap();
    assert_eq!(new.len(), 10);
    assert_eq!(
        new[0][0].as_deref(),
        Some("301"),
        "identity numbers from the database"
    );
    assert!(
        new.iter()
            .all(|r| ["free", "pro", "team"].contains(&r[1].as_deref().unwrap()))
    );

    let (ok, out, err) = fx.run(&["generate", &pg.url, "orders", "-n", "10", "--seed", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("New total: 910 rows."), "{out}");
    let orphans = pg
        .admin()
        .query_text(
            "SELECT count(*) FROM orders o WHERE NOT EXISTS \
             (SELECT 1 FROM customers c WHERE c.id = o.customer_id)",
        )
        .unwrap();
    assert_eq!(orphans[0][0].as_deref(), Some("0"));

    let (ok, out, err) = fx.run(&["undo", &pg.url]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Removed 10 rows from table 'orders'"),
        "{out}"
    );
    let (ok, out, _) = fx.run(&["undo", &pg.url]);
    assert!(ok);
    assert!(out.contains("New total: 300 rows."), "{out}");
    assert_eq!((count(&pg, "customers"), count(&pg, "orders")), (300, 900));
    assert!(
        !out.contains(&pg.url),
        "the URL with its password is never shown"
    );
}

#[test]
fn undo_refuses_rows_edited_since_and_rows_others_now_reference() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    assert!(
        fx.run(&["generate", &pg.url, "customers", "-n", "5", "--seed", "3"])
            .0
    );

    // Someone edits one of our rows: undo must not remove it, nor any other.
    pg.admin()
        .execute_batch("UPDATE customers SET name = 'Edited' WHERE id = 303")
        .unwrap();
    let (ok, _, err) = fx.run(&["undo", &pg.url]);
    assert!(!ok);
    assert!(err.contains("edited"), "{err}");
    assert_eq!(count(&pg, "customers"), 305);
    pg.admin()
        .execute_batch("DELETE FROM customers WHERE id = 303")
        .unwrap();

    // An order of the user's now points at one of our customers.
    pg.admin()
        .execute_batch(
            "INSERT INTO orders (customer_id, total, placed) VALUES (304, 9.99, '2024-05-01')",
        )
        .unwrap();
    let (ok, _, err) = fx.run(&["undo", &pg.url]);
    assert!(!ok);
    assert!(
        err.contains("1 row in 'orders' now references rows rowsmith added to 'customers'"),
        "{err}"
    );
    assert_eq!(count(&pg, "customers"), 304);
    pg.admin()
        .execute_batch("DELETE FROM orders WHERE customer_id = 304")
        .unwrap();
    let (ok, out, err) = fx.run(&["undo", &pg.url]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Removed 4 rows from table 'customers'"),
        "{out}"
    );
    assert!(out.contains("(1 more had already been deleted)"), "{out}");
    assert_eq!(count(&pg, "customers"), 300);
}

fn options(cancel: &CancelFlag) -> WriteOptions<'_> {
    WriteOptions {
        journal: None,
        cancel,
        dry_run: false,
    }
}

#[test]
fn each_row_is_judged_by_postgres_alone_with_its_reason() {
    let pg = PgDb::new(SHOP);
    let mut db = pg.open(true);
    let info = db.table_info("customers").unwrap();
    let columns: Vec<String> = ["name", "email", "tier", "signed_up", "active", "uid"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let row = |email: &str, tier: &str, uid: &str| -> Vec<Option<Value>> {
        vec![
            Some(Value::Text("New Person".into())),
            Some(Value::Text(email.into())),
            Some(Value::Text(tier.into())),
            Some(Value::Text("2025-03-04 05:06:07+00".into())),
            Some(Value::Integer(1)),
            Some(Value::Text(uid.into())),
        ]
    };
    let uid = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f";
    let rows = vec![
        row("user1@example.com", "pro", uid),
        row("fresh@example.com", "gold", uid),
        row("fresh@example.com", "team", "not-a-uuid"),
        row("fresh@example.com", "team", uid),
    ];
    let cancel = CancelFlag::new();
    let outcome = db
        .write_rows(&info, &columns, &rows, &options(&cancel))
        .unwrap();
    assert_eq!(
        outcome.accepted.iter().map(|a| a.index).collect::<Vec<_>>(),
        vec![3]
    );
    let reasons: Vec<&str> = outcome.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(
        reasons[0].contains("duplicate key value violates unique constraint"),
        "{reasons:?}"
    );
    assert!(
        reasons[0].contains("Key (email)=(user1@example.com) already exists"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("invalid input value for enum tier: \"gold\""),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("column 'uid': 'not-a-uuid' is not a uuid"),
        "{reasons:?}"
    );
    assert_eq!(count(&pg, "customers"), 301);
    let stored = pg
        .admin()
        .query_text(
            "SELECT signed_up::text, active::text FROM customers WHERE email = 'fresh@example.com'",
        )
        .unwrap();
    assert_eq!(stored[0][0].as_deref(), Some("2025-03-04 05:06:07+00"));
    assert_eq!(stored[0][1].as_deref(), Some("true"));
}

#[test]
fn refusals_are_one_sentence_and_leave_the_table_as_it_was() {
    let pg = PgDb::new(&format!(
        "{SHOP}
         CREATE TABLE notes (body text);
         INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 50) g;
         CREATE ROLE reader LOGIN PASSWORD 'readerpw';
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;"
    ));
    let fx = Fixture::new();

    let (ok, _, err) = fx.run(&["generate", &pg.url, "notes", "-n", "5"]);
    assert!(!ok);
    assert!(err.contains("Table 'notes' has no primary key"), "{err}");
    assert_eq!(count(&pg, "notes"), 50);

    let (_, rest) = pg.url.split_once('@').unwrap();
    let reader = format!("postgres://reader:readerpw@{rest}");
    let (ok, _, err) = fx.run(&["generate", &reader, "customers", "-n", "5"]);
    assert!(!ok);
    assert!(
        err.contains("Postgres refused this (user 'reader' may not insert into table customers)"),
        "{err}"
    );
    assert!(!err.contains("readerpw"), "{err}");
    assert!(
        !err.contains("received"),
        "refused before any row is made: {err}"
    );
    assert_eq!(count(&pg, "customers"), 300);
}

#[test]
fn a_locked_table_and_a_lost_connection_lose_nothing() {
    let pg = PgDb::new(SHOP);
    let options_short = OpenOptions::read_write().busy_timeout(Duration::from_millis(300));
    let columns = vec![
        "name".to_string(),
        "email".to_string(),
        "tier".to_string(),
        "signed_up".to_string(),
        "active".to_string(),
        "uid".to_string(),
    ];
    let rows = vec![vec![
        Some(Value::Text("Locked Out".into())),
        Some(Value::Text("locked@example.com".into())),
        Some(Value::Text("pro".into())),
        Some(Value::Text("2025-01-01 00:00:00+00".into())),
        Some(Value::Integer(0)),
        Some(Value::Text("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f".into())),
    ]];
    let cancel = CancelFlag::new();

    // Another session holds the table: the write waits the busy timeout, then stops.
    let holder = pg.admin();
    holder
        .execute_batch("BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let mut db = Database::open(Path::new(&pg.url), &options_short).unwrap();
    let info = {
        // The catalog reads no table rows, so it is not blocked by the lock.
        db.table_info("customers").unwrap()
    };
    let err = db
        .write_rows(&info, &columns, &rows, &options(&cancel))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is locked by another program"), "{err}");
    holder.execute_batch("ROLLBACK").unwrap();

    // The server ends the connection between two batches.
    let db_name = pg.name.clone();
    pg.admin()
        .execute_batch(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db_name}' AND application_name = 'rowsmith' AND pid <> pg_backend_pid()"
        ))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let err = db
        .write_rows(&info, &columns, &rows, &options(&cancel))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("The connection to postgres://postgres@127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("was lost"), "{err}");
    assert_eq!(count(&pg, "customers"), 300);

    // The app's worker connects again before its next request, and goes on.
    assert!(db.revive(), "a lost connection is opened again");
    assert!(!db.revive(), "a live one is left alone");
    let outcome = db
        .write_rows(&info, &columns, &rows, &options(&cancel))
        .unwrap();
    assert_eq!(outcome.accepted.len(), 1);
    assert_eq!(count(&pg, "customers"), 301);
}

#[test]
fn the_demo_loads_into_postgres_once_and_takes_generated_rows() {
    let pg = PgDb::new("");
    let fx = Fixture::new();
    let (ok, out, err) = fx.run(&["demo", "--postgres", &pg.url]);
    assert!(ok, "{err}");
    assert!(
        out.contains("customers 60, products 40, orders 200, order_items 409"),
        "{out}"
    );
    let (_, rest) = pg.url.split_once("//").unwrap();
    let password = rest.split_once('@').unwrap().0.split_once(':').unwrap().1;
    assert!(!out.contains(password), "{out}");
    let (ok, _, err) = fx.run(&["demo", "--postgres", &pg.url]);
    assert!(!ok);
    assert!(err.contains("already has a 'customers'"), "{err}");
    assert_eq!(count(&pg, "customers"), 60);

    let types = pg
        .admin()
        .query_text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'customers'::regclass AND attname IN ('loyalty_tier', 'birth_date') \
             ORDER BY attname",
        )
        .unwrap();
    assert_eq!(types[0][0].as_deref(), Some("date"));
    assert_eq!(types[1][0].as_deref(), Some("loyalty_tier"));

    for (table, before) in [("customers", 60), ("orders", 200), ("order_items", 409)] {
        let (ok, out, err) = fx.run(&["generate", &pg.url, table, "-n", "10", "--seed", "4"]);
        assert!(ok, "{table}: {err}");
        assert!(
            out.contains(&format!("New total: {} rows.", before + 10)),
            "{table}: {out}"
        );
    }
    let late = pg
        .admin()
        .query_text("SELECT count(*) FROM orders WHERE shipped_at < ordered_at")
        .unwrap();
    assert_eq!(late[0][0].as_deref(), Some("0"));
    let new_ids = pg
        .admin()
        .query_text("SELECT min(id) FROM customers WHERE id > 60")
        .unwrap();
    assert_eq!(
        new_ids[0][0].as_deref(),
        Some("61"),
        "identity goes on after the demo's"
    );
}

#[test]
fn a_whole_database_run_fills_every_table_consistently_and_one_undo_takes_it_back() {
    let pg = PgDb::new("");
    let fx = Fixture::new();
    assert!(fx.run(&["demo", "--postgres", &pg.url]).0);
    let (ok, out, err) = fx.run(&["generate", &pg.url, "--all", "--scale", "2", "--seed", "5"]);
    assert!(ok, "{err}");
    assert!(out.contains("One undo removes them all."), "{out}");
    let check =
        |sql: &str| -> String { pg.admin().query_text(sql).unwrap()[0][0].clone().unwrap() };
    assert_eq!(check("SELECT count(*) FROM customers"), "120");
    assert_eq!(check("SELECT count(*) FROM products"), "80");
    // The new orders' totals are the sums of their lines, each line at its product's
    // price, no order before its customer signed up.
    assert_eq!(
        check(
            "SELECT count(*) FROM orders o WHERE o.id > 200 AND o.total <> \
             (SELECT coalesce(sum(line_total), 0) FROM order_items i WHERE i.order_id = o.id) \
             AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)"
        ),
        "0"
    );
    assert_eq!(
        check(
            "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id \
             WHERE i.unit_price <> p.price"
        ),
        "0"
    );
    assert_eq!(
        check(
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id \
             WHERE o.ordered_at < c.created_at"
        ),
        "0"
    );
    let (ok, out, err) = fx.run(&["undo", &pg.url]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Undid the run of"), "{out}");
    assert_eq!(check("SELECT count(*) FROM order_items"), "409");
    assert_eq!(check("SELECT count(*) FROM customers"), "60");

    let (ok, _, err) = fx.run(&["generate", &pg.url, "--all", "--dry-run"]);
    assert!(!ok);
    assert!(err.contains("createdb -T"), "{err}");
    assert_eq!(check("SELECT count(*) FROM customers"), "60");
}

/// Two generations at once into one table: Postgres serialises what must be, each run
/// adds exactly its rows, no UNIQUE value twice, and each undo takes back its own.
#[test]
fn concurrent_generations_each_add_their_own_rows() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let mut cmd = fx.cmd();
            cmd.args([
                "generate",
                &pg.url,
                "customers",
                "-n",
                "40",
                "--seed",
                &i.to_string(),
            ]);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    for run in runs {
        let out = run.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(count(&pg, "customers"), 380);
    let dupes = pg
        .admin()
        .query_text("SELECT count(*) FROM (SELECT email FROM customers GROUP BY email HAVING count(*) > 1) d")
        .unwrap();
    assert_eq!(dupes[0][0].as_deref(), Some("0"));
    for left in [340, 300] {
        let (ok, out, err) = fx.run(&["undo", &pg.url]);
        assert!(ok, "{err}");
        assert!(out.contains(&format!("New total: {left} rows.")), "{out}");
    }
}

#[test]
fn a_partitioned_table_takes_rows_through_its_parent() {
    let pg = PgDb::new(
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL,
                              kind text NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         INSERT INTO events (at, kind) SELECT timestamptz '2024-01-01' + (g || ' hours')::interval,
                (ARRAY['click', 'view', 'buy'])[1 + g % 3] FROM generate_series(1, 12000) g;",
    );
    let fx = Fixture::new();
    let (ok, out, err) = fx.run(&["generate", &pg.url, "events", "-n", "10", "--seed", "2"]);
    assert!(ok, "{err}");
    assert!(out.contains("New total: 12,010 rows."), "{out}");
    let (ok, out, err) = fx.run(&["undo", &pg.url]);
    assert!(ok, "{err}");
    assert!(out.contains("New total: 12,000 rows."), "{out}");
}

/// A big batch goes in as multi-row INSERTs; the few rows Postgres refuses are found by
/// halving, and exactly they are turned away with their reasons.
#[test]
fn a_big_batch_with_a_few_bad_rows_keeps_every_good_one() {
    let pg = PgDb::new(SHOP);
    let mut db = pg.open(true);
    let info = db.table_info("customers").unwrap();
    let columns: Vec<String> = ["name", "email", "tier", "signed_up", "active", "uid"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<Option<Value>>> = (0..1200)
        .map(|i| {
            // Rows 100, 700 and 1150 take emails that are already in the table.
            let email = match i {
                100 | 700 | 1150 => format!("user{}@example.com", i % 300 + 1),
                _ => format!("new{i}@example.com"),
            };
            vec![
                Some(Value::Text(format!("Person {i}"))),
                Some(Value::Text(email)),
                Some(Value::Text("pro".into())),
                Some(Value::Text("2025-01-01 00:00:00+00".into())),
                Some(Value::Integer(i % 2)),
                Some(Value::Text(format!("00000000-0000-4000-8000-{i:012}"))),
            ]
        })
        .collect();
    let cancel = CancelFlag::new();
    let outcome = db
        .write_rows(&info, &columns, &rows, &options(&cancel))
        .unwrap();
    let refused: Vec<usize> = outcome.rejected.iter().map(|r| r.index).collect();
    assert_eq!(refused, vec![100, 700, 1150]);
    assert!(
        outcome
            .rejected
            .iter()
            .all(|r| r.reason.contains("already exists"))
    );
    assert_eq!(outcome.accepted.len(), 1197);
    assert_eq!(count(&pg, "customers"), 300 + 1197);
    // Each accepted row's key is the row it names.
    let first = &outcome.accepted[0];
    let Key::Primary(values) = &first.key else {
        panic!("{first:?}")
    };
    let name = pg
        .admin()
        .query_text(&format!(
            "SELECT name FROM customers WHERE id = {}",
            display(&values[0])
        ))
        .unwrap();
    assert_eq!(name[0][0].as_deref(), Some("Person 0"));
}
