//! `rowsmith schema`, `sample` and `profile`: what rowsmith learns from a table.

use std::path::Path;

use super::{CommandResult, open, print_json, rng};
use crate::db::catalog::{ColumnKind, TableInfo};
use crate::db::profile::{ColumnProfile, ProfileOptions};
use crate::db::sample::SampleMethod;
use crate::db::value::{display, format_real};
use crate::output::{Align, cell, grid, thousands};

pub fn schema(path: &Path, create: bool, table: Option<&str>, json: bool) -> CommandResult {
    let db = super::open_creatable(path, create, create)?;
    let tables = match table {
        Some(name) => vec![db.table_info(name)?],
        None => db.load_catalog()?,
    };
    if json {
        return print_json(&tables);
    }
    let text: Vec<String> = tables.iter().map(describe_table).collect();
    print!("{}", crate::output::printable_lines(&text.join("\n")));
    Ok(())
}

fn describe_table(t: &TableInfo) -> String {
    let mut flags = vec![t.kind.as_str().to_string()];
    // Flags of SQLite's table kinds; a Postgres table (in a schema) has neither.
    if t.without_rowid && t.schema.is_none() {
        flags.push("WITHOUT ROWID".into());
    }
    if t.strict && t.schema.is_none() {
        flags.push("STRICT".into());
    }
    if !t.kind.generatable() {
        flags.push("not generatable".into());
    }
    let mut out = format!("{} ({})\n", t.name, flags.join(", "));
    let rows: Vec<Vec<String>> =
        t.columns
            .iter()
            .map(|c| {
                let mut notes = Vec::new();
                if let Some(pos) = c.pk_position {
                    notes.push(if c.rowid_alias {
                        "PRIMARY KEY (rowid)".to_string()
                    } else if t.primary_key().len() > 1 {
                        format!("PRIMARY KEY #{pos}")
                    } else {
                        "PRIMARY KEY".to_string()
                    });
                }
                if c.rowid_alias && t.autoincrement {
                    notes.push("AUTOINCREMENT".into());
                }
                if t.unique.iter().any(|u| {
                    u.columns.len() == 1 && u.columns[0] == c.name && c.pk_position.is_none()
                }) {
                    notes.push("UNIQUE".into());
                }
                match c.kind {
                    ColumnKind::GeneratedVirtual => notes.push("GENERATED (virtual)".into()),
                    ColumnKind::GeneratedStored => notes.push("GENERATED (stored)".into()),
                    ColumnKind::Hidden => notes.push("HIDDEN".into()),
                    ColumnKind::Identity => notes.push("IDENTITY".into()),
                    ColumnKind::Normal => {}
                }
                vec![
                    format!("  {}", cell(&c.name, 40)),
                    if c.decl_type.is_empty() {
                        "-".into()
                    } else {
                        c.decl_type.clone()
                    },
                    format!("{:?}", c.affinity).to_uppercase(),
                    if c.not_null {
                        "NOT NULL".into()
                    } else {
                        String::new()
                    },
                    c.default
                        .clone()
                        .map(|d| format!("DEFAULT {d}"))
                        .unwrap_or_default(),
                    notes.join(", "),
                ]
            })
            .collect();
    // Affinity is SQLite's notion; a Postgres column's type says it all.
    if t.schema.is_some() {
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|mut r| {
                r.remove(2);
                r
            })
            .collect();
        out.push_str(&grid(
            &["  COLUMN", "TYPE", "NULL", "DEFAULT", "KEY"],
            &[Align::Left; 5],
            &rows,
        ));
    } else {
        out.push_str(&grid(
            &["  COLUMN", "TYPE", "AFFINITY", "NULL", "DEFAULT", "KEY"],
            &[Align::Left; 6],
            &rows,
        ));
    }
    for u in t.unique.iter().filter(|u| u.columns.len() > 1) {
        let partial = if u.partial { " (partial)" } else { "" };
        out.push_str(&format!("  UNIQUE ({}){partial}\n", u.columns.join(", ")));
    }
    for c in &t.checks {
        out.push_str(&format!("  CHECK ({})\n", c.expr));
    }
    for fk in &t.foreign_keys {
        out.push_str(&format!(
            "  FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}{}\n",
            fk.from.join(", "),
            fk.table,
            fk.to.join(", "),
            fk.on_update,
            fk.on_delete,
            if fk.deferred { " DEFERRED" } else { "" }
        ));
    }
    for idx in t.indexes.iter().filter(|i| i.origin == "c") {
        out.push_str(&format!(
            "  {}INDEX {} ({}){}\n",
            if idx.unique { "UNIQUE " } else { "" },
            idx.name,
            idx.columns.join(", "),
            if idx.partial { " WHERE ..." } else { "" }
        ));
    }
    out
}

pub fn sample(
    path: &Path,
    table: &str,
    rows: usize,
    seed: Option<u64>,
    json: bool,
) -> CommandResult {
    let db = open(path, false, false)?;
    let info = db.table_info(table)?;
    let sample = db.sample_rows(&info, rows, &mut rng(seed))?;
    if json {
        return print_json(&sample);
    }
    let headers: Vec<&str> = sample.columns.iter().map(String::as_str).collect();
    let body: Vec<Vec<String>> = sample
        .rows
        .iter()
        .map(|r| r.iter().map(|v| cell(&display(v), 32)).collect())
        .collect();
    print!("{}", grid(&headers, &[], &body));
    let how = match sample.method {
        SampleMethod::AllRows => "all rows of the table",
        SampleMethod::Uniform => "drawn uniformly at random",
        SampleMethod::KeySeek => "drawn at random by key (close to uniform)",
        SampleMethod::Pages => "one row from each of pages drawn at random (close to uniform)",
    };
    crate::say_err!("{} rows, {how}.", sample.rows.len());
    Ok(())
}

pub fn profile(path: &Path, table: &str, seed: Option<u64>, json: bool) -> CommandResult {
    let db = open(path, false, false)?;
    let info = db.table_info(table)?;
    let profile = db.profile_table(&info, &ProfileOptions::default(), &mut rng(seed))?;
    if json {
        return print_json(&profile);
    }
    let basis = if profile.sampled {
        format!("a random sample of {} rows", thousands(profile.rows_read))
    } else {
        format!("all {} rows", thousands(profile.rows_read))
    };
    crate::say!("{} (profiled from {basis})", profile.table);
    for column in &profile.columns {
        crate::say!("{}", describe_column(column));
    }
    Ok(())
}

fn describe_column(c: &ColumnProfile) -> String {
    let mut lines = vec![format!(
        "  {}: {:.1}% null, {} distinct",
        c.name,
        c.null_fraction * 100.0,
        thousands(c.distinct_count)
    )];
    if let Some(f) = &c.format {
        lines.push(format!(
            "    format {} ({:.0}% of text)",
            f.format.as_str(),
            f.share * 100.0
        ));
    }
    if let Some(code) = &c.code {
        lines.push(format!(
            "    code {}{} up to {}",
            code.prefix,
            "9".repeat(code.digits),
            code.max_number
        ));
    }
    if let Some(n) = &c.numeric {
        let show = |v: f64| {
            if n.integers_only {
                format!("{v:.0}")
            } else {
                format_real(v)
            }
        };
        let q = |i: usize| n.quantiles.get(i).map(|v| show(*v)).unwrap_or_default();
        let mid = n.quantiles.len() / 2;
        lines.push(format!(
            "    {} {} .. {}, median {}, mean {:.2}{}",
            if n.integers_only {
                "integers"
            } else {
                "numbers"
            },
            show(n.min),
            show(n.max),
            q(mid),
            n.mean,
            if n.max_decimals > 0 {
                format!(", up to {} decimals", n.max_decimals)
            } else {
                String::new()
            }
        ));
    }
    if let Some(d) = &c.dates {
        let mid = d
            .quantiles
            .get(d.quantiles.len() / 2)
            .cloned()
            .unwrap_or_default();
        lines.push(format!("    dates {} .. {}, median {mid}", d.min, d.max));
    }
    if let Some(t) = &c.text {
        lines.push(format!(
            "    text length {} .. {} (mean {:.1})",
            t.min_length, t.max_length, t.mean_length
        ));
    }
    if !c.top_values.is_empty() && c.distinct_count <= 50 {
        let top: Vec<String> = c
            .top_values
            .iter()
            .take(6)
            .map(|v| format!("{} ({})", cell(&display(&v.value), 24), v.count))
            .collect();
        lines.push(format!("    most frequent: {}", top.join(", ")));
    }
    lines.join("\n")
}
