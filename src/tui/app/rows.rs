//! The rows pane's workbench keys: search the rows (`/`), sort by the selected column
//! (`o`), go to row N (`#`). The database does the work (`db::browse::Lens`); this only
//! keeps what the user typed and asks for the pages.

use super::*;
use crate::db::browse::{Lens, Sort};

/// A line typed at the bottom of the rows pane.
#[derive(Debug, Clone, PartialEq)]
pub struct RowInput {
    pub kind: RowInputKind,
    pub input: Input,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowInputKind {
    /// Text to find in any column; Enter shows only the rows that have it.
    Search,
    /// A row number; Enter moves there.
    GoTo,
}

/// `/` in the rows pane: type what to find, starting from the search shown now.
pub(super) fn open_search(app: &mut App) -> Vec<Effect> {
    let Some(grid) = app.grid.as_ref() else {
        return Vec::new();
    };
    let text = grid.lens.search.clone().unwrap_or_default();
    app.row_input = Some(RowInput {
        kind: RowInputKind::Search,
        input: Input::new(text),
    });
    Vec::new()
}

/// `#`: type a row number.
pub(super) fn open_go_to(app: &mut App) -> Vec<Effect> {
    if app.active_grid().is_none() {
        return Vec::new();
    }
    app.row_input = Some(RowInput {
        kind: RowInputKind::GoTo,
        input: Input::new(String::new()),
    });
    Vec::new()
}

pub(super) fn on_row_input_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(mut line) = app.row_input.take() else {
        return Vec::new();
    };
    match key.code {
        // Closes the line; what is shown stays as it was.
        KeyCode::Esc => Vec::new(),
        KeyCode::Enter => match line.kind {
            RowInputKind::Search => search(app, line.input.text.trim()),
            RowInputKind::GoTo => go_to(app, &line.input.text),
        },
        _ => {
            line.input.edit(&key);
            app.row_input = Some(line);
            Vec::new()
        }
    }
}

/// Shows only the rows with `text` in some column (all rows when it is empty).
fn search(app: &mut App, text: &str) -> Vec<Effect> {
    let Some(grid) = app.grid.as_mut() else {
        return Vec::new();
    };
    let search = (!text.is_empty()).then(|| text.to_string());
    if grid.lens.search == search {
        return Vec::new();
    }
    let lens = Lens {
        search,
        sort: grid.lens.sort.clone(),
    };
    vec![Effect::LoadPage(grid.relens(lens))]
}

/// Moves to 1-based row `typed` (`1,000` and `1_000` read as a thousand).
fn go_to(app: &mut App, typed: &str) -> Vec<Effect> {
    let digits: String = typed
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let row = match digits.parse::<u64>() {
        Ok(n) if n >= 1 => n,
        _ => {
            app.toast(
                Level::Warning,
                format!(
                    "'{}' is not a row number; type one from 1 on.",
                    typed.trim()
                ),
            );
            return Vec::new();
        }
    };
    let height = app.grid_height();
    if app.mode == Mode::Query {
        // A result is held whole: moving is enough.
        if let Some(grid) = app.results.as_mut().map(|r| &mut r.grid) {
            let last = grid.rows.len().saturating_sub(1);
            grid.cursor = (row as usize).saturating_sub(1).min(last);
            grid.follow(height);
        }
        return Vec::new();
    }
    match app.grid.as_mut() {
        Some(grid) => vec![Effect::LoadPage(grid.go_to(row))],
        None => Vec::new(),
    }
}

/// `o`: sorts by the selected column, ascending; again: descending; again: the table's own
/// order.
pub(super) fn sort(app: &mut App) -> Vec<Effect> {
    if app.mode == Mode::Query {
        let key = app
            .keymap
            .short(Action::Query)
            .unwrap_or_else(|| ":".into());
        app.toast(
            Level::Info,
            format!("A result keeps the order its SQL gives: {key} edits the query, add ORDER BY."),
        );
        return Vec::new();
    }
    let Some(grid) = app.grid.as_mut() else {
        return Vec::new();
    };
    let Some(column) = grid.columns.get(grid.col).cloned() else {
        return Vec::new();
    };
    let sort = match &grid.lens.sort {
        Some(s) if s.column == column && !s.descending => Some(Sort {
            column,
            descending: true,
        }),
        Some(s) if s.column == column => None,
        _ => Some(Sort {
            column,
            descending: false,
        }),
    };
    let lens = Lens {
        search: grid.lens.search.clone(),
        sort,
    };
    vec![Effect::LoadPage(grid.relens(lens))]
}

/// Esc in the rows pane with a search or a sort: back to all rows in the table's order.
/// `None` when there is nothing to undo there.
pub(super) fn clear_lens(app: &mut App) -> Option<Vec<Effect>> {
    if app.focus == Pane::List || app.mode != Mode::Rows {
        return None;
    }
    let grid = app.grid.as_mut().filter(|g| !g.lens.is_plain())?;
    Some(vec![Effect::LoadPage(grid.relens(Lens::default()))])
}

/// What the rows pane's bottom line says about its lens: ` /lamp · by price ↓ `.
pub fn lens_line(grid: &crate::tui::grid::Grid) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = grid.lens.search.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("/{s}"));
    }
    if let Some(sort) = &grid.lens.sort {
        let arrow = if sort.descending { '↓' } else { '↑' };
        parts.push(format!("by {} {arrow}", sort.column));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}
