//! A real Postgres server for the tests: the one `ROWSMITH_PG_URL` names (a server you
//! can throw away, reached as a superuser), or else a throwaway one this test process
//! starts itself — `initdb` in a temporary folder (as the `postgres` user when running as
//! root, since initdb refuses root), on a free port on 127.0.0.1, with a password — and
//! that stops when the process ends, however it ends: the server runs under a small
//! shell that waits on a pipe from this process and stops it when the pipe closes.
//!
//! Without either, every Postgres test fails with the sentence saying how to run them,
//! rather than passing without having run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rowsmith::db::postgres::Postgres;
use rowsmith::db::{Database, OpenOptions};

const HOW_TO_RUN: &str = "The Postgres tests need a PostgreSQL server. Install the \
    distribution's package (`apt-get install postgresql`, PostgreSQL 15 here) so the tests \
    can start a throwaway one themselves, or set ROWSMITH_PG_URL to a superuser URL of a \
    server you can throw away (postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres). \
    `bash .ci/run` installs and runs everything.";

/// The server every Postgres test of this process shares.
pub struct Server {
    /// A superuser URL of its `postgres` database.
    pub admin_url: String,
    /// The server offers TLS (with a self-signed certificate): true for the throwaway one.
    pub tls: bool,
    /// Keeps the stopping shell's pipe open while the process lives.
    _keeper: Option<Mutex<Child>>,
}

pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("ROWSMITH_PG_URL") {
        Ok(url) if !url.is_empty() => Server {
            admin_url: url,
            tls: false,
            _keeper: None,
        },
        _ => start().unwrap_or_else(|why| panic!("{HOW_TO_RUN}\n({why})")),
    })
}

/// The folder of the newest installed `initdb` and `postgres`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().or_else(|| {
        let out = Command::new("sh")
            .args(["-c", "command -v initdb"])
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        path.parent().map(Path::to_path_buf)
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `program` as the `postgres` user when this process is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn start() -> Result<Server, String> {
    let bin = bin_dir().ok_or("no initdb found")?;
    // As root the server runs as `postgres`, which must reach its folder: /tmp is open to
    // every user where $TMPDIR (root's own, say) may not be.
    let parent = if is_root() {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix("rowsmith-pg-")
        .tempdir_in(parent)
        .map_err(|e| e.to_string())?
        .keep();
    let password = format!("pw{}", std::process::id());
    std::fs::write(dir.join("pw"), &password).map_err(|e| e.to_string())?;
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("could not give the server's folder to the postgres user".into());
        }
    }
    let data = dir.join("data");
    let init = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "scram-sha-256",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ])
        .arg(format!("--pwfile={}", dir.join("pw").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    // A self-signed certificate, so connections can be encrypted as on a real server.
    let certified = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.crt"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("openssl (to make the test server's certificate): {e}"))?;
    if !certified.success() {
        return Err("openssl could not make the test server's certificate".into());
    }
    if is_root() {
        let _ = Command::new("chown")
            .args(["postgres"])
            .arg(dir.join("server.key"))
            .arg(dir.join("server.crt"))
            .status();
    }
    let _ = std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    );
    let port = free_port()?;
    // The server stops (and its folder goes) when our end of the pipe closes.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
           -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
           -c max_connections=200 -c ssl=on -c ssl_cert_file='{dir}/server.crt' \
           -c ssl_key_file='{dir}/server.key' >'{dir}/log' 2>&1 & pid=$!; \
         read _ignored; kill -INT $pid; wait $pid; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let child = as_server_user(Path::new("/bin/sh"))
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    let admin_url = format!("postgres://postgres:{password}@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Database::open(Path::new(&admin_url), &OpenOptions::read_only()) {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                return Err(format!("the server did not come up: {e}\n{log}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Ok(Server {
        admin_url,
        tls: true,
        _keeper: Some(Mutex::new(child)),
    })
}

/// A fresh database of its own for one test, made from `sql`.
pub struct PgDb {
    pub url: String,
    pub name: String,
}

impl PgDb {
    pub fn new(sql: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let server = server();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let admin = open_pg(&server.admin_url);
        admin
            .execute_batch(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let url = url_with_database(&server.admin_url, &name);
        if !sql.is_empty() {
            open_pg(&url).execute_batch(sql).expect("test schema");
        }
        Self { url, name }
    }

    /// The database as the app and commands open it.
    pub fn open(&self, write: bool) -> Database {
        let options = if write {
            OpenOptions::read_write()
        } else {
            OpenOptions::read_only()
        };
        Database::open(Path::new(&self.url), &options).expect("open test database")
    }

    /// A direct connection for setting things up and checking them.
    pub fn admin(&self) -> Postgres {
        open_pg(&self.url)
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.url)
    }
}

pub fn open_pg(url: &str) -> Postgres {
    Postgres::open(Path::new(url), &OpenOptions::read_write()).expect("connect to test server")
}

/// `url` pointing at database `name` instead.
pub fn url_with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}
