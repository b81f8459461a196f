//! Dialogs that take the keys while they are open: help, an error popup,
//! confirmations, path prompts, the generate dialog (and the request it would send), the
//! preview grid, the whole-cell viewer and the undo history. State only; `app` decides
//! what their keys do.

use crate::config::Privacy;
use std::path::PathBuf;

use serde_json::{Map, Value as Json};

use crate::db::journal::Operation;
use crate::llm::ProviderChoice;

/// Every text field is the one line editor (a cursor, word and line keys).
pub use super::line::LineEdit as Input;

/// What a confirmation is about.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmKind {
    /// Generate for an empty table from its schema alone.
    FromSchema(GenSpec),
    Undo(UndoTarget),
    /// Clear an operation's record without touching a row.
    Forget {
        id: i64,
        table: String,
    },
    Delete {
        table: String,
    },
    /// A model run above `generate.confirm_rows`: the estimate was shown.
    LargeRun(GenSpec),
    /// Cancel a generation that has run a while.
    CancelJob(u64),
    /// Cancel the whole-database fill (it takes back every row it wrote).
    CancelWhole(u64),
    /// Quit while generations run.
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub kind: ConfirmKind,
    pub title: String,
    pub lines: Vec<String>,
    /// The label of the yes button ("Delete", "Undo", "Generate").
    pub yes: String,
    /// Which button is highlighted; Enter presses it.
    pub on_yes: bool,
}

/// What a path prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    Export {
        table: String,
    },
    Import,
    /// The whole result of a query.
    ExportQuery {
        sql: String,
    },
    /// Another database to open in place of this one.
    OpenDatabase,
}

/// A question about the path, asked in the prompt before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// The export's file exists: replace it? (default no)
    Overwrite { path: PathBuf },
    /// The imported file's table exists: append to it, or import as a new
    /// table? (default: the new table)
    Append {
        path: PathBuf,
        table: String,
        columns: usize,
        new_table: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub title: String,
    pub label: String,
    pub input: Input,
    pub note: Option<String>,
    /// Why the last try failed: the prompt reopens with it, the path kept to mend.
    pub error: Option<String>,
    /// The names that complete the path, shown after a second Tab.
    pub candidates: Vec<String>,
    /// The text a Tab left ambiguous: another Tab on it shows the candidates.
    pub listable: Option<String>,
    pub question: Option<Question>,
}

impl Prompt {
    pub fn new(kind: PromptKind, title: String, label: &str, text: String) -> Self {
        Self {
            kind,
            title,
            label: label.into(),
            input: Input::new(text),
            note: None,
            error: None,
            candidates: Vec::new(),
            listable: None,
            question: None,
        }
    }
}

/// Everything a generation needs to know, from `g` or the dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSpec {
    pub table: String,
    pub rows: u64,
    /// `None`: the configured provider.
    pub provider: Option<ProviderChoice>,
    /// `None`: the provider's configured model.
    pub model: Option<String>,
    pub preview: bool,
    pub from_schema: bool,
    /// `None`: the configured privacy, else the provider's default.
    pub privacy: Option<Privacy>,
}

impl GenSpec {
    pub fn new(table: &str, rows: u64) -> Self {
        Self {
            table: table.to_string(),
            rows,
            provider: None,
            model: None,
            preview: false,
            from_schema: false,
            privacy: None,
        }
    }
}

/// A provider the user may pick in the generate dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderOption {
    pub choice: ProviderChoice,
    /// As in the config file: `openai`.
    pub name: String,
    pub model: String,
    /// The offline generator has no model to name.
    pub model_editable: bool,
    /// What its requests carry of the table's rows unless the dialog says otherwise
    /// (`None`: the offline generator sends nothing).
    pub privacy: Option<Privacy>,
}

/// The fields of the generate dialog, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenField {
    Rows,
    Provider,
    Model,
    Privacy,
    Preview,
}

impl GenField {
    pub const ALL: [GenField; 5] = [
        GenField::Rows,
        GenField::Provider,
        GenField::Model,
        GenField::Privacy,
        GenField::Preview,
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenDialog {
    pub table: String,
    pub field: GenField,
    pub rows: Input,
    pub provider: usize,
    pub model: Input,
    /// Chosen in the dialog; `None`: the provider's default.
    pub privacy: Option<Privacy>,
    pub preview: bool,
    pub error: Option<String>,
}

/// Rows of a dry run, waiting for the user's word.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub spec: GenSpec,
    pub columns: Vec<String>,
    pub rows: Vec<Map<String, Json>>,
    pub dropped: Vec<bool>,
    /// Rows the realism gate turned away, with why: shown after the rows, never inserted.
    pub rejected: Vec<(Map<String, Json>, String)>,
    pub cursor: usize,
    pub top: usize,
    pub left: usize,
}

impl Preview {
    pub fn new(spec: GenSpec, rows: Vec<Map<String, Json>>) -> Self {
        let columns = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        Self {
            spec,
            columns,
            dropped: vec![false; rows.len()],
            rows,
            rejected: Vec::new(),
            cursor: 0,
            top: 0,
            left: 0,
        }
    }

    /// Lines the grid shows: the rows, then the rejected ones.
    pub fn len(&self) -> usize {
        self.rows.len() + self.rejected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kept(&self) -> Vec<Map<String, Json>> {
        self.rows
            .iter()
            .zip(&self.dropped)
            .filter(|(_, d)| !**d)
            .map(|(r, _)| r.clone())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CellView {
    pub title: String,
    /// `None` while the whole value is being read.
    pub text: Option<String>,
    pub scroll: u16,
}

/// The request a generation would send first, shown over the generate dialog it was asked
/// from (Esc goes back to it).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestView {
    /// Title, text (`None` while the request is being built) and scroll, as the cell viewer.
    pub view: CellView,
    /// What was asked for: an answer for anything else is stale.
    pub spec: GenSpec,
    pub dialog: GenDialog,
}

/// Which operation an undo in the app acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoTarget {
    /// The latest operation on this table.
    Latest(String),
    /// One the user picked in the history.
    Operation { id: i64, table: String },
}

impl UndoTarget {
    pub fn table(&self) -> &str {
        match self {
            UndoTarget::Latest(table) | UndoTarget::Operation { table, .. } => table,
        }
    }
}

/// rowsmith's operations on this database, newest first: pick one to undo or clear.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Why the latest operation could not be undone, when that is why the list opened.
    pub note: Option<String>,
    /// Each operation, with when it was undone or cleared.
    pub operations: Vec<(Operation, Option<String>)>,
    pub cursor: usize,
    pub top: usize,
}

impl History {
    pub fn selected(&self) -> Option<&(Operation, Option<String>)> {
        self.operations.get(self.cursor)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help {
        scroll: u16,
    },
    Error {
        title: String,
        message: String,
    },
    Confirm(Confirm),
    Prompt(Prompt),
    Generate(GenDialog),
    Preview(Preview),
    Cell(CellView),
    /// What a generation would send first; nothing is sent.
    Request(Box<RequestView>),
    History(History),
    /// Fill the whole database: the size, the provider and the plan.
    Whole(Box<super::whole::WholeDialog>),
    /// The message log; `scroll` is the first line shown (past the end: the newest).
    Log {
        scroll: u16,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn input_edits() {
        let mut i = Input::new("data/users.csv");
        let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert!(i.edit(&ctrl_w));
        assert_eq!(i.text, "data/");
        assert!(i.edit(&KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
        assert!(i.edit(&KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
        assert!(!i.edit(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert!(i.edit(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
        assert_eq!(i.text, "");
        // A path prompt has a cursor: mend the middle of a path without retyping the end.
        let mut p = Input::new("data/usrs.csv");
        for _ in 0..6 {
            p.edit(&KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
        }
        p.edit(&KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
        assert_eq!(p.text, "data/users.csv");
    }
}
