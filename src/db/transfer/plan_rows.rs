//! The rows of an import plan, read from its file a second time, for an engine that
//! inserts them its own way: each row as the values its columns get (`None` where a
//! JSON object has no key, so the column takes its default).

use super::convert::{Bound, convert};
use super::reader::{FileFormat, RowReader, next_row, open_reader, shown_name};
use super::refusal::ImportRefusal;
use super::{ImportOptions, ImportPlan};
use crate::db::DbError;
use crate::db::value::Value;

/// The plan's file opened again for its second reading: the reader, the file as named in
/// sentences, and its size. Refused when the CSV header changed since the plan was made.
pub(super) fn open_plan(
    plan: &ImportPlan,
    options: &ImportOptions<'_>,
) -> Result<(RowReader, String, u64), DbError> {
    let shown = shown_name(&plan.file);
    let json_keys: Vec<String> = match plan.format {
        FileFormat::Csv { .. } => Vec::new(),
        _ => plan.columns.iter().map(|c| c.source.clone()).collect(),
    };
    let (reader, header, size) = open_reader(
        &plan.file,
        plan.format,
        json_keys,
        false,
        options.max_record_bytes,
    )?;
    if matches!(plan.format, FileFormat::Csv { .. }) && header.len() != plan.columns.len() {
        return Err(ImportRefusal::HeaderChanged {
            file: shown,
            now: header.len(),
            was: plan.columns.len(),
        }
        .into());
    }
    Ok((reader, shown, size))
}

pub(crate) struct PlanRows<'p> {
    plan: &'p ImportPlan,
    reader: RowReader,
    /// The file as named in sentences.
    pub(crate) shown: String,
    /// The file's size in bytes, for progress.
    pub(crate) size: u64,
}

impl<'p> PlanRows<'p> {
    /// Opens the plan's file again; refused when its header changed since the plan.
    pub(crate) fn open(plan: &'p ImportPlan, options: &ImportOptions<'_>) -> Result<Self, DbError> {
        let (reader, shown, size) = open_plan(plan, options)?;
        Ok(Self {
            plan,
            reader,
            shown,
            size,
        })
    }

    /// The next row's values, or `None` at the end of the file.
    pub(crate) fn next(&mut self) -> Result<Option<Vec<Option<Value>>>, DbError> {
        let width = self.plan.columns.len();
        if !next_row(&mut self.reader, width, &self.shown)? {
            return Ok(None);
        }
        let append = !self.plan.create;
        Ok(Some(
            self.plan
                .columns
                .iter()
                .enumerate()
                .map(
                    |(i, c)| match convert(self.reader.cell(i), c.convert, append) {
                        Bound::Absent => None,
                        Bound::Null => Some(Value::Null),
                        Bound::Int(n) => Some(Value::Integer(n)),
                        Bound::Real(f) => Some(Value::Real(f)),
                        Bound::Text(t) => Some(Value::Text(t.to_string())),
                        Bound::Blob(b) => Some(Value::Blob(b)),
                    },
                )
                .collect(),
        ))
    }

    /// The line (or JSON record) the last row came from.
    pub(crate) fn line(&self) -> u64 {
        self.reader.line()
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.reader.bytes()
    }
}
