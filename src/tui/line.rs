//! The one-line editor with a cursor, for every text field: typing, moving,
//! deleting by character, word or to either end, and a window that keeps
//! the cursor in view when the text is wider than the screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_width::UnicodeWidthChar;

/// Text and a cursor, counted in characters (0 = before the first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    pub text: String,
    pub cursor: usize,
}

/// What the window shows: the visible text and where the cursor sits in it
/// (display columns from its left edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub before: String,
    /// The character under the cursor (a space at the end of the text).
    pub at: String,
    pub after: String,
}

impl LineEdit {
    /// `text` with the cursor at its end.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let cursor = text.chars().count();
        Self { text, cursor }
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Replaces the text (a completed path, a recalled query), the cursor at its end.
    pub fn set(&mut self, text: impl Into<String>) {
        *self = Self::new(text);
    }

    pub fn clear(&mut self) {
        self.set(String::new());
    }

    /// Where the path part or word before the cursor starts (Ctrl-W): a `/` ends a part
    /// too, so Ctrl-W in a path takes back one folder.
    fn part_start(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor.min(chars.len());
        while i > 0 && (chars[i - 1].is_whitespace() || chars[i - 1] == '/') {
            i -= 1;
        }
        while i > 0 && !chars[i - 1].is_whitespace() && chars[i - 1] != '/' {
            i -= 1;
        }
        i
    }

    fn byte(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    /// Inserts text at the cursor (typed or pasted).
    pub fn insert(&mut self, text: &str) {
        let at = self.byte(self.cursor);
        let clean: String = text
            .chars()
            .map(|c| if c == '\r' { '\n' } else { c })
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        self.text.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    fn delete_range(&mut self, from: usize, to: usize) {
        let (a, b) = (self.byte(from.min(to)), self.byte(from.max(to)));
        self.text.replace_range(a..b, "");
        self.cursor = from.min(to);
    }

    /// Where the word before the cursor starts.
    fn word_start(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor.min(chars.len());
        while i > 0 && chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !chars[i - 1].is_whitespace() {
            i -= 1;
        }
        i
    }

    /// Where the word after the cursor ends.
    fn word_end(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor.min(chars.len());
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        i
    }

    /// Applies an editing or moving key; false when the key is neither.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let len = self.len();
        self.cursor = self.cursor.min(len);
        match key.code {
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = len,
            KeyCode::Char('u') if ctrl => self.delete_range(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.delete_range(self.cursor, len),
            KeyCode::Char('w') if ctrl => self.delete_range(self.part_start(), self.cursor),
            KeyCode::Char('b') if alt => self.cursor = self.word_start(),
            KeyCode::Char('f') if alt => self.cursor = self.word_end(),
            KeyCode::Char(c) if !ctrl && !alt => self.insert(&c.to_string()),
            KeyCode::Backspace if ctrl || alt => self.delete_range(self.word_start(), self.cursor),
            KeyCode::Backspace if self.cursor > 0 => {
                self.delete_range(self.cursor - 1, self.cursor)
            }
            KeyCode::Backspace => {}
            KeyCode::Delete if self.cursor < len => self.delete_range(self.cursor, self.cursor + 1),
            KeyCode::Delete => {}
            KeyCode::Left if ctrl || alt => self.cursor = self.word_start(),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_end(),
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => return false,
        }
        true
    }

    /// The part of the text that fits in `width` columns with the cursor in
    /// view; line breaks are shown as `↵`, cut ends as `…`.
    pub fn window(&self, width: usize) -> Window {
        let shown: Vec<(char, usize)> = self
            .text
            .chars()
            .map(|c| {
                let c = if c == '\n' { '↵' } else { c };
                (c, c.width().unwrap_or(0))
            })
            .chain(std::iter::once((' ', 1)))
            .collect();
        let cursor = self.cursor.min(shown.len() - 1);
        let width = width.max(3);
        // Grow a span around the cursor: mostly to its left, so typing at the
        // end shows what came before.
        let (mut from, mut to) = (cursor, cursor + 1);
        let mut used = shown[cursor].1;
        loop {
            let mut grew = false;
            if from > 0 && used + shown[from - 1].1 <= width {
                from -= 1;
                used += shown[from].1;
                grew = true;
            }
            if to < shown.len() && used + shown[to].1 <= width {
                used += shown[to].1;
                to += 1;
                grew = true;
            }
            if !grew {
                break;
            }
        }
        let text = |range: std::ops::Range<usize>| -> String {
            shown[range].iter().map(|(c, _)| *c).collect()
        };
        let mut before = text(from..cursor);
        let at = text(cursor..cursor + 1);
        let mut after = text(cursor + 1..to);
        if from > 0 && !before.is_empty() {
            before.replace_range(..before.chars().next().map_or(0, char::len_utf8), "…");
        }
        // The padding space after the text is not part of it.
        if to == shown.len() && !after.is_empty() {
            after.pop();
        } else if to < shown.len() && !after.is_empty() {
            after.pop();
            after.push('…');
        }
        Window { before, at, after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(e: &mut LineEdit, code: KeyCode, mods: KeyModifiers) {
        assert!(e.edit(&KeyEvent::new(code, mods)), "{code:?}");
    }

    #[test]
    fn edits_in_the_middle() {
        let mut e = LineEdit::new("SELECT * FROM t");
        press(&mut e, KeyCode::Home, KeyModifiers::NONE);
        press(&mut e, KeyCode::Right, KeyModifiers::CONTROL);
        press(&mut e, KeyCode::Char(' '), KeyModifiers::NONE);
        press(&mut e, KeyCode::Char('1'), KeyModifiers::NONE);
        press(&mut e, KeyCode::Char(','), KeyModifiers::NONE);
        assert_eq!(e.text, "SELECT 1, * FROM t");
        press(&mut e, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!(e.text, "SELECT  * FROM t");
        press(&mut e, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(e.text, "SELECT * FROM t");
        press(&mut e, KeyCode::Char('k'), KeyModifiers::CONTROL);
        assert_eq!(e.text, "SELECT ");
        press(&mut e, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!((e.text.as_str(), e.cursor), ("", 0));
        assert!(!e.edit(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    }

    #[test]
    fn the_window_keeps_the_cursor_in_view() {
        let e = LineEdit::new("SELECT name FROM customers WHERE city = 'Osaka'");
        let w = e.window(20);
        assert_eq!(
            format!("{}{}{}", w.before, w.at, w.after),
            "…ERE city = 'Osaka' "
        );
        let mut e = e;
        e.cursor = 0;
        let w = e.window(12);
        assert_eq!((w.at.as_str(), w.after.as_str()), ("S", "ELECT name…"));
        let short = LineEdit::new("a\nb").window(20);
        assert_eq!((short.before.as_str(), short.at.as_str()), ("a↵b", " "));
    }
}
