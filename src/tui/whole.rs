//! Filling the whole database from the app: the dialog (the size, the provider, and the
//! plan as it arrives) and the run's progress, table by table. State and its geometry
//! only; `app::whole` decides what keys and events do, `view::whole` draws.

use ratatui::layout::Rect;

use super::layout::{centered, wrapped_lines};
use super::line::LineEdit as Input;
use crate::generate::whole::{Size, WholePlan};
use crate::output::{rows_word, thousands};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How the size is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeKind {
    /// Each table grows to N times its rows.
    Scale,
    /// Each table with no parent in the run gets N rows; children follow their parents.
    Rows,
}

/// The dialog's fields, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeField {
    Kind,
    Amount,
    Provider,
    Model,
}

impl WholeField {
    pub const ALL: [WholeField; 4] = [
        WholeField::Kind,
        WholeField::Amount,
        WholeField::Provider,
        WholeField::Model,
    ];
}

/// Where the plan for the size typed stands.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanState {
    /// Asked for; the database is being read off the UI loop.
    Planning,
    Ready(Box<WholePlan>),
    /// Why no plan could be made (the database's own sentence).
    Failed(String),
    /// The size typed is not one a run can take: the dialog's error says why.
    NoSize,
}

/// The fill dialog: the size, who generates, and the plan for that size.
#[derive(Debug, Clone, PartialEq)]
pub struct WholeDialog {
    pub field: WholeField,
    pub kind: SizeKind,
    /// The scale typed (`2` doubles every table).
    pub scale: Input,
    /// The rows per starting table typed.
    pub rows: Input,
    pub provider: usize,
    pub model: Input,
    /// The plan asked for last: an answer to an older request is stale.
    pub plan_id: u64,
    /// The size the plan (ready or on its way) is for.
    pub planned_for: Option<Size>,
    pub plan: PlanState,
    /// First line of the plan shown.
    pub scroll: u16,
    pub error: Option<String>,
    /// A model run above `generate.confirm_rows`: Enter was pressed once and this
    /// question is shown; a second yes runs it.
    pub confirm: Option<String>,
}

impl WholeDialog {
    /// The amount field of the kind chosen.
    pub fn amount(&self) -> &Input {
        match self.kind {
            SizeKind::Scale => &self.scale,
            SizeKind::Rows => &self.rows,
        }
    }

    pub fn amount_mut(&mut self) -> &mut Input {
        match self.kind {
            SizeKind::Scale => &mut self.scale,
            SizeKind::Rows => &mut self.rows,
        }
    }

    /// The size typed, or the sentence saying why it is not one (`max_rows` is
    /// `generate.max_rows`).
    pub fn size(&self, max_rows: u64) -> Result<Size, String> {
        let text = self.amount().text.trim().replace([',', '_'], "");
        match self.kind {
            SizeKind::Scale => {
                let number = text
                    .trim_end_matches(['x', 'X', '×'])
                    .trim_start_matches(['x', 'X', '×'])
                    .trim();
                match number.parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 1.0 && f <= 1_000.0 => Ok(Size::Scale(f)),
                    _ => Err(
                        "Scale must be a number above 1 and at most 1000: each table grows to that many times its rows (2 doubles it)."
                            .into(),
                    ),
                }
            }
            SizeKind::Rows => match text.parse::<u64>() {
                Ok(n) if (1..=max_rows).contains(&n) => Ok(Size::Rows(n)),
                _ => Err(format!(
                    "Rows must be a whole number from 1 to {} (generate.max_rows).",
                    thousands(max_rows)
                )),
            },
        }
    }

    /// The plan's lines as the dialog shows them: a heading, then a line per table.
    pub fn plan_lines(&self) -> Vec<String> {
        match &self.plan {
            PlanState::Planning => vec!["Reading the database to plan the run…".into()],
            PlanState::NoSize => vec!["Give a size to see the plan.".into()],
            PlanState::Failed(why) => vec![format!("No plan: {why}")],
            PlanState::Ready(plan) => {
                let n = plan.tables.len();
                let total = plan.rows();
                let mut lines = vec![format!(
                    "Plan: about {} {} in {n} {}, parents first:",
                    thousands(total),
                    rows_word(total),
                    if n == 1 { "table" } else { "tables" }
                )];
                lines.extend(plan.lines().into_iter().map(|l| format!("  {l}")));
                lines
            }
        }
    }

    /// The plan's lines wrapped at `width` columns, each table's notes indented under its
    /// name.
    pub fn plan_rows(&self, width: usize) -> Vec<String> {
        self.plan_lines()
            .iter()
            .flat_map(|line| {
                // Under "  1. " or "  skipped ": where the table's name starts.
                let trimmed = line.trim_start();
                let lead = line.len() - trimmed.len();
                let marker = trimmed
                    .split_once(' ')
                    .filter(|(first, _)| first.ends_with('.') || *first == "skipped")
                    .map_or(0, |(first, _)| first.width() + 1);
                wrap_hanging(line, width, if lead > 0 { lead + marker } else { 2 })
            })
            .collect()
    }
}

/// `text` word-wrapped at `width` columns, the lines after the first indented by `indent`
/// spaces; a word wider than a line is cut.
pub fn wrap_hanging(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(2);
    let indent = indent.min(width / 2);
    let body = text.trim_start_matches(' ');
    let lead = (text.len() - body.len()).min(width / 2);
    let mut lines = Vec::new();
    let mut line = " ".repeat(lead);
    // No word on the line yet.
    let mut empty = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.width() + 1 + word.width() > width {
            lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        let mut rest = word;
        loop {
            let room = width.saturating_sub(line.width()).max(1);
            if rest.width() <= room {
                line.push_str(rest);
                break;
            }
            let (head, tail) = split_at_width(rest, room);
            line.push_str(head);
            lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
            rest = tail;
        }
        empty = false;
    }
    if !empty || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The first part of `word` that is at most `room` columns wide (one character at least),
/// and the rest.
fn split_at_width(word: &str, room: usize) -> (&str, &str) {
    let mut used = 0;
    let mut cut = 0;
    for (i, c) in word.char_indices() {
        let w = c.width().unwrap_or(0);
        if i > 0 && used + w > room {
            break;
        }
        used += w;
        cut = i + c.len_utf8();
    }
    word.split_at(cut)
}

/// Where the dialog's parts go on a screen of `area`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogGeometry {
    pub rect: Rect,
    /// Columns inside the borders and padding.
    pub inner_width: u16,
    /// Screen lines the plan has.
    pub plan_height: u16,
    /// The furthest the plan scrolls.
    pub max_scroll: u16,
}

/// Lines of the dialog other than the plan: the four fields, two blank lines, the key line,
/// and the error and the question when there are.
pub fn fixed_lines(d: &WholeDialog, inner_width: u16) -> u16 {
    let width = inner_width.max(1) as usize;
    let mut n = 4 + 2 + 1;
    if let Some(e) = &d.error {
        n += wrapped_lines(e, width);
    }
    if let Some(q) = &d.confirm {
        // The question and a blank line before it.
        n += wrapped_lines(q, width) + 1;
    }
    n as u16
}

/// The dialog's box: as wide as the screen allows up to 100 columns, as tall as the plan
/// needs within the screen; the plan scrolls when it needs more.
pub fn dialog_geometry(area: Rect, d: &WholeDialog) -> DialogGeometry {
    let width = area.width.saturating_sub(4).min(100);
    let inner_width = width.saturating_sub(4).max(1);
    let plan_wrapped = d.plan_rows(inner_width as usize).len();
    let fixed = fixed_lines(d, inner_width);
    let room = area.height.saturating_sub(2 + 2 + fixed).max(1);
    let plan_height = (plan_wrapped as u16).clamp(1, room);
    let rect = centered(area, width, plan_height + fixed + 2);
    DialogGeometry {
        rect,
        inner_width,
        plan_height,
        max_scroll: (plan_wrapped as u16).saturating_sub(plan_height),
    }
}

/// One table of a running fill.
#[derive(Debug, Clone, PartialEq)]
pub struct TableProgress {
    pub table: String,
    /// Rows the table gets: the plan's estimate until the table starts, then the count
    /// its parents' new rows settled.
    pub wanted: u64,
    pub added: u64,
    pub started: bool,
}

/// A whole-database fill in progress (one at a time).
#[derive(Debug, Clone, PartialEq)]
pub struct WholeRun {
    pub id: u64,
    pub tables: Vec<TableProgress>,
    /// The table being filled (index into `tables`).
    pub current: Option<usize>,
    pub stage: String,
    /// The second pass (keys that close cycles, parents' totals) is running.
    pub completing: bool,
    pub cancelling: bool,
    /// The app's tick when it started.
    pub started: u64,
    /// Provider and model, as the first table's job named them.
    pub source: String,
    /// Tokens the tables done so far used, and the table being filled.
    pub tokens_done: u64,
    pub tokens: u64,
}

impl WholeRun {
    pub fn new(id: u64, plan: &WholePlan, tick: u64) -> Self {
        Self {
            id,
            tables: plan
                .tables
                .iter()
                .map(|t| TableProgress {
                    table: t.table.clone(),
                    wanted: t.rows,
                    added: 0,
                    started: false,
                })
                .collect(),
            current: None,
            stage: "starting".into(),
            completing: false,
            cancelling: false,
            started: tick,
            source: String::new(),
            tokens_done: 0,
            tokens: 0,
        }
    }

    /// Rows added so far, every table together.
    pub fn added(&self) -> u64 {
        self.tables.iter().map(|t| t.added).sum()
    }

    /// The tables filled already, with their rows, and the tables still to come.
    pub fn done_and_to_come(&self) -> (Vec<&TableProgress>, Vec<&TableProgress>) {
        let at = match (self.completing, self.current) {
            (true, _) => self.tables.len(),
            (false, Some(i)) => i,
            (false, None) => 0,
        };
        let done = self.tables.iter().take(at).collect();
        let next = if self.completing {
            Vec::new()
        } else {
            self.tables
                .iter()
                .skip(at + usize::from(self.current.is_some()))
                .collect()
        };
        (done, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog(kind: SizeKind, text: &str) -> WholeDialog {
        WholeDialog {
            field: WholeField::Amount,
            kind,
            scale: Input::new(text),
            rows: Input::new(text),
            provider: 0,
            model: Input::default(),
            plan_id: 0,
            planned_for: None,
            plan: PlanState::NoSize,
            scroll: 0,
            error: None,
            confirm: None,
        }
    }

    #[test]
    fn sizes_read_as_typed_and_the_rest_say_why() {
        let scale = |t: &str| dialog(SizeKind::Scale, t).size(1_000);
        assert_eq!(scale("2"), Ok(Size::Scale(2.0)));
        assert_eq!(scale(" 2.5x"), Ok(Size::Scale(2.5)));
        assert_eq!(scale("×3"), Ok(Size::Scale(3.0)));
        for bad in ["1", "0.5", "", "x", "1001", "nan", "inf"] {
            assert!(scale(bad).is_err_and(|e| e.contains("above 1")), "{bad}");
        }
        let rows = |t: &str| dialog(SizeKind::Rows, t).size(1_000);
        assert_eq!(rows("1,000"), Ok(Size::Rows(1_000)));
        assert!(rows("1001").is_err_and(|e| e.contains("generate.max_rows")));
        assert!(rows("0").is_err());
        assert!(rows("2.5").is_err());
    }

    #[test]
    fn plan_lines_wrap_under_the_table_name() {
        let line = "  2. orders: about +200 rows (200 → about 400); 3.3 per new customers row";
        assert_eq!(
            wrap_hanging(line, 40, 5),
            [
                "  2. orders: about +200 rows (200 →",
                "     about 400); 3.3 per new customers",
                "     row",
            ]
        );
        // A word wider than the line is cut, never lost.
        assert_eq!(
            wrap_hanging("ab abcdefghij", 6, 2),
            ["ab", "  abcd", "  efgh", "  ij"]
        );
        assert_eq!(wrap_hanging("", 10, 2), [""]);
        for l in wrap_hanging(&"word ".repeat(50), 17, 4) {
            assert!(l.width() <= 17, "{l:?}");
        }
    }

    #[test]
    fn done_and_to_come_follow_the_table_being_filled() {
        let progress = |t: &str| TableProgress {
            table: t.into(),
            wanted: 10,
            added: 0,
            started: false,
        };
        let mut run = WholeRun {
            id: 1,
            tables: vec![progress("a"), progress("b"), progress("c")],
            current: None,
            stage: String::new(),
            completing: false,
            cancelling: false,
            started: 0,
            source: String::new(),
            tokens_done: 0,
            tokens: 0,
        };
        let names = |v: Vec<&TableProgress>| v.iter().map(|t| t.table.clone()).collect::<Vec<_>>();
        let (done, next) = run.done_and_to_come();
        assert_eq!(
            (names(done), names(next)),
            (vec![], vec!["a".into(), "b".into(), "c".into()])
        );
        run.current = Some(1);
        let (done, next) = run.done_and_to_come();
        assert_eq!(
            (names(done), names(next)),
            (vec!["a".to_string()], vec!["c".to_string()])
        );
        run.completing = true;
        let (done, next) = run.done_and_to_come();
        assert_eq!((names(done).len(), names(next).len()), (3, 0));
    }
}
