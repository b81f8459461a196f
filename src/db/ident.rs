//! SQL identifiers: validated, then always quoted.
//!
//! Names come from the user's schema and may hold spaces, quotes, unicode or
//! SQL keywords. We never splice a name into SQL unquoted, and we refuse the
//! one thing quoting cannot carry: a NUL character.

use super::DbError;

/// Why a name cannot be an identifier at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierProblem {
    #[error("be empty")]
    Empty,
    /// Quoting cannot carry a NUL character.
    #[error("contain a NUL character")]
    Nul,
}

/// Quotes `name` as a SQL identifier: `my "odd" table` -> `"my ""odd"" table"`.
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// Checks that `name` can be used as an identifier at all.
pub fn validate(name: &str) -> Result<(), DbError> {
    if name.is_empty() {
        return Err(DbError::BadIdentifier(IdentifierProblem::Empty));
    }
    if name.contains('\0') {
        return Err(DbError::BadIdentifier(IdentifierProblem::Nul));
    }
    Ok(())
}

/// Quotes a list of names and joins them with commas.
pub fn quote_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(quote).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_double_quotes_by_doubling() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("my \"odd\" table"), "\"my \"\"odd\"\" table\"");
        assert_eq!(quote("naïve 表"), "\"naïve 表\"");
    }

    #[test]
    fn rejects_empty_and_nul() {
        assert!(validate("").is_err());
        assert!(validate("a\0b").is_err());
        assert!(validate("select").is_ok());
    }
}
