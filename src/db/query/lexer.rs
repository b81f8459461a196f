//! The few lexical facts the query gate needs: where statements end (outside strings,
//! quoted names and comments), the first words of a statement, and the words that start
//! SQL rather than a question.

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
/// quoted name, punctuation).
pub(super) fn leading_words(text: &str, n: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut words = Vec::new();
    while words.len() < n && i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if let Some(end) = comment_end(bytes, i) {
            i = end;
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            words.push(text[start..i].to_ascii_uppercase());
            // `schema.name`: skip the dot so PRAGMA main.user_version reads on.
            if bytes.get(i) == Some(&b'.') {
                i += 1;
                words.pop();
            }
        } else {
            break;
        }
    }
    words
}

/// Where a comment starting at `i` ends, if one starts there.
fn comment_end(bytes: &[u8], i: usize) -> Option<usize> {
    match (bytes.get(i), bytes.get(i + 1)) {
        (Some(b'-'), Some(b'-')) => Some(
            bytes[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| i + p + 1),
        ),
        (Some(b'/'), Some(b'*')) => Some(
            bytes[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |p| i + 2 + p + 2),
        ),
        _ => None,
    }
}

/// Splits `sql` at top-level semicolons (outside strings, quoted names and
/// comments) and returns the statements that hold more than whitespace and
/// comments, trimmed.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut content) = (0usize, 0usize, false);
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(end) = comment_end(bytes, i) {
            i = end;
            continue;
        }
        match b {
            b';' => {
                if content {
                    out.push(sql[start..i].trim());
                }
                start = i + 1;
                content = false;
                i += 1;
                continue;
            }
            b'\'' | b'"' | b'`' => {
                i = quoted_end(bytes, i, b);
                content = true;
                continue;
            }
            b'[' => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                content = true;
                continue;
            }
            _ if b.is_ascii_whitespace() => {}
            _ => content = true,
        }
        i += 1;
    }
    if content {
        out.push(sql[start..].trim());
    }
    out
}

/// The index just past a quoted token starting at `i` (a doubled quote
/// stands for itself), or the end of the text when it is not closed.
fn quoted_end(bytes: &[u8], i: usize, quote: u8) -> usize {
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}
