//! The Postgres engine: a `postgres://` URL opened with tokio-postgres and served behind
//! the same [`Backend`] as SQLite files.
//!
//! The database layer is synchronous (it runs on blocking threads, never on the UI
//! loop), so every call waits on one process-wide runtime that owns the sockets; the
//! runtime is a static, never dropped, so no handle is ever torn down inside another
//! runtime.

pub mod address;
mod bind;
mod browse;
mod catalog;
pub mod demo;
mod error;
mod import;
mod lineage;
mod profile;
pub mod query;
mod sample;
mod tls;
mod transfer;
mod undo;
mod values;
mod write;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rand::RngCore;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use self::address::{Address, ProcessEnvironment};
use super::CancelFlag;
use super::backend::Interrupter;
use super::browse::{Anchor, Key, Lens, Page};
use super::catalog::{ObjectSummary, TableInfo};
use super::ident::quote;
use super::journal::RowKey;
use super::lineage::{Link, Rows};
use super::profile::{ProfileOptions, TableProfile};
use super::query::GatedQueries;
use super::revise::{ChildSum, SetValues};
use super::sample::Sample;
use super::transfer::{
    DropOutcome, DropPreview, ExportOptions, ExportOutcome, ImportOptions, ImportOutcome,
    ImportPlan, Progress,
};
use super::undo::Removal;
use super::value::Value;
use super::write::{BatchOutcome, WriteOptions};
use super::{Backend, DbError, OpenOptions};

pub use address::is_postgres_url;

/// How rowsmith's own files name the Postgres database `url` addresses: its URL
/// completed from the environment, without the password.
pub fn address_key(url: &str) -> String {
    match Address::parse(url, &ProcessEnvironment) {
        Ok(address) => address.shown,
        Err(_) => address::without_password(url),
    }
}

/// Opens `url` as the engine behind a [`super::Database`].
pub fn open_backend(url: &Path, options: &OpenOptions) -> Result<Box<dyn Backend>, DbError> {
    Ok(Box::new(Postgres::open(url, options)?))
}

/// The runtime every Postgres connection of this process runs on.
fn runtime() -> Result<&'static tokio::runtime::Runtime, DbError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("rowsmith-pg")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|detail| DbError::Io {
            path: "the Postgres connection runtime".into(),
            detail: detail.clone(),
        })
}

/// An open Postgres database.
pub struct Postgres {
    client: Client,
    runtime: &'static tokio::runtime::Runtime,
    /// What the user gave, kept to open the database again (may hold a password).
    given: PathBuf,
    address: Address,
    writable: bool,
    /// How it was opened, to open it again the same way.
    options: OpenOptions,
    /// Tables described by name, for lookups that name a table (see `known_table`).
    known: Mutex<HashMap<String, TableInfo>>,
    /// The relations last listed, by shown name: (schema, relation).
    relations: Mutex<HashMap<String, (String, String)>>,
    /// Inside a write transaction: rows read to be checked are locked until it ends.
    writing: bool,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("address", &self.address.shown)
            .field("writable", &self.writable)
            .finish()
    }
}

impl Postgres {
    /// Connects to the database `url` names, completed from the environment as libpq
    /// would, and sets the session up the way every rowsmith read and write expects.
    pub fn open(url: &Path, options: &OpenOptions) -> Result<Self, DbError> {
        let text = url.to_string_lossy();
        let address =
            Address::parse(&text, &ProcessEnvironment).map_err(|e| DbError::BadAddress {
                detail: e.detail.clone(),
            })?;
        let runtime = runtime()?;
        let connector = tls::connector(address.tls).map_err(|e| DbError::ServerUnreachable {
            server: address.server(),
            detail: format!("TLS could not be set up: {e}"),
        })?;
        let mut config = address.config.clone();
        config.ssl_mode(match address.tls {
            address::TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
            address::TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        let (client, connection) = runtime
            .block_on(config.connect(connector))
            .map_err(|e| error::connect_error(&e, &address))?;
        runtime.spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("postgres connection ended: {e}");
            }
        });
        let db = Self {
            client,
            runtime,
            given: url.to_path_buf(),
            address,
            writable: options.write,
            options: options.clone(),
            known: Mutex::new(HashMap::new()),
            relations: Mutex::new(HashMap::new()),
            writing: false,
        };
        db.set_up_session(options.busy_timeout)?;
        Ok(db)
    }

    /// Dates as ISO text in UTC, a lock wait as long as SQLite's busy timeout, and a
    /// read-only open that cannot write even by mistake.
    fn set_up_session(&self, busy: Duration) -> Result<(), DbError> {
        let millis = busy.as_millis().clamp(1, i32::MAX as u128);
        let mut sql = format!(
            "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; \
             SET extra_float_digits = 1; SET lock_timeout = {millis};"
        );
        if !self.writable {
            sql.push_str(" SET default_transaction_read_only = on;");
        }
        self.wait(self.client.batch_execute(&sql))
            .map_err(|e| self.err(&e))
    }

    /// Runs one future of this connection to its end.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A statement's rows.
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, DbError> {
        self.wait(self.client.query(sql, params))
            .map_err(|e| self.err(&e))
    }

    fn err(&self, e: &tokio_postgres::Error) -> DbError {
        error::query_error(e, &self.address.shown)
    }

    /// Runs SQL statements as they are (for loading a schema, such as the demo's).
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.wait(self.client.batch_execute(sql))
            .map_err(|e| self.err(&e))
    }

    /// The rows of one statement as text, NULL as `None` (for checks and scripts).
    pub fn query_text(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let messages = self
            .wait(self.client.simple_query(sql))
            .map_err(|e| self.err(&e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// A table's description by the name other tables use for it (a foreign key's
    /// parent), read once per connection.
    fn known_table(&self, name: &str) -> Result<TableInfo, DbError> {
        if let Some(info) = self.known.lock().ok().and_then(|k| k.get(name).cloned()) {
            return Ok(info);
        }
        let info = catalog::table_info(self, name)?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(name.to_string(), info.clone());
        }
        Ok(info)
    }

    /// Forgets the tables described so far (after one was dropped or created).
    fn forget_tables(&self) {
        if let Ok(mut known) = self.known.lock() {
            known.clear();
        }
        if let Ok(mut relations) = self.relations.lock() {
            relations.clear();
        }
    }

    fn in_write(&self) -> bool {
        self.writing
    }

    pub fn shown(&self) -> &str {
        &self.address.shown
    }
}

/// Cancels the running statement through a second connection, as Postgres requires.
struct Canceller {
    token: tokio_postgres::CancelToken,
    /// Made once, here, not on the thread that interrupts (the app's UI loop).
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    runtime: &'static tokio::runtime::Runtime,
}

impl Interrupter for Canceller {
    fn interrupt(&self) {
        let Some(connector) = self.connector.clone() else {
            return;
        };
        let token = self.token.clone();
        // Fire and forget: the cancel request travels on its own connection.
        self.runtime.spawn(async move {
            let _ = token.cancel_query(connector).await;
        });
    }
}

impl Backend for Postgres {
    fn display_name(&self) -> String {
        self.address.shown.clone()
    }

    fn address(&self) -> &Path {
        &self.given
    }

    fn dialect(&self) -> super::Dialect {
        super::Dialect::Postgres
    }

    fn is_writable(&self) -> bool {
        self.writable
    }

    fn reconnect(&self) -> Option<Result<Box<dyn Backend>, DbError>> {
        self.client
            .is_closed()
            .then(|| open_backend(&self.given, &self.options))
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(Canceller {
            token: self.client.cancel_token(),
            connector: tls::connector(self.address.tls).ok(),
            runtime: self.runtime,
        })
    }

    fn list_objects(&self) -> Result<Vec<ObjectSummary>, DbError> {
        catalog::list_objects(self)
    }

    fn table_info(&self, name: &str) -> Result<TableInfo, DbError> {
        catalog::table_info(self, name)
    }

    fn row_count(&self, object: &ObjectSummary) -> Result<Option<u64>, DbError> {
        catalog::row_count(self, object)
    }

    fn count(&self, table: &TableInfo) -> Result<u64, DbError> {
        catalog::count(self, table)
    }

    fn sample_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Sample, DbError> {
        sample::sample_columns(self, table, columns, k, rng)
    }

    fn profile_table(
        &self,
        table: &TableInfo,
        options: &ProfileOptions,
        rng: &mut dyn RngCore,
    ) -> Result<TableProfile, DbError> {
        profile::profile_table(self, table, options, rng)
    }

    fn exists(&self, table: &str, columns: &[String], values: &[Value]) -> Result<bool, DbError> {
        let info = self.known_table(table)?;
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut placeholders = Vec::new();
        for (i, (column, value)) in columns.iter().zip(values).enumerate() {
            let bind = info
                .column(column)
                .map(bind::BindAs::of)
                .unwrap_or(bind::BindAs::Text);
            match bind.param(value) {
                Ok(p) => params.push(p),
                // A value the column cannot hold matches no row.
                Err(_) => return Ok(false),
            }
            placeholders.push(bind.placeholder(i + 1));
        }
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE ({}) = ({}))",
            catalog::qualified(&info),
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            placeholders.join(", ")
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        Ok(self.rows(&sql, &refs)?[0].get(0))
    }

    fn remote(&self) -> bool {
        true
    }

    fn exists_many(
        &self,
        table: &str,
        columns: &[String],
        rows: &[Vec<Value>],
    ) -> Result<Vec<bool>, DbError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let info = self.known_table(table)?;
        // The rows as text arrays with their ordinal; each array read back as the
        // column's type, so the comparison is the column's own.
        let as_slices: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
        let arrays = values::text_arrays(&as_slices, columns.len());
        let casts: Vec<String> = values::types_of(&info, columns)
            .iter()
            .enumerate()
            .map(|(i, ty)| format!("u.k{i}::{ty}"))
            .collect();
        let names: Vec<String> = (0..columns.len()).map(|i| format!("k{i}")).collect();
        let placeholders: Vec<String> = (1..=columns.len())
            .map(|i| format!("${i}::text[]"))
            .collect();
        let sql = format!(
            "SELECT u.n FROM unnest({}) WITH ORDINALITY AS u({}, n) \
             WHERE EXISTS (SELECT 1 FROM {} AS t WHERE ({}) = ({}))",
            placeholders.join(", "),
            names.join(", "),
            catalog::qualified(&info),
            columns
                .iter()
                .map(|c| format!("t.{}", quote(c)))
                .collect::<Vec<_>>()
                .join(", "),
            casts.join(", ")
        );
        let refs: Vec<&(dyn ToSql + Sync)> =
            arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let mut found = vec![false; rows.len()];
        match self.rows(&sql, &refs) {
            Ok(hits) => {
                for hit in hits {
                    let n: i64 = hit.get(0);
                    if let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| found.get_mut(i)) {
                        *slot = true;
                    }
                }
                Ok(found)
            }
            // A value a column cannot hold (text in a date column) matches no row: ask
            // row by row, where such a value is simply not found.
            Err(DbError::Server { .. }) => rows
                .iter()
                .map(|values| self.exists(table, columns, values))
                .collect(),
            Err(e) => Err(e),
        }
    }

    fn sequence_max(&self, table: &TableInfo, column: &str, prefix: Option<&str>) -> Option<i64> {
        let c = quote(column);
        let from = catalog::qualified(table);
        match prefix {
            None => self
                .rows(&format!("SELECT max({c})::int8 FROM {from}"), &[])
                .ok()?
                .first()?
                .get::<_, Option<i64>>(0),
            Some(prefix) => {
                let top: Option<String> = self
                    .rows(
                        &format!(
                            "SELECT max({c}::text COLLATE \"C\") FROM {from} \
                             WHERE starts_with({c}::text, $1)"
                        ),
                        &[&prefix],
                    )
                    .ok()?
                    .first()?
                    .get(0);
                top.and_then(|t| t.strip_prefix(prefix).and_then(|n| n.parse().ok()))
            }
        }
    }

    fn scan_columns(
        &self,
        table: &TableInfo,
        columns: &[String],
        each: &mut dyn FnMut(&[Value]),
    ) -> Result<(), DbError> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT {} FROM {}",
            columns
                .iter()
                .map(|c| values::as_text(c))
                .collect::<Vec<_>>()
                .join(", "),
            catalog::qualified(table)
        );
        let kinds: Vec<Option<&crate::db::catalog::Column>> =
            columns.iter().map(|c| table.column(c)).collect();
        self.wait(async {
            let stream = self
                .client
                .query_raw(&sql, std::iter::empty::<&(dyn ToSql + Sync)>())
                .await?;
            futures_util::pin_mut!(stream);
            let mut row_values = Vec::with_capacity(columns.len());
            while let Some(row) = stream.try_next().await? {
                row_values.clear();
                for (i, kind) in kinds.iter().enumerate() {
                    row_values.push(values::from_text(*kind, row.get(i)));
                }
                each(&row_values);
            }
            Ok::<(), tokio_postgres::Error>(())
        })
        .map_err(|e| self.err(&e))
    }

    fn in_snapshot(&self, work: &mut dyn FnMut() -> Result<(), DbError>) -> Result<(), DbError> {
        self.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        match work() {
            Ok(()) => self.execute_batch("COMMIT"),
            Err(e) => {
                let _ = self.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn write_rows(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        rows: &[Vec<Option<Value>>],
        options: &WriteOptions<'_>,
    ) -> Result<BatchOutcome, DbError> {
        write::write_rows(self, table, columns, rows, options)
    }

    fn read_page(
        &self,
        table: &TableInfo,
        lens: &Lens,
        anchor: &Anchor,
        limit: usize,
    ) -> Result<Page, DbError> {
        browse::read_page(self, table, lens, anchor, limit)
    }

    fn read_cell(
        &self,
        table: &TableInfo,
        lens: &Lens,
        key: &Key,
        column: &str,
    ) -> Result<Value, DbError> {
        browse::read_cell(self, table, lens, key, column)
    }

    fn export_csv(
        &self,
        object: &ObjectSummary,
        out: &mut dyn std::io::Write,
        options: &ExportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ExportOutcome, DbError> {
        transfer::export_csv(self, object, out, options, progress)
    }

    fn preview_drop(&self, name: &str) -> Result<DropPreview, DbError> {
        transfer::preview_drop(self, name)
    }

    fn drop_table(&mut self, name: &str) -> Result<DropOutcome, DbError> {
        transfer::drop_table(self, name)
    }

    fn fan_out(&self, link: Link<'_>) -> Result<Vec<(u64, u64)>, DbError> {
        lineage::fan_out(self, link)
    }

    fn null_share(&self, link: Link<'_>) -> Result<f64, DbError> {
        lineage::null_share(self, link)
    }

    fn parents_with_counts(
        &self,
        link: Link<'_>,
        cap: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Vec<u64>), DbError> {
        lineage::parents_with_counts(self, link, cap, rng)
    }

    fn rows_by_key(&self, table: &TableInfo, keys: &[RowKey]) -> Result<Rows, DbError> {
        lineage::rows_by_key(self, table, keys)
    }

    fn children_with_parents(
        &self,
        link: Link<'_>,
        k: usize,
        rng: &mut dyn RngCore,
    ) -> Result<(Rows, Rows, Vec<Option<usize>>), DbError> {
        lineage::children_with_parents(self, link, k, rng)
    }

    fn families(&self, link: Link<'_>, k: usize) -> Result<(Rows, Rows, Vec<Vec<usize>>), DbError> {
        lineage::families(self, link, k)
    }

    fn set_values(
        &mut self,
        table: &TableInfo,
        columns: &[String],
        changes: &[SetValues],
        cancel: &CancelFlag,
    ) -> Result<(), DbError> {
        lineage::set_values(self, table, columns, changes, cancel)
    }

    fn sum_children(
        &mut self,
        link: Link<'_>,
        sum: &ChildSum,
        parents: &[RowKey],
        cancel: &CancelFlag,
    ) -> Result<(), DbError> {
        lineage::sum_children(self, link, sum, parents, cancel)
    }

    fn copy_into(&self, _into: &Path) -> Result<(), DbError> {
        Err(DbError::NoCopyForDryRun {
            path: self.shown().to_string(),
            database: self.address.database.clone(),
        })
    }

    fn apply_import(
        &mut self,
        plan: &ImportPlan,
        options: &ImportOptions<'_>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportOutcome, DbError> {
        import::apply_import(self, plan, options, progress)
    }

    fn free_table_name(&self, base: &str) -> Result<String, DbError> {
        let taken: Vec<String> = self
            .rows(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public'",
                &[],
            )?
            .iter()
            .map(|r| r.get::<_, String>(0).to_lowercase())
            .collect();
        (2..=u32::MAX)
            .map(|n| format!("{base}_{n}"))
            .find(|name| !taken.contains(&name.to_lowercase()))
            .ok_or_else(|| {
                crate::db::transfer::ImportRefusal::NamesTaken {
                    base: base.to_string(),
                }
                .into()
            })
    }

    fn into_gated_queries(self: Box<Self>) -> Result<Box<dyn GatedQueries>, DbError> {
        Ok(Box::new(query::PgQueries::new(*self)))
    }

    fn check_can_insert(&self, table: &TableInfo) -> Result<(), DbError> {
        if table.primary_key().is_empty() {
            return Err(DbError::NoPrimaryKey {
                table: table.name.clone(),
            });
        }
        let allowed: bool = self.rows(
            "SELECT has_table_privilege($1::text::regclass, 'INSERT')",
            &[&catalog::qualified(table)],
        )?[0]
            .get(0);
        if allowed {
            Ok(())
        } else {
            Err(DbError::PermissionDenied {
                path: self.shown().to_string(),
                detail: format!(
                    "user '{}' may not insert into table {}",
                    self.address.user, table.name
                ),
            })
        }
    }

    fn read_fingerprints(
        &self,
        table: &TableInfo,
        columns: &[String],
        keys: &[RowKey],
    ) -> Result<Vec<(RowKey, Option<u64>)>, DbError> {
        undo::read_fingerprints(self, table, columns, keys)
    }

    fn in_write_transaction(
        &mut self,
        work: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        if !self.writable {
            return Err(DbError::ReadOnly {
                path: self.shown().to_string(),
            });
        }
        self.execute_batch("BEGIN")?;
        self.writing = true;
        let result = work(self);
        self.writing = false;
        match result {
            Ok(()) => self.execute_batch("COMMIT"),
            Err(e) => {
                let _ = self.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn remove_rows(&mut self, removals: &[Removal<'_>]) -> Result<Vec<u64>, DbError> {
        undo::remove_rows(self, removals)
    }

    fn insert_triggers(&self, table: &str) -> bool {
        self.known_table(table)
            .map(|info| undo::insert_triggers(self, &info))
            .unwrap_or(false)
    }
}
