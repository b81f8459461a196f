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

#[test]
fn export_writes_csv_with_nulls_empties_quotes_and_bytes_as_for_sqlite() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let (ok, out, err) = fx.run(&["export", &pg.url, "customers", "-o", "-"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "id,name,note,born,active,photo\n\
         1,\"Ada, \"\"the first\"\"\",,1815-12-10,1,00ff\n\
         2,Grace,\"\",,0,\n"
    );
    let file = fx.path("orders.csv");
    let (ok, out, err) = fx.run(&[
        "export",
        &pg.url,
        "big_orders",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Exported 2 rows of 'big_orders'"), "{out}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written, "id,customer_id,total\n1,1,10.50\n2,1,20.00\n",
        "numerics exactly"
    );
    // An existing file is not replaced without --force.
    let (ok, _, err) = fx.run(&["export", &pg.url, "orders", "-o", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("exists"), "{err}");
}

#[test]
fn drop_refuses_a_referenced_table_and_deletes_the_rest() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let (ok, _, err) = fx.run(&["drop", &pg.url, "customers", "--yes"]);
    assert!(!ok);
    assert!(
        err.contains(
            "Cannot delete table 'customers': table 'orders' has a foreign key that points at it"
        ),
        "{err}"
    );
    let (ok, out, err) = fx.run(&["drop", &pg.url, "big_orders", "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("Deleted view 'big_orders'"), "{out}");
    let (ok, _, err) = fx.run(&["drop", &pg.url, "orders", "--yes"]);
    assert!(ok, "{err}");
    let (ok, _, err) = fx.run(&["drop", &pg.url, "customers", "--yes"]);
    assert!(ok, "{err}");
    let left = pg
        .admin()
        .query_text(
            "SELECT count(*) FROM pg_class WHERE relname IN ('customers', 'orders', 'big_orders')",
        )
        .unwrap();
    assert_eq!(left[0][0].as_deref(), Some("0"));
}

#[test]
fn import_makes_a_typed_keyed_table_that_takes_generated_rows_and_undoes() {
    let pg = PgDb::new(SHOP);
    let fx = Fixture::new();
    let file = fx.path("people.csv");
    std::fs::write(
        &file,
        "name,age,score,member\nAda,36,9.5,true\nGrace,45,,false\n\"Lin, Ma\",29,7.25,true\n",
    )
    .unwrap();
    let (ok, out, err) = fx.run(&["import", &pg.url, file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Imported 3 rows into new table 'people' (4 columns: name text, age bigint, score double precision, member boolean)"),
        "{out}"
    );
    let key = pg
        .admin()
        .query_text(
            "SELECT a.attname::text, a.attidentity::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = 'people'::regclass AND i.indisprimary",
        )
        .unwrap();
    assert_eq!(
        key[0][0].as_deref(),
        Some("id"),
        "an identity key Postgres numbers"
    );
    let (ok, out, err) = fx.run(&["generate", &pg.url, "people", "-n", "4", "--seed", "1"]);
    assert!(ok, "{err}");
    assert!(out.contains("New total: 7 rows."), "{out}");
    assert!(fx.run(&["undo", &pg.url]).0);
    let (ok, out, err) = fx.run(&["undo", &pg.url]);
    assert!(ok, "{err}");
    assert!(
        out.contains("by import people.csv). New total: 0 rows."),
        "{out}"
    );

    // A file with its own unique id keeps it as the key; appending a row whose id is
    // taken refuses the whole file, naming the line.
    let ids = fx.path("ids.csv");
    std::fs::write(&ids, "id,name\n1,x\n2,y\n").unwrap();
    assert!(fx.run(&["import", &pg.url, ids.to_str().unwrap()]).0);
    let more = fx.path("more.csv");
    std::fs::write(&more, "id,name\n3,z\n2,again\n").unwrap();
    let (ok, _, err) = fx.run(&["import", &pg.url, more.to_str().unwrap(), "--table", "ids"]);
    assert!(!ok);
    assert!(
        err.contains("more.csv line 3: duplicate key value"),
        "{err}"
    );
    assert!(err.contains("Nothing was imported."), "{err}");
    let n = pg.admin().query_text("SELECT count(*) FROM ids").unwrap();
    assert_eq!(n[0][0].as_deref(), Some("2"));

    // Appending to a table without a key is refused: its rows could not be undone.
    let notes = fx.path("notes.csv");
    std::fs::write(&notes, "body\nhello\n").unwrap();
    pg.admin()
        .execute_batch("CREATE TABLE notes (body text)")
        .unwrap();
    let (ok, _, err) = fx.run(&[
        "import",
        &pg.url,
        notes.to_str().unwrap(),
        "--table",
        "notes",
    ]);
    assert!(!ok);
    assert!(err.contains("has no primary key"), "{err}");
}
