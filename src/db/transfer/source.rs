//! What the CSV and JSON readers share: a buffered byte source, the cell
//! of a row being read, and the file name that error messages point into.

use std::io::{self, Read};

use super::refusal::{ImportRefusal, LineProblem};
use crate::db::DbError;

/// The most bytes one record (a CSV line with its quoted line breaks, or one JSON object)
/// may hold. A record is kept whole in memory while it is read, so without a bound one
/// endless field from a pipe (or /dev/zero) would fill memory; 64 MiB is far beyond any
/// real row and still cheap.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// The refusal for input with a record larger than `limit` bytes.
pub(super) fn record_too_big(name: &str, limit: usize) -> DbError {
    ImportRefusal::RecordTooBig {
        file: name.to_string(),
        limit,
    }
    .into()
}

/// A buffered byte reader with one byte of look-ahead. Read errors become
/// a sentence naming the file.
pub(super) struct ByteSource<R> {
    inner: R,
    name: String,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bytes consumed so far, for progress.
    pub(super) consumed: u64,
    /// The most bytes one record may hold (`import.max_record_bytes`).
    pub(super) limit: usize,
}

impl<R: Read> ByteSource<R> {
    pub(super) fn new(inner: R, name: &str) -> Self {
        Self {
            inner,
            name: name.to_string(),
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            consumed: 0,
            limit: MAX_RECORD_BYTES,
        }
    }

    #[inline]
    pub(super) fn peek(&mut self) -> Result<Option<u8>, DbError> {
        if self.pos == self.len {
            self.pos = 0;
            self.len = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(DbError::Io {
                            path: self.name.clone(),
                            detail: e.to_string(),
                        });
                    }
                }
            };
            if self.len == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// Consumes the byte `peek` returned.
    #[inline]
    pub(super) fn bump(&mut self) {
        if self.pos < self.len {
            self.pos += 1;
            self.consumed += 1;
        }
    }

    #[inline]
    pub(super) fn next(&mut self) -> Result<Option<u8>, DbError> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }

    /// Appends the bytes before the first one `stop` accepts (or before the
    /// end of the input) to `out`, a buffer at a time; refuses to let `out` grow past
    /// [`MAX_RECORD_BYTES`].
    #[inline]
    pub(super) fn take_until(
        &mut self,
        out: &mut Vec<u8>,
        stop: impl Fn(u8) -> bool,
    ) -> Result<(), DbError> {
        while self.peek()?.is_some() {
            let available = &self.buf[self.pos..self.len];
            let (n, found) = match available.iter().position(|&b| stop(b)) {
                Some(n) => (n, true),
                None => (available.len(), false),
            };
            out.extend_from_slice(&available[..n]);
            self.pos += n;
            self.consumed += n as u64;
            if out.len() > self.limit {
                return Err(self.record_too_big());
            }
            if found {
                break;
            }
        }
        Ok(())
    }

    /// The sentence for a record past the limit.
    pub(super) fn record_too_big(&self) -> DbError {
        record_too_big(&self.name, self.limit)
    }

    /// Skips a UTF-8 byte-order mark at the start.
    pub(super) fn skip_bom(&mut self) -> Result<(), DbError> {
        if self.peek()? == Some(0xEF)
            && self.len - self.pos >= 3
            && self.buf[self.pos..self.pos + 3] == [0xEF, 0xBB, 0xBF]
        {
            self.pos += 3;
            self.consumed += 3;
        }
        Ok(())
    }
}

/// A cell of the row being read, whatever the format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell<'a> {
    /// A JSON object without this key.
    Missing,
    /// An unquoted empty CSV field, or JSON null.
    Null,
    /// A CSV field: its text and whether it was quoted.
    Field(&'a str, bool),
    /// A JSON string (or nested array/object as JSON text): always text.
    Str(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
}

/// Names a position in the file for error messages.
pub(super) struct Place {
    /// The file name as shown to the user.
    pub(super) name: String,
}

impl Place {
    pub(super) fn malformed(&self, line: u64, problem: LineProblem) -> DbError {
        ImportRefusal::Malformed {
            file: self.name.clone(),
            line,
            problem,
        }
        .into()
    }

    /// The error for text that is not UTF-8: `valid` is the record's bytes
    /// up to the first bad one, the record starting on `record_line`.
    pub(super) fn not_utf8(&self, record_line: u64, valid: &[u8]) -> DbError {
        let line = record_line + valid.iter().filter(|&&b| b == b'\n').count() as u64;
        self.malformed(line, LineProblem::NotUtf8)
    }
}
