//! Reads the facts PRAGMAs do not give from a table's `CREATE TABLE` text:
//! CHECK constraints, AUTOINCREMENT and deferred foreign keys.
//!
//! A small tokenizer is enough: we only need to find keywords at the top level
//! of the column list and keep the exact text of each CHECK expression.

/// One lexical token with its byte range in the source.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    /// A bare word (keyword or identifier), upper-cased for comparison.
    Word(String),
    /// A quoted identifier, unquoted.
    Quoted(String),
    /// A string literal.
    Str,
    Open,
    Close,
    Comma,
    Other,
}

fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                tokens.push(Token {
                    kind: TokenKind::Str,
                    start,
                    end: i,
                });
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i, c);
                let inner = &sql[start + 1..i.saturating_sub(1).max(start + 1)];
                let q = c as char;
                let name = inner.replace(&format!("{q}{q}"), &q.to_string());
                tokens.push(Token {
                    kind: TokenKind::Quoted(name),
                    start,
                    end: i,
                });
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                let inner = &sql[start + 1..i.saturating_sub(1).max(start + 1)];
                tokens.push(Token {
                    kind: TokenKind::Quoted(inner.to_string()),
                    start,
                    end: i,
                });
            }
            b'(' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Open,
                    start,
                    end: i,
                });
            }
            b')' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Close,
                    start,
                    end: i,
                });
            }
            b',' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Comma,
                    start,
                    end: i,
                });
            }
            _ if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i].is_ascii_alphanumeric()
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Word(sql[start..i].to_ascii_uppercase()),
                    start,
                    end: i,
                });
            }
            _ => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Other,
                    start,
                    end: i,
                });
            }
        }
    }
    tokens
}

/// Returns the index just past a quoted run starting at `i`; a doubled quote
/// character inside is an escaped quote.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// A CHECK constraint and, for a column constraint, the column it sits on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckConstraint {
    pub column: Option<String>,
    /// The expression exactly as written, without the surrounding parentheses.
    pub expr: String,
}

/// What the CREATE TABLE text says beyond the PRAGMAs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableText {
    pub checks: Vec<CheckConstraint>,
    pub autoincrement: bool,
    /// The referencing columns of each foreign key declared
    /// `DEFERRABLE INITIALLY DEFERRED`.
    pub deferred_foreign_keys: Vec<Vec<String>>,
}

/// Parses the parts of a `CREATE TABLE` statement we need. Unknown syntax is
/// skipped rather than rejected: the statement was already accepted by SQLite.
pub fn parse_create_table(sql: &str) -> TableText {
    let tokens = tokenize(sql);
    let mut out = TableText::default();
    let Some(open) = tokens.iter().position(|t| t.kind == TokenKind::Open) else {
        return out;
    };
    // Split the body into top-level definitions separated by commas.
    let mut depth = 0usize;
    let mut defs: Vec<&[Token]> = Vec::new();
    let mut def_start = open + 1;
    for (i, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close if depth == 0 => {
                defs.push(&tokens[def_start..i]);
                break;
            }
            TokenKind::Close => depth -= 1,
            TokenKind::Comma if depth == 0 => {
                defs.push(&tokens[def_start..i]);
                def_start = i + 1;
            }
            _ => {}
        }
    }
    for def in defs {
        parse_definition(sql, def, &mut out);
    }
    out
}

fn word(t: &Token) -> Option<&str> {
    match &t.kind {
        TokenKind::Word(w) => Some(w.as_str()),
        _ => None,
    }
}

fn name_of(sql: &str, t: &Token) -> String {
    match &t.kind {
        TokenKind::Quoted(n) => n.clone(),
        _ => sql[t.start..t.end].to_string(),
    }
}

fn parse_definition(sql: &str, def: &[Token], out: &mut TableText) {
    let Some(first) = def.first() else { return };
    let table_constraint = matches!(
        word(first),
        Some("CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN")
    );
    let column = (!table_constraint).then(|| name_of(sql, first));
    // Columns named by a table-level FOREIGN KEY (...) clause.
    let mut fk_columns: Option<Vec<String>> = column.clone().map(|c| vec![c]);

    let mut i = 0;
    while i < def.len() {
        match word(&def[i]) {
            Some("CHECK") if matches!(def.get(i + 1).map(|t| &t.kind), Some(TokenKind::Open)) => {
                if let Some(close) = matching_close(def, i + 1) {
                    let expr = sql[def[i + 1].end..def[close].start].trim().to_string();
                    out.checks.push(CheckConstraint {
                        column: column.clone(),
                        expr,
                    });
                    i = close;
                }
            }
            Some("AUTOINCREMENT") => out.autoincrement = true,
            Some("FOREIGN") if table_constraint => {
                if let Some(open) = def[i..].iter().position(|t| t.kind == TokenKind::Open)
                    && let Some(close) = matching_close(def, i + open)
                {
                    fk_columns = Some(
                        def[i + open + 1..close]
                            .iter()
                            .filter(|t| t.kind != TokenKind::Comma)
                            .map(|t| name_of(sql, t))
                            .collect(),
                    );
                    i = close;
                }
            }
            Some("DEFERRED") => {
                let initially = i > 0 && word(&def[i - 1]) == Some("INITIALLY");
                let negated = i > 2 && word(&def[i - 3]) == Some("NOT");
                if initially
                    && !negated
                    && let Some(cols) = &fk_columns
                {
                    out.deferred_foreign_keys.push(cols.clone());
                }
            }
            _ => {}
        }
        i += 1;
    }
}

fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_column_and_table_checks() {
        let t = parse_create_table(
            "CREATE TABLE t (a INTEGER CHECK (a > 0), \"b c\" TEXT CHECK(length(\"b c\") < 5 AND \"b c\" <> ')'),\n\
             -- CHECK (not this)\n CHECK (a < 100 OR \"b c\" IS NULL))",
        );
        assert_eq!(
            t.checks,
            vec![
                CheckConstraint {
                    column: Some("a".into()),
                    expr: "a > 0".into()
                },
                CheckConstraint {
                    column: Some("b c".into()),
                    expr: "length(\"b c\") < 5 AND \"b c\" <> ')'".into()
                },
                CheckConstraint {
                    column: None,
                    expr: "a < 100 OR \"b c\" IS NULL".into()
                },
            ]
        );
    }

    #[test]
    fn sees_autoincrement_and_deferred_keys() {
        let t = parse_create_table(
            "CREATE TABLE x (id INTEGER PRIMARY KEY AUTOINCREMENT, p INT REFERENCES y(id) DEFERRABLE INITIALLY DEFERRED, q INT,\
             FOREIGN KEY (q, [p]) REFERENCES z(a, b) DEFERRABLE INITIALLY DEFERRED)",
        );
        assert!(t.autoincrement);
        assert_eq!(
            t.deferred_foreign_keys,
            vec![
                vec!["p".to_string()],
                vec!["q".to_string(), "p".to_string()]
            ]
        );
    }

    #[test]
    fn names_in_strings_are_not_keywords() {
        let t = parse_create_table("CREATE TABLE x (note TEXT DEFAULT 'CHECK (1) AUTOINCREMENT')");
        assert!(t.checks.is_empty());
        assert!(!t.autoincrement);
    }
}
