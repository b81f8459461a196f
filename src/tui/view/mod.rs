//! Drawing: a function of the app's state, nothing else.

mod dialogs;
mod help;
mod list;
mod query;
mod rows;
mod schema;
mod status;
mod toasts;
mod whole;

use ratatui::Frame;

use super::app::{App, Mode};
use super::layout;

/// Braille spinner, one frame per tick.
use crate::output::SPINNER;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

/// A text field in at most `width` columns: with the focus, the part around the cursor and
/// the cursor itself as a block; without, the text cut to fit.
pub fn field(
    edit: &super::line::LineEdit,
    width: usize,
    theme: super::theme::Theme,
    focus: bool,
) -> Vec<Span<'static>> {
    let text = Style::new().add_modifier(Modifier::UNDERLINED);
    if !focus {
        return vec![Span::styled(crate::output::cell(&edit.text, width), text)];
    }
    let w = edit.window(width);
    vec![
        Span::styled(w.before, text),
        Span::styled(w.at, theme.cell()),
        Span::styled(w.after, text),
    ]
}

pub fn spinner(app: &App) -> char {
    SPINNER[(app.tick % SPINNER.len() as u64) as usize]
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let areas = layout::areas(
        area,
        layout::list_width_of(app.widest_name(), area.width),
        app.progress_lines(),
    );
    list::draw(frame, areas.list, app);
    match app.mode {
        Mode::Rows => rows::draw(frame, areas.main, app),
        Mode::Schema => schema::draw(frame, areas.main, app),
        Mode::Query => query::draw(frame, areas.main, app),
    }
    status::progress(frame, areas.progress, app);
    toasts::draw(frame, areas.progress, app);
    status::status(frame, areas.status, app);
    status::hints(frame, areas.hints, app);
    query::line(frame, area, app);
    if let Some(modal) = &app.modal {
        dialogs::draw(frame, area, app, modal);
    }
}
