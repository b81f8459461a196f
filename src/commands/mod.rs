//! The headless commands: each opens what it needs, calls the library and
//! prints. Errors come back as values whose Display is one plain sentence.

mod generate;
mod generate_all;
mod inspect;
mod live_line;
mod query;
mod tables;
mod transfer;
mod undo;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{Cli, Command};
use crate::db::{Database, DbError, OpenOptions};

pub type CommandResult = Result<(), Box<dyn std::error::Error>>;

pub use crate::exit::ExitStatus;

/// Runs the command line.
pub fn run(cli: Cli) -> CommandResult {
    let create = cli.global.create;
    if cli.global.read_only
        && let Some(name) = cli.command.as_ref().and_then(writing_command)
    {
        return Err(format!(
            "`rowsmith {name}` writes to the database, and --read-only was given. Run it without --read-only \
             (or with --dry-run where it has one)."
        )
        .into());
    }
    if create && let Some(name) = cli.command.as_ref().and_then(needs_a_table) {
        return Err(format!(
            "--create makes a new, empty database, and `rowsmith {name}` needs a table in an existing one. \
             Check the path, or create the database with `rowsmith import DB FILE --create`."
        )
        .into());
    }
    // Every command waits for other writers as long as the config says.
    let base = load_config(&cli.global, &crate::cli::ModelArgs::default())?;
    let _ = BUSY_TIMEOUT.set(Duration::from_millis(base.database.busy_timeout_ms));
    let _ = READ_ONLY.set(cli.global.read_only);
    match cli.command {
        None => {
            let path = match cli.db {
                Some(path) => path,
                None => crate::db::demo::ensure_demo()?,
            };
            // The terminal app needs a terminal; piped or scripted, the table
            // list is the useful answer.
            use std::io::IsTerminal;
            if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
                return tables::run(&path, create, false);
            }
            let config = load_config(&cli.global, &cli.model)?;
            crate::tui::run(
                crate::tui::Launch {
                    db_path: path,
                    read_only: cli.global.read_only,
                    create,
                },
                &config,
            )
        }
        Some(Command::Tables { db, json }) => tables::run(&db, create, json),
        Some(Command::Schema { db, table, json }) => {
            inspect::schema(&db, create, table.as_deref(), json)
        }
        Some(Command::Sample {
            db,
            table,
            rows,
            seed,
            json,
        }) => inspect::sample(&db, &table, rows, seed, json),
        Some(Command::Profile {
            db,
            table,
            seed,
            json,
        }) => inspect::profile(&db, &table, seed, json),
        Some(Command::Undo {
            db,
            table,
            dry_run,
            list,
            operation,
            forget,
            json,
        }) => undo::run(&undo::Args {
            db: &db,
            table: table.as_deref(),
            dry_run,
            list,
            operation,
            forget,
            json,
        }),
        Some(Command::Generate {
            db,
            table,
            rows,
            all,
            scale,
            tables,
            model,
            seed,
            dry_run,
            show_prompt,
            from_schema,
            yes,
            gate,
            privacy,
            json,
        }) => {
            let mut config = load_config(&cli.global, &model)?;
            if let Some(privacy) = privacy {
                config.generate.privacy = Some(privacy);
            }
            if let Some(gate) = gate {
                config.generate.gate = gate;
            }
            let Some(table) = table.filter(|_| !all && tables.is_none()) else {
                return generate_all::run(
                    generate_all::Args {
                        db,
                        rows,
                        scale,
                        tables,
                        seed,
                        dry_run,
                        yes,
                        json,
                    },
                    &config,
                );
            };
            if scale.is_some() {
                return Err("--scale works with --all (or --tables): it sizes every table of a whole-database run.".into());
            }
            generate::run(
                generate::Args {
                    db,
                    table,
                    rows,
                    seed,
                    dry_run,
                    show_prompt,
                    from_schema,
                    yes,
                    json,
                },
                &config,
            )
        }
        Some(Command::Query {
            db,
            input,
            sql_only,
            format,
            limit,
            model,
        }) => {
            let config = load_config(&cli.global, &model)?;
            query::run(
                query::Args {
                    db,
                    input,
                    sql_only,
                    format,
                    limit,
                },
                &config,
            )
        }
        Some(Command::Import { db, file, table }) => {
            transfer::import(&db, create, &file, table, base.import.max_record_bytes)
        }
        Some(Command::Export {
            db,
            table,
            output,
            force,
            neutralize_formulas,
        }) => transfer::export(&db, &table, output.as_deref(), force, neutralize_formulas),
        Some(Command::Drop { db, table, yes }) => transfer::drop(&db, &table, yes),
        Some(Command::Demo { reset, postgres }) => match postgres {
            Some(url) => demo_into_postgres(&url),
            None => demo(reset),
        },
    }
}

/// Commands that work on a table of an existing database, where --create cannot help.
fn needs_a_table(command: &Command) -> Option<&'static str> {
    match command {
        Command::Generate { .. } => Some("generate"),
        Command::Query { .. } => Some("query"),
        Command::Undo { .. } => Some("undo"),
        Command::Sample { .. } => Some("sample"),
        Command::Profile { .. } => Some("profile"),
        Command::Export { .. } => Some("export"),
        Command::Drop { .. } => Some("drop"),
        _ => None,
    }
}

/// The name of a command that would write to the database as invoked.
fn writing_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Generate {
            dry_run: false,
            show_prompt: false,
            ..
        } => Some("generate"),
        Command::Undo {
            dry_run: false,
            list: false,
            ..
        } => Some("undo"),
        Command::Import { .. } => Some("import"),
        Command::Drop { .. } => Some("drop"),
        _ => None,
    }
}

/// `--read-only`, set once per run.
static READ_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// The busy timeout from the configuration, set once per run.
static BUSY_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

fn demo(reset: bool) -> CommandResult {
    let path: PathBuf = if reset {
        let path = crate::paths::demo_db_path().map_err(DbError::DataDir)?;
        crate::db::demo::create_demo(&path)?;
        path
    } else {
        crate::db::demo::ensure_demo()?
    };
    println!("{}", path.display());
    Ok(())
}

/// `rowsmith demo --postgres URL`: the demo shop loaded into a Postgres database.
fn demo_into_postgres(url: &str) -> CommandResult {
    if !crate::db::postgres::is_postgres_url(url) {
        return Err(DbError::BadAddress {
            detail: format!(
                "'{}' is not a Postgres URL; give one like postgres://user@localhost:5432/rowsmith_demo",
                crate::db::postgres::address::without_password(url)
            ),
        }
        .into());
    }
    let path = Path::new(url);
    let loaded = crate::db::postgres::demo::load_demo(path)?;
    let shown = crate::db::journal::database_key(path);
    let tables: Vec<String> = loaded
        .iter()
        .map(|(table, rows)| format!("{table} {}", crate::output::thousands(*rows)))
        .collect();
    crate::say!("Loaded the demo shop into {shown}: {}.", tables.join(", "));
    crate::say!("Open it with: rowsmith {shown}");
    Ok(())
}

/// Loads the configuration: defaults < file < environment < flags.
pub(crate) fn load_config(
    global: &crate::cli::GlobalArgs,
    model: &crate::cli::ModelArgs,
) -> Result<crate::config::Config, crate::config::ConfigError> {
    let mut sources = crate::config::ConfigSources::from_process_env();
    sources.path = global.config.clone();
    sources.flags = crate::config::Overrides {
        provider: model.provider,
        model: model.model.clone(),
        base_url: model.base_url.clone(),
    };
    crate::config::load(&sources)
}

/// How long to wait on another writer's lock.
fn busy_timeout() -> Duration {
    BUSY_TIMEOUT
        .get()
        .copied()
        .unwrap_or(crate::db::DEFAULT_BUSY_TIMEOUT)
}

/// Opens a database the way every command does.
/// [`open`] for the commands that take `--create` (tables, schema, import): a missing
/// file's sentence offers it.
pub(crate) fn open_creatable(path: &Path, write: bool, create: bool) -> Result<Database, DbError> {
    open_with(path, write, create, true)
}

pub(crate) fn open(path: &Path, write: bool, create: bool) -> Result<Database, DbError> {
    open_with(path, write, create, false)
}

fn open_with(
    path: &Path,
    write: bool,
    create: bool,
    offer_create: bool,
) -> Result<Database, DbError> {
    let options = if write {
        OpenOptions::read_write()
    } else {
        OpenOptions::read_only()
    };
    let mut options = options.create(create).busy_timeout(busy_timeout());
    // Under --read-only, not even a crashed writer's leftovers are rolled back.
    options.recover = !READ_ONLY.get().copied().unwrap_or(false);
    options.offer_create = offer_create;
    Database::open(path, &options)
}

/// A seeded or entropy-seeded random generator.
fn rng(seed: Option<u64>) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    match seed {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
        None => rand::rngs::StdRng::from_os_rng(),
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> CommandResult {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
