//! Postgres errors as the one sentence each a user can act on: typed by SQLSTATE, never
//! by the message text, and never with a password (the address's shown form has none).

use tokio_postgres::error::SqlState;

use super::address::{Address, TlsMode};
use crate::db::DbError;

/// A failure while connecting to `address`.
pub fn connect_error(e: &tokio_postgres::Error, address: &Address) -> DbError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return DbError::LoginRefused {
                server: address.server(),
                user: address.user.clone(),
                detail: db.message().to_string(),
            };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return DbError::NoSuchDatabase {
                name: address.database.clone(),
                server: address.server(),
            };
        }
        return server_said(e, &address.shown);
    }
    let detail = innermost(e);
    let tls_required = !matches!(address.tls, TlsMode::Disable | TlsMode::Prefer);
    match io_kind(e) {
        // A certificate TLS turned away reaches us as invalid data on the socket.
        Some(std::io::ErrorKind::InvalidData) if tls_required => {
            return DbError::TlsFailed {
                server: address.server(),
                detail,
            };
        }
        // No socket to the server at all: it is not there (or not on that port).
        Some(_) => {
            return DbError::ServerUnreachable {
                server: address.server(),
                detail,
            };
        }
        None => {}
    }
    // The server answered, then the session could not be set up: TLS when it was
    // asked for and not offered, else a password the server wanted and none was given.
    if tls_required {
        return DbError::TlsFailed {
            server: address.server(),
            detail,
        };
    }
    if address.config.get_password().is_none() {
        let detail = match &address.ignored_password_file {
            Some(file) => format!(
                "it asked for a password; the password file {} was not read because others can read it: chmod 600 it",
                file.display()
            ),
            None => "it asked for a password and none was given".into(),
        };
        return DbError::LoginRefused {
            server: address.server(),
            user: address.user.clone(),
            detail,
        };
    }
    DbError::ServerUnreachable {
        server: address.server(),
        detail,
    }
}

/// A failure of a statement on an open connection to `shown`.
pub fn query_error(e: &tokio_postgres::Error, shown: &str) -> DbError {
    if e.is_closed() || (e.as_db_error().is_none() && is_io(e)) {
        return DbError::ConnectionLost {
            path: shown.to_string(),
            detail: innermost(e),
        };
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            return DbError::PermissionDenied {
                path: shown.to_string(),
                detail: db.message().to_string(),
            };
        }
        if *code == SqlState::LOCK_NOT_AVAILABLE {
            return DbError::Locked {
                path: shown.to_string(),
            };
        }
        if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            return DbError::ReadOnly {
                path: shown.to_string(),
            };
        }
        if *code == SqlState::QUERY_CANCELED {
            return DbError::Cancelled;
        }
        if *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW
        {
            return DbError::ConnectionLost {
                path: shown.to_string(),
                detail: db.message().to_string(),
            };
        }
    }
    server_said(e, shown)
}

fn server_said(e: &tokio_postgres::Error, shown: &str) -> DbError {
    let detail = match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_string();
            if let Some(detail) = db.detail() {
                text.push_str(" — ");
                text.push_str(detail);
            }
            text
        }
        None => innermost(e),
    };
    DbError::Server {
        path: shown.to_string(),
        detail: detail.trim_end_matches('.').to_string(),
    }
}

fn is_io(e: &tokio_postgres::Error) -> bool {
    io_kind(e).is_some()
}

/// The kind of the I/O error under `e`, when there is one.
fn io_kind(e: &tokio_postgres::Error) -> Option<std::io::ErrorKind> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

/// The deepest cause's words ("Connection refused (os error 111)"), which say more than
/// the driver's wrapper ("error connecting to server").
fn innermost(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text.trim_end_matches('.').to_string()
}
