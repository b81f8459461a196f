//! The JSON reader: a JSON array of objects or JSON Lines, read one object
//! at a time (never the whole file), each with the line it starts on and its
//! keys in file order.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::refusal::{JsonFound, LineProblem};
use super::source::{ByteSource, Cell, Place};
use crate::db::DbError;
/// A JSON value of one row, owned.
#[derive(Debug, Clone, PartialEq)]
enum JsonCell {
    Missing,
    Null,
    Str(String),
    Int(i64),
    Real(f64),
    Bool(bool),
}

impl JsonCell {
    fn from_json(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => JsonCell::Null,
            serde_json::Value::Bool(b) => JsonCell::Bool(b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => JsonCell::Int(i),
                // Beyond i64: keep every digit as text.
                (None, Some(_), _) => JsonCell::Str(n.to_string()),
                (None, None, Some(f)) => JsonCell::Real(f),
                _ => JsonCell::Str(n.to_string()),
            },
            serde_json::Value::String(s) => JsonCell::Str(s),
            nested @ (serde_json::Value::Array(_) | serde_json::Value::Object(_)) => {
                JsonCell::Str(nested.to_string())
            }
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            JsonCell::Missing => Cell::Missing,
            JsonCell::Null => Cell::Null,
            JsonCell::Str(s) => Cell::Str(s),
            JsonCell::Int(i) => Cell::Int(*i),
            JsonCell::Real(f) => Cell::Real(*f),
            JsonCell::Bool(b) => Cell::Bool(*b),
        }
    }
}

/// A JSON object with its keys in file order.
struct OrderedObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedObject(entries))
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    Start,
    AfterValue,
    Done,
}

/// Reads objects one at a time from a JSON array or JSON Lines, each with
/// the line it starts on.
pub(super) struct JsonReader<R> {
    src: ByteSource<R>,
    array: bool,
    state: JsonState,
    line: u64,
    buf: Vec<u8>,
    /// The line the current object starts on.
    pub(super) record_line: u64,
    /// Keys in first-seen order, and where each one goes.
    pub(super) keys: Vec<String>,
    index: HashMap<String, usize>,
    /// Whether unseen keys add columns (first pass) or are an error.
    allow_new_keys: bool,
    cells: Vec<JsonCell>,
    place: Place,
}

impl<R: Read> JsonReader<R> {
    pub(super) fn new(
        inner: R,
        array: bool,
        keys: Vec<String>,
        allow_new_keys: bool,
        place: Place,
    ) -> Result<Self, DbError> {
        let mut src = ByteSource::new(inner, &place.name);
        src.skip_bom()?;
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Ok(Self {
            src,
            array,
            state: JsonState::Start,
            line: 1,
            buf: Vec::new(),
            record_line: 1,
            keys,
            index,
            allow_new_keys,
            cells: Vec::new(),
            place,
        })
    }

    /// Sets the most bytes one record may hold.
    pub(super) fn set_record_limit(&mut self, limit: usize) {
        self.src.limit = limit;
    }

    pub(super) fn cell(&self, i: usize) -> Cell<'_> {
        self.cells
            .get(i)
            .map(JsonCell::cell)
            .unwrap_or(Cell::Missing)
    }

    /// Bytes of the file read so far.
    pub(super) fn bytes(&self) -> u64 {
        self.src.consumed
    }

    fn skip_ws(&mut self) -> Result<(), DbError> {
        while let Some(b) = self.src.peek()? {
            match b {
                b' ' | b'\t' => self.src.bump(),
                b'\n' => {
                    self.src.bump();
                    self.line += 1;
                }
                b'\r' => {
                    self.src.bump();
                    if self.src.peek()? != Some(b'\n') {
                        self.line += 1;
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Reads the next object; false at the end.
    pub(super) fn read_record(&mut self) -> Result<bool, DbError> {
        if self.array {
            match self.state {
                JsonState::Done => return Ok(false),
                JsonState::Start => {
                    self.skip_ws()?;
                    if self.src.next()? != Some(b'[') {
                        return Err(self.place.malformed(self.line, LineProblem::ArrayNotOpened));
                    }
                    self.skip_ws()?;
                    if self.src.peek()? == Some(b']') {
                        self.src.bump();
                        return self.finish_array();
                    }
                }
                JsonState::AfterValue => {
                    self.skip_ws()?;
                    match self.src.next()? {
                        Some(b',') => self.skip_ws()?,
                        Some(b']') => return self.finish_array(),
                        None => {
                            return Err(self
                                .place
                                .malformed(self.line, LineProblem::ArrayNotClosed));
                        }
                        Some(_) => {
                            return Err(self.place.malformed(self.line, LineProblem::NoSeparator));
                        }
                    }
                }
            }
            self.state = JsonState::AfterValue;
        } else {
            self.skip_ws()?;
            if self.src.peek()?.is_none() {
                return Ok(false);
            }
        }
        self.record_line = self.line;
        self.scan_value()?;
        self.parse_object()?;
        Ok(true)
    }

    fn finish_array(&mut self) -> Result<bool, DbError> {
        self.state = JsonState::Done;
        self.skip_ws()?;
        if self.src.peek()?.is_some() {
            return Err(self.place.malformed(self.line, LineProblem::TextAfterArray));
        }
        Ok(false)
    }

    /// Copies one JSON value's bytes into `buf`, counting lines.
    fn scan_value(&mut self) -> Result<(), DbError> {
        self.buf.clear();
        let start = self.line;
        let Some(first) = self.src.peek()? else {
            return Err(self.place.malformed(self.line, LineProblem::ObjectMissing));
        };
        match first {
            b'{' | b'[' => {
                let (mut depth, mut in_string, mut escaped) = (0u64, false, false);
                loop {
                    let Some(b) = self.src.next()? else {
                        return Err(self.place.malformed(start, LineProblem::ObjectNotClosed));
                    };
                    self.buf.push(b);
                    if self.buf.len() > self.src.limit {
                        return Err(self.src.record_too_big());
                    }
                    if b == b'\n' {
                        self.line += 1;
                    }
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                // A string, number or literal where an object should be:
                // take it whole so the error can say what it is.
                let mut in_string = false;
                let mut escaped = false;
                while let Some(b) = self.src.peek()? {
                    if !in_string && (b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'}')) {
                        break;
                    }
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                    } else if b == b'"' {
                        in_string = true;
                    }
                    self.src.bump();
                    self.buf.push(b);
                    if self.buf.len() > self.src.limit {
                        return Err(self.src.record_too_big());
                    }
                }
                Ok(())
            }
        }
    }

    fn parse_object(&mut self) -> Result<(), DbError> {
        if let Err(e) = std::str::from_utf8(&self.buf) {
            return Err(self
                .place
                .not_utf8(self.record_line, &self.buf[..e.valid_up_to()]));
        }
        let found = match self.buf.first() {
            Some(b'{') => None,
            None => Some(JsonFound::Nothing),
            Some(b'[') => Some(JsonFound::Array),
            Some(b'"') => Some(JsonFound::String),
            Some(b't' | b'f') => Some(JsonFound::Boolean),
            Some(b'n') => Some(JsonFound::Null),
            Some(b'-' | b'0'..=b'9') => Some(JsonFound::Number),
            _ => Some(JsonFound::NotJson),
        };
        if let Some(found) = found {
            return Err(self
                .place
                .malformed(self.record_line, LineProblem::NotAnObject { found }));
        }
        let object: OrderedObject = serde_json::from_slice(&self.buf).map_err(|e| {
            let line = self.record_line + (e.line().max(1) as u64) - 1;
            let text = e.to_string();
            let text = match text.find(" at line ") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            self.place
                .malformed(line, LineProblem::InvalidJson { detail: text })
        })?;
        self.cells.clear();
        self.cells.resize(self.keys.len(), JsonCell::Missing);
        for (key, value) in object.0 {
            let i = match self.index.get(&key) {
                Some(&i) => i,
                None if self.allow_new_keys => {
                    self.keys.push(key.clone());
                    self.index.insert(key, self.keys.len() - 1);
                    self.cells.push(JsonCell::Missing);
                    self.keys.len() - 1
                }
                None => {
                    return Err(self
                        .place
                        .malformed(self.record_line, LineProblem::NewKey { key }));
                }
            };
            self.cells[i] = JsonCell::from_json(value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reader_streams_objects_with_their_lines() {
        let text =
            "[\n {\"a\": 1, \"b\": \"x\"},\n {\"b\": null,\n  \"c\": [1, {\"d\": \"}\"}]}\n]\n";
        let mut r = JsonReader::new(
            text.as_bytes(),
            true,
            Vec::new(),
            true,
            Place {
                name: "t.json".into(),
            },
        )
        .unwrap();
        assert!(r.read_record().unwrap());
        assert_eq!(r.record_line, 2);
        assert_eq!(r.cell(0), Cell::Int(1));
        assert!(r.read_record().unwrap());
        assert_eq!(r.record_line, 3);
        assert_eq!(r.keys, ["a", "b", "c"]);
        assert_eq!(r.cell(0), Cell::Missing);
        assert_eq!(r.cell(1), Cell::Null);
        assert_eq!(r.cell(2), Cell::Str("[1,{\"d\":\"}\"}]"));
        assert!(!r.read_record().unwrap());

        let bad = "{\"a\": 1}\n{\"a\": 2,}\n";
        let mut r = JsonReader::new(
            bad.as_bytes(),
            false,
            Vec::new(),
            true,
            Place {
                name: "t.jsonl".into(),
            },
        )
        .unwrap();
        assert!(r.read_record().unwrap());
        let e = r.read_record().unwrap_err().to_string();
        assert!(
            e.starts_with("t.jsonl line 2: invalid JSON (trailing comma"),
            "{e}"
        );
    }
}
