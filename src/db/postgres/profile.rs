//! Column profiles of a Postgres table, computed exactly as for a SQLite file: the rows
//! (all of them up to `full_scan_limit`, past it a random sample of `sample_size`) are
//! copied into a scratch SQLite database in memory and profiled there by the same code,
//! so both engines describe a column by the same rules and the same bounds.

use rand::RngCore;
use rusqlite::params_from_iter;

use super::Postgres;
use super::catalog::qualified;
use super::values::{as_text, from_text};
use crate::db::catalog::{ColumnKind, ObjectKind, TableInfo};
use crate::db::ident::{quote, quote_list};
use crate::db::profile::{ProfileOptions, TableProfile};
use crate::db::{Backend, DbError, Sqlite};

const SCRATCH_TABLE: &str = "profiled";

pub fn profile_table(
    db: &Postgres,
    table: &TableInfo,
    options: &ProfileOptions,
    rng: &mut dyn RngCore,
) -> Result<TableProfile, DbError> {
    table.require_generatable()?;
    let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
    let limit = options.full_scan_limit as i64;
    let seen: i64 = db.rows(
        &format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT $1) s",
            qualified(table)
        ),
        &[&(limit + 1)],
    )?[0]
        .get(0);
    let sampled = seen > limit;
    let rows = if sampled {
        db.sample_columns(table, &columns, options.sample_size, rng)?
            .rows
    } else {
        let select = columns
            .iter()
            .map(|c| as_text(c))
            .collect::<Vec<_>>()
            .join(", ");
        db.rows(&format!("SELECT {select} FROM {}", qualified(table)), &[])?
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| from_text(table.column(c), r.get(i)))
                    .collect()
            })
            .collect()
    };

    let scratch = Sqlite::scratch()?;
    let err = |e| scratch.err(e);
    // No declared types: values keep the storage class they were read as.
    scratch
        .conn()
        .execute_batch(&format!(
            "CREATE TABLE {} ({})",
            quote(SCRATCH_TABLE),
            quote_list(columns.iter().map(String::as_str))
        ))
        .map_err(err)?;
    {
        let mut insert = scratch
            .conn()
            .prepare(&format!(
                "INSERT INTO {} VALUES ({})",
                quote(SCRATCH_TABLE),
                vec!["?"; columns.len()].join(", ")
            ))
            .map_err(err)?;
        for row in &rows {
            insert.execute(params_from_iter(row.iter())).map_err(err)?;
        }
    }
    let mut copy = table.clone();
    copy.name = SCRATCH_TABLE.into();
    copy.kind = ObjectKind::Table;
    copy.schema = None;
    copy.columns.retain(|c| c.kind != ColumnKind::Hidden);
    // The copy holds exactly the rows to profile: read it whole.
    let whole = ProfileOptions {
        full_scan_limit: rows.len().max(1),
        ..options.clone()
    };
    let mut profile = crate::db::profile::profile_table(&scratch, &copy, &whole, rng)?;
    profile.table = table.name.clone();
    profile.sampled = sampled;
    profile.rows_read = rows.len() as u64;
    Ok(profile)
}
