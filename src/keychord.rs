//! One key with its modifiers as a person writes it (`g`, `ctrl-r`, `pagedown`, `f5`):
//! parsed where the config file is read, so a bad key is reported with its line, and
//! matched by the app's key map. Knows nothing of the app itself.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key with its modifiers, as written in the config file (`g`, `ctrl-r`,
/// `pagedown`, `f5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl KeyChord {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        Self { code, mods }
    }

    /// The chord of a terminal key event. Shift is part of the character for
    /// letters and symbols (`G`, `?`), so it is dropped there.
    pub fn from_event(event: &KeyEvent) -> Self {
        let mut mods =
            event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match event.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, mods }
    }

    /// Parses `g`, `G`, `?`, `ctrl-r`, `alt-x`, `shift-tab`, `enter`, `pagedown`, `f5`, `space`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw = text.trim();
        if raw.is_empty() {
            return Err("a key cannot be empty".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = raw;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break;
            }
            mods |= flag;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let c = if mods.contains(KeyModifiers::SHIFT) {
                    mods.remove(KeyModifiers::SHIFT);
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                KeyCode::Char(c)
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::BackTab
                }
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.len() >= 2
                    && f.starts_with('f')
                    && let Ok(n) = f[1..].parse::<u8>()
                    && (1..=24).contains(&n) =>
                {
                    KeyCode::F(n)
                }
                _ => {
                    return Err(format!(
                        "\"{raw}\" is not a key; write a character (g, G, ?), a name (enter, esc, tab, up, pagedown, home, f5, space) or a modifier with one (ctrl-r, alt-x)"
                    ));
                }
            },
        };
        if code == KeyCode::Char('c') && mods == KeyModifiers::CONTROL {
            return Err("ctrl-c always quits and cannot be bound to another action".into());
        }
        Ok(Self { code, mods })
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_keys() {
        assert_eq!(
            KeyChord::parse("ctrl-r"),
            Ok(KeyChord::new(KeyCode::Char('r'), KeyModifiers::CONTROL))
        );
        assert_eq!(
            KeyChord::parse("G"),
            Ok(KeyChord::new(KeyCode::Char('G'), KeyModifiers::NONE))
        );
        assert_eq!(
            KeyChord::parse("shift-g"),
            Ok(KeyChord::new(KeyCode::Char('G'), KeyModifiers::NONE))
        );
        assert_eq!(
            KeyChord::parse("F5"),
            Ok(KeyChord::new(KeyCode::F(5), KeyModifiers::NONE))
        );
        assert_eq!(
            KeyChord::parse("shift-tab"),
            Ok(KeyChord::new(KeyCode::BackTab, KeyModifiers::NONE))
        );
        assert!(KeyChord::parse("hyper-x").is_err());
        assert!(KeyChord::parse("ctrl-c").is_err());
        assert!(KeyChord::parse("").is_err());
    }
}
