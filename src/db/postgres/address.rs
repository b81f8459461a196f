//! Where a Postgres database is and who connects: a `postgres://` URL completed the way
//! libpq completes it, from the `PG*` environment variables and the password file.
//!
//! The rules follow libpq's documentation ("Connection Strings", "Environment
//! Variables", "The Password File", PostgreSQL 15): what the URL gives wins, the
//! environment fills what it leaves out, and a password missing from both is looked up in
//! `PGPASSFILE` or `~/.pgpass`, a file libpq ignores when others can read it. The URL's
//! password never leaves this module in a sentence: [`Address::shown`] has none.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Config, Host};

/// How much TLS a connection asks for (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// TLS or no connection, without checking the certificate.
    Require,
    /// TLS with a certificate signed by a trusted authority.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host.
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "disable" | "allow" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A URL that cannot name a Postgres database, with what is wrong in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct BadAddress {
    pub detail: String,
}

/// The environment an address is completed from; the process's own in use, a map in tests.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn home(&self) -> Option<PathBuf>;
}

/// The environment of this process.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
    }
}

/// A complete description of one connection.
#[derive(Clone)]
pub struct Address {
    pub config: Config,
    pub tls: TlsMode,
    /// The URL without its password, for sentences.
    pub shown: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
    /// A password file libpq would have read but ignored, because others can read it.
    pub ignored_password_file: Option<PathBuf>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Whether `text` is a Postgres URL rather than a file path.
pub fn is_postgres_url(text: &str) -> bool {
    let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The socket folder Debian's server listens in when no host is given.
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// How long a connection attempt waits when neither URL nor environment says.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Address {
    /// Reads `url` and completes it from `env`.
    pub fn parse(url: &str, env: &dyn Environment) -> Result<Self, BadAddress> {
        let (url, params) = take_params(url, &["sslmode", "sslrootcert"]);
        let parsed = Config::from_str(&url).map_err(|e| BadAddress {
            detail: format!(
                "'{}' is not a valid Postgres URL ({e}). The form is postgres://user@host:port/database",
                without_password(&url)
            ),
        })?;
        // The driver fills in port 5432 when the URL has none, where libpq would take
        // PGPORT: build the configuration afresh from what the URL really says.
        let mut config = Config::new();
        config.application_name("rowsmith");
        for host in parsed.get_hosts() {
            match host {
                Host::Tcp(name) => config.host(name),
                Host::Unix(path) => config.host_path(path),
            };
        }
        if url_names_port(&url) {
            for &port in parsed.get_ports() {
                config.port(port);
            }
        }
        if let Some(user) = parsed.get_user() {
            config.user(user);
        }
        if let Some(password) = parsed.get_password() {
            config.password(password);
        }
        if let Some(db) = parsed.get_dbname() {
            config.dbname(db);
        }
        if let Some(options) = parsed.get_options() {
            config.options(options);
        }
        if let Some(timeout) = parsed.get_connect_timeout() {
            config.connect_timeout(*timeout);
        }

        if config.get_hosts().is_empty() {
            match env.var("PGHOST") {
                Some(host) => {
                    for h in host.split(',') {
                        config.host(h.trim());
                    }
                }
                None if Path::new(DEFAULT_SOCKET_DIR).is_dir() => {
                    config.host_path(DEFAULT_SOCKET_DIR);
                }
                None => {
                    config.host("localhost");
                }
            }
        }
        if config.get_ports().is_empty() {
            let port = match env.var("PGPORT") {
                Some(port) => port.trim().parse().map_err(|_| BadAddress {
                    detail: format!("PGPORT is '{port}', which is not a port number"),
                })?,
                None => 5432,
            };
            config.port(port);
        }
        let user = match config.get_user() {
            Some(user) => user.to_string(),
            None => env
                .var("PGUSER")
                .or_else(|| env.var("USER"))
                .unwrap_or_else(|| "postgres".into()),
        };
        config.user(&user);
        let database = match config.get_dbname() {
            Some(db) => db.to_string(),
            None => env.var("PGDATABASE").unwrap_or_else(|| user.clone()),
        };
        config.dbname(&database);
        if config.get_connect_timeout().is_none() {
            let timeout = env
                .var("PGCONNECT_TIMEOUT")
                .and_then(|t| t.trim().parse::<u64>().ok())
                .filter(|&t| t > 0)
                .map(|t| Duration::from_secs(t.max(2)))
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
            config.connect_timeout(timeout);
        }

        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_default();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let mut ignored_password_file = None;
        if config.get_password().is_none() {
            if let Some(password) = env.var("PGPASSWORD") {
                config.password(password);
            } else {
                match password_file(env) {
                    PasswordFile::Readable(file) => {
                        if let Some(password) =
                            lookup_password(&file, &host, port, &database, &user)
                        {
                            config.password(password);
                        }
                    }
                    PasswordFile::Ignored(file) => ignored_password_file = Some(file),
                    PasswordFile::None => {}
                }
            }
        }

        let tls_text = params
            .iter()
            .find(|(k, _)| k == "sslmode")
            .map(|(_, v)| v.clone())
            .or_else(|| env.var("PGSSLMODE"))
            .unwrap_or_else(|| "prefer".into());
        let tls = TlsMode::parse(&tls_text).ok_or_else(|| BadAddress {
            detail: format!(
                "sslmode '{tls_text}' is not one of disable, prefer, require, verify-ca, verify-full"
            ),
        })?;
        // A socket is local: libpq never uses TLS over one.
        let tls = if host.starts_with('/') {
            TlsMode::Disable
        } else {
            tls
        };

        let shown_host = if host.starts_with('/') {
            String::new()
        } else if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let shown = format!(
            "postgres://{}@{shown_host}:{port}/{}",
            percent_encode(&user),
            percent_encode(&database)
        );
        Ok(Self {
            config,
            tls,
            shown,
            host,
            port,
            user,
            database,
            ignored_password_file,
        })
    }

    /// Host and port, as said in a sentence about reaching the server.
    pub fn server(&self) -> String {
        if self.host.starts_with('/') {
            format!("the socket in {} (port {})", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Whether the URL's authority gives a port (`host:5433`, `[::1]:5433`, or one per host).
fn url_names_port(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    hosts.split(',').any(|host| {
        let after_bracket = host.rsplit_once(']').map_or(host, |(_, tail)| tail);
        after_bracket
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty())
    })
}

/// Splits `names` off the URL's query string (tokio-postgres does not know every value
/// libpq takes), returning the rest of the URL and what was taken.
fn take_params(url: &str, names: &[&str]) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if names.contains(&key) {
            taken.push((key.to_string(), value.to_string()));
        } else {
            kept.push(pair);
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, taken)
}

/// The URL as it may be shown: `user:secret@` becomes `user@`.
pub fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme_end], &url[scheme_end + at..])
        }
        None => url.to_string(),
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The password file libpq would read, when it may be read: libpq ignores a file that
/// its group or others can read, and so does rowsmith.
fn password_file(env: &dyn Environment) -> PasswordFile {
    let path = match env.var("PGPASSFILE") {
        Some(p) => PathBuf::from(p),
        None => match env.home() {
            Some(home) => home.join(".pgpass"),
            None => return PasswordFile::None,
        },
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        return PasswordFile::None;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "password file {} has group or world access; ignored, as libpq does (chmod 0600 it)",
                path.display()
            );
            return PasswordFile::Ignored(path);
        }
    }
    if meta.is_file() {
        PasswordFile::Readable(path)
    } else {
        PasswordFile::None
    }
}

/// The password file, as libpq would treat it.
enum PasswordFile {
    None,
    Readable(PathBuf),
    /// There, but others can read it: ignored.
    Ignored(PathBuf),
}

/// The password of the first line of `file` that matches, as libpq reads
/// `hostname:port:database:username:password` (a `*` matches anything; `\:` and `\\`
/// are a colon and a backslash; a socket connection matches `localhost`).
fn lookup_password(file: &Path, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    let wanted = [host, port.as_str(), db, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .map(split_pgpass_line)
        .find(|fields| {
            fields.len() >= 5
                && fields[..4]
                    .iter()
                    .zip(wanted)
                    .all(|(field, want)| field == "*" || field == want)
        })
        .map(|fields| fields[4..].join(":"))
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Env(HashMap<&'static str, String>, Option<PathBuf>);

    impl Environment for Env {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn home(&self) -> Option<PathBuf> {
            self.1.clone()
        }
    }

    fn env(vars: &[(&'static str, &str)]) -> Env {
        Env(
            vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            None,
        )
    }

    #[test]
    fn the_url_wins_and_the_environment_fills_the_rest() {
        let e = env(&[
            ("PGHOST", "db.internal"),
            ("PGPORT", "6543"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGPASSWORD", "envpw"),
        ]);
        let a = Address::parse("postgres://ana:s3cret@localhost/shop", &e).unwrap();
        assert_eq!((a.host.as_str(), a.port), ("localhost", 6543));
        assert_eq!((a.user.as_str(), a.database.as_str()), ("ana", "shop"));
        assert_eq!(a.config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(a.shown, "postgres://ana@localhost:6543/shop");

        let b = Address::parse("postgres://", &e).unwrap();
        assert_eq!(b.shown, "postgres://envuser@db.internal:6543/envdb");
        assert_eq!(b.config.get_password(), Some(&b"envpw"[..]));
    }

    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:ana:wrong\nlocalhost:5432:shop:ana:pa\\:ss:word\n*:*:*:*:fallback\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = env(&[("PGPASSFILE", file.to_str().unwrap())]);
        let a = Address::parse("postgres://ana@localhost:5432/shop", &e).unwrap();
        assert_eq!(a.config.get_password(), Some(&b"pa:ss:word"[..]));
        let b = Address::parse("postgres://bo@elsewhere/x", &e).unwrap();
        assert_eq!(b.config.get_password(), Some(&b"fallback"[..]));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let c = Address::parse("postgres://bo@elsewhere/x", &e).unwrap();
            assert_eq!(c.config.get_password(), None, "a readable file is ignored");
            assert_eq!(
                c.ignored_password_file.as_deref(),
                Some(file.as_path()),
                "and the refusal can say why"
            );
        }
    }

    #[test]
    fn sslmode_takes_libpq_values_and_a_bad_url_says_what_is_wrong() {
        let e = env(&[]);
        let a = Address::parse("postgres://u@h/d?sslmode=verify-full", &e).unwrap();
        assert_eq!(a.tls, TlsMode::VerifyFull);
        let b = Address::parse("postgres://u@h/d", &env(&[("PGSSLMODE", "require")])).unwrap();
        assert_eq!(b.tls, TlsMode::Require);
        let bad = Address::parse("postgres://u@h/d?sslmode=sometimes", &e).unwrap_err();
        assert!(bad.detail.contains("sometimes"), "{bad}");
        let bad = Address::parse("postgres://u:pw@h:notaport/d", &e).unwrap_err();
        assert!(bad.detail.contains("postgres://u@h:notaport/d"), "{bad}");
        assert!(!bad.detail.contains("pw"), "{bad}");
    }

    #[test]
    fn a_shown_url_never_holds_the_password() {
        assert_eq!(
            without_password("postgres://ana:s3cret@host:5432/db?x=1"),
            "postgres://ana@host:5432/db?x=1"
        );
        assert_eq!(without_password("postgres://host/db"), "postgres://host/db");
        assert!(is_postgres_url("PostgreSQL://x"));
        assert!(!is_postgres_url("./postgres.db"));
    }
}
