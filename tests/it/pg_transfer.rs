//! Postgres: export and delete, as a user runs them, against a real server.

use crate::common::Fixture;
use crate::common::pg::PgDb;

const SHOP: &str = "
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
                        note text, born date, active boolean, photo bytea);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id bigint REFERENCES customers (id),
                     total numeric(8,2));
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
INSERT INTO customers (name, note, born, active, photo) VALUES
  ('Ada, \"the first\"', NULL, '1815-12-10', true, '\\x00ff'),
  ('Grace', '', NULL, false, NULL);
INSERT INTO orders (customer_id, total) VALUES (1, 10.5), (1, 20), (2, 7.25);
";

fn run(fx: &Fixture, args: &[&str]) -> (bool, String, String) {
    let out = fx.cmd().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn export_writes_csv_with_nulls_empties_quotes_and_bytes_as_for_sqlite() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let (ok, out, err) = run(&fx, &["export", &pg.url, "customers", "-o", "-"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "id,name,note,born,active,photo\n\
         1,\"Ada, \"\"the first\"\"\",,1815-12-10,1,00ff\n\
         2,Grace,\"\",,0,\n"
    );
    let file = fx.path("orders.csv");
    let (ok, out, err) = run(
        &fx,
        &[
            "export",
            &pg.url,
            "big_orders",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("Exported 2 rows of 'big_orders'"), "{out}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written, "id,customer_id,total\n1,1,10.50\n2,1,20.00\n",
        "numerics exactly"
    );
    // An existing file is not replaced without --force.
    let (ok, _, err) = run(
        &fx,
        &["export", &pg.url, "orders", "-o", file.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("exists"), "{err}");
}

#[test]
fn drop_refuses_a_referenced_table_and_deletes_the_rest() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let (ok, _, err) = run(&fx, &["drop", &pg.url, "customers", "--yes"]);
    assert!(!ok);
    assert!(
        err.contains(
            "Cannot delete table 'customers': table 'orders' has a foreign key that points at it"
        ),
        "{err}"
    );
    let (ok, out, err) = run(&fx, &["drop", &pg.url, "big_orders", "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("Deleted view 'big_orders'"), "{out}");
    let (ok, _, err) = run(&fx, &["drop", &pg.url, "orders", "--yes"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&fx, &["drop", &pg.url, "customers", "--yes"]);
    assert!(ok, "{err}");
    let left = pg
        .admin()
        .query_text(
            "SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'orders', 'big_orders')",
        )
        .unwrap();
    assert_eq!(left[0][0].as_deref(), Some("0"));
}
