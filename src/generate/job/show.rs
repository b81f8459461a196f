//! What a run would send, shown before anything is sent (`rowsmith generate --show-prompt`
//! and the app's generate dialog).
//!
//! The run is prepared as a real one is and its first request built by the same code, in
//! the same order: a real run sizes its first prompt for the estimate before it asks, and
//! both draw from the run's random source, so a seed gives the very request a seeded run
//! sends first. Nothing goes out: no request, no context-window probe, no model lookup.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::llm::{first_prompt, prompt_for, rows_request};
use super::prepare::{Shared, prepare};
use super::{Estimate, GenerateError, GenerateRequest, Source, blocking, thousands};
use crate::db::CancelFlag;
use crate::generate::privacy::Privacy;
use crate::llm::{ProviderKind, RequestPreview};

/// What a run would send.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptPreview {
    /// The first request to the model, and how the rest of the run would differ.
    Model(Box<ModelPreview>),
    /// The offline generator runs on this machine: nothing is sent to any model.
    Offline { table: String },
}

/// The first model request of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPreview {
    pub table: String,
    /// The provider and model, as the user knows them ("OpenAI gpt-6.1-terra").
    pub provider: String,
    pub request: RequestPreview,
    /// Rows the first request asks for.
    pub rows_per_request: usize,
    /// Requests the run makes at least: one per batch (rejected rows are asked for again).
    pub requests: u64,
    pub estimate: Option<Estimate>,
    /// A local server is asked for its context window before a real run's first request,
    /// and a small one means smaller batches than shown.
    pub asks_window: bool,
    /// What of the table's rows each request carries, as the privacy setting says.
    pub privacy: String,
}

/// The sentence for the offline generator.
pub fn offline_sentence(table: &str) -> String {
    format!(
        "The offline generator makes the rows for '{table}' on this machine: nothing is sent to any model."
    )
}

impl PromptPreview {
    /// For a person: the request as it would go out, then what the rest of the run
    /// would send.
    pub fn text(&self) -> String {
        match self {
            Self::Model(m) => m.text(),
            Self::Offline { table } => offline_sentence(table),
        }
    }

    /// One JSON object: the request (method, url, headers, body) and how many the run
    /// would make.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Model(m) => m.to_json(),
            Self::Offline { table } => json!({
                "table": table,
                "provider": "offline",
                "requests": 0,
                "sent": false,
                "note": offline_sentence(table),
            }),
        }
    }
}

impl ModelPreview {
    /// The lines after the request: what later requests change, the estimate, and that
    /// nothing was sent.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![self.privacy.clone()];
        if let Some(note) = &self.request.note {
            notes.push(note.clone());
        }
        notes.push(
            "Each later request (one per batch, more to replace rejected rows) repeats the system prompt word for word; \
             only the user message changes: fresh sample rows, values already taken, why earlier rows were rejected, \
             and how many rows to write."
                .into(),
        );
        if self.asks_window {
            notes.push(
                "Before the first request, rowsmith asks the server for its context window; a small one means fewer rows per request."
                    .into(),
            );
        }
        if let Some(estimate) = &self.estimate {
            notes.push(estimate.sentence());
        }
        notes.push(if self.requests <= 1 {
            format!(
                "This is the only request the run makes to {} unless rows are rejected; nothing was sent.",
                self.provider
            )
        } else {
            format!(
                "This is request 1 of about {} to {}; nothing was sent.",
                thousands(self.requests),
                self.provider
            )
        });
        notes
    }

    pub fn text(&self) -> String {
        format!("{}\n\n{}", self.request.text(), self.notes().join("\n"))
    }

    pub fn to_json(&self) -> Json {
        let mut out = self.request.to_json();
        if let Json::Object(map) = &mut out {
            map.insert("table".into(), json!(self.table));
            map.insert("provider".into(), json!(self.provider));
            map.insert("requests".into(), json!(self.requests));
            map.insert("rows_per_request".into(), json!(self.rows_per_request));
            map.insert("privacy".into(), json!(self.privacy));
            if let Some(estimate) = &self.estimate {
                map.insert("estimate".into(), json!(estimate));
            }
            map.insert("sent".into(), json!(false));
        }
        out
    }
}

/// The privacy line: the setting, what each request carries, and which columns are made up.
fn privacy_note(shared: &Shared) -> String {
    let Some(privacy) = shared.privacy else {
        return String::new();
    };
    let carried = crate::generate::privacy::carried(privacy, super::llm::rows_shown(shared));
    let masked: Vec<&str> = shared.masker.masked_columns().collect();
    match privacy {
        Privacy::Mask if !masked.is_empty() => format!(
            "Privacy: mask. Each request sends {carried}; made up in them: {}.",
            masked.join(", ")
        ),
        _ => format!(
            "Privacy: {}. Each request sends {carried}.",
            privacy.as_str()
        ),
    }
}

/// Prepares the run `request` describes and builds its first model request, sending
/// nothing. The table's problems (missing, empty, a parent without rows) are the errors a
/// real run would start with.
pub async fn show_prompt(
    request: GenerateRequest,
    source: Source,
) -> Result<PromptPreview, GenerateError> {
    let prepared = {
        let request = request.clone();
        let source = source.clone();
        blocking(move || prepare(&request, &source, CancelFlag::new())).await
    };
    let shared = Arc::new(prepared.map_err(GenerateError::Internal)??);
    let table = shared.plan.table.name.clone();
    let Source::Llm(client) = &source else {
        return Ok(PromptPreview::Offline { table });
    };
    let batch = request.batch_size.max(1);
    let want = (batch as u64).min(request.rows) as usize;
    // As the real run does before its first request: it draws the run's anchor sample.
    let size = first_prompt(&shared, request.rows, batch).await;
    let parts = {
        let shared = shared.clone();
        blocking(move || prompt_for(&shared, want, &[])).await
    };
    let (context, user, schema) = parts.map_err(GenerateError::Internal)??;
    let preview = client
        .request_preview(&rows_request(context, user, schema, None))
        .map_err(GenerateError::Source)?;
    Ok(PromptPreview::Model(Box::new(ModelPreview {
        table,
        provider: client.describe(),
        request: preview,
        rows_per_request: want,
        requests: request.rows.div_ceil(batch as u64).max(1),
        estimate: size.map(|size| Estimate::new(client, request.rows, batch, &size)),
        asks_window: client.kind() == ProviderKind::Compatible,
        privacy: privacy_note(&shared),
    })))
}
