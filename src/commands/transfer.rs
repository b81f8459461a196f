//! `rowsmith import`, `export` and `drop`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::live_line::LiveLine;
use super::{CommandResult, open};
use crate::db::DbError;
use crate::db::journal::Journal;
use crate::db::transfer::{
    DropRefusal, ExportOptions, ImportOptions, Progress, Stage, default_export_path, drop_table,
    export_table, export_table_to, import_file, preview_drop,
};
use crate::output::thousands;
use crate::transferred::Transferred;

pub fn import(
    db: &Path,
    create: bool,
    file: &Path,
    table: Option<String>,
    max_record_bytes: usize,
) -> CommandResult {
    let mut db = super::open_creatable(db, true, create)?;
    let journal = Journal::open_default()?;
    let options = ImportOptions {
        table,
        journal: Some(&journal),
        max_record_bytes,
        ..ImportOptions::default()
    };
    let mut meter = Meter::new("Importing");
    let outcome = import_file(&mut *db, file, &options, &mut |p| meter.show(p));
    meter.clear();
    let outcome = outcome?;
    crate::say!("{}", Transferred::Imported(outcome));
    Ok(())
}

pub fn export(
    db: &Path,
    table: &str,
    output: Option<&Path>,
    force: bool,
    neutralize_formulas: bool,
) -> CommandResult {
    let db = open(db, false, false)?;
    let options = ExportOptions {
        replace: force,
        neutralize_formulas,
        ..ExportOptions::default()
    };
    if output == Some(Path::new("-")) {
        let stdout = std::io::stdout();
        export_table_to(
            &*db,
            table,
            std::io::BufWriter::new(stdout.lock()),
            &options,
            &mut |_| {},
        )?;
        return Ok(());
    }
    let name = db.find_object(table)?.name;
    let dest = match output {
        Some(path) => path.to_path_buf(),
        None => default_export_path(&name),
    };
    let final_path = if dest.is_dir() {
        dest.join(crate::db::transfer::export_file_name(&name))
    } else {
        dest.clone()
    };
    if final_path.exists() && !force {
        return Err(format!(
            "'{}' exists already. Pass --force to replace it, or choose another file with -o.",
            final_path.display()
        )
        .into());
    }
    let mut meter = Meter::new("Exporting");
    let outcome = export_table(&*db, &name, &dest, &options, &mut |p| meter.show(p));
    meter.clear();
    let outcome = outcome?;
    crate::say!(
        "{}",
        Transferred::Exported {
            table: Some(name),
            rows: outcome.rows,
            path: outcome.path.unwrap_or(dest),
        }
    );
    Ok(())
}

pub fn drop(db: &Path, table: &str, yes: bool) -> CommandResult {
    let mut db = open(db, true, false)?;
    let preview = preview_drop(&*db, table)?;
    let what = preview.kind.as_str();
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(DbError::from(DropRefusal::Unconfirmed {
                kind: preview.kind,
                name: preview.name,
            })
            .into());
        }
        let question = match preview.rows {
            Some(n) if preview.kind != crate::db::catalog::ObjectKind::View => {
                format!(
                    "Delete {what} '{}' and its {} {}? [y/N] ",
                    preview.name,
                    thousands(n),
                    crate::output::rows_word(n)
                )
            }
            _ => format!("Delete {what} '{}'? [y/N] ", preview.name),
        };
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{question}");
        let _ = stderr.flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            crate::say!("Nothing was deleted.");
            return Ok(());
        }
    }
    let outcome = drop_table(&mut *db, &preview.name)?;
    crate::say!("{}", Transferred::Deleted(outcome));
    Ok(())
}

/// A one-line progress meter on stderr, shown only when stderr is a
/// terminal and the work takes more than a moment.
struct Meter {
    verb: &'static str,
    started: Instant,
    line: Option<LiveLine>,
}

impl Meter {
    fn new(verb: &'static str) -> Self {
        Self {
            verb,
            started: Instant::now(),
            line: None,
        }
    }

    fn show(&mut self, p: Progress) {
        if self.started.elapsed() < Duration::from_millis(300) {
            return;
        }
        let what = match p.stage {
            Stage::Reading => "reading",
            Stage::Writing => "writing",
            Stage::Finishing => "finishing",
        };
        let amount = match (p.stage, p.total_rows) {
            (Stage::Reading, _) => format!("{} rows", thousands(p.rows)),
            (_, Some(total)) => format!("{} of {} rows", thousands(p.rows), thousands(total)),
            (_, None) => format!("{} rows", thousands(p.rows)),
        };
        let percent = p
            .fraction()
            .map(|f| format!(" ({:.0}%)", f * 100.0))
            .unwrap_or_default();
        self.line
            .get_or_insert_with(LiveLine::new)
            .show(&format!("{}: {what} {amount}{percent}", self.verb));
    }

    fn clear(&mut self) {
        if let Some(line) = self.line.take() {
            line.clear();
        }
    }
}
