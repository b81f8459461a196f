//! API keys that never show themselves, and scrubbing of text that might hold one.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// An API key. Its `Debug` and `Display` print `***`; only [`ApiKey::expose`] gives the text,
/// and only the HTTP layer calls it. It does not implement `Serialize`, so it cannot be
/// written back to a file by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key. Surrounding whitespace (a trailing newline from a copied key) is removed.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_string())
    }

    /// A key from an optional text; empty or blank text means "no key".
    pub fn from_non_empty(key: Option<&str>) -> Option<Self> {
        key.map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| Self(k.to_string()))
    }

    /// The key itself, for the request header. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of this key in `text` with `***`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::new(text))
    }
}

/// Masks anything in server-provided text that looks like a secret: known key prefixes
/// (`sk-`, `sk-ant-`, `sess-`, `Bearer ...`) followed by a token. Used on every message a
/// server sends back before it reaches an error, on top of scrubbing the exact key.
pub fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    const MARKERS: [&str; 4] = ["sk-", "sess-", "Bearer ", "bearer "];
    loop {
        let next = MARKERS
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, *m)))
            .min_by_key(|(i, _)| *i);
        let Some((start, marker)) = next else {
            out.push_str(rest);
            return out;
        };
        // Only a marker at the start of a word counts (not "desk-top").
        let at_word_start = start == 0
            || !rest[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        let after = &rest[start + marker.len()..];
        let token_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*')))
            .unwrap_or(after.len());
        out.push_str(&rest[..start]);
        if at_word_start && token_len >= 4 {
            out.push_str(marker);
            out.push_str("***");
        } else {
            out.push_str(&rest[start..start + marker.len() + token_len]);
        }
        rest = &after[token_len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_key() {
        let key = ApiKey::new("sk-secret-123456");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(key.expose(), "sk-secret-123456");
    }

    #[test]
    fn masks_key_like_tokens() {
        assert_eq!(
            mask_secrets("Incorrect API key provided: sk-abc*****wxyz. You can find"),
            "Incorrect API key provided: sk-***. You can find"
        );
        assert_eq!(mask_secrets("desk-top sk-a"), "desk-top sk-a");
        assert_eq!(mask_secrets("Bearer abcdefgh"), "Bearer ***");
    }

    #[test]
    fn blank_keys_are_none() {
        assert!(ApiKey::from_non_empty(Some("  ")).is_none());
        assert!(ApiKey::from_non_empty(None).is_none());
        assert!(ApiKey::from_non_empty(Some("k1")).is_some());
    }
}
