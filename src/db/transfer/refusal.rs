//! Why an import, an export or a drop was refused: the data of each refusal, and
//! (in `Display`) the one sentence the user reads. Callers decide by variant; the
//! sentence is made only where it is shown.

use std::path::PathBuf;

use crate::db::catalog::ObjectKind;
use crate::output::plural;

/// An import that was refused before or while it wrote: the file could not be read
/// as rows, did not fit the table, or SQLite turned a row away. Every import runs
/// in one transaction, so nothing was imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportRefusal {
    /// The path names a folder, not a file.
    #[error("'{path}' is a folder; give the CSV or JSON file to import.")]
    IsFolder { path: String },

    /// Nothing exists at the path.
    #[error("There is no file '{path}' to import. Check the path.")]
    NoFile { path: String },

    /// A `.json`/`.jsonl` file whose first byte starts neither an array nor an object.
    #[error(
        "{file} does not start with '[' or '{{', so it is neither a JSON array of objects nor JSON Lines. Nothing was imported."
    )]
    NotJson { file: String },

    /// A CSV file with no line that is not blank.
    #[error("{file} is empty: there is no header row of column names. Nothing was imported.")]
    NoHeader { file: String },

    /// A file without rows cannot make a new table: it names no columns.
    #[error(
        "{file} has no rows, so there are no columns to make a table from. Nothing was imported."
    )]
    NoColumns { file: String },

    /// One record (a CSV line with its quoted line breaks, or one JSON object) holds
    /// more than `limit` bytes (`import.max_record_bytes`).
    #[error(
        "{file} has a record larger than {} (import.max_record_bytes), more than rowsmith reads as one row. Check that the file is really CSV or JSON with one row per record, or raise import.max_record_bytes. Nothing was imported.",
        mib(*limit)
    )]
    RecordTooBig { file: String, limit: usize },

    /// The file is not well-formed CSV or JSON at `line`.
    #[error("{file} line {line}: {problem}. Nothing was imported.")]
    Malformed {
        file: String,
        line: u64,
        problem: LineProblem,
    },

    /// A new table's name would start with `sqlite_`.
    #[error(
        "Table names starting with 'sqlite_' belong to SQLite; choose another name than '{table}'."
    )]
    ReservedName { table: String },

    /// No free name `{base}_2`, `{base}_3`, ... was left for a new table.
    #[error("Every name from '{base}_2' on is taken; import the file under another name.")]
    NamesTaken { base: String },

    /// Appending to an existing table whose columns the file does not fit: columns the
    /// table lacks, columns SQLite computes, and NOT NULL columns without a default the
    /// file has no values for. At least one list is not empty.
    #[error(
        "The columns of {file} do not match table '{table}': {}. Import it under another table name to make a new table. Nothing was imported.",
        mismatch(unknown, computed, required)
    )]
    ColumnsMismatch {
        file: String,
        table: String,
        unknown: Vec<String>,
        computed: Vec<String>,
        required: Vec<String>,
    },

    /// The file's header changed between the check and the import.
    #[error(
        "{file} changed since it was read (its header now has {now} columns, not {was}). Nothing was imported."
    )]
    HeaderChanged {
        file: String,
        now: usize,
        was: usize,
    },

    /// A column of the table was dropped between the check and the import.
    #[error(
        "Table '{table}' changed since {file} was read (column '{column}' is gone). Nothing was imported."
    )]
    ColumnGone {
        table: String,
        file: String,
        column: String,
    },

    /// SQLite refused the row read at `line` (a constraint, a trigger); `detail` is
    /// SQLite's own message.
    #[error("{file} line {line}: {detail}. Nothing was imported.")]
    RowRefused {
        file: String,
        line: u64,
        detail: String,
    },

    /// The row read at `line` points at a row of `parent` that does not exist
    /// (found when deferred foreign keys are checked at the end).
    #[error(
        "{file} line {line}: FOREIGN KEY constraint failed (no matching row in '{parent}'). Nothing was imported."
    )]
    MissingParent {
        file: String,
        line: u64,
        parent: String,
    },

    /// SQLite refused the commit (a deferred constraint no row could be blamed for);
    /// `detail` is SQLite's own message.
    #[error("{file} could not be imported: {detail}. Nothing was imported.")]
    CommitRefused { file: String, detail: String },
}

/// What is wrong with the file at one line of it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineProblem {
    #[error("expected '[' to start a JSON array of objects")]
    ArrayNotOpened,
    #[error("the JSON array is never closed with ']'")]
    ArrayNotClosed,
    #[error("expected ',' or ']' after an object of the JSON array")]
    NoSeparator,
    #[error("there is more text after the closing ']' of the JSON array")]
    TextAfterArray,
    #[error("the file ends where a JSON object was expected")]
    ObjectMissing,
    #[error("the JSON object that starts here is never closed")]
    ObjectNotClosed,
    #[error("expected a JSON object for each row, found {found}")]
    NotAnObject { found: JsonFound },
    /// `detail` is serde_json's message, without its position.
    #[error("invalid JSON ({detail})")]
    InvalidJson { detail: String },
    /// A key the first reading did not see: the file changed in between.
    #[error(
        "the key '{key}' was not in the file when it was first read, so it changed during the import"
    )]
    NewKey { key: String },
    #[error("a quoted field starts here and is never closed")]
    QuoteNotClosed,
    #[error(
        "there is text after the closing quote of a field (a quote inside a quoted field must be doubled: \"\")"
    )]
    TextAfterQuote,
    #[error("the text is not valid UTF-8 (save the file as UTF-8 and try again)")]
    NotUtf8,
    #[error("expected {expected} field{}, found {found}", plural(*expected as u64, "", "s"))]
    FieldCount { expected: usize, found: usize },
}

/// What a JSON record held where an object was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JsonFound {
    #[error("nothing (is there a ',' too many?)")]
    Nothing,
    #[error("an array")]
    Array,
    #[error("a string")]
    String,
    #[error("true or false")]
    Boolean,
    #[error("null")]
    Null,
    #[error("a number")]
    Number,
    #[error("something that is not JSON")]
    NotJson,
}

/// An export that was refused before it wrote, or whose output failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportRefusal {
    /// The SQL could change the database or returns no rows.
    #[error("Only a read-only query that returns rows (a SELECT) can be exported.")]
    NotAQuery,

    /// The target is the database file being read.
    #[error(
        "'{}' is the database itself; choose another file to export to.",
        path.display()
    )]
    TargetIsDatabase { path: PathBuf },

    /// The target lies in rowsmith's data directory (the undo journal, the history).
    #[error(
        "'{}' is one of rowsmith's own files (its data directory holds the undo journal and the query history); choose another file to export to.",
        path.display()
    )]
    TargetIsOwnFile { path: PathBuf },

    /// Writing the CSV failed; `detail` is the operating system's message.
    #[error("Cannot write the CSV ({detail}).")]
    CsvWrite { detail: String },
}

/// A drop that was refused; nothing was deleted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DropRefusal {
    /// Other tables' foreign keys point at the table.
    #[error("{}", referenced(table, referenced_by))]
    Referenced {
        table: String,
        referenced_by: Vec<String>,
    },

    /// `rowsmith drop` without `--yes` and with no terminal to ask on.
    #[error(
        "Refusing to delete {} '{name}' without confirmation: pass --yes to delete it from a script.",
        kind.as_str()
    )]
    Unconfirmed { kind: ObjectKind, name: String },
}

fn mib(bytes: usize) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} bytes", crate::output::thousands(bytes as u64))
    }
}

fn mismatch(unknown: &[String], computed: &[String], required: &[String]) -> String {
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(if unknown.len() == 1 {
            format!(
                "the file's column {} is not in the table",
                quoted_list(unknown)
            )
        } else {
            format!(
                "the file's columns {} are not in the table",
                quoted_list(unknown)
            )
        });
    }
    if !computed.is_empty() {
        problems.push(format!(
            "{} computed by SQLite and cannot be written",
            if computed.len() == 1 {
                format!("column {} is", quoted_list(computed))
            } else {
                format!("columns {} are", quoted_list(computed))
            }
        ));
    }
    if !required.is_empty() {
        problems.push(format!(
            "the file has no values for {} NOT NULL without a default",
            if required.len() == 1 {
                format!("column {}, which is", quoted_list(required))
            } else {
                format!("columns {}, which are", quoted_list(required))
            }
        ));
    }
    problems.join(", and ")
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn referenced(table: &str, referenced_by: &[String]) -> String {
    let n = referenced_by.len() as u64;
    format!(
        "Cannot delete table '{table}': {} {} {} foreign {} that {} at it. Delete {} first, or remove {} foreign {}.",
        plural(n, "table", "tables"),
        and_list(referenced_by),
        plural(n, "has a", "have"),
        plural(n, "key", "keys"),
        plural(n, "points", "point"),
        plural(n, "that table", "those tables"),
        plural(n, "its", "their"),
        plural(n, "key", "keys"),
    )
}

/// `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`.
fn and_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_read_as_before() {
        let big = ImportRefusal::RecordTooBig {
            file: "a.csv".into(),
            limit: 64 * 1024 * 1024,
        };
        assert_eq!(
            big.to_string(),
            "a.csv has a record larger than 64 MiB (import.max_record_bytes), more than rowsmith reads as one row. \
             Check that the file is really CSV or JSON with one row per record, or raise import.max_record_bytes. \
             Nothing was imported."
        );
        let fields = ImportRefusal::Malformed {
            file: "a.csv".into(),
            line: 3,
            problem: LineProblem::FieldCount {
                expected: 1,
                found: 2,
            },
        };
        assert_eq!(
            fields.to_string(),
            "a.csv line 3: expected 1 field, found 2. Nothing was imported."
        );
        let mismatch = ImportRefusal::ColumnsMismatch {
            file: "a.csv".into(),
            table: "t".into(),
            unknown: vec!["x".into(), "y".into()],
            computed: vec!["c".into()],
            required: vec!["r".into()],
        };
        assert_eq!(
            mismatch.to_string(),
            "The columns of a.csv do not match table 't': the file's columns 'x', 'y' are not in the table, \
             and column 'c' is computed by SQLite and cannot be written, and the file has no values for column \
             'r', which is NOT NULL without a default. Import it under another table name to make a new table. \
             Nothing was imported."
        );
        let more: [(crate::db::DbError, &str); 11] = [
            (
                ImportRefusal::IsFolder { path: "d".into() }.into(),
                "'d' is a folder; give the CSV or JSON file to import.",
            ),
            (
                ImportRefusal::NotJson {
                    file: "a.json".into(),
                }
                .into(),
                "a.json does not start with '[' or '{', so it is neither a JSON array of objects nor JSON Lines. \
                 Nothing was imported.",
            ),
            (
                ImportRefusal::NoColumns {
                    file: "a.csv".into(),
                }
                .into(),
                "a.csv has no rows, so there are no columns to make a table from. Nothing was imported.",
            ),
            (
                ImportRefusal::ReservedName {
                    table: "sqlite_x".into(),
                }
                .into(),
                "Table names starting with 'sqlite_' belong to SQLite; choose another name than 'sqlite_x'.",
            ),
            (
                ImportRefusal::NamesTaken { base: "t".into() }.into(),
                "Every name from 't_2' on is taken; import the file under another name.",
            ),
            (
                ImportRefusal::HeaderChanged {
                    file: "a.csv".into(),
                    now: 3,
                    was: 2,
                }
                .into(),
                "a.csv changed since it was read (its header now has 3 columns, not 2). Nothing was imported.",
            ),
            (
                ImportRefusal::ColumnGone {
                    table: "t".into(),
                    file: "a.csv".into(),
                    column: "c".into(),
                }
                .into(),
                "Table 't' changed since a.csv was read (column 'c' is gone). Nothing was imported.",
            ),
            (
                ImportRefusal::CommitRefused {
                    file: "a.csv".into(),
                    detail: "CHECK constraint failed".into(),
                }
                .into(),
                "a.csv could not be imported: CHECK constraint failed. Nothing was imported.",
            ),
            (
                ImportRefusal::Malformed {
                    file: "a.jsonl".into(),
                    line: 4,
                    problem: LineProblem::NewKey { key: "k".into() },
                }
                .into(),
                "a.jsonl line 4: the key 'k' was not in the file when it was first read, so it changed during \
                 the import. Nothing was imported.",
            ),
            (
                ImportRefusal::Malformed {
                    file: "a.csv".into(),
                    line: 2,
                    problem: LineProblem::FieldCount {
                        expected: 3,
                        found: 2,
                    },
                }
                .into(),
                "a.csv line 2: expected 3 fields, found 2. Nothing was imported.",
            ),
            (
                ExportRefusal::CsvWrite {
                    detail: "No space left on device (os error 28)".into(),
                }
                .into(),
                "Cannot write the CSV (No space left on device (os error 28)).",
            ),
        ];
        for (error, sentence) in more {
            assert_eq!(error.to_string(), sentence);
        }
        let refused = DropRefusal::Referenced {
            table: "p".into(),
            referenced_by: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            refused.to_string(),
            "Cannot delete table 'p': tables 'a', 'b' and 'c' have foreign keys that point at it. Delete those \
             tables first, or remove their foreign keys."
        );
    }
}
