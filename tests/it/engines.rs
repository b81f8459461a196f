//! The same behaviours on every engine: each test runs once on a SQLite file and once on
//! a Postgres database made from the same SQL, through the binary as a user runs it.

use std::collections::HashSet;

use serde_json::Value as Json;

use crate::common::Fixture;
use crate::common::pg::PgDb;

/// Standard SQL both engines read alike (an integer key SQLite assigns and Postgres
/// leaves to the generator, CHECK lists and ranges, a foreign key).
const SHOP: &str = "
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT UNIQUE,
  state TEXT NOT NULL CHECK (state IN ('TX', 'NY', 'CA')),
  age INTEGER CHECK (age >= 18)
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL REFERENCES people (id),
  total REAL NOT NULL CHECK (total > 0)
);
INSERT INTO people (id, name, email, state, age) VALUES
  (1, 'Ada Lovelace', 'ada@example.com', 'TX', 36),
  (2, 'Grace Hopper', 'grace@example.com', 'NY', 45),
  (3, 'Alan Turing', NULL, 'TX', 41),
  (4, 'Edsger Dijkstra', 'edsger@example.com', 'CA', 29),
  (5, 'Barbara Liskov', 'barbara@example.com', 'NY', 52),
  (6, 'Donald Knuth', 'don@example.com', 'CA', 60),
  (7, 'Frances Allen', 'fran@example.com', 'NY', 38),
  (8, 'John Backus', 'john@example.com', 'TX', 33);
INSERT INTO orders (id, person_id, total) VALUES
  (1, 1, 10.5), (2, 1, 20.0), (3, 2, 7.25), (4, 4, 99.99), (5, 5, 12.0), (6, 6, 3.5),
  (7, 7, 45.0), (8, 8, 18.75), (9, 2, 5.5), (10, 3, 61.0);
";

/// One database of each engine, with the same tables and rows.
enum Engine {
    Sqlite(std::path::PathBuf),
    Postgres(PgDb),
}

impl Engine {
    fn both(fx: &Fixture) -> Vec<Engine> {
        vec![
            Engine::Sqlite(fx.db("shop.db", SHOP)),
            Engine::Postgres(PgDb::new(SHOP)),
        ]
    }

    fn address(&self) -> String {
        match self {
            Engine::Sqlite(path) => path.display().to_string(),
            Engine::Postgres(pg) => pg.url.clone(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite(_) => "SQLite",
            Engine::Postgres(_) => "Postgres",
        }
    }

    /// The one value `sql` returns, as text.
    fn scalar(&self, sql: &str) -> String {
        match self {
            Engine::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.query_row(sql, [], |r| {
                    let v: rusqlite::types::Value = r.get(0)?;
                    Ok(match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Null => "NULL".into(),
                        other => format!("{other:?}"),
                    })
                })
                .unwrap()
            }
            Engine::Postgres(pg) => pg.admin().query_text(sql).unwrap()[0][0]
                .clone()
                .unwrap_or_else(|| "NULL".into()),
        }
    }
}

#[test]
fn generated_rows_keep_every_constraint_and_undo_restores_the_tables() {
    let fx = Fixture::new();
    for db in Engine::both(&fx) {
        let (at, on) = (db.address(), db.name());
        let (ok, out, err) = fx.run(&["generate", &at, "people", "-n", "25", "--seed", "3"]);
        assert!(ok, "{on}: {err}");
        assert!(out.contains("New total: 33 rows."), "{on}: {out}");
        let (ok, out, err) = fx.run(&["generate", &at, "orders", "-n", "30", "--seed", "4"]);
        assert!(ok, "{on}: {err}");
        assert!(out.contains("New total: 40 rows."), "{on}: {out}");
        for (what, sql, want) in [
            ("people", "SELECT count(*) FROM people", "33"),
            (
                "repeated emails",
                "SELECT count(*) FROM (SELECT email FROM people WHERE email IS NOT NULL \
                 GROUP BY email HAVING count(*) > 1) d",
                "0",
            ),
            (
                "states off the list",
                "SELECT count(*) FROM people WHERE state NOT IN ('TX', 'NY', 'CA')",
                "0",
            ),
            (
                "ages under 18",
                "SELECT count(*) FROM people WHERE age < 18",
                "0",
            ),
            (
                "orphan orders",
                "SELECT count(*) FROM orders o WHERE NOT EXISTS \
                 (SELECT 1 FROM people p WHERE p.id = o.person_id)",
                "0",
            ),
            (
                "totals not above 0",
                "SELECT count(*) FROM orders WHERE total <= 0",
                "0",
            ),
        ] {
            assert_eq!(db.scalar(sql), want, "{on}: {what}");
        }
        assert!(fx.run(&["undo", &at]).0, "{on}");
        let (ok, out, err) = fx.run(&["undo", &at]);
        assert!(ok, "{on}: {err}");
        assert!(out.contains("New total: 8 rows."), "{on}: {out}");
        assert_eq!(db.scalar("SELECT count(*) FROM orders"), "10", "{on}");
    }
}

#[test]
fn samples_profiles_and_the_gate_say_the_same_things() {
    let fx = Fixture::new();
    for db in Engine::both(&fx) {
        let (at, on) = (db.address(), db.name());
        let (ok, out, err) = fx.run(&["sample", &at, "people", "-n", "5", "--json"]);
        assert!(ok, "{on}: {err}");
        let sample: Json = serde_json::from_str(&out).unwrap();
        let rows = sample["rows"].as_array().unwrap();
        let ids: HashSet<String> = rows.iter().map(|r| r[0].to_string()).collect();
        assert_eq!((rows.len(), ids.len()), (5, 5), "{on}: five distinct rows");

        let (ok, out, err) = fx.run(&["profile", &at, "people", "--json"]);
        assert!(ok, "{on}: {err}");
        let profile: Json = serde_json::from_str(&out).unwrap();
        let column = |name: &str| {
            profile["columns"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(column("state")["distinct_count"], 3, "{on}");
        assert_eq!(column("email")["null_count"], 1, "{on}");
        assert_eq!(column("email")["format"]["format"], "email", "{on}");

        for sql in [
            "DELETE FROM people",
            "UPDATE people SET age = 1",
            "DROP TABLE orders",
            "SELECT 1; DELETE FROM people",
        ] {
            let (ok, _, err) = fx.run(&["query", &at, sql]);
            assert!(!ok, "{on}: {sql} ran");
            assert!(err.starts_with("error: Refused: "), "{on}: {sql}: {err}");
        }
        let (ok, out, err) = fx.run(&[
            "query",
            &at,
            "SELECT state, count(*) AS n FROM people GROUP BY state ORDER BY state",
            "--format",
            "csv",
        ]);
        assert!(ok, "{on}: {err}");
        assert_eq!(out, "state,n\nCA,2\nNY,3\nTX,3\n", "{on}");
        assert_eq!(db.scalar("SELECT count(*) FROM people"), "8", "{on}");
    }
}

#[test]
fn export_then_import_round_trips_a_table() {
    let fx = Fixture::new();
    for db in Engine::both(&fx) {
        let (at, on) = (db.address(), db.name());
        let file = fx.path(&format!("people-{on}.csv"));
        let (ok, _, err) = fx.run(&["export", &at, "people", "-o", file.to_str().unwrap()]);
        assert!(ok, "{on}: {err}");
        let (ok, out, err) = fx.run(&[
            "import",
            &at,
            file.to_str().unwrap(),
            "--table",
            "people_copy",
        ]);
        assert!(ok, "{on}: {err}");
        assert!(
            out.contains("Imported 8 rows into new table 'people_copy'"),
            "{on}: {out}"
        );
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM people p JOIN people_copy c ON c.id = p.id AND c.name = p.name \
                 AND c.state = p.state AND (c.email = p.email OR (c.email IS NULL AND p.email IS NULL))"
            ),
            "8",
            "{on}: every row came back as it was"
        );
        let (ok, out, err) = fx.run(&["undo", &at]);
        assert!(ok, "{on}: {err}");
        assert!(
            out.contains("Removed 8 rows from table 'people_copy'"),
            "{on}: {out}"
        );
        let (ok, _, err) = fx.run(&["drop", &at, "people_copy", "--yes"]);
        assert!(ok, "{on}: {err}");
    }
}

#[test]
fn a_whole_run_doubles_every_table_and_one_undo_takes_it_back() {
    let fx = Fixture::new();
    for db in Engine::both(&fx) {
        let (at, on) = (db.address(), db.name());
        let (ok, out, err) = fx.run(&["generate", &at, "--all", "--scale", "2", "--seed", "9"]);
        assert!(ok, "{on}: {err}");
        assert!(out.contains("One undo removes them all."), "{on}: {out}");
        assert_eq!(db.scalar("SELECT count(*) FROM people"), "16", "{on}");
        assert_eq!(db.scalar("SELECT count(*) FROM orders"), "20", "{on}");
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM orders o WHERE NOT EXISTS \
                 (SELECT 1 FROM people p WHERE p.id = o.person_id)"
            ),
            "0",
            "{on}"
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM orders WHERE person_id > 8"),
            "10",
            "{on}: new orders belong to new people"
        );
        let (ok, out, err) = fx.run(&["undo", &at]);
        assert!(ok, "{on}: {err}");
        assert!(out.starts_with("Undid the run of"), "{on}: {out}");
        assert_eq!(db.scalar("SELECT count(*) FROM people"), "8", "{on}");
    }
}
