//! The Postgres engine: a `postgres://` URL opened with tokio-postgres and served behind
//! the same [`Backend`] as SQLite files.
//!
//! The database layer is synchronous (it runs on blocking threads, never on the UI
//! loop), so every call waits on one process-wide runtime that owns the sockets; the
//! runtime is a static, never dropped, so no handle is ever torn down inside another
//! runtime.

pub mod address;
mod catalog;
mod error;
mod profile;
mod sample;
mod tls;
mod values;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rand::RngCore;
use tokio_postgres::{Client, Row};

use self::address::{Address, ProcessEnvironment};
use super::backend::Interrupter;
use super::catalog::{ObjectSummary, TableInfo};
use super::profile::{ProfileOptions, TableProfile};
use super::sample::Sample;
use super::{Backend, DbError, OpenOptions};

pub use address::is_postgres_url;

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

    pub fn shown(&self) -> &str {
        &self.address.shown
    }
}

/// Cancels the running statement through a second connection, as Postgres requires.
struct Canceller {
    token: tokio_postgres::CancelToken,
    tls: address::TlsMode,
    runtime: &'static tokio::runtime::Runtime,
}

impl Interrupter for Canceller {
    fn interrupt(&self) {
        let Ok(connector) = tls::connector(self.tls) else {
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

    fn is_writable(&self) -> bool {
        self.writable
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        Arc::new(Canceller {
            token: self.client.cancel_token(),
            tls: self.address.tls,
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
}
