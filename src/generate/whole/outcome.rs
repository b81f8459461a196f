//! What a whole-database run tells: its progress, what each table got, why it failed,
//! and what became of its rows, each with the sentence a person reads.

use serde::Serialize;
use serde_json::Value as Json;

use crate::db::DbError;
use crate::generate::job::{Event, GenerateError, UsageSummary, failure_sentence};
use crate::output::{rows_word, thousands};

use super::plan::WholePlan;

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
// One Finished ends a run: its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum WholeEvent {
    /// The plan, before anything is written.
    Planned {
        plan: WholePlan,
    },
    /// Table `index` of the plan starts: `rows` rows to add.
    TableStarted {
        index: usize,
        table: String,
        rows: u64,
    },
    /// An event of the table's job.
    Table {
        index: usize,
        event: Event,
    },
    /// The second pass: keys that close cycles, parents' totals.
    Completing,
    Finished(WholeOutcome),
}

/// What one table got.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableResult {
    pub table: String,
    pub before: u64,
    pub requested: u64,
    pub added: u64,
    pub after: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
    /// A dry run's first new rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<serde_json::Map<String, Json>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WholeSummary {
    pub tables: Vec<TableResult>,
    pub rows_added: u64,
    /// Keys set in the second pass, and parents whose totals were set from their children.
    pub keys_linked: u64,
    pub totals_set: u64,
    pub provider: String,
    pub model: String,
    pub usage: UsageSummary,
    pub elapsed_ms: u64,
    pub dry_run: bool,
    /// Tables the run left out, with why.
    pub skipped: Vec<super::plan::Skipped>,
}

impl WholeSummary {
    /// "Generated 2,450 rows in 4 tables: customers +240, …; `rowsmith undo` removes them all."
    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .tables
            .iter()
            .map(|t| format!("{} +{}", t.table, thousands(t.added)))
            .collect();
        let tables = self.tables.len();
        if self.dry_run {
            return format!(
                "Dry run: {} {} in {tables} {} passed every check ({}); nothing was written.",
                thousands(self.rows_added),
                rows_word(self.rows_added),
                if tables == 1 { "table" } else { "tables" },
                parts.join(", ")
            );
        }
        if self.rows_added == 0 {
            return format!(
                "No rows were added to the {tables} {} of the run ({}).",
                if tables == 1 { "table" } else { "tables" },
                parts.join(", ")
            );
        }
        format!(
            "Generated {} {} in {tables} {} ({}). One undo removes them all.",
            thousands(self.rows_added),
            rows_word(self.rows_added),
            if tables == 1 { "table" } else { "tables" },
            parts.join(", ")
        )
    }

    /// "Then 12 keys that close a cycle were linked and 800 parents' totals set from
    /// their new children." — `None` when the second pass had nothing to do.
    pub fn second_pass_sentence(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.keys_linked > 0 {
            parts.push(format!(
                "{} {} that close a cycle or point into their own table were linked",
                thousands(self.keys_linked),
                if self.keys_linked == 1 { "key" } else { "keys" }
            ));
        }
        if self.totals_set > 0 {
            parts.push(format!(
                "{} parents' totals were set from their new children",
                thousands(self.totals_set)
            ));
        }
        (!parts.is_empty()).then(|| format!("Then {}.", parts.join(", and ")))
    }

    /// Tables that got fewer rows than planned, with why.
    pub fn shortfalls(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter_map(|t| t.shortfall.as_ref().map(|s| format!("{}: {s}", t.table)))
            .collect()
    }
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WholeError {
    #[error("{0}")]
    Plan(#[from] super::PlanError),
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("Filling table '{table}' failed: {}", failure_sentence(.error, 0).trim_end_matches(" Nothing was written."))]
    Table {
        table: String,
        error: Box<GenerateError>,
    },
    #[error("{0}")]
    Internal(String),
}

impl Serialize for WholeError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// What became of the rows of a run that did not finish.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum Rollback {
    /// Nothing had been written.
    NothingWritten,
    /// Everything the run had written was removed.
    Removed { rows: u64 },
    /// The rows could not be removed; undo can try again.
    Kept { why: String },
}

impl Rollback {
    pub fn sentence(&self) -> String {
        match self {
            Rollback::NothingWritten => "Nothing was written.".into(),
            Rollback::Removed { rows } => format!(
                "The {} {} it had added were removed, so that no parent is left without its children; the database is as it was.",
                thousands(*rows),
                rows_word(*rows)
            ),
            Rollback::Kept { why } => {
                format!("Its rows could not be removed ({why}); `rowsmith undo` removes them.")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[allow(clippy::large_enum_variant)]
pub enum WholeOutcome {
    Done(WholeSummary),
    Failed {
        error: WholeError,
        rollback: Rollback,
    },
    Cancelled {
        rollback: Rollback,
    },
}

impl WholeOutcome {
    /// The one sentence for a run that did not finish.
    pub fn failure_sentence(&self) -> Option<String> {
        match self {
            WholeOutcome::Done(_) => None,
            WholeOutcome::Failed { error, rollback } => {
                Some(format!("{error} {}", rollback.sentence()))
            }
            WholeOutcome::Cancelled { rollback } => {
                Some(format!("Cancelled. {}", rollback.sentence()))
            }
        }
    }
}
