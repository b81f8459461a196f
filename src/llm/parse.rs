//! Lenient extraction of a JSON value from model text.
//!
//! Compatible servers (and models answering without a schema) wrap JSON in code fences,
//! prefix it with prose or a `<think>` block, or add a remark after it. This finds the
//! outermost JSON object (or array) and ignores the rest. The caller validates the shape.

use serde_json::Value;

/// How many candidate start positions are tried before giving up, so a large answer full
/// of stray braces cannot make parsing quadratic.
const MAX_CANDIDATES: usize = 64;

/// The JSON value in `text`, if there is one.
pub fn extract_json(text: &str) -> Option<Value> {
    let text = strip_think(text.trim_start_matches('\u{feff}')).trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    if let Some(inner) = fenced(text)
        && let Some(value) = first_value(inner)
    {
        return Some(value);
    }
    first_value(text)
}

/// Removes `<think>...</think>` blocks that reasoning models put before the answer.
fn strip_think(text: &str) -> &str {
    let trimmed = text.trim_start();
    if trimmed.starts_with("<think>")
        && let Some(end) = trimmed.find("</think>")
    {
        return &trimmed[end + "</think>".len()..];
    }
    text
}

/// The body of the first ``` fence (with or without a language tag).
fn fenced(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n').map_or(0, |i| i + 1);
    let body = &after[body_start..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

/// The first complete object or array, trying each `{` / `[` in turn. A candidate that runs
/// into the end of the text (a cut-off answer) ends the search: any later candidate would be
/// nested inside it, and an inner fragment is not the answer.
fn first_value(text: &str) -> Option<Value> {
    let candidates = text
        .char_indices()
        .filter(|(_, c)| *c == '{' || *c == '[')
        .take(MAX_CANDIDATES);
    for (i, _) in candidates {
        let mut stream = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) if value.is_object() || value.is_array() => return Some(value),
            Some(Err(e)) if e.is_eof() => return None,
            _ => {}
        }
    }
    None
}

/// The first characters of `text` for an error message.
pub fn snippet(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "the answer was empty".to_string();
    }
    let short: String = trimmed.chars().take(60).collect();
    let more = if trimmed.chars().count() > 60 {
        "…"
    } else {
        ""
    };
    format!("it starts with \"{}{more}\"", short.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_json() {
        assert_eq!(extract_json(r#" {"a": 1} "#), Some(json!({"a": 1})));
    }

    #[test]
    fn fenced_json() {
        let text = "Sure! Here you go:\n```json\n{\"rows\": [{\"a\": 1}]}\n```\nEnjoy.";
        assert_eq!(extract_json(text), Some(json!({"rows": [{"a": 1}]})));
    }

    #[test]
    fn prose_around_json() {
        let text = "The rows are {\"rows\": []} and that is all {really}.";
        assert_eq!(extract_json(text), Some(json!({"rows": []})));
    }

    #[test]
    fn think_blocks_are_skipped() {
        let text = "<think>maybe {\"x\": 2}</think>\n{\"x\": 1}";
        assert_eq!(extract_json(text), Some(json!({"x": 1})));
    }

    #[test]
    fn broken_json_is_none() {
        assert_eq!(extract_json("{\"rows\": [ {\"a\": 1}, "), None);
        assert_eq!(extract_json("no json here"), None);
        assert_eq!(extract_json(""), None);
    }
}
