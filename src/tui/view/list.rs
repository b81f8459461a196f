//! The table list: names at once, counts as they arrive, a spinner on
//! tables being generated.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::spinner;
use crate::db::catalog::ObjectKind;
use crate::output::{cell_middle, thousands};
use crate::tui::app::{App, Count};
use crate::tui::keys::Pane;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let focused = app.focus == Pane::List;
    let visible = app.visible();
    let title = if app.filter.text.is_empty() && !app.filtering {
        format!(" Tables ({}) ", app.tables.len())
    } else {
        format!(" Tables ({}/{}) ", visible.len(), app.tables.len())
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(title, theme.title()));
    if app.filtering || !app.filter.text.is_empty() {
        let room = (area.width as usize).saturating_sub(6);
        let mut spans = vec![Span::styled(" /", theme.key())];
        spans.extend(crate::tui::view::field(
            &app.filter,
            room,
            theme,
            app.filtering,
        ));
        spans.push(Span::raw(" "));
        block = block.title_bottom(Line::from(spans));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(err) = &app.list_error {
        lines.push(Line::styled(
            err.clone(),
            theme.level(crate::tui::app::Level::Error),
        ));
    } else if !app.listed {
        lines.push(Line::styled("Reading…", theme.dim()));
    } else if app.tables.is_empty() {
        lines.push(Line::styled("No tables yet.", theme.dim()));
        if let Some(k) = app.keymap.short(crate::tui::keys::Action::Import) {
            lines.push(Line::styled(format!("{k} imports a file."), theme.dim()));
        }
    } else if visible.is_empty() {
        lines.push(Line::styled("No table matches.", theme.dim()));
    }
    let height = inner.height as usize;
    for (pos, &index) in visible.iter().enumerate().skip(app.list_top).take(height) {
        let t = &app.tables[index];
        let generating = app.job_for(&t.name).is_some();
        let mark = if generating {
            spinner(app).to_string()
        } else {
            " ".into()
        };
        let (count, count_style) = match &t.count {
            Count::Known(n) => (thousands(*n), Style::new()),
            Count::Pending => ("…".to_string(), theme.dim()),
            Count::Unknown => ("?".to_string(), theme.dim()),
            Count::Failed(_) => ("!".to_string(), theme.level(crate::tui::app::Level::Error)),
        };
        let count = match t.kind {
            ObjectKind::Table => count,
            ObjectKind::View => format!("view {count}"),
            ObjectKind::Virtual => format!("virt {count}"),
            ObjectKind::MaterializedView => format!("mview {count}"),
            ObjectKind::Foreign => format!("foreign {count}"),
        };
        let room = width.saturating_sub(count.width() + 3);
        let name = cell_middle(&t.name, room.max(1));
        let pad = width.saturating_sub(2 + name.width() + count.width());
        let selected = pos == app.selected;
        let base = if selected {
            theme.selected(focused)
        } else {
            Style::new()
        };
        lines.push(
            Line::from(vec![
                Span::styled(mark, theme.accent()),
                Span::raw(" "),
                Span::raw(name),
                Span::raw(" ".repeat(pad)),
                Span::styled(count, if selected { Style::new() } else { count_style }),
            ])
            .style(base),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
