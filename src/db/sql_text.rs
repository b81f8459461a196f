//! Reads the facts PRAGMAs do not give from a table's `CREATE TABLE` text:
//! CHECK constraints, AUTOINCREMENT and deferred foreign keys.
//!
//! Tokens (`sql_lex`) are enough: we only need to find keywords at the top level
//! of the column list and keep the exact text of each CHECK expression.

use super::sql_lex::{self, Kind, Token};

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
    let tokens: Vec<Token> = sql_lex::tokens(sql).collect();
    let mut out = TableText::default();
    let Some(open) = tokens.iter().position(|t| t.kind == Kind::Open) else {
        return out;
    };
    // Split the body into top-level definitions separated by commas.
    let mut depth = 0usize;
    let mut defs: Vec<&[Token]> = Vec::new();
    let mut def_start = open + 1;
    for (i, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close if depth == 0 => {
                defs.push(&tokens[def_start..i]);
                break;
            }
            Kind::Close => depth -= 1,
            Kind::Comma if depth == 0 => {
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

/// A bare word upper-cased, to match against keywords.
fn keyword(sql: &str, t: &Token) -> Option<String> {
    t.word(sql).map(str::to_ascii_uppercase)
}

fn parse_definition(sql: &str, def: &[Token], out: &mut TableText) {
    let Some(first) = def.first() else { return };
    let table_constraint = matches!(
        keyword(sql, first).as_deref(),
        Some("CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN")
    );
    let column = (!table_constraint).then(|| first.name(sql));
    // Columns named by a table-level FOREIGN KEY (...) clause.
    let mut fk_columns: Option<Vec<String>> = column.clone().map(|c| vec![c]);

    let mut i = 0;
    while i < def.len() {
        match keyword(sql, &def[i]).as_deref() {
            Some("CHECK") if matches!(def.get(i + 1).map(|t| &t.kind), Some(Kind::Open)) => {
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
                if let Some(open) = def[i..].iter().position(|t| t.kind == Kind::Open)
                    && let Some(close) = matching_close(def, i + open)
                {
                    fk_columns = Some(
                        def[i + open + 1..close]
                            .iter()
                            .filter(|t| t.kind != Kind::Comma)
                            .map(|t| t.name(sql))
                            .collect(),
                    );
                    i = close;
                }
            }
            Some("DEFERRED") => {
                let initially = i > 0 && def[i - 1].is_word(sql, "INITIALLY");
                let negated = i > 2 && def[i - 3].is_word(sql, "NOT");
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
            Kind::Open => depth += 1,
            Kind::Close => {
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

    #[test]
    fn an_open_quoted_name_is_not_cut_inside_a_character() {
        // Unquoting an open name by dropping its last byte would split the `é`.
        let t = parse_create_table("CREATE TABLE t (a CHECK (a > 0), \"\u{e9}");
        assert_eq!(
            t.checks,
            vec![CheckConstraint {
                column: Some("a".into()),
                expr: "a > 0".into()
            }]
        );
    }
}
