//! The request a client would send, shown to a person before anything is sent
//! (`rowsmith generate --show-prompt`, the app's generate dialog).
//!
//! Each provider's file builds the request with the very code `complete_json` sends it
//! with; this file only masks what must never be shown (the API key, credentials in the
//! URL) and writes the request out.

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::client::{Client, USER_AGENT};
use super::provider::ProviderKind;
use super::secret::ApiKey;

/// The first request of `complete_json`, as a provider builds it.
pub(crate) struct FirstRequest {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// Why the request uses a weaker answer mode than the provider's strongest, when the
    /// schema is what made it so (`complete_json` would remember that for the client).
    pub note: Option<String>,
}

/// One HTTP request as a person may read it: method, URL, headers and the JSON body, with
/// the API key's place marked instead of the key.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestPreview {
    pub method: String,
    /// The endpoint; a user name, password or query-string value in it is shown as `***`.
    pub url: String,
    /// Names (lower case) and values. The key's place reads `<OPENAI_API_KEY>` and the like.
    /// Headers the HTTP library adds on its own (Host, Content-Length, Accept) are left out.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Value,
    /// Why the answer mode is a weaker one, when the schema made it so.
    pub note: Option<String>,
}

impl RequestPreview {
    pub(crate) fn new(client: &Client, first: FirstRequest) -> Self {
        let key = client.settings().api_key.as_ref();
        let placeholder = key_placeholder(client.kind());
        let mut headers: Vec<(String, String)> = first
            .headers
            .iter()
            .map(|(name, value)| {
                let text = value.to_str().unwrap_or_default();
                let shown = match key {
                    // Only the key is replaced, so `Bearer <OPENAI_API_KEY>` keeps its shape.
                    Some(key)
                        if value.is_sensitive()
                            && !key.expose().is_empty()
                            && text.contains(key.expose()) =>
                    {
                        text.replace(key.expose(), placeholder)
                    }
                    // A sensitive value that is not the key as configured is never shown.
                    _ if value.is_sensitive() => "***".to_string(),
                    _ => text.to_string(),
                };
                (name.as_str().to_string(), shown)
            })
            .collect();
        // What `Client::post` adds: `.json(body)` sets the type, the client its agent.
        headers.push(("content-type".into(), "application/json".into()));
        headers.push(("user-agent".into(), USER_AGENT.into()));
        let mut body = first.body;
        // The key travels in a header, never in the body; should a sample row hold it, it
        // is still not shown.
        if let Some(key) = key {
            scrub(&mut body, key);
        }
        Self {
            method: "POST".into(),
            url: shown_url(&first.url),
            headers,
            body,
            note: first.note,
        }
    }

    /// `{"method", "url", "headers": {name: value}, "body", "note"?}`.
    pub fn to_json(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut out = json!({
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "body": self.body,
        });
        if let (Some(note), Value::Object(map)) = (&self.note, &mut out) {
            map.insert("note".into(), Value::String(note.clone()));
        }
        out
    }

    /// The request line, the headers, a blank line and the body as indented JSON.
    pub fn text(&self) -> String {
        let mut out = format!("{} {}\n", self.method, self.url);
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out.push_str(&serde_json::to_string_pretty(&self.body).unwrap_or_default());
        out
    }
}

/// What stands in for the key: where it comes from, in angle brackets.
fn key_placeholder(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi => "<OPENAI_API_KEY>",
        ProviderKind::Anthropic => "<ANTHROPIC_API_KEY>",
        ProviderKind::Compatible => "<compatible.api_key>",
    }
}

/// The URL with credentials and every query-string value masked: gateways put keys there
/// under names of their own choosing, so no value is trusted to be harmless.
fn shown_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return "***".into();
    };
    if !parsed.username().is_empty() {
        let _ = parsed.set_username("***");
    }
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    if !names.is_empty() {
        parsed
            .query_pairs_mut()
            .clear()
            .extend_pairs(names.iter().map(|n| (n.as_str(), "***")));
    }
    parsed.to_string()
}

/// Replaces the key wherever it occurs in the strings of `value`.
fn scrub(value: &mut Value, key: &ApiKey) {
    match value {
        Value::String(s) if !key.expose().is_empty() && s.contains(key.expose()) => {
            *s = key.scrub(s)
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, key)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub(v, key)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_query_values() {
        assert_eq!(
            shown_url("https://user:pw@gw.example.com/v1/chat/completions?api-key=s3cret&x=1"),
            "https://***:***@gw.example.com/v1/chat/completions?api-key=***&x=***"
        );
        assert_eq!(
            shown_url("https://api.openai.com/v1/chat/completions"),
            "https://api.openai.com/v1/chat/completions"
        );
    }

    #[test]
    fn the_key_is_scrubbed_from_body_strings() {
        let key = ApiKey::new("sk-secret-123456");
        let mut body = json!({"messages": [{"content": "row: sk-secret-123456"}], "n": 1});
        scrub(&mut body, &key);
        assert_eq!(body, json!({"messages": [{"content": "row: ***"}], "n": 1}));
    }
}
