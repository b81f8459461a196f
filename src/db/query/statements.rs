//! The few lexical facts the query gate needs: where statements end (outside strings,
//! quoted names and comments), the first words of a statement, and the words that start
//! SQL rather than a question. All read through the one tokenizer, `db::sql_lex`.

use crate::db::sql_lex::{Kind, tokens};

/// Words that start SQL rather than a question. Write keywords are included
/// so that `DELETE FROM users` is refused by the gate, not sent to a model.
pub const SQL_KEYWORDS: &[&str] = &[
    "SELECT",
    "WITH",
    "VALUES",
    "EXPLAIN",
    "PRAGMA",
    "INSERT",
    "REPLACE",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "ATTACH",
    "DETACH",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "BEGIN",
    "COMMIT",
    "END",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
];

/// The first SQL keyword of `text` after whitespace and comments, upper-cased
/// (`None` when the text does not begin with a word).
pub fn first_keyword(text: &str) -> Option<String> {
    leading_words(text, 1).into_iter().next()
}

/// Up to `n` leading bare words of a statement, upper-cased, skipping
/// comments; stops at the first token that is not a word (a string, a
/// quoted name, a number, punctuation).
pub(super) fn leading_words(text: &str, n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = tokens(text).peekable();
    while words.len() < n {
        let Some(t) = rest.next() else { break };
        let Some(word) = t.word(text) else { break };
        // `schema.name`: drop the schema so PRAGMA main.user_version reads on.
        let schema = rest
            .next_if(|d| d.kind == Kind::Other && d.start == t.end && d.text(text) == ".")
            .is_some();
        if !schema {
            words.push(word.to_ascii_uppercase());
        }
    }
    words
}

/// Splits `sql` at top-level semicolons (outside strings, quoted names and
/// comments) and returns the statements that hold more than whitespace and
/// comments, trimmed.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // Where the current statement began, and whether it holds a token yet.
    let (mut start, mut content) = (0usize, false);
    for t in tokens(sql) {
        if t.kind == Kind::Semicolon {
            if content {
                out.push(sql[start..t.start].trim());
            }
            start = t.end;
            content = false;
        } else {
            content = true;
        }
    }
    if content {
        out.push(sql[start..].trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_end_where_sqlite_ends_them() {
        // Non-ASCII bytes are name characters to SQLite: `SELECT\u{e9}` is a name.
        assert_eq!(first_keyword("SELECT\u{e9} 1"), Some("SELECT\u{e9}".into()));
        assert_eq!(first_keyword("1 SELECT"), None);
        assert_eq!(
            leading_words("PRAGMA main.user_version", 6),
            vec!["PRAGMA", "USER_VERSION"]
        );
        assert_eq!(leading_words("PRAGMA main .x", 6), vec!["PRAGMA", "MAIN"]);
    }

    #[test]
    fn nothing_after_an_open_quote_or_comment_splits() {
        for sql in [
            "SELECT 'a; DROP TABLE t",
            "SELECT \"a; DROP TABLE t",
            "SELECT [a; DROP TABLE t",
            "SELECT 1 /* ; DROP TABLE t",
            "SELECT 1 -- ; DROP TABLE t",
        ] {
            assert_eq!(split_statements(sql), vec![sql]);
        }
    }
}
