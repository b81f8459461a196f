//! Text output for people: aligned columns that respect wide characters.

use unicode_width::UnicodeWidthStr;

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Renders rows under a header, each column padded to its widest cell.
pub fn grid(headers: &[&str], aligns: &[Align], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
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

/// Cuts text to `max` display columns, marking the cut with `…`, and shows
/// line breaks and tabs as visible escapes so one cell stays on one line.
pub fn cell(text: &str, max: usize) -> String {
    let flat: String = text
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    if flat.width() <= max {
        return flat;
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in flat.chars() {
        let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(ch);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn formats_thousands_and_cells() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(5_000_000), "5,000,000");
        assert_eq!(cell("a\nb", 10), "a\\nb");
        assert_eq!(cell("abcdefghij", 5), "abcd…");
    }
}
