//! The one SQLite tokenizer. The CREATE TABLE reader (`sql_text`) and the query
//! gate (`query::statements`) both read SQL through it, so they cannot disagree
//! about where a string, a quoted name or a comment ends.
//!
//! Whitespace and both comment forms are skipped. A block comment left open runs
//! to the end of the text, as in SQLite; a string or quoted name left open does
//! too, as one `Unterminated` token, so nothing after its opening quote is ever
//! read as a word or a `;`. Bytes from 0x80 up are identifier characters, as in
//! SQLite, so a word here is the word SQLite sees.

/// What a token is; its text is `sql[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword or bare name: a letter, `_` or non-ASCII character, then
    /// those, digits and `$`.
    Word,
    /// A run of word characters that starts with a digit. Neither reader needs
    /// values, so `1.5` is a number, `.`, a number.
    Number,
    /// `'…'`, a doubled quote standing for one.
    Str,
    /// `"…"` or `` `…` `` (a doubled quote standing for one), or `[…]`.
    Quoted,
    /// A string or quoted name with no closing quote: it runs to the end.
    Unterminated,
    Open,
    Close,
    Comma,
    Semicolon,
    /// Any other character: operators, `.`, the `?`, `:`, `@`, `$` of parameters.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Byte range in the source text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }

    /// The text of a bare word, as written.
    pub fn word<'a>(&self, sql: &'a str) -> Option<&'a str> {
        (self.kind == Kind::Word).then(|| self.text(sql))
    }

    /// Whether this is the bare word `word`, in any ASCII case.
    pub fn is_word(&self, sql: &str, word: &str) -> bool {
        self.word(sql).is_some_and(|w| w.eq_ignore_ascii_case(word))
    }

    /// The name the token stands for: a quoted name without its quotes,
    /// anything else as written.
    pub fn name(&self, sql: &str) -> String {
        let text = self.text(sql);
        if self.kind != Kind::Quoted {
            return text.to_string();
        }
        // A closed quoted name holds both quotes, one ASCII byte each.
        let inner = &text[1..text.len() - 1];
        match &text[..1] {
            "[" => inner.to_string(),
            q => inner.replace(&q.repeat(2), q),
        }
    }
}

/// The tokens of `sql`, in order, read lazily.
pub(crate) fn tokens(sql: &str) -> Tokens<'_> {
    Tokens {
        bytes: sql.as_bytes(),
        i: 0,
    }
}

pub(crate) struct Tokens<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.bytes;
        loop {
            let start = self.i;
            let &c = bytes.get(start)?;
            let (kind, end) = match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                    self.i += 1;
                    continue;
                }
                b'-' if bytes.get(start + 1) == Some(&b'-') => {
                    self.i = find(bytes, start + 2, b"\n").map_or(bytes.len(), |p| p + 1);
                    continue;
                }
                b'/' if bytes.get(start + 1) == Some(&b'*') => {
                    self.i = find(bytes, start + 2, b"*/").map_or(bytes.len(), |p| p + 2);
                    continue;
                }
                b'\'' | b'"' | b'`' => match quoted_end(bytes, start, c) {
                    Some(end) if c == b'\'' => (Kind::Str, end),
                    Some(end) => (Kind::Quoted, end),
                    None => (Kind::Unterminated, bytes.len()),
                },
                // No escape inside brackets: the first `]` closes.
                b'[' => match find(bytes, start + 1, b"]") {
                    Some(p) => (Kind::Quoted, p + 1),
                    None => (Kind::Unterminated, bytes.len()),
                },
                b'(' => (Kind::Open, start + 1),
                b')' => (Kind::Close, start + 1),
                b',' => (Kind::Comma, start + 1),
                b';' => (Kind::Semicolon, start + 1),
                _ if is_word_byte(c) && c != b'$' => {
                    let end = bytes[start..]
                        .iter()
                        .position(|&b| !is_word_byte(b))
                        .map_or(bytes.len(), |p| start + p);
                    let kind = if c.is_ascii_digit() {
                        Kind::Number
                    } else {
                        Kind::Word
                    };
                    (kind, end)
                }
                _ => (Kind::Other, start + 1),
            };
            self.i = end;
            return Some(Token { kind, start, end });
        }
    }
}

/// A byte that may continue a word (`$` may not start one).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Where `needle` next occurs at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The index just past the quoted run opening at `i` (a doubled quote stands
/// for itself), or `None` when it is not closed.
fn quoted_end(bytes: &[u8], i: usize, quote: u8) -> Option<usize> {
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) != Some(&quote) {
                return Some(j + 1);
            }
            j += 1;
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each token as its kind and text.
    fn lex(sql: &str) -> Vec<(Kind, &str)> {
        tokens(sql).map(|t| (t.kind, t.text(sql))).collect()
    }

    #[test]
    fn reads_each_kind_of_token() {
        use Kind::*;
        assert_eq!(
            lex("SELECT a_1$, 'x' \"n\" `m` [o p] (1.5);\u{e9}t? -- c\n/* d */ :v"),
            vec![
                (Word, "SELECT"),
                (Word, "a_1$"),
                (Comma, ","),
                (Str, "'x'"),
                (Quoted, "\"n\""),
                (Quoted, "`m`"),
                (Quoted, "[o p]"),
                (Open, "("),
                (Number, "1"),
                (Other, "."),
                (Number, "5"),
                (Close, ")"),
                (Semicolon, ";"),
                (Word, "\u{e9}t"),
                (Other, "?"),
                (Other, ":"),
                (Word, "v"),
            ]
        );
        assert_eq!(lex("$x"), vec![(Other, "$"), (Word, "x")]);
        assert!(lex(" \t\r\n\x0c-- only\n/* comments */").is_empty());
    }

    #[test]
    fn doubled_quotes_stay_inside() {
        use Kind::*;
        let sql = "'it''s' \"a\"\"b\" `c``d` [e\"f]";
        assert_eq!(
            lex(sql),
            vec![
                (Str, "'it''s'"),
                (Quoted, "\"a\"\"b\""),
                (Quoted, "`c``d`"),
                (Quoted, "[e\"f]"),
            ]
        );
        let names: Vec<String> = tokens(sql).map(|t| t.name(sql)).collect();
        assert_eq!(names, vec!["'it''s'", "a\"b", "c`d", "e\"f"]);
    }

    #[test]
    fn a_semicolon_inside_a_string_comment_or_name_is_not_one() {
        for sql in [
            "'a;b'",
            "'a'';b'",
            "\"a;b\"",
            "`a;b`",
            "[a;b]",
            "-- a;b",
            "/* a;b */",
        ] {
            assert!(tokens(sql).all(|t| t.kind != Kind::Semicolon), "{sql}");
        }
        assert_eq!(
            lex("x -- a;\n;"),
            vec![(Kind::Word, "x"), (Kind::Semicolon, ";")]
        );
    }

    #[test]
    fn what_is_left_open_runs_to_the_end() {
        use Kind::*;
        assert_eq!(
            lex("SELECT 'a; DROP TABLE t"),
            vec![(Word, "SELECT"), (Unterminated, "'a; DROP TABLE t")]
        );
        assert_eq!(lex("'a''"), vec![(Unterminated, "'a''")]);
        assert_eq!(lex("[a; b"), vec![(Unterminated, "[a; b")]);
        assert_eq!(lex("\"a;"), vec![(Unterminated, "\"a;")]);
        assert_eq!(
            lex("SELECT 1 /* ; DROP TABLE t"),
            vec![(Word, "SELECT"), (Number, "1")]
        );
        // `/*/` does not close itself.
        assert_eq!(lex("/*/ ; */ x"), vec![(Word, "x")]);
    }

    #[test]
    fn nested_parentheses_keep_their_byte_ranges() {
        let sql = "f(a, (b))";
        let parens: Vec<(Kind, usize, usize)> = tokens(sql)
            .filter(|t| matches!(t.kind, Kind::Open | Kind::Close))
            .map(|t| (t.kind, t.start, t.end))
            .collect();
        assert_eq!(
            parens,
            vec![
                (Kind::Open, 1, 2),
                (Kind::Open, 5, 6),
                (Kind::Close, 7, 8),
                (Kind::Close, 8, 9),
            ]
        );
        let b = tokens(sql).find(|t| t.is_word(sql, "B"));
        assert_eq!(b.map(|t| (t.start, t.end)), Some((6, 7)));
    }
}
