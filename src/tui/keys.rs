//! The key map: every action with its keys, description and pane.
//!
//! One table drives key handling, the `?` help overlay and the hint bar, so
//! what the help says is what the keys do. `[tui.keys]` in the config file
//! replaces an action's default keys.

use crossterm::event::{KeyEvent, KeyEventKind};

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere outside dialogs.
    Global,
    /// The table list and the main pane (moving a selection).
    Move,
    /// The table list.
    List,
    /// A grid of rows: a table's rows or a query's result.
    Rows,
    /// The generate dialog, whose other keys are its own (fields, Enter, Esc).
    GenerateDialog,
}

/// Which pane has the focus, for hints and key handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Rows,
    Schema,
    /// A query's result.
    Results,
}

impl Scope {
    fn applies_to(self, pane: Pane) -> bool {
        match self {
            Scope::Global | Scope::Move => true,
            Scope::List => pane == Pane::List,
            Scope::Rows => matches!(pane, Pane::Rows | Pane::Results),
            Scope::GenerateDialog => false,
        }
    }
}

/// Everything a key can ask for outside dialogs, and in the generate dialog the one
/// action that is not part of filling it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    First,
    Last,
    SwitchPane,
    Open,
    ViewCell,
    Sort,
    GoToRow,
    CopyCell,
    CopyRow,
    Schema,
    Filter,
    Query,
    Generate,
    GenerateDialog,
    FillDatabase,
    ShowPrompt,
    Undo,
    UndoHistory,
    Export,
    Import,
    Delete,
    Cancel,
    Back,
    Log,
    OpenDatabase,
    Reload,
    Help,
    Quit,
}

/// What the help and the config file know about an action.
pub struct ActionInfo {
    pub action: Action,
    /// The name under `[tui.keys]`.
    pub name: &'static str,
    pub description: &'static str,
    /// The word in the hint bar.
    pub hint: &'static str,
    pub scope: Scope,
    pub defaults: &'static [&'static str],
}

/// Every action, in the order the help lists them.
pub const ACTIONS: &[ActionInfo] = &[
    info(
        Action::Generate,
        "generate",
        "Generate rows for the selected table",
        "generate",
        Scope::Global,
        &["g"],
    ),
    info(
        Action::GenerateDialog,
        "generate_dialog",
        "Generate with options: rows, provider, model, preview",
        "options",
        Scope::Global,
        &["G"],
    ),
    info(
        Action::FillDatabase,
        "fill_database",
        "Fill the whole database: the plan first, then every table",
        "fill all",
        Scope::Global,
        &["A"],
    ),
    info(
        Action::ShowPrompt,
        "show_prompt",
        "Show what the model would be sent",
        "request",
        Scope::GenerateDialog,
        &["ctrl-p"],
    ),
    info(
        Action::Cancel,
        "cancel",
        "Cancel the selected table's generation, the fill, a transfer or a query",
        "cancel",
        Scope::Global,
        &["x"],
    ),
    info(
        Action::Back,
        "back",
        "Dismiss messages or the filter; never cancels work",
        "back",
        Scope::Global,
        &["esc"],
    ),
    info(
        Action::Log,
        "log",
        "Message log: every message since start, with its time",
        "log",
        Scope::Global,
        &["L"],
    ),
    info(
        Action::Undo,
        "undo",
        "Undo the last generation of the selected table",
        "undo",
        Scope::Global,
        &["u"],
    ),
    info(
        Action::UndoHistory,
        "undo_history",
        "Undo history: undo an older operation, or clear a record",
        "history",
        Scope::Global,
        &["U"],
    ),
    info(
        Action::Query,
        "query",
        "Ask a question or run read-only SQL (on a result: edit it)",
        "query",
        Scope::Global,
        &[":"],
    ),
    info(
        Action::Open,
        "open",
        "Open the table's rows; on a cell, show it whole",
        "rows",
        Scope::Global,
        &["enter"],
    ),
    info(
        Action::Schema,
        "schema",
        "Show the schema of the selected table (again: rows)",
        "schema",
        Scope::Global,
        &["s"],
    ),
    info(
        Action::ViewCell,
        "view_cell",
        "Show the whole value of the selected cell",
        "cell",
        Scope::Rows,
        &["v"],
    ),
    info(
        Action::Sort,
        "sort",
        "Sort the rows by the selected column: ascending, descending, table order",
        "sort",
        Scope::Rows,
        &["o"],
    ),
    info(
        Action::GoToRow,
        "go_to_row",
        "Go to row N (type the number, Enter)",
        "go to",
        Scope::Rows,
        &["#"],
    ),
    info(
        Action::CopyCell,
        "copy_cell",
        "Copy the selected cell to the clipboard (OSC 52, over SSH too)",
        "copy",
        Scope::Rows,
        &["y"],
    ),
    info(
        Action::CopyRow,
        "copy_row",
        "Copy the selected row as one JSON object",
        "copy row",
        Scope::Rows,
        &["Y"],
    ),
    info(
        Action::Filter,
        "filter",
        "Filter the tables by name; in a table's rows, search them (Esc shows all)",
        "filter",
        Scope::Global,
        &["/"],
    ),
    info(
        Action::Export,
        "export",
        "Export the selected table to CSV",
        "export",
        Scope::Global,
        &["e"],
    ),
    info(
        Action::Import,
        "import",
        "Import a CSV or JSON file",
        "import",
        Scope::Global,
        &["i"],
    ),
    info(
        Action::Delete,
        "delete",
        "Delete the selected table (asks first)",
        "delete",
        Scope::Global,
        &["d"],
    ),
    info(
        Action::OpenDatabase,
        "open_database",
        "Open another database file (Tab completes the path)",
        "open db",
        Scope::Global,
        &["O"],
    ),
    info(
        Action::Reload,
        "reload",
        "Reload tables, counts and rows",
        "reload",
        Scope::Global,
        &["r"],
    ),
    info(
        Action::Up,
        "up",
        "Move up",
        "move",
        Scope::Move,
        &["up", "k"],
    ),
    info(
        Action::Down,
        "down",
        "Move down",
        "move",
        Scope::Move,
        &["down", "j"],
    ),
    info(
        Action::Left,
        "left",
        "Previous column (scrolls wide tables)",
        "column",
        Scope::Rows,
        &["left", "h"],
    ),
    info(
        Action::Right,
        "right",
        "Next column (scrolls wide tables)",
        "column",
        Scope::Rows,
        &["right", "l"],
    ),
    info(
        Action::PageUp,
        "page_up",
        "Page up",
        "page",
        Scope::Move,
        &["pageup"],
    ),
    info(
        Action::PageDown,
        "page_down",
        "Page down",
        "page",
        Scope::Move,
        &["pagedown"],
    ),
    info(
        Action::First,
        "first",
        "Jump to the start",
        "start",
        Scope::Move,
        &["home"],
    ),
    info(
        Action::Last,
        "last",
        "Jump to the end",
        "end",
        Scope::Move,
        &["end"],
    ),
    info(
        Action::SwitchPane,
        "switch_pane",
        "Switch between the table list and the main pane",
        "pane",
        Scope::Global,
        &["tab", "backtab"],
    ),
    info(
        Action::Help,
        "help",
        "Show or hide this help",
        "help",
        Scope::Global,
        &["?"],
    ),
    info(
        Action::Quit,
        "quit",
        "Quit (Ctrl-C always quits)",
        "quit",
        Scope::Global,
        &["q"],
    ),
];

/// Keys the generate dialog needs for its fields: moving, choosing, editing text, and any
/// plain character (typed into the rows or the model).
fn dialog_owns(chord: &KeyChord) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    let editing = [
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Home,
        KeyCode::End,
    ];
    let ctrl = chord.mods.contains(KeyModifiers::CONTROL);
    let alt = chord.mods.contains(KeyModifiers::ALT);
    match chord.code {
        KeyCode::Char(c) if ctrl => "aekuw".contains(c),
        KeyCode::Char(c) if alt => "bf".contains(c),
        KeyCode::Char(_) => true,
        code => editing.contains(&code),
    }
}

#[allow(clippy::too_many_arguments)]
const fn info(
    action: Action,
    name: &'static str,
    description: &'static str,
    hint: &'static str,
    scope: Scope,
    defaults: &'static [&'static str],
) -> ActionInfo {
    ActionInfo {
        action,
        name,
        description,
        hint,
        scope,
        defaults,
    }
}

/// The names accepted under `[tui.keys]`.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}

pub fn action_info(action: Action) -> &'static ActionInfo {
    // ACTIONS lists every variant; the fallback is never reached.
    ACTIONS
        .iter()
        .find(|a| a.action == action)
        .unwrap_or(&ACTIONS[0])
}

pub use crate::keychord::KeyChord;

/// Keys for each action, defaults replaced by the config file's choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<KeyChord>)>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = ACTIONS
            .iter()
            .map(|a| {
                let keys = a
                    .defaults
                    .iter()
                    .filter_map(|k| KeyChord::parse(k).ok())
                    .collect();
                (a.action, keys)
            })
            .collect();
        Self { bindings }
    }
}

impl Keymap {
    /// The defaults with `overrides` (action name, keys) applied. Two actions
    /// that could both see the same key are refused with one sentence.
    pub fn with_overrides(overrides: &[(String, Vec<KeyChord>)]) -> Result<Self, String> {
        let mut map = Self::default();
        for (name, keys) in overrides {
            let Some(info) = ACTIONS.iter().find(|a| a.name == name) else {
                return Err(format!(
                    "[tui.keys] names an unknown action '{name}'. Known actions: {}.",
                    action_names().collect::<Vec<_>>().join(", ")
                ));
            };
            if let Some(slot) = map.bindings.iter_mut().find(|(a, _)| *a == info.action) {
                slot.1 = keys.clone();
            }
        }
        map.check_conflicts()?;
        Ok(map)
    }

    fn check_conflicts(&self) -> Result<(), String> {
        for (action, keys) in &self.bindings {
            if action_info(*action).scope != Scope::GenerateDialog {
                continue;
            }
            if let Some(k) = keys.iter().find(|k| dialog_owns(k)) {
                return Err(format!(
                    "The key '{k}' cannot be {}: the generate dialog uses it to fill in its fields. \
                     Choose a key with ctrl or alt, or a function key, under [tui.keys] in the config file.",
                    action_info(*action).name
                ));
            }
        }
        for (i, (a, keys)) in self.bindings.iter().enumerate() {
            for (b, other) in &self.bindings[i + 1..] {
                let (sa, sb) = (action_info(*a).scope, action_info(*b).scope);
                let overlap = [Pane::List, Pane::Rows, Pane::Schema, Pane::Results]
                    .iter()
                    .any(|p| sa.applies_to(*p) && sb.applies_to(*p));
                if !overlap {
                    continue;
                }
                if let Some(k) = keys.iter().find(|k| other.contains(k)) {
                    return Err(format!(
                        "The key '{k}' is bound to both {} and {}; change one of them under [tui.keys] in the config file.",
                        action_info(*a).name,
                        action_info(*b).name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether `event` is one of `action`'s keys, wherever that action applies (the
    /// generate dialog asks this of its own action).
    pub fn pressed(&self, action: Action, event: &KeyEvent) -> bool {
        event.kind != KeyEventKind::Release
            && self.keys(action).contains(&KeyChord::from_event(event))
    }

    /// The action a key asks for in `pane`, if any.
    pub fn action(&self, event: &KeyEvent, pane: Pane) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let chord = KeyChord::from_event(event);
        self.bindings
            .iter()
            .find(|(a, keys)| action_info(*a).scope.applies_to(pane) && keys.contains(&chord))
            .map(|(a, _)| *a)
    }

    pub fn keys(&self, action: Action) -> &[KeyChord] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// The keys of an action as the help shows them: `↓/j`.
    pub fn label(&self, action: Action) -> String {
        let keys = self.keys(action);
        if keys.is_empty() {
            return "(unbound)".into();
        }
        keys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The first key of an action, for the hint bar.
    pub fn short(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(ToString::to_string)
    }

    /// Help lines: (keys, description, where) for every action.
    pub fn help(&self) -> Vec<(String, &'static str, &'static str)> {
        ACTIONS
            .iter()
            .map(|a| {
                let place = match a.scope {
                    Scope::Global => "",
                    Scope::Move => "",
                    Scope::List => "list",
                    Scope::Rows => "rows",
                    Scope::GenerateDialog => "generate dialog",
                };
                (self.label(a.action), a.description, place)
            })
            .collect()
    }

    /// The hint bar's actions for a pane, most useful first.
    pub fn hints(&self, pane: Pane) -> Vec<(String, &'static str)> {
        self.hint_actions(pane)
            .into_iter()
            .map(|(_, key, hint)| (key, hint))
            .collect()
    }

    /// [`hints`](Self::hints) with the action each hint is for.
    pub fn hint_actions(&self, pane: Pane) -> Vec<(Action, String, &'static str)> {
        let order: &[Action] = match pane {
            Pane::List => &[
                Action::Generate,
                Action::GenerateDialog,
                Action::FillDatabase,
                Action::Open,
                Action::Query,
                Action::Schema,
                Action::Undo,
                Action::Filter,
                Action::Export,
                Action::Import,
                Action::Delete,
                Action::Help,
                Action::Quit,
            ],
            Pane::Rows => &[
                Action::Generate,
                Action::Filter,
                Action::Sort,
                Action::GoToRow,
                Action::Query,
                Action::ViewCell,
                Action::Right,
                Action::Last,
                Action::Schema,
                Action::SwitchPane,
                Action::Help,
                Action::Quit,
            ],
            Pane::Schema => &[
                Action::Generate,
                Action::Query,
                Action::Schema,
                Action::SwitchPane,
                Action::Help,
                Action::Quit,
            ],
            Pane::Results => &[
                Action::Query,
                Action::Export,
                Action::ViewCell,
                Action::Right,
                Action::Last,
                Action::SwitchPane,
                Action::Help,
                Action::Quit,
            ],
        };
        order
            .iter()
            .filter_map(|a| {
                let key = match a {
                    Action::Right => format!("{}{}", self.short(Action::Left)?, self.short(*a)?),
                    _ => self.short(*a)?,
                };
                let hint = match (pane, a) {
                    (Pane::Results, Action::Query) => "edit SQL",
                    (Pane::Results, Action::Export) => "export result",
                    (Pane::Rows, Action::Filter) => "search",
                    // In the schema view the same key goes back to the rows.
                    (Pane::Schema, Action::Schema) => "rows",
                    _ => action_info(*a).hint,
                };
                Some((*a, key, hint))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn labels_read_as_the_help_shows_them() {
        assert_eq!(Keymap::default().label(Action::Down), "↓/j");
    }

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_action_is_listed_once() {
        let mut seen: Vec<Action> = ACTIONS.iter().map(|a| a.action).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), ACTIONS.len());
        assert!(Keymap::default().check_conflicts().is_ok());
    }

    #[test]
    fn shifted_letters_match_their_capital() {
        let map = Keymap::default();
        let shifted = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            map.action(&shifted, Pane::List),
            Some(Action::GenerateDialog)
        );
        let back = key(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(map.action(&back, Pane::Rows), Some(Action::SwitchPane));
        assert_eq!(
            map.action(&key(KeyCode::Char('v'), KeyModifiers::NONE), Pane::List),
            None
        );
    }

    #[test]
    fn overrides_replace_defaults_and_conflicts_are_refused() {
        let map = Keymap::with_overrides(&[(
            "generate".into(),
            vec![
                KeyChord::parse("ctrl-g")
                    .unwrap_or(KeyChord::new(KeyCode::Null, KeyModifiers::NONE)),
            ],
        )]);
        let map = map.unwrap_or_default();
        assert_eq!(
            map.action(&key(KeyCode::Char('g'), KeyModifiers::CONTROL), Pane::List),
            Some(Action::Generate)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('g'), KeyModifiers::NONE), Pane::List),
            None
        );
        let clash = Keymap::with_overrides(&[(
            "generate".into(),
            vec![KeyChord::new(KeyCode::Char('q'), KeyModifiers::NONE)],
        )]);
        assert!(clash.is_err_and(|e| e.contains("'q'") && e.contains("quit")));
        let unknown = Keymap::with_overrides(&[("fly".into(), vec![])]);
        assert!(unknown.is_err_and(|e| e.contains("'fly'")));
    }

    #[test]
    fn the_dialogs_key_is_never_one_its_fields_need() {
        let map = Keymap::default();
        let ctrl_p = key(KeyCode::Char('p'), KeyModifiers::CONTROL);
        assert!(map.pressed(Action::ShowPrompt, &ctrl_p));
        // Outside the dialog the key does nothing.
        assert_eq!(map.action(&ctrl_p, Pane::List), None);
        let with = |k: &str| {
            Keymap::with_overrides(&[(
                "show_prompt".into(),
                KeyChord::parse(k).into_iter().collect(),
            )])
        };
        // `p` would be typed into the model's name; Ctrl-U clears a field.
        assert!(with("p").is_err_and(|e| e.contains("'p'") && e.contains("show_prompt")));
        assert!(with("ctrl-u").is_err());
        assert!(with("enter").is_err());
        assert!(with("f2").is_ok());
    }
}
