//! Column type inference: what a new table's columns become, from the
//! values the first pass over the file sees.

use serde::Serialize;

use super::source::Cell;

/// The type import gives a new column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InferredType {
    Integer,
    Real,
    Text,
    /// Every value was true or false: stored as INTEGER 1 or 0.
    Boolean,
}

impl InferredType {
    pub fn sql(self) -> &'static str {
        match self {
            InferredType::Integer | InferredType::Boolean => "INTEGER",
            InferredType::Real => "REAL",
            InferredType::Text => "TEXT",
        }
    }
}

/// What one column's values looked like.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ColumnStats {
    ints: u64,
    reals: u64,
    bools: u64,
    texts: u64,
}

impl ColumnStats {
    pub(super) fn observe(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Missing | Cell::Null => {}
            // An empty quoted field says nothing about the type: it is
            // empty text in a text column and NULL in a number column.
            Cell::Field("", _) => {}
            Cell::Field(text, _) => match classify(text) {
                TextKind::Int => self.ints += 1,
                TextKind::Real => self.reals += 1,
                TextKind::Bool => self.bools += 1,
                TextKind::Text => self.texts += 1,
            },
            Cell::Str(_) => self.texts += 1,
            Cell::Int(_) => self.ints += 1,
            Cell::Real(_) => self.reals += 1,
            Cell::Bool(_) => self.bools += 1,
        }
    }

    pub(super) fn inferred(&self) -> InferredType {
        if self.texts > 0 {
            InferredType::Text
        } else if self.bools > 0 {
            if self.ints + self.reals == 0 {
                InferredType::Boolean
            } else {
                InferredType::Text
            }
        } else if self.reals > 0 {
            InferredType::Real
        } else if self.ints > 0 {
            InferredType::Integer
        } else {
            InferredType::Text
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Int,
    Real,
    Bool,
    Text,
}

/// What a CSV field holds. Numbers must be written plainly: a leading zero
/// (`02134`), a `+` (`+14155550100`), spaces, or more digits than an
/// INTEGER holds keep a value as text, since those are codes, not numbers.
fn classify(text: &str) -> TextKind {
    if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        return TextKind::Bool;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i = 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if int_digits == 0 || (int_digits > 1 && bytes[int_start] == b'0') {
        return TextKind::Text;
    }
    if i == bytes.len() {
        return if text.parse::<i64>().is_ok() {
            TextKind::Int
        } else {
            TextKind::Text
        };
    }
    let mut decimal = false;
    if bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return TextKind::Text;
        }
        decimal = true;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return TextKind::Text;
        }
        decimal = true;
    }
    if decimal && i == bytes.len() && text.parse::<f64>().is_ok_and(f64::is_finite) {
        TextKind::Real
    } else {
        TextKind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_keeps_codes_as_text() {
        for (text, kind) in [
            ("0", TextKind::Int),
            ("-17", TextKind::Int),
            ("42", TextKind::Int),
            ("02134", TextKind::Text),
            ("+14155550100", TextKind::Text),
            ("555-0100", TextKind::Text),
            ("12345678901234567890", TextKind::Text),
            ("3.25", TextKind::Real),
            ("-0.5", TextKind::Real),
            ("1e16", TextKind::Real),
            ("2.5E-3", TextKind::Real),
            ("1.", TextKind::Text),
            (".5", TextKind::Text),
            ("00.5", TextKind::Text),
            ("TRUE", TextKind::Bool),
            ("false", TextKind::Bool),
            (" 1", TextKind::Text),
            ("NaN", TextKind::Text),
            ("inf", TextKind::Text),
        ] {
            assert_eq!(classify(text), kind, "{text}");
        }
    }
}
