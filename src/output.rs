//! Text output for people: aligned columns that respect wide characters.

use unicode_truncate::UnicodeTruncateStr;
use unicode_width::UnicodeWidthStr;

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Renders rows under a header, each column padded to its widest cell.
pub fn grid(headers: &[&str], aligns: &[Align], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| printable(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| printable(h).width()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| printable(h).into_owned()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.width());
            let last = i + 1 == row.len();
            match aligns.get(i).copied().unwrap_or(Align::Left) {
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
                Align::Left => {
                    line.push_str(cell);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            if !last {
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `one` for exactly one, `many` otherwise: `plural(n, "row", "rows")`.
pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `{n} rows from {k} tables (a 1,636, b 800)`: what a run took (or would take) from
/// each of its tables.
pub fn rows_from_tables(parts: &[(&str, u64)]) -> String {
    let total: u64 = parts.iter().map(|(_, n)| n).sum();
    let each: Vec<String> = parts
        .iter()
        .map(|(table, n)| format!("{table} {}", thousands(*n)))
        .collect();
    format!(
        "{} {} from {} {} ({})",
        thousands(total),
        rows_word(total),
        parts.len(),
        plural(parts.len() as u64, "table", "tables"),
        each.join(", ")
    )
}

/// "row" or "rows", the word most counts come with.
pub fn rows_word(n: u64) -> &'static str {
    plural(n, "row", "rows")
}

/// The spinner the app and the command line draw while work runs.
pub const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Text from a database or a model, safe to print: every control character is shown
/// as an escape (`\n`, `\t`, `\x1b`, `\u{9b}`), so a name or value can neither break
/// a line nor send the terminal a command (set its title, repaint the screen).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`printable`] for text of several lines: line breaks stay, every other control
/// character is escaped.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| printable(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `println!` for text that may hold names or values from a database or a model.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::output::printable_lines(&format!($($arg)*)))
    };
}

/// `eprintln!` for text that may hold names or values from a database or a model.
#[macro_export]
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::output::printable_lines(&format!($($arg)*)))
    };
}

/// Cuts text to `max` display columns, marking the cut with `…`, and shows
/// line breaks, tabs and other control characters as visible escapes so one cell stays
/// on one line and the terminal is never sent a command.
pub fn cell(text: &str, max: usize) -> String {
    let flat = printable(text).into_owned();
    if flat.width() <= max {
        return flat;
    }
    // Whole grapheme clusters only: an accent or a joined emoji is never split from its base.
    let (head, _) = flat.unicode_truncate(max.saturating_sub(1));
    format!("{head}…")
}

/// Cuts text to `max` display columns in the middle, keeping its start and its end
/// (`customer_subscri…_2024`): names that differ only at the end stay apart.
pub fn cell_middle(text: &str, max: usize) -> String {
    let flat = printable(text).into_owned();
    if flat.width() <= max || max < 5 {
        return cell(&flat, max);
    }
    let (tail, used) = flat.unicode_truncate_start((max - 1) / 3);
    let (head, _) = flat.unicode_truncate(max - 1 - used);
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_never_split_a_character_from_its_accent_or_a_joined_emoji() {
        let accented = "cafe\u{301} cafe\u{301} cafe\u{301}";
        let cut = cell(accented, 5);
        assert_eq!(cut, "cafe\u{301}…");
        let coder = "\u{1F469}\u{200D}\u{1F4BB} works";
        let cut = cell(coder, 4);
        assert!(cut.starts_with("\u{1F469}\u{200D}\u{1F4BB}"), "{cut:?}");
        assert!(cut.width() <= 4);
    }

    #[test]
    fn middle_cuts_keep_the_end() {
        let a = cell_middle("customer_subscription_billing_history_archive_2024", 24);
        let b = cell_middle("customer_subscription_billing_history_archive_2025", 24);
        assert_ne!(a, b);
        assert!(a.ends_with("_2024") && a.contains('…'), "{a}");
        assert_eq!(a.width(), 24);
        assert_eq!(cell_middle("orders", 24), "orders");
    }

    #[test]
    fn aligns_wide_characters() {
        let out = grid(
            &["NAME", "ROWS"],
            &[Align::Left, Align::Right],
            &[
                vec!["表格".into(), "5".into()],
                vec!["customers".into(), "1,200".into()],
            ],
        );
        assert_eq!(
            out,
            "NAME        ROWS\n表格           5\ncustomers  1,200\n"
        );
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\x1b]0;t\x07b"), "a\\x1b]0;t\\x07b");
        assert_eq!(printable("\u{9b}2J\x7f"), "\\u{9b}2J\\x7f");
        assert_eq!(printable_lines("one\ntwo\x1b"), "one\ntwo\\x1b");
        assert_eq!(cell("x\ty", 10), "x\\ty");
    }

    #[test]
    fn formats_thousands_and_cells() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(5_000_000), "5,000,000");
        assert_eq!(cell("a\nb", 10), "a\\nb");
        assert_eq!(cell("abcdefghij", 5), "abcd…");
    }
}
