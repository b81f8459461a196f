//! `rowsmith generate DB --all`: whole-database runs through the real binary on real
//! SQLite files — parents before children, fan-out, children that agree with their
//! parents, cycles, link tables, subsets, dry runs, and one undo for the whole run.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::common::{Fixture, bytes, count};

/// A private copy of the demo database.
fn demo_copy(fx: &Fixture) -> PathBuf {
    let out = fx.cmd().arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let copy = fx.path("shop.db");
    std::fs::copy(demo, &copy).unwrap();
    copy
}

fn scalar(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn fk_problems(db: &Path) -> i64 {
    scalar(db, "SELECT count(*) FROM pragma_foreign_key_check")
}

fn all(fx: &Fixture, db: &Path, extra: &[&str]) -> (bool, String, String) {
    let out = fx
        .cmd()
        .arg("generate")
        .arg(db)
        .args(["--all", "--provider", "offline", "--seed", "1"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_grows_parents_first_and_its_new_orders_make_sense_together() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    let (ok, stdout, stderr) = all(&fx, &db, &["--scale", "3"]);
    assert!(ok, "{stderr}");
    // The plan comes first, parents before children, with the view left out and why.
    let plan_at = |t: &str| stderr.find(&format!(". {t}:")).unwrap();
    assert!(plan_at("customers") < plan_at("orders"), "{stderr}");
    assert!(plan_at("orders") < plan_at("order_items"), "{stderr}");
    assert!(plan_at("products") < plan_at("order_items"), "{stderr}");
    assert!(
        stderr.contains("skipped customer_order_totals: a view"),
        "{stderr}"
    );
    assert!(stdout.contains("One undo removes them all"), "{stdout}");

    // Every table grows to exactly 3×: new parents, taken together, have children as
    // today's parents do.
    assert_eq!(count(&db, "customers"), 180);
    assert_eq!(count(&db, "products"), 120);
    assert_eq!(count(&db, "orders"), 600);
    assert_eq!(count(&db, "order_items"), 1227);
    assert_eq!(fk_problems(&db), 0);

    // New orders belong to new customers, and their lines to new products.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM orders WHERE id > 200 AND customer_id <= 60"
        ),
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM order_items WHERE order_id > 200 AND product_id <= 40"
        ),
        0
    );
    // Every new order has lines (as every order had), its total is the sum of its
    // lines, each line's price is its product's price, and it was placed after the
    // customer signed up.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM orders o WHERE id > 200 AND NOT EXISTS \
             (SELECT 1 FROM order_items i WHERE i.order_id = o.id)"
        ),
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM orders o WHERE id > 200 AND abs(total - \
             (SELECT sum(line_total) FROM order_items i WHERE i.order_id = o.id)) > 0.005"
        ),
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id \
             WHERE i.order_id > 200 AND i.unit_price <> p.price"
        ),
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id \
             WHERE o.id > 200 AND o.ordered_at < c.created_at"
        ),
        0
    );
    // New products sell about as unevenly as today's: none far more than the best seller.
    let most = |filter: &str| {
        scalar(
            &db,
            &format!(
                "SELECT max(n) FROM (SELECT count(i.order_id) AS n FROM products p \
                 LEFT JOIN order_items i ON i.product_id = p.id WHERE {filter} AND (i.order_id IS NULL OR i.order_id {}) GROUP BY p.id)",
                if filter.contains('>') {
                    "> 200"
                } else {
                    "<= 200"
                }
            ),
        )
    };
    assert!(
        most("p.id > 40") <= most("p.id <= 40") + 2,
        "{} vs {}",
        most("p.id > 40"),
        most("p.id <= 40")
    );
    // Customers differ in how many orders they place, as they do today.
    assert!(
        scalar(
            &db,
            "SELECT count(DISTINCT n) FROM (SELECT count(o.id) AS n FROM customers c \
             LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id > 60 GROUP BY c.id)"
        ) >= 4
    );
}

#[test]
fn one_undo_takes_back_the_whole_run() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    let before: Vec<i64> = ["customers", "products", "orders", "order_items"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    let out = fx.cmd().arg("undo").arg(&db).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: Vec<i64> = ["customers", "products", "orders", "order_items"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    assert_eq!(before, after);
    assert_eq!(fk_problems(&db), 0);
}

const COMPANY: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE departments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  head_id INTEGER REFERENCES employees (id)
);
CREATE TABLE employees (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  department_id INTEGER NOT NULL REFERENCES departments (id),
  manager_id INTEGER REFERENCES employees (id),
  hired TEXT NOT NULL
);
";

fn company(fx: &Fixture) -> PathBuf {
    let db = fx.db("company.db", COMPANY);
    let conn = Connection::open(&db).unwrap();
    let names = [
        "Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo",
    ];
    for d in 1..=6 {
        conn.execute(
            "INSERT INTO departments (id, name) VALUES (?1, ?2)",
            rusqlite::params![d, format!("Dept {d}")],
        )
        .unwrap();
    }
    for e in 1..=60i64 {
        let manager = if e <= 6 { None } else { Some((e - 1) / 6) };
        conn.execute(
            "INSERT INTO employees (id, name, department_id, manager_id, hired) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                e,
                format!("{} {e}", names[(e % 10) as usize]),
                1 + e % 6,
                manager,
                format!("20{:02}-0{}-1{}", 10 + e % 14, 1 + e % 9, e % 10)
            ],
        )
        .unwrap();
    }
    conn.execute("UPDATE departments SET head_id = id", [])
        .unwrap();
    db
}

#[test]
fn a_cycle_and_a_self_reference_are_linked_in_a_second_pass_without_loops() {
    let fx = Fixture::new();
    let db = company(&fx);
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("set in a second pass"), "{stderr}");
    assert_eq!(count(&db, "departments"), 12);
    assert!(count(&db, "employees") > 80, "{}", count(&db, "employees"));
    assert_eq!(fk_problems(&db), 0);
    // New departments got heads, among the new employees.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM departments WHERE id > 6 AND head_id IS NULL"
        ),
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM departments WHERE id > 6 AND head_id <= 60"
        ),
        0
    );
    // Most new employees have a manager, always one hired into the run before them, so
    // no chain of managers loops.
    let managed = scalar(
        &db,
        "SELECT count(*) FROM employees WHERE id > 60 AND manager_id IS NOT NULL",
    );
    assert!(managed > 50, "{managed}");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM employees WHERE id > 60 AND manager_id >= id"
        ),
        0
    );
    // And the whole run, second pass included, is one undo.
    let out = fx.cmd().arg("undo").arg(&db).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&db, "employees"), 60);
    assert_eq!(count(&db, "departments"), 6);
}

const MUSIC: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE playlists (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE tracks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, ms INTEGER NOT NULL);
CREATE TABLE playlist_track (
  playlist_id INTEGER NOT NULL REFERENCES playlists (id),
  track_id INTEGER NOT NULL REFERENCES tracks (id),
  PRIMARY KEY (playlist_id, track_id)
) WITHOUT ROWID;
";

#[test]
fn a_link_table_gets_new_pairs_without_repeats_drawn_by_popularity() {
    let fx = Fixture::new();
    let db = fx.db("music.db", MUSIC);
    let conn = Connection::open(&db).unwrap();
    for p in 1..=10 {
        conn.execute(
            "INSERT INTO playlists VALUES (?1, ?2)",
            rusqlite::params![p, format!("Mix {p}")],
        )
        .unwrap();
    }
    let words = [
        "Blue", "Night", "River", "Golden", "Summer", "Rain", "Heart", "Fire", "Road", "Moon",
        "Silver", "Dream",
    ];
    for t in 1..=50usize {
        let title = format!("{} {}", words[t % 12], words[(t * 5 + 3) % 12]);
        conn.execute(
            "INSERT INTO tracks VALUES (?1, ?2, ?3)",
            rusqlite::params![t, title, 150_000 + t * 997],
        )
        .unwrap();
    }
    // Playlist p holds 2p tracks; the first ten tracks are in almost every playlist.
    for p in 1..=10i64 {
        for k in 0..2 * p {
            let t = if k < 10 {
                1 + k
            } else {
                11 + (p * 7 + k * 3) % 40
            };
            conn.execute(
                "INSERT OR IGNORE INTO playlist_track VALUES (?1, ?2)",
                rusqlite::params![p, t],
            )
            .unwrap();
        }
    }
    drop(conn);
    let links = count(&db, "playlist_track");
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    assert_eq!(count(&db, "playlists"), 20);
    assert_eq!(count(&db, "tracks"), 100);
    let new_links = count(&db, "playlist_track") - links;
    assert!(
        new_links as f64 > links as f64 * 0.6 && (new_links as f64) < links as f64 * 1.4,
        "{links} -> +{new_links}"
    );
    assert_eq!(fk_problems(&db), 0);
    // New playlists hold new tracks only, and the popular ones most often.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM playlist_track WHERE playlist_id > 10 AND track_id <= 50"
        ),
        0
    );
    let spread = scalar(
        &db,
        "SELECT max(n) - min(n) FROM (SELECT count(*) AS n FROM playlist_track \
         WHERE playlist_id > 10 GROUP BY playlist_id)",
    );
    assert!(
        spread >= 5,
        "new playlists should differ in length like the old: {spread}"
    );
}

#[test]
fn a_subset_reuses_the_parents_it_leaves_out() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    let (ok, _, stderr) = all(&fx, &db, &["--tables", "orders", "-n", "50"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("existing rows of customers"), "{stderr}");
    assert_eq!(count(&db, "orders"), 250);
    assert_eq!(count(&db, "customers"), 60);
    assert_eq!(count(&db, "order_items"), 409);
    assert_eq!(fk_problems(&db), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id \
             WHERE o.id > 200 AND o.ordered_at < c.created_at"
        ),
        0
    );
}

#[test]
fn a_dry_run_shows_rows_of_every_table_and_writes_nothing() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    let before = bytes(&db);
    let (ok, stdout, stderr) = all(&fx, &db, &["--scale", "2", "--dry-run"]);
    assert!(ok, "{stderr}");
    assert_eq!(bytes(&db), before, "the database was written");
    let shown: serde_json::Value = serde_json::from_str(&stdout[..stdout.rfind('}').unwrap() + 1])
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    for t in ["customers", "products", "orders", "order_items"] {
        assert!(
            shown[t].as_array().is_some_and(|rows| !rows.is_empty()),
            "{t}: {stdout}"
        );
    }
    assert!(stdout.contains("Dry run:"), "{stdout}");
    let list = fx.cmd().args(["undo", "--list"]).arg(&db).output().unwrap();
    assert!(!String::from_utf8_lossy(&list.stdout).contains("customers"));
}

#[test]
fn bad_sizes_and_unknown_tables_are_refused_before_anything_runs() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    let before = bytes(&db);
    for (args, says) in [
        (vec!["--scale", "0.5"], "more than 1"),
        (vec!["--tables", "nope"], "no table 'nope'"),
        (vec!["-n", "0"], "at least 1"),
    ] {
        let (ok, _, stderr) = all(&fx, &db, &args);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(bytes(&db), before);
}

#[test]
fn a_failure_midway_rolls_the_whole_run_back_and_says_so() {
    let fx = Fixture::new();
    let db = demo_copy(&fx);
    // Lines can be written no more: the run fails at its last table.
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER no_lines BEFORE INSERT ON order_items \
             BEGIN SELECT RAISE(ROLLBACK, 'order lines are frozen'); END;",
        )
        .unwrap();
    let before: Vec<i64> = ["customers", "products", "orders", "order_items"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(!ok);
    assert!(stderr.contains("order_items"), "{stderr}");
    assert!(stderr.contains("were removed"), "{stderr}");
    let after: Vec<i64> = ["customers", "products", "orders", "order_items"]
        .iter()
        .map(|t| count(&db, t))
        .collect();
    assert_eq!(before, after);
}

const BILLING: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  city TEXT NOT NULL,
  signup TEXT NOT NULL
);
CREATE TABLE invoices (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  billing_city TEXT NOT NULL,
  issued TEXT NOT NULL,
  amount REAL NOT NULL
);
";

fn billing(fx: &Fixture) -> PathBuf {
    let db = fx.db("billing.db", BILLING);
    let conn = Connection::open(&db).unwrap();
    let first = [
        "Maria", "Chen", "Amara", "Lukas", "Priya", "Tom", "Ines", "Kofi",
    ];
    let last = [
        "Silva", "Wong", "Okafor", "Berg", "Nair", "Hale", "Roca", "Mensah", "Ito",
    ];
    let cities = ["Lisbon", "Osaka", "Lagos", "Oslo", "Pune"];
    let mut invoice = 0;
    for c in 0..40usize {
        let (f, l) = (first[c % 8], last[c % 9]);
        conn.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                c + 1,
                format!("{f} {l}"),
                format!("{}.{}{c}@mail.test", f.to_lowercase(), l.to_lowercase()),
                cities[c % 5],
                format!("2022-{:02}-{:02}", 1 + c % 12, 1 + c % 27)
            ],
        )
        .unwrap();
        for k in 0..(c % 4) {
            invoice += 1;
            conn.execute(
                "INSERT INTO invoices VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    invoice,
                    c + 1,
                    cities[c % 5],
                    format!("2023-{:02}-{:02}", 1 + (c + k) % 12, 1 + (c * 3 + k) % 27),
                    9.99 + (invoice % 13) as f64
                ],
            )
            .unwrap();
        }
    }
    db
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_sees_each_rows_parent_masked_and_rows_that_break_the_parents_order_are_asked_again()
 {
    use crate::common::model::{FakeModel, Reply, rows_like_samples};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let fx = Fixture::new();
    let db = billing(&fx);
    let invoices_before = count(&db, "invoices");
    let next = Arc::new(AtomicUsize::new(0));
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let (n, seen) = (next.clone(), prompts.clone());
    let first_invoices = Arc::new(std::sync::atomic::AtomicBool::new(true));
    // A model that models rows on the samples; for invoices it dates each row a month
    // after its customer's signup as the request lists them, except every third row of
    // the first answer, which it dates in 2001.
    let model = FakeModel::openai(move |ask| {
        seen.lock().unwrap().push(ask.prompt.clone());
        let mut rows = rows_like_samples(ask, &n);
        let signups: Vec<String> = ask
            .prompt
            .lines()
            .filter(|l| l.starts_with("Row "))
            .filter_map(|l| {
                let json = &l[l.find('{')?..];
                let v: serde_json::Value = serde_json::from_str(json).ok()?;
                v["signup"].as_str().map(str::to_string)
            })
            .collect();
        let spoil = !signups.is_empty() && first_invoices.swap(false, Ordering::SeqCst);
        for (i, row) in rows.iter_mut().enumerate() {
            if row.get("email").is_some() {
                // A customer: a new person.
                let k = ask.call * 100 + i;
                let (f, l) = (
                    ["Zara", "Yusuf", "Wen", "Vera", "Uma", "Theo", "Sana"][k % 7],
                    [
                        "Quinn", "Park", "Ueda", "Lind", "Sousa", "Kane", "Moreau", "Dahl",
                    ][(k / 7) % 8],
                );
                row["name"] = serde_json::json!(format!("{f} {l}"));
                row["email"] = serde_json::json!(format!(
                    "{}.{}{k}@mail.test",
                    f.to_lowercase(),
                    l.to_lowercase()
                ));
            }
            if let Some(signup) = signups.get(i) {
                let late = format!("{}-12-{:02}", &signup[..4], 1 + (ask.call + i) % 28);
                row["issued"] = if spoil && i % 3 == 0 {
                    serde_json::json!("2001-01-01")
                } else {
                    serde_json::json!(late)
                };
                row["billing_city"] = serde_json::json!("Nowhere");
                row["amount"] = serde_json::json!(10.0 + ((ask.call * 37 + i * 7) % 13) as f64);
            }
        }
        Reply::Rows(rows)
    })
    .await;
    let mut cmd = fx.cmd();
    cmd.arg("generate").arg(&db).args([
        "--all",
        "--scale",
        "2",
        "--seed",
        "3",
        "--privacy",
        "mask",
    ]);
    for (k, v) in model.env() {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(count(&db, "customers"), 80);
    assert!(count(&db, "invoices") > invoices_before, "{stderr}");
    assert_eq!(fk_problems(&db), 0);
    // Every new invoice bills its own customer's city (filled in from the parent, not the
    // model's "Nowhere") and is issued after the customer signed up.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM invoices i JOIN customers c ON c.id = i.customer_id \
             WHERE i.customer_id > 40 AND (i.billing_city <> c.city OR i.issued < c.signup)"
        ),
        0
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM invoices WHERE customer_id <= 40"),
        invoices_before
    );
    let prompts = prompts.lock().unwrap();
    let invoice_prompts: Vec<&String> = prompts
        .iter()
        .filter(|p| p.contains("Row 1: customers"))
        .collect();
    assert!(!invoice_prompts.is_empty());
    // The rows the first answer dated before the signup were asked again, with the reason.
    assert!(
        invoice_prompts
            .iter()
            .any(|p| p.contains("issued must not be before its customers's signup")),
        "{}",
        invoice_prompts.last().unwrap()
    );
    // Parent rows are in the request, with made-up names and emails (a remote model).
    let new_names: Vec<String> = {
        let conn = Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT name, email FROM customers WHERE id > 40")
            .unwrap();
        stmt.query_map([], |r| {
            Ok(vec![r.get::<_, String>(0)?, r.get::<_, String>(1)?])
        })
        .unwrap()
        .flatten()
        .flatten()
        .collect()
    };
    for p in &invoice_prompts {
        assert!(p.contains("\"signup\""), "{p}");
        for real in &new_names {
            assert!(!p.contains(real.as_str()), "{real} was sent: {p}");
        }
    }
}

#[test]
fn a_line_total_is_its_quantity_times_its_products_price_with_no_price_column_in_between() {
    let fx = Fixture::new();
    let db = fx.db(
        "lines.db",
        "PRAGMA foreign_keys = ON;
         CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL);
         CREATE TABLE lines (
           id INTEGER PRIMARY KEY,
           product_id INTEGER NOT NULL REFERENCES products (id),
           qty INTEGER NOT NULL,
           total REAL NOT NULL
         );",
    );
    let conn = Connection::open(&db).unwrap();
    let words = [
        "Lamp", "Desk", "Chair", "Shelf", "Rug", "Stool", "Bench", "Clock",
    ];
    for p in 0..30usize {
        conn.execute(
            "INSERT INTO products (name, price) VALUES (?1, ?2)",
            rusqlite::params![
                format!("{} {}", ["Oak", "Pine", "Teak", "Ash"][p / 8], words[p % 8]),
                4.99 + (p * 7 % 23) as f64
            ],
        )
        .unwrap();
    }
    for l in 0..120usize {
        let product = 1 + (l * 7) % 30;
        let qty = 1 + (l % 4) as i64;
        let price: f64 = conn
            .query_row("SELECT price FROM products WHERE id = ?1", [product], |r| {
                r.get(0)
            })
            .unwrap();
        conn.execute(
            "INSERT INTO lines (product_id, qty, total) VALUES (?1, ?2, round(?3, 2))",
            rusqlite::params![product, qty, qty as f64 * price],
        )
        .unwrap();
    }
    drop(conn);
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("total = qty × products.price"), "{stderr}");
    assert_eq!(count(&db, "lines"), 240);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM lines l JOIN products p ON p.id = l.product_id \
             WHERE l.id > 120 AND abs(l.total - l.qty * p.price) > 0.005"
        ),
        0
    );
}

#[test]
fn a_hierarchy_is_linked_as_its_titles_say_staff_to_managers_and_managers_to_the_top() {
    let fx = Fixture::new();
    let db = fx.db(
        "org.db",
        "PRAGMA foreign_keys = ON;
         CREATE TABLE staff (
           id INTEGER PRIMARY KEY,
           name TEXT NOT NULL,
           title TEXT NOT NULL,
           reports_to INTEGER REFERENCES staff (id)
         );",
    );
    let conn = Connection::open(&db).unwrap();
    let firsts = [
        "Ana", "Ben", "Caro", "Dev", "Eli", "Fay", "Gil", "Hana", "Ivo", "Jun",
    ];
    let lasts = ["Moss", "Reed", "Lund", "Pike"];
    let mut name = 0;
    let mut add = |title: &str, boss: Option<i64>| {
        name += 1;
        conn.execute(
            "INSERT INTO staff (name, title, reports_to) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                format!("{} {}", firsts[name % 10], lasts[name / 10 % 4]),
                title,
                boss
            ],
        )
        .unwrap();
        conn.last_insert_rowid()
    };
    let top = add("Director", None);
    let managers: Vec<i64> = (0..4).map(|_| add("Manager", Some(top))).collect();
    for k in 0..30 {
        add("Engineer", Some(managers[k % 4]));
    }
    drop(conn);
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("as title says"), "{stderr}");
    assert_eq!(count(&db, "staff"), 70);
    assert_eq!(fk_problems(&db), 0);
    // New engineers report to new managers, new managers to a new director, who reports
    // to no one.
    let wrong = scalar(
        &db,
        "SELECT count(*) FROM staff s LEFT JOIN staff b ON b.id = s.reports_to WHERE s.id > 35 AND NOT (
           (s.title = 'Engineer' AND b.title = 'Manager' AND b.id > 35)
           OR (s.title = 'Manager' AND b.title = 'Director' AND b.id > 35)
           OR (s.title = 'Director' AND s.reports_to IS NULL))",
    );
    assert_eq!(wrong, 0);
}

#[test]
fn values_a_new_parent_gives_are_not_judged_by_how_old_rows_paired_them() {
    let fx = Fixture::new();
    let db = fx.db(
        "geo.db",
        "PRAGMA foreign_keys = ON;
         CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT NOT NULL, continent TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE cities (
           id INTEGER PRIMARY KEY,
           country TEXT NOT NULL REFERENCES countries (code),
           name TEXT NOT NULL,
           continent TEXT NOT NULL
         );",
    );
    let conn = Connection::open(&db).unwrap();
    let continents = ["Europe", "Asia", "Africa", "Americas"];
    let firsts = [
        "North", "South", "East", "West", "Upper", "Lower", "Great", "New",
    ];
    let seconds = ["Avaria", "Belmor", "Corvana", "Dunmark", "Estoria"];
    let suffixes = ["ton", "burg", "ville", "stad"];
    for i in 0..40usize {
        let (code, continent) = (format!("C{:03}", 100 + i * 7), continents[i % 4]);
        conn.execute(
            "INSERT INTO countries VALUES (?1, ?2, ?3)",
            rusqlite::params![
                code,
                format!("{} {}", firsts[i % 8], seconds[i / 8]),
                continent
            ],
        )
        .unwrap();
        for k in 0..(1 + i % 4) {
            // City names repeat within a continent only: name → continent in the data.
            let name = format!("{}{}", &seconds[(i + k) % 5][..3], suffixes[i % 4]);
            conn.execute(
                "INSERT INTO cities (country, name, continent) VALUES (?1, ?2, ?3)",
                rusqlite::params![code, name, continent],
            )
            .unwrap();
        }
    }
    drop(conn);
    let cities = count(&db, "cities");
    let (ok, _, stderr) = all(&fx, &db, &["--scale", "2"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("continent = countries.continent"),
        "{stderr}"
    );
    assert_eq!(count(&db, "countries"), 80);
    assert_eq!(count(&db, "cities"), cities * 2);
    assert_eq!(fk_problems(&db), 0);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM cities ci JOIN countries co ON co.code = ci.country WHERE ci.continent <> co.continent"
        ),
        0
    );
}
