//! `rowsmith demo --postgres URL`: the bundled demo shop loaded into a Postgres database,
//! in Postgres's own types (`assets/demo.postgres.sql`), with the very rows of the SQLite
//! demo. One transaction: the database has all of it or none of it.

use std::path::Path;

use tokio_postgres::types::ToSql;

use super::Postgres;
use super::bind::BindAs;
use crate::db::catalog::TableInfo;
use crate::db::ident::quote;
use crate::db::value::Value;
use crate::db::{Backend, DbError, OpenOptions, Sqlite};

/// The demo's schema in Postgres types, compiled into the binary.
pub const DEMO_POSTGRES_SQL: &str = include_str!("../../../assets/demo.postgres.sql");

/// The demo's tables, parents first.
const TABLES: &[&str] = &["customers", "products", "orders", "order_items"];

/// Loads the demo into the (empty) database `url` names; returns each table's rows.
pub fn load_demo(url: &Path) -> Result<Vec<(String, u64)>, DbError> {
    let source = Sqlite::open(&crate::db::demo::ensure_demo()?, &OpenOptions::read_only())?;
    let pg = Postgres::open(url, &OpenOptions::read_write())?;
    let present: Vec<String> = pg.list_objects()?.into_iter().map(|o| o.name).collect();
    let taken = TABLES
        .iter()
        .chain(&["customer_order_totals"])
        .find(|name| present.iter().any(|p| p == *name));
    if let Some(name) = taken {
        return Err(DbError::DemoTargetNotEmpty {
            path: pg.shown().to_string(),
            table: name.to_string(),
        });
    }
    pg.execute_batch("BEGIN")?;
    let loaded = (|| {
        pg.execute_batch(DEMO_POSTGRES_SQL)?;
        let mut loaded = Vec::new();
        for table in TABLES {
            let rows = copy_table(&source, &pg, table)?;
            loaded.push((table.to_string(), rows));
        }
        // Identity numbers go on after the demo's own.
        for table in ["customers", "products", "orders"] {
            pg.execute_batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            ))?;
        }
        pg.execute_batch("ANALYZE")?;
        Ok(loaded)
    })();
    match loaded {
        Ok(loaded) => {
            pg.execute_batch("COMMIT")?;
            Ok(loaded)
        }
        Err(e) => {
            let _ = pg.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn copy_table(source: &Sqlite, pg: &Postgres, table: &str) -> Result<u64, DbError> {
    let target: TableInfo = super::catalog::table_info(pg, table)?;
    let columns: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
    let binds: Vec<BindAs> = target.columns.iter().map(BindAs::of).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(table),
        columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", "),
        binds
            .iter()
            .enumerate()
            .map(|(i, b)| b.placeholder(i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let statement = pg.wait(pg.client.prepare(&sql)).map_err(|e| pg.err(&e))?;
    let mut read = source
        .conn()
        .prepare(&format!(
            "SELECT {} FROM main.{}",
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            quote(table)
        ))
        .map_err(|e| source.err(e))?;
    let rows: Vec<Vec<Value>> = read
        .query_map([], |r| {
            (0..columns.len())
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| source.err(e))?;
    for row in &rows {
        let params: Vec<Box<dyn ToSql + Sync + Send>> = row
            .iter()
            .zip(&binds)
            .map(|(v, b)| {
                b.param(v).map_err(|why| DbError::Server {
                    path: pg.shown().to_string(),
                    detail: format!("the demo's {table} has a value Postgres cannot take: {why}"),
                })
            })
            .collect::<Result<_, _>>()?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        pg.wait(pg.client.execute(&statement, &refs))
            .map_err(|e| pg.err(&e))?;
    }
    Ok(rows.len() as u64)
}
