//! Postgres errors as the one sentence each a user can act on: typed by SQLSTATE, never
//! by the message text, and never with a password (the address's shown form has none).

use tokio_postgres::error::SqlState;

use super::address::Address;
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
    // A password the server asked for and we had none to give.
    if detail.contains("password missing") {
        return DbError::LoginRefused {
            server: address.server(),
            user: address.user.clone(),
            detail: "it asked for a password and none was given".into(),
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
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
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
