//! `rowsmith query DB "question or SQL"`: the SQL that ran goes to stderr,
//! the rows to stdout (an aligned grid, CSV or JSON).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rusqlite::types::Value;
use tokio_util::sync::CancellationToken;

use super::CommandResult;
use crate::ask::history::History;
use crate::ask::{self, Input};
use crate::cli::QueryFormat;
use crate::config::Config;
use crate::db::query::{QueryControl, QueryError, QuerySession, json_keys, row_json};
use crate::db::transfer::CsvWriter;
use crate::db::value::display;
use crate::output::{Align, cell, grid};
use rusqlite::types::ValueRef;

pub struct Args {
    pub db: PathBuf,
    pub input: String,
    pub sql_only: bool,
    pub format: QueryFormat,
    pub limit: Option<usize>,
}

/// Widest cell of the grid, in display columns; CSV and JSON are never cut.
const MAX_CELL: usize = 80;

pub fn run(args: Args, config: &Config) -> CommandResult {
    let limit = match args.limit.unwrap_or(config.query.row_limit) {
        0 => usize::MAX,
        n => n,
    };
    let busy = Duration::from_millis(config.database.busy_timeout_ms);
    let session = QuerySession::open(&args.db, busy)?
        .with_row_limit(limit)
        .with_max_cell_bytes(config.query.max_cell_bytes);

    let typed = classify(&args.input)?;
    let sql = match &typed {
        Input::Sql(sql) => sql.clone(),
        Input::Question(question) => {
            let translation = translate(&session, config, question)?;
            if !translation.explanation.is_empty() {
                crate::say_err!("-- {}", translation.explanation);
            }
            translation.sql
        }
    };

    let checked = match session.check(&sql) {
        Ok(checked) => checked,
        Err(e) => {
            if matches!(typed, Input::Question(_)) {
                crate::say_err!("{}", sql.trim());
            }
            return Err(explain(e, &typed).into());
        }
    };
    remember(&args.db, &args.input, &checked.sql);
    if args.sql_only {
        crate::say!("{}", checked.sql);
        return Ok(());
    }
    crate::say_err!("{}", checked.sql);

    let control = QueryControl::new();
    let outcome = match args.format {
        QueryFormat::Table => print_table(&session, &checked.sql, &control),
        QueryFormat::Csv => print_csv(&session, &checked.sql, limit, &control),
        QueryFormat::Json => print_json(&session, &checked.sql, limit, &control),
    };
    let (rows, truncated) = match outcome {
        Ok(done) => done,
        Err(Failure::Query(e)) => return Err(explain(e, &typed).into()),
        Err(Failure::ClosedPipe) => return Ok(()),
        Err(Failure::Io(e)) => return Err(format!("Cannot write the rows: {e}.").into()),
    };
    if truncated {
        crate::say_err!(
            "-- Showing the first {rows} {}; the result has more. Pass --limit N for more, or --limit 0 for all.",
            crate::output::rows_word(rows as u64)
        );
    } else {
        crate::say_err!("-- {rows} {}.", crate::output::rows_word(rows as u64));
    }
    Ok(())
}

fn classify(text: &str) -> Result<Input, ask::AskError> {
    match ask::classify(text) {
        Input::Question(q) if q.is_empty() => Err(ask::AskError::EmptyQuestion),
        other => Ok(other),
    }
}

/// Asks the configured model for SQL.
fn translate(
    session: &QuerySession,
    config: &Config,
    question: &str,
) -> Result<ask::Translation, Box<dyn std::error::Error>> {
    let selection = crate::config::select(config)?;
    let client = ask::require_client(&selection)?;
    let privacy = crate::generate::privacy::resolve(config.generate.privacy, client);
    let schema = ask::schema::describe_schema(session.database(), &mut super::rng(None), privacy)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Ctrl-C keeps its default meaning (end the process): nothing here
    // writes, so there is nothing to clean up, and a tokio signal handler
    // would outlive the request and swallow Ctrl-C during the query.
    let cancel = CancellationToken::new();
    let translation = runtime.block_on(ask::translate(client, &schema, question, &cancel))?;
    Ok(translation)
}

/// Adds a hint for typed text that SQLite could not parse: it may have
/// been a question that happens to start with a SQL word.
fn explain(e: QueryError, typed: &Input) -> String {
    match (&e, typed) {
        (QueryError::Unparsable { .. }, Input::Sql(_)) => {
            format!("{e} To ask in plain language instead, start the text with '?'.")
        }
        _ => e.to_string(),
    }
}

fn remember(db: &std::path::Path, input: &str, sql: &str) {
    if let Err(e) = History::open_default().and_then(|h| h.append(db, input.trim(), sql)) {
        crate::say_err!("warning: {e}");
    }
}

enum Failure {
    Query(QueryError),
    Io(std::io::Error),
    /// The reader of stdout went away (`| head`): stop quietly.
    ClosedPipe,
}

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Self {
        Self::Query(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self::ClosedPipe
        } else {
            Self::Io(e)
        }
    }
}

/// Rows printed and whether more exist.
type Printed = (usize, bool);

fn print_table(
    session: &QuerySession,
    sql: &str,
    control: &QueryControl,
) -> Result<Printed, Failure> {
    let result = session.run(sql, control)?;
    let numeric: Vec<bool> = (0..result.columns.len())
        .map(|i| {
            result.rows.iter().any(|r| !matches!(r[i], Value::Null))
                && result
                    .rows
                    .iter()
                    .all(|r| matches!(r[i], Value::Null | Value::Integer(_) | Value::Real(_)))
        })
        .collect();
    let aligns: Vec<Align> = numeric
        .iter()
        .map(|&n| if n { Align::Right } else { Align::Left })
        .collect();
    let headers: Vec<String> = result.columns.iter().map(|c| cell(c, MAX_CELL)).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cells: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| cell(&display(v), MAX_CELL)).collect())
        .collect();
    let mut out = std::io::stdout().lock();
    out.write_all(grid(&headers, &aligns, &cells).as_bytes())?;
    out.flush()?;
    Ok((result.rows.len(), result.truncated))
}

fn print_csv(
    session: &QuerySession,
    sql: &str,
    limit: usize,
    control: &QueryControl,
) -> Result<Printed, Failure> {
    // The one CSV dialect of every export: NULL an empty field, empty text `""`.
    let mut writer = CsvWriter::new(std::io::BufWriter::new(std::io::stdout().lock()));
    let mut failed: Option<std::io::Error> = None;
    let (mut rows, mut truncated) = (0usize, false);
    let (_, columns) = session.for_each_row(sql, control, |columns, row| {
        if rows >= limit {
            truncated = true;
            return Ok(false);
        }
        let written = if rows == 0 {
            writer.header(columns)
        } else {
            Ok(())
        }
        .and_then(|()| writer.row(row.iter().map(ValueRef::from)));
        match written {
            Ok(()) => {
                rows += 1;
                Ok(true)
            }
            Err(e) => {
                failed = Some(e);
                Ok(false)
            }
        }
    })?;
    if rows == 0 && failed.is_none() {
        failed = writer.header(&columns).err();
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    writer.flush()?;
    Ok((rows, truncated))
}

fn print_json(
    session: &QuerySession,
    sql: &str,
    limit: usize,
    control: &QueryControl,
) -> Result<Printed, Failure> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed: Option<std::io::Error> = None;
    let (mut rows, mut truncated) = (0usize, false);
    let mut keys: Vec<String> = Vec::new();
    session.for_each_row(sql, control, |columns, row| {
        if rows >= limit {
            truncated = true;
            return Ok(false);
        }
        if rows == 0 {
            keys = json_keys(columns);
        }
        let lead = if rows == 0 { "[\n  " } else { ",\n  " };
        if let Err(e) = write!(out, "{lead}{}", row_json(&keys, row)) {
            failed = Some(e);
            return Ok(false);
        }
        rows += 1;
        Ok(true)
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    out.write_all(if rows == 0 { b"[]\n" } else { b"\n]\n" })?;
    out.flush()?;
    Ok((rows, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_in_typed_text_suggest_a_question() {
        let e = QueryError::Unparsable {
            engine: "SQLite",
            detail: "near \"by\": syntax error".into(),
        };
        let typed = Input::Sql("Analyze sales by region".into());
        assert!(explain(e, &typed).ends_with("start the text with '?'."));
    }
}
