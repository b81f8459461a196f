//! Command-line definitions. Parsing only: every command runs library code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rowsmith",
    version,
    about = "Forge realistic synthetic rows for SQLite and Postgres tables.",
    long_about = "Forge realistic synthetic rows for SQLite and Postgres tables.\n\n\
                  Run `rowsmith [DB]` to open a database (the bundled demo when DB is omitted), \
                  or use a subcommand for scripts and CI.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// SQLite file or postgres:// URL to open; omit it to open the bundled demo database.
    pub db: Option<PathBuf>,

    #[command(flatten)]
    pub global: GlobalArgs,

    /// The model the app asks, for generating rows and answering questions.
    #[command(flatten)]
    pub model: ModelArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The subcommand's name (`generate`), or `app` for the terminal app: for the log,
    /// which never records arguments (SQL may hold values).
    pub fn command_name(&self) -> &'static str {
        match &self.command {
            None => "app",
            Some(Command::Tables { .. }) => "tables",
            Some(Command::Schema { .. }) => "schema",
            Some(Command::Sample { .. }) => "sample",
            Some(Command::Profile { .. }) => "profile",
            Some(Command::Generate { .. }) => "generate",
            Some(Command::Undo { .. }) => "undo",
            Some(Command::Query { .. }) => "query",
            Some(Command::Import { .. }) => "import",
            Some(Command::Export { .. }) => "export",
            Some(Command::Drop { .. }) => "drop",
            Some(Command::Demo { .. }) => "demo",
        }
    }
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Create the database file if it does not exist (otherwise a missing file is an error).
    #[arg(long, global = true)]
    pub create: bool,

    /// Configuration file to use instead of the default one.
    #[arg(long, global = true, value_name = "PATH", env = "ROWSMITH_CONFIG")]
    pub config: Option<PathBuf>,

    /// Open the database read-only: browse, inspect and export, but never write.
    #[arg(long, global = true)]
    pub read_only: bool,
}

/// Which model to ask; each beats the environment and the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct ModelArgs {
    /// openai, anthropic, compatible or offline (default: OpenAI if OPENAI_API_KEY is set,
    /// else Anthropic if ANTHROPIC_API_KEY is set, else offline).
    #[arg(long, value_enum)]
    pub provider: Option<crate::llm::ProviderChoice>,
    /// Model name, e.g. gpt-6.1-terra, claude-haiku-5-5, or a local model.
    #[arg(long)]
    pub model: Option<String>,
    /// Base URL of the API, e.g. http://127.0.0.1:11434/v1 for Ollama.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List tables, views and virtual tables with their row counts.
    Tables {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// Print JSON: [{"name", "rows", "kind"}, ...].
        #[arg(long)]
        json: bool,
    },
    /// Show the schema of one table, or of every table.
    Schema {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// One table (default: every table).
        table: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print random rows of a table, drawn without scanning it.
    Sample {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// The table (matched exactly, then ignoring case; schema.table outside Postgres's
        /// public schema).
        table: String,
        /// How many rows to draw.
        #[arg(short = 'n', long, default_value_t = 10)]
        rows: usize,
        /// Seed for a repeatable sample.
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Describe each column: nulls, distinct values, ranges, quantiles and formats.
    Profile {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// The table (matched exactly, then ignoring case; schema.table outside Postgres's
        /// public schema).
        table: String,
        /// Seed for the sample read on large tables.
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Generate realistic rows for a table (or every table, with --all) and insert them.
    Generate {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// The table (matched exactly, then ignoring case; schema.table outside Postgres's
        /// public schema).
        #[arg(required_unless_present_any = ["all", "tables"], conflicts_with_all = ["all", "tables"])]
        table: Option<String>,
        /// How many rows to add (default: generate.default_rows, 10). With --all: rows for
        /// each table that has no parent in the run; children follow their parents.
        #[arg(short = 'n', long)]
        rows: Option<u64>,
        /// Fill every table in one run: parents before children, as many children per
        /// parent as the data has today, children that agree with their parents, one undo.
        #[arg(long, conflicts_with = "show_prompt")]
        all: bool,
        /// With --all: grow each table to F times its rows (2 doubles it; the default).
        #[arg(long, value_name = "F", conflicts_with = "rows")]
        scale: Option<f64>,
        /// Like --all, for these tables only (comma-separated); parents left out lend the
        /// rows they have.
        #[arg(
            long,
            value_name = "A,B",
            value_delimiter = ',',
            conflicts_with = "show_prompt"
        )]
        tables: Option<Vec<String>>,
        #[command(flatten)]
        model: ModelArgs,
        /// Seed for the random choices (samples, offline generation).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the rows that would be inserted, as JSON, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the first request the model would be sent (URL, headers with the key
        /// masked, and the body: system prompt, user message, schema), and send nothing.
        #[arg(long, conflicts_with = "dry_run")]
        show_prompt: bool,
        /// Allow an empty table: generate from the schema alone.
        #[arg(long)]
        from_schema: bool,
        /// Go ahead with a large LLM run (more rows than generate.confirm_rows) without asking.
        #[arg(long)]
        yes: bool,
        /// What judges the rows: the realism gate then the database (realism), or the
        /// database only (constraints). Default: generate.gate, realism.
        #[arg(long, value_enum)]
        gate: Option<crate::generate::gate::GateMode>,
        /// What of the table's rows model requests carry: made-up stand-ins for names,
        /// emails, phones and addresses (mask), the rows as they are (samples), or no rows
        /// at all (schema). Default: generate.privacy, else mask for a remote service and
        /// samples for a server on this machine.
        #[arg(long, value_enum)]
        privacy: Option<crate::config::Privacy>,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Remove the rows of rowsmith's most recent operation on a database.
    Undo {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// Only consider operations on this table.
        #[arg(long)]
        table: Option<String>,
        /// Say what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// List the operations on record, newest first, with their ids.
        #[arg(long, conflicts_with_all = ["operation", "forget"])]
        list: bool,
        /// Undo this operation (an id from --list) instead of the latest. An operation of
        /// a run (several tables generated at once) undoes the whole run.
        #[arg(long, value_name = "ID", conflicts_with = "forget")]
        operation: Option<i64>,
        /// Clear this operation's record (an id from --list) without touching any row; an
        /// operation of a run clears the whole run's.
        #[arg(long, value_name = "ID")]
        forget: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Ask a question in plain language, or run one read-only SQL statement, and print the rows.
    Query {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// A question ("customers in Texas") or SQL starting with SELECT, WITH, VALUES, EXPLAIN,
        /// PRAGMA table_info...; start with '?' to force a question.
        #[arg(allow_hyphen_values = true)]
        input: String,
        /// Print the SQL (after the read-only check) and run nothing.
        #[arg(long)]
        sql_only: bool,
        /// How to print the rows.
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
        /// Most rows to print (default: query.row_limit, 1000); 0 prints every row.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Import a CSV or JSON file as a new table, or append it to a table with matching columns.
    Import {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// A .csv/.tsv file with a header row, or JSON: an array of objects or one object per line.
        file: PathBuf,
        /// The table to create or append to (default: derived from the file name).
        #[arg(long)]
        table: Option<String>,
    },
    /// Export a table or view to CSV (NULL is an empty field, empty text is "").
    Export {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// The table (matched exactly, then ignoring case; schema.table outside Postgres's
        /// public schema).
        table: String,
        /// The file to write (default: <table>.csv here); '-' writes to stdout.
        #[arg(short = 'o', long, value_name = "FILE", allow_hyphen_values = true)]
        output: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Prefix text cells a spreadsheet would run as formulas (=, +, -, @ first) with '.
        #[arg(long)]
        neutralize_formulas: bool,
    },
    /// Delete a table (or view) and all its rows.
    Drop {
        /// The SQLite database file, or a postgres:// URL.
        db: PathBuf,
        /// The table (matched exactly, then ignoring case; schema.table outside Postgres's
        /// public schema).
        table: String,
        /// Delete without asking.
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Print the path of the demo database, building it if needed; or load the demo into
    /// a Postgres database with --postgres.
    Demo {
        /// Rebuild the demo database from scratch.
        #[arg(long, conflicts_with = "postgres")]
        reset: bool,
        /// Load the demo shop into this (empty) Postgres database instead, in Postgres
        /// types: postgres://user@host:port/database (PG* variables and ~/.pgpass apply).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
}

/// Output formats of `rowsmith query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// An aligned grid, NULL shown as NULL.
    Table,
    /// CSV with a header row; NULL is an empty field.
    Csv,
    /// A JSON array of objects keyed by column name.
    Json,
}
