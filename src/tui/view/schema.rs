//! The schema view: columns, types, constraints, foreign keys and indexes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::db::catalog::{ColumnKind, TableInfo, UniqueSource};
use crate::tui::app::{App, Level};
use crate::tui::keys::Pane;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = app.theme;
    let focused = app.focus != Pane::List;
    let name = app.schema.as_ref().map(|s| s.table.as_str()).unwrap_or("");
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            format!(" {} · schema ", crate::output::printable(name)),
            theme.title(),
        ));
    let Some(view) = &app.schema else {
        frame.render_widget(block, area);
        return;
    };
    let (lines, style) = match &view.info {
        None => (vec![Line::from("Reading the schema…")], theme.dim()),
        Some(Err(e)) => (vec![Line::from(e.clone())], theme.level(Level::Error)),
        Some(Ok(info)) => (describe(info, theme), Style::new()),
    };
    let max_scroll = (lines.len() as u16).saturating_sub(area.height.saturating_sub(2));
    frame.render_widget(
        Paragraph::new(lines)
            .style(style)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((view.scroll.min(max_scroll), 0)),
        area,
    );
}

fn describe(info: &TableInfo, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut flags = vec![info.kind.as_str().to_string()];
    if info.without_rowid {
        flags.push("WITHOUT ROWID".into());
    }
    if info.strict {
        flags.push("STRICT".into());
    }
    if info.autoincrement {
        flags.push("AUTOINCREMENT".into());
    }
    lines.push(Line::from(vec![
        Span::styled(
            crate::output::printable(&info.name).into_owned(),
            theme.title(),
        ),
        Span::styled(format!("  {}", flags.join(" · ")), theme.dim()),
    ]));
    lines.push(Line::from(""));
    lines.push(Line::styled("Columns", theme.header()));
    let name_w = info
        .columns
        .iter()
        .map(|c| c.name.width())
        .max()
        .unwrap_or(4)
        .clamp(4, 30);
    let type_w = info
        .columns
        .iter()
        .map(|c| c.decl_type.width())
        .max()
        .unwrap_or(4)
        .clamp(4, 20);
    for c in &info.columns {
        let mut notes = Vec::new();
        if c.pk_position.is_some() {
            notes.push(if c.rowid_alias {
                "PRIMARY KEY (rowid)".to_string()
            } else {
                "PRIMARY KEY".to_string()
            });
        }
        if c.not_null {
            notes.push("NOT NULL".into());
        }
        let unique_alone = info.unique.iter().any(|u| {
            u.columns.len() == 1
                && u.columns[0].eq_ignore_ascii_case(&c.name)
                && u.source != UniqueSource::PrimaryKey
        });
        if unique_alone {
            notes.push("UNIQUE".into());
        }
        if let Some(d) = &c.default {
            notes.push(format!("DEFAULT {d}"));
        }
        match c.kind {
            ColumnKind::GeneratedVirtual => notes.push("GENERATED (virtual)".into()),
            ColumnKind::GeneratedStored => notes.push("GENERATED (stored)".into()),
            ColumnKind::Hidden => notes.push("hidden".into()),
            ColumnKind::Identity => notes.push("identity".into()),
            ColumnKind::Normal => {}
        }
        for fk in &info.foreign_keys {
            if fk.from.len() == 1 && fk.from[0].eq_ignore_ascii_case(&c.name) {
                notes.push(format!("→ {}({})", fk.table, fk.to.join(", ")));
            }
        }
        for check in &info.checks {
            if check
                .column
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&c.name))
            {
                notes.push(format!("CHECK ({})", check.expr));
            }
        }
        let decl = if c.decl_type.is_empty() {
            "(any)".to_string()
        } else {
            c.decl_type.clone()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<name_w$}  ", c.name)),
            Span::styled(format!("{decl:<type_w$}"), theme.accent()),
            Span::raw(format!("  {}", notes.join(" · "))),
        ]));
    }
    let composite: Vec<_> = info
        .unique
        .iter()
        .filter(|u| u.columns.len() > 1 && u.source != UniqueSource::PrimaryKey)
        .collect();
    let pk = info.primary_key();
    if pk.len() > 1 {
        lines.push(Line::from(format!(
            "  PRIMARY KEY ({})",
            pk.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for u in composite {
        lines.push(Line::from(format!("  UNIQUE ({})", u.columns.join(", "))));
    }
    if !info.foreign_keys.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Foreign keys", theme.header()));
        for fk in &info.foreign_keys {
            let mut actions = Vec::new();
            if fk.on_delete != "NO ACTION" {
                actions.push(format!("ON DELETE {}", fk.on_delete));
            }
            if fk.on_update != "NO ACTION" {
                actions.push(format!("ON UPDATE {}", fk.on_update));
            }
            if fk.deferred {
                actions.push("DEFERRABLE INITIALLY DEFERRED".into());
            }
            lines.push(Line::from(format!(
                "  ({}) → {}({}) {}",
                fk.from.join(", "),
                fk.table,
                fk.to.join(", "),
                actions.join(" ")
            )));
        }
    }
    let table_checks: Vec<_> = info.checks.iter().filter(|c| c.column.is_none()).collect();
    if !table_checks.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Checks", theme.header()));
        for c in table_checks {
            lines.push(Line::from(format!("  CHECK ({})", c.expr)));
        }
    }
    let indexes: Vec<_> = info.indexes.iter().filter(|i| i.origin != "pk").collect();
    if !indexes.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled("Indexes", theme.header()));
        for i in indexes {
            let mut tags = Vec::new();
            if i.unique {
                tags.push("UNIQUE");
            }
            if i.partial {
                tags.push("partial");
            }
            if i.origin == "u" {
                tags.push("from a UNIQUE constraint");
            }
            lines.push(Line::from(vec![
                Span::raw(format!("  {} ", i.name)),
                Span::raw(format!("({})", i.columns.join(", "))),
                Span::styled(
                    if tags.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", tags.join(" · "))
                    },
                    theme.dim(),
                ),
            ]));
        }
    }
    // The statement itself, as SQLite keeps it: what a workbench's DDL view shows.
    if let Some(sql) = &info.sql {
        lines.push(Line::from(""));
        lines.push(Line::styled("CREATE statement", theme.header()));
        for line in sql.lines() {
            lines.push(Line::from(format!("  {}", crate::output::printable(line))));
        }
    }
    lines
}
