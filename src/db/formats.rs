//! Recognises the shape of text values (emails, phones, dates, codes...).
//!
//! The classifier is registered as SQL functions so the column profile can
//! count formats with `GROUP BY` inside SQLite: `rowsmith_format(v)` names
//! the format and `rowsmith_shape(v)` abstracts a value into a pattern such as
//! `(999) 999-9999` or `AAA-999999`.

use std::sync::LazyLock;

use regex::Regex;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use serde::{Deserialize, Serialize};

/// A recognised text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Email,
    Url,
    Uuid,
    Phone,
    IsoDate,
    IsoDateTime,
    Time,
    IntegerText,
    DecimalText,
    /// Letters, an optional separator and digits: `INV-000123`, `SKU00012`.
    Code,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Email => "email",
            Format::Url => "url",
            Format::Uuid => "uuid",
            Format::Phone => "phone",
            Format::IsoDate => "iso_date",
            Format::IsoDateTime => "iso_datetime",
            Format::Time => "time",
            Format::IntegerText => "integer_text",
            Format::DecimalText => "decimal_text",
            Format::Code => "code",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        ALL.iter().copied().find(|f| f.as_str() == name)
    }

    /// Dates and datetimes sort chronologically as text.
    pub fn is_temporal(self) -> bool {
        matches!(self, Format::IsoDate | Format::IsoDateTime)
    }
}

const ALL: [Format; 10] = [
    Format::Email,
    Format::Url,
    Format::Uuid,
    Format::Phone,
    Format::IsoDate,
    Format::IsoDateTime,
    Format::Time,
    Format::IntegerText,
    Format::DecimalText,
    Format::Code,
];

macro_rules! regex {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($re).expect("valid regex"));
    };
}

regex!(
    EMAIL,
    r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
);
regex!(URL, r"^(?i:https?|ftp)://[^\s/$.?#][^\s]*$");
regex!(
    UUID,
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
);
regex!(DATE, r"^(\d{4})-(\d{2})-(\d{2})$");
regex!(
    DATETIME,
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
);
regex!(TIME, r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?$");
regex!(INTEGER, r"^[+-]?\d+$");
regex!(DECIMAL, r"^[+-]?\d+\.\d+$");
regex!(PHONE, r"^\+?[0-9 ().-]{7,24}(\s*(x|ext\.?)\s*\d{1,6})?$");
regex!(CODE, r"^[A-Za-z]{1,8}[-_/#.]?\d{2,}$");

fn plausible_date(y: &str, m: &str, d: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    (1..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// Names the format of one text value, or `None` for free text.
pub fn classify(text: &str) -> Option<Format> {
    let t = text.trim();
    if t.is_empty() || t.len() != text.len() {
        return None;
    }
    // Every format but free text has a digit, an '@' or "://": most words
    // and sentences leave here without touching a regex.
    if !t.bytes().any(|b| b.is_ascii_digit() || b == b'@') && !t.contains("://") {
        return None;
    }
    if let Some(c) = DATE.captures(t) {
        return plausible_date(&c[1], &c[2], &c[3]).then_some(Format::IsoDate);
    }
    if let Some(c) = DATETIME.captures(t) {
        return plausible_date(&c[1], &c[2], &c[3]).then_some(Format::IsoDateTime);
    }
    if TIME.is_match(t) {
        return Some(Format::Time);
    }
    if INTEGER.is_match(t) {
        return Some(Format::IntegerText);
    }
    if DECIMAL.is_match(t) {
        return Some(Format::DecimalText);
    }
    if UUID.is_match(t) {
        return Some(Format::Uuid);
    }
    if EMAIL.is_match(t) {
        return Some(Format::Email);
    }
    if URL.is_match(t) {
        return Some(Format::Url);
    }
    if PHONE.is_match(t) {
        let digits = t.chars().filter(char::is_ascii_digit).count();
        if (7..=15).contains(&digits) {
            return Some(Format::Phone);
        }
    }
    if CODE.is_match(t) {
        return Some(Format::Code);
    }
    None
}

/// Whether `text` is in format `f`, testing that format alone: what a check of many values
/// against one known format needs ([`classify`] tries every format in turn).
pub fn has_format(text: &str, f: Format) -> bool {
    let t = text.trim();
    if t.is_empty() || t.len() != text.len() {
        return false;
    }
    match f {
        Format::Email => EMAIL.is_match(t),
        Format::Url => URL.is_match(t),
        Format::Uuid => UUID.is_match(t),
        Format::Phone => {
            PHONE.is_match(t) && (7..=15).contains(&t.chars().filter(char::is_ascii_digit).count())
        }
        Format::IsoDate => DATE
            .captures(t)
            .is_some_and(|c| plausible_date(&c[1], &c[2], &c[3])),
        Format::IsoDateTime => DATETIME
            .captures(t)
            .is_some_and(|c| plausible_date(&c[1], &c[2], &c[3])),
        Format::Time => TIME.is_match(t),
        Format::IntegerText => INTEGER.is_match(t),
        Format::DecimalText => DECIMAL.is_match(t),
        Format::Code => CODE.is_match(t),
    }
}

/// Abstracts a value into its pattern: digits become `9`, upper-case letters
/// `A`, lower-case letters `a`, everything else stays. Long values are cut so
/// free text does not produce endless distinct shapes.
pub fn shape(text: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::with_capacity(text.len().min(MAX + 1));
    for (i, ch) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.push(match ch {
            '0'..='9' => '9',
            c if c.is_uppercase() => 'A',
            c if c.is_lowercase() => 'a',
            c => c,
        });
    }
    out
}

/// The literal prefix and digit width of a code such as `INV-000123`
/// (`("INV-", 6)`), or `None` when the value is not a code.
pub fn code_parts(text: &str) -> Option<(String, usize)> {
    if !CODE.is_match(text) {
        return None;
    }
    let digits_at = text.find(|c: char| c.is_ascii_digit())?;
    Some((text[..digits_at].to_string(), text.len() - digits_at))
}

/// Makes `rowsmith_format(v)` and `rowsmith_shape(v)` available to SQL on
/// this connection. Non-text arguments give NULL.
pub fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("rowsmith_format", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(classify)
                .map(Format::as_str),
            _ => None,
        })
    })?;
    conn.create_scalar_function("rowsmith_shape", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok().map(shape),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_format_agrees_with_classify() {
        for text in [
            "ada@example.com",
            "https://example.com/a",
            "(215) 555-0123",
            "2024-02-29",
            "2024-02-30",
            "2024-02-29 10:11:12",
            "10:11",
            "42",
            "4.5",
            "INV-000123",
            "550e8400-e29b-41d4-a716-446655440000",
            "Let There Be Rock",
        ] {
            for f in ALL {
                if classify(text) == Some(f) {
                    assert!(has_format(text, f), "{text} is {f:?}");
                }
            }
        }
        assert!(!has_format("2024-13-01", Format::IsoDate));
        assert!(!has_format("(1200) 793-48", Format::Email));
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;

    #[test]
    fn classifies_common_formats() {
        let cases = [
            ("jane.doe@example.com", Some(Format::Email)),
            ("https://example.com/a?b=c", Some(Format::Url)),
            ("123e4567-e89b-12d3-a456-426614174000", Some(Format::Uuid)),
            ("(512) 555-0142", Some(Format::Phone)),
            ("+44 20 7946 0958", Some(Format::Phone)),
            ("555-867-5309", Some(Format::Phone)),
            ("2024-02-29", Some(Format::IsoDate)),
            ("2024-13-01", None),
            ("2024-02-29 13:45:00", Some(Format::IsoDateTime)),
            ("2024-02-29T13:45:00.123Z", Some(Format::IsoDateTime)),
            ("13:45", Some(Format::Time)),
            ("00042", Some(Format::IntegerText)),
            ("-3.25", Some(Format::DecimalText)),
            ("INV-000123", Some(Format::Code)),
            ("SKU00012", Some(Format::Code)),
            ("hello world", None),
            (" padded", None),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), want, "{text}");
        }
    }

    #[test]
    fn shapes_and_code_parts() {
        assert_eq!(shape("(512) 555-0142"), "(999) 999-9999");
        assert_eq!(shape("INV-000123"), "AAA-999999");
        assert_eq!(shape("Ab1"), "Aa9");
        assert_eq!(code_parts("INV-000123"), Some(("INV-".into(), 6)));
        assert_eq!(code_parts("nope"), None);
    }

    #[test]
    fn sql_functions_work_inside_sqlite() -> TestResult {
        let conn = Connection::open_in_memory()?;
        register_sql_functions(&conn)?;
        let (f, s): (Option<String>, Option<String>) = conn.query_row(
            "SELECT rowsmith_format('a@b.io'), rowsmith_shape('X-12')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        assert_eq!(f.as_deref(), Some("email"));
        assert_eq!(s.as_deref(), Some("A-99"));
        let null: Option<String> =
            conn.query_row("SELECT rowsmith_format(42)", [], |r| r.get(0))?;
        assert_eq!(null, None);
        Ok(())
    }
}
