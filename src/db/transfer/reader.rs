//! Opening an import file: its format (from the extension, then the first
//! bytes), and its rows through one reader whatever the format.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

use super::csv::CsvReader;
use super::json::JsonReader;
use super::refusal::{ImportRefusal, LineProblem};
use super::source::{Cell, Place};
use crate::db::DbError;

/// The formats import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Delimited text with a header row; the delimiter is `,`, `\t` or `;`.
    Csv { delimiter: u8 },
    /// One JSON array of objects.
    JsonArray,
    /// One JSON object per line.
    JsonLines,
}

impl FileFormat {
    pub fn label(self) -> &'static str {
        match self {
            FileFormat::Csv { delimiter: b'\t' } => "TSV",
            FileFormat::Csv { .. } => "CSV",
            FileFormat::JsonArray => "JSON",
            FileFormat::JsonLines => "JSON Lines",
        }
    }
}

/// How a file is shown in messages: its name.
pub(super) fn shown_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

fn open_file(file: &Path) -> Result<(File, u64), DbError> {
    let shown = file.display().to_string();
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_dir() => Err(ImportRefusal::IsFolder { path: shown }.into()),
        Ok(meta) => {
            let f = File::open(file).map_err(|e| DbError::Io {
                path: shown,
                detail: e.to_string(),
            })?;
            Ok((f, meta.len()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(ImportRefusal::NoFile { path: shown }.into())
        }
        Err(e) => Err(DbError::Io {
            path: shown,
            detail: e.to_string(),
        }),
    }
}

/// Works out a file's format from its extension, then its first bytes.
pub fn detect_format(file: &Path) -> Result<FileFormat, DbError> {
    let (mut f, _) = open_file(file)?;
    let mut head = vec![0u8; 1 << 16];
    let mut filled = 0;
    while filled < head.len() {
        match f.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(DbError::Io {
                    path: file.display().to_string(),
                    detail: e.to_string(),
                });
            }
        }
    }
    head.truncate(filled);
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(&head);
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let json = match first {
        Some(b'[') => Some(FileFormat::JsonArray),
        Some(b'{') => Some(FileFormat::JsonLines),
        _ => None,
    };
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => json.ok_or_else(|| {
            ImportRefusal::NotJson {
                file: shown_name(file),
            }
            .into()
        }),
        "tsv" | "tab" => Ok(FileFormat::Csv { delimiter: b'\t' }),
        "csv" => Ok(FileFormat::Csv {
            delimiter: sniff_delimiter(body),
        }),
        _ => Ok(json.unwrap_or(FileFormat::Csv {
            delimiter: sniff_delimiter(body),
        })),
    }
}

/// The header's delimiter: a comma, unless the first line has none and has
/// tabs or semicolons.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b'\t') > 0 {
        b'\t'
    } else if count(b';') > 0 {
        b';'
    } else {
        b','
    }
}

/// Either reader, behind one interface.
pub(super) enum RowReader {
    Csv(CsvReader<File>),
    Json(JsonReader<File>),
}

impl RowReader {
    pub(super) fn read_record(&mut self) -> Result<bool, DbError> {
        match self {
            RowReader::Csv(r) => r.read_record(),
            RowReader::Json(r) => r.read_record(),
        }
    }

    pub(super) fn cell(&self, i: usize) -> Cell<'_> {
        match self {
            RowReader::Csv(r) => r.field(i),
            RowReader::Json(r) => r.cell(i),
        }
    }

    /// The line the current row starts on.
    pub(super) fn line(&self) -> u64 {
        match self {
            RowReader::Csv(r) => r.record_line,
            RowReader::Json(r) => r.record_line,
        }
    }

    /// Bytes of the file read so far.
    pub(super) fn bytes(&self) -> u64 {
        match self {
            RowReader::Csv(r) => r.bytes(),
            RowReader::Json(r) => r.bytes(),
        }
    }
}

/// Opens `file` as rows: a CSV file's header (its first line that is not
/// blank) is read and returned, with the file's size. A JSON reader starts
/// from `json_keys`; on the `first_pass` it adds the keys it meets.
pub(super) fn open_reader(
    file: &Path,
    format: FileFormat,
    json_keys: Vec<String>,
    first_pass: bool,
    record_limit: usize,
) -> Result<(RowReader, Vec<String>, u64), DbError> {
    let (f, size) = open_file(file)?;
    let place = Place {
        name: shown_name(file),
    };
    match format {
        FileFormat::Csv { delimiter } => {
            let mut reader = CsvReader::new(f, delimiter, place)?;
            reader.set_record_limit(record_limit);
            // The header: the first line that is not blank.
            loop {
                if !reader.read_record()? {
                    return Err(ImportRefusal::NoHeader {
                        file: shown_name(file),
                    }
                    .into());
                }
                if !reader.is_blank() {
                    break;
                }
            }
            let header: Vec<String> = (0..reader.width())
                .map(|i| match reader.field(i) {
                    Cell::Field(t, _) => t.to_string(),
                    _ => String::new(),
                })
                .collect();
            Ok((RowReader::Csv(reader), header, size))
        }
        FileFormat::JsonArray | FileFormat::JsonLines => {
            let mut reader = JsonReader::new(
                f,
                format == FileFormat::JsonArray,
                json_keys,
                first_pass,
                place,
            )?;
            reader.set_record_limit(record_limit);
            Ok((RowReader::Json(reader), Vec::new(), size))
        }
    }
}

/// Reads the next data row, checking the CSV field count; false at the end.
pub(super) fn next_row(reader: &mut RowReader, width: usize, place: &str) -> Result<bool, DbError> {
    loop {
        if !reader.read_record()? {
            return Ok(false);
        }
        if let RowReader::Csv(csv) = reader {
            // Blank lines are skipped, except in a one-column file where an
            // empty line is a NULL value.
            if width != 1 && csv.is_blank() {
                continue;
            }
            if csv.width() != width {
                return Err(ImportRefusal::Malformed {
                    file: place.to_string(),
                    line: csv.record_line,
                    problem: LineProblem::FieldCount {
                        expected: width,
                        found: csv.width(),
                    },
                }
                .into());
            }
        }
        return Ok(true);
    }
}
