//! Our CSV reader and writer (RFC 4180, see the module docs for the
//! dialect): the reader keeps each field's quoting and the line each record
//! starts on; the writer quotes only what needs it, so an unquoted empty
//! field is NULL and a quoted one (`""`) is empty text.

use std::io::{Read, Write};

use rusqlite::types::ValueRef;

use super::refusal::LineProblem;
use super::source::{ByteSource, Cell, Place};
use crate::db::DbError;

/// Reads CSV records one at a time.
pub(super) struct CsvReader<R> {
    src: ByteSource<R>,
    delimiter: u8,
    /// The line the next byte is on.
    line: u64,
    /// The current record's text, fields as ranges into it.
    text: String,
    fields: Vec<(usize, usize, bool)>,
    /// The line the current record starts on.
    pub(super) record_line: u64,
    place: Place,
}

impl<R: Read> CsvReader<R> {
    pub(super) fn new(inner: R, delimiter: u8, place: Place) -> Result<Self, DbError> {
        let mut src = ByteSource::new(inner, &place.name);
        src.skip_bom()?;
        Ok(Self {
            src,
            delimiter,
            line: 1,
            text: String::new(),
            fields: Vec::new(),
            record_line: 1,
            place,
        })
    }

    pub(super) fn field(&self, i: usize) -> Cell<'_> {
        match self.fields.get(i) {
            Some(&(start, end, quoted)) => {
                let text = self.text.get(start..end).unwrap_or("");
                if text.is_empty() && !quoted {
                    Cell::Null
                } else {
                    Cell::Field(text, quoted)
                }
            }
            None => Cell::Null,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.fields.len()
    }

    /// Bytes of the file read so far.
    pub(super) fn bytes(&self) -> u64 {
        self.src.consumed
    }

    /// A line with nothing on it.
    pub(super) fn is_blank(&self) -> bool {
        matches!(self.fields.as_slice(), [(s, e, false)] if s == e)
    }

    /// Sets the most bytes one record may hold.
    pub(super) fn set_record_limit(&mut self, limit: usize) {
        self.src.limit = limit;
    }

    /// Reads the next record; false at the end of the file.
    pub(super) fn read_record(&mut self) -> Result<bool, DbError> {
        let mut data = std::mem::take(&mut self.text).into_bytes();
        data.clear();
        self.fields.clear();
        self.record_line = self.line;
        if self.src.peek()?.is_none() {
            self.text = String::from_utf8(data).unwrap_or_default();
            return Ok(false);
        }
        loop {
            let start = data.len();
            let quoted = self.src.peek()? == Some(b'"');
            if quoted {
                self.src.bump();
                let open_line = self.line;
                loop {
                    self.src
                        .take_until(&mut data, |b| matches!(b, b'"' | b'\n' | b'\r'))?;
                    match self.src.next()? {
                        None => {
                            return Err(self
                                .place
                                .malformed(open_line, LineProblem::QuoteNotClosed));
                        }
                        Some(b'"') => {
                            if self.src.peek()? == Some(b'"') {
                                self.src.bump();
                                data.push(b'"');
                            } else {
                                break;
                            }
                        }
                        Some(b) => {
                            if b == b'\n' || (b == b'\r' && self.src.peek()? != Some(b'\n')) {
                                self.line += 1;
                            }
                            data.push(b);
                            if data.len() > self.src.limit {
                                return Err(self.src.record_too_big());
                            }
                        }
                    }
                }
                match self.src.peek()? {
                    None | Some(b'\n' | b'\r') => {}
                    Some(b) if b == self.delimiter => {}
                    Some(_) => {
                        return Err(self.place.malformed(self.line, LineProblem::TextAfterQuote));
                    }
                }
            } else {
                let delimiter = self.delimiter;
                self.src
                    .take_until(&mut data, |b| b == delimiter || b == b'\n' || b == b'\r')?;
            }
            self.fields.push((start, data.len(), quoted));
            match self.src.next()? {
                Some(b'\r') => {
                    if self.src.peek()? == Some(b'\n') {
                        self.src.bump();
                    }
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.line += 1;
                    break;
                }
                Some(_) => continue, // the delimiter
                None => break,
            }
        }
        match String::from_utf8(data) {
            Ok(text) => {
                self.text = text;
                Ok(true)
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                Err(self.place.not_utf8(self.record_line, &bytes[..valid]))
            }
        }
    }
}

/// Writes rows as CSV in rowsmith's one dialect, for every export (tables, query results,
/// `query --format csv`): NULL is an empty field, empty text is `""`, reals keep a decimal
/// point or an exponent, blobs are hex. Our import reads it back value for value.
pub struct CsvWriter<W: Write> {
    out: W,
    line: Vec<u8>,
    neutralize_formulas: bool,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            line: Vec::with_capacity(1024),
            neutralize_formulas: false,
        }
    }

    /// Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
    /// leading `'` (`export --neutralize-formulas`).
    pub fn neutralize_formulas(mut self, on: bool) -> Self {
        self.neutralize_formulas = on;
        self
    }

    /// The header: column names as text (an empty name is quoted, so the width holds).
    pub fn header<S: AsRef<str>>(&mut self, names: &[S]) -> std::io::Result<()> {
        self.line.clear();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            push_csv_text(&mut self.line, name.as_ref().as_bytes());
        }
        self.end_line()
    }

    pub fn row<'a>(
        &mut self,
        values: impl IntoIterator<Item = ValueRef<'a>>,
    ) -> std::io::Result<()> {
        self.line.clear();
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            match value {
                ValueRef::Text(t) if self.neutralize_formulas && starts_a_formula(t) => {
                    let mut guarded = Vec::with_capacity(t.len() + 1);
                    guarded.push(b'\'');
                    guarded.extend_from_slice(t);
                    push_csv_text(&mut self.line, &guarded);
                }
                other => push_csv_value(&mut self.line, other),
            }
        }
        self.end_line()
    }

    fn end_line(&mut self) -> std::io::Result<()> {
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Whether a spreadsheet would take this text as a formula.
fn starts_a_formula(text: &[u8]) -> bool {
    matches!(
        text.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Appends one value as a CSV field.
pub(super) fn push_csv_value(line: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        // NULL is the only empty field without quotes.
        ValueRef::Null => {}
        ValueRef::Integer(i) => {
            let _ = write!(line, "{i}");
        }
        ValueRef::Real(f) => push_real(line, f),
        ValueRef::Text(t) => push_csv_text(line, t),
        ValueRef::Blob(b) => {
            if b.is_empty() {
                line.extend_from_slice(b"\"\"");
            }
            for byte in b {
                line.push(HEX[(byte >> 4) as usize]);
                line.push(HEX[(byte & 0xf) as usize]);
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reals keep a decimal point or an exponent: `3.0`, `0.1`, `1e16`. Rust's
/// `{:?}` prints the shortest text that reads back as the same number.
fn push_real(line: &mut Vec<u8>, f: f64) {
    let _ = write!(line, "{f:?}");
}

/// Appends text, quoted when it is empty or holds a comma, quote or line
/// break (quotes inside are doubled).
pub(super) fn push_csv_text(line: &mut Vec<u8>, text: &[u8]) {
    let needs_quotes = text.is_empty()
        || text
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        line.extend_from_slice(text);
        return;
    }
    line.push(b'"');
    for &b in text {
        if b == b'"' {
            line.push(b'"');
        }
        line.push(b);
    }
    line.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    type Records = Vec<(u64, Vec<(String, bool)>)>;

    fn csv_records(text: &str) -> Result<Records, DbError> {
        let mut reader = CsvReader::new(
            text.as_bytes(),
            b',',
            Place {
                name: "t.csv".into(),
            },
        )?;
        let mut out = Vec::new();
        while reader.read_record()? {
            let fields = reader
                .fields
                .iter()
                .map(|&(s, e, q)| (reader.text[s..e].to_string(), q))
                .collect();
            out.push((reader.record_line, fields));
        }
        Ok(out)
    }

    fn f(text: &str, quoted: bool) -> (String, bool) {
        (text.to_string(), quoted)
    }

    #[test]
    fn csv_reader_keeps_quotes_lines_and_empties_apart() {
        let records = csv_records("a,b\r\n\"x,\"\"y\"\"\",\n\"multi\nline\",\"\"\nlast,1").unwrap();
        assert_eq!(
            records,
            vec![
                (1, vec![f("a", false), f("b", false)]),
                (2, vec![f("x,\"y\"", true), f("", false)]),
                (3, vec![f("multi\nline", true), f("", true)]),
                (5, vec![f("last", false), f("1", false)]),
            ]
        );
    }

    #[test]
    fn csv_reader_names_the_line_of_errors() {
        let e = csv_records("a,b\n1,2\n\"open,3\n4,5\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv line 3: a quoted field starts here and is never closed. Nothing was imported."
        );
        let e = csv_records("a\n\"x\"y\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv line 2: there is text after the closing quote"),
            "{e}"
        );
        let mut bytes = b"a\nok\n\"two\nlines \xff\"\n".to_vec();
        bytes.extend_from_slice(b"z\n");
        let mut reader = CsvReader::new(
            &bytes[..],
            b',',
            Place {
                name: "t.csv".into(),
            },
        )
        .unwrap();
        assert!(reader.read_record().unwrap());
        assert!(reader.read_record().unwrap());
        let e = reader.read_record().unwrap_err().to_string();
        assert_eq!(
            e,
            "t.csv line 4: the text is not valid UTF-8 (save the file as UTF-8 and try again). Nothing was imported."
        );
    }

    #[test]
    fn csv_writer_quotes_only_what_needs_it() {
        let mut line = Vec::new();
        for (i, v) in [
            ValueRef::Null,
            ValueRef::Text(b""),
            ValueRef::Text(b"a,b"),
            ValueRef::Text(b"say \"hi\""),
            ValueRef::Integer(-3),
            ValueRef::Real(3.0),
            ValueRef::Real(1e16),
            ValueRef::Real(0.1),
            ValueRef::Blob(&[0, 255, 16]),
            ValueRef::Text("日本".as_bytes()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                line.push(b',');
            }
            push_csv_value(&mut line, v);
        }
        assert_eq!(
            String::from_utf8(line).unwrap(),
            ",\"\",\"a,b\",\"say \"\"hi\"\"\",-3,3.0,1e16,0.1,00ff10,日本"
        );
    }
}
