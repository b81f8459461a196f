//! The one request loop every provider shares: send the body for the client's answer mode,
//! drop an optional parameter the model refuses, step down the provider's ladder of answer
//! modes when the answer format is refused, and ask again. A provider says only what is its
//! own by implementing [`Wire`]; the preview builds its first request with the same code.

use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::client::{Client, JsonRequest, RawAnswer};
use super::error::LlmError;
use super::preview::FirstRequest;

/// A move down the provider's ladder of answer modes: to mode index `to`, named `label` for
/// the user, because of `reason`.
pub(crate) struct StepDown {
    pub to: u8,
    pub label: &'static str,
    pub reason: String,
}

/// The body to send next, and the answer mode it was built for.
pub(crate) struct Next<M> {
    pub mode: M,
    pub body: Value,
    /// Set when the schema is beyond the current mode's limits and the body was built for a
    /// weaker one: the loop remembers the move, the preview only reports it.
    pub step_first: Option<StepDown>,
}

/// What one provider's wire format says; everything else is the loop's.
pub(crate) trait Wire {
    /// The answer mode a body was built for, handed back to read the reply and the errors.
    type Mode: Copy;
    /// Parameters the body may carry that a model may refuse and the request does without.
    const OPTIONAL: &'static [&'static str];

    /// Where every request goes, and with which headers.
    fn target(&self, client: &Client) -> Result<(String, HeaderMap), LlmError>;
    /// The body for the client's current answer mode.
    fn next_body(&self, client: &Client, req: &JsonRequest, max_tokens: u32) -> Next<Self::Mode>;
    /// Whether `error` refuses the answer format of `mode`, and where to step down to.
    /// `None`: the error stands.
    fn refused(&self, mode: Self::Mode, error: &LlmError) -> Option<StepDown>;
    /// Reads a successful reply.
    fn parse(
        &self,
        client: &Client,
        req: &JsonRequest,
        body: &[u8],
        mode: Self::Mode,
        max_tokens: u32,
    ) -> Result<RawAnswer, LlmError>;
}

/// One answer: asks again after each step down the ladder or dropped parameter; each
/// step is remembered by the client, so the loop ends when the ladder or the optional
/// parameters run out.
pub(crate) async fn complete<W: Wire>(
    client: &Client,
    wire: &W,
    req: &JsonRequest,
    cancel: &CancellationToken,
    attempts: &mut u32,
) -> Result<RawAnswer, LlmError> {
    let max_tokens = client.max_tokens_for(req);
    let (url, headers) = wire.target(client)?;
    loop {
        let next = wire.next_body(client, req, max_tokens);
        if let Some(step) = &next.step_first {
            client.move_to_mode(step.to, step.label, &step.reason);
        }
        match client
            .post(&url, headers.clone(), &next.body, cancel, attempts)
            .await
        {
            Ok(reply) => return wire.parse(client, req, &reply.body, next.mode, max_tokens),
            Err(LlmError::BadRequest { param, message, .. })
                if client.drop_refused(&next.body, W::OPTIONAL, param.as_deref(), &message) => {}
            Err(error) => match wire.refused(next.mode, &error) {
                Some(step) => client.move_to_mode(step.to, step.label, &step.reason),
                None => return Err(error),
            },
        }
    }
}

/// The first request `complete` would send, built by the same code, sending nothing.
pub(crate) fn first_request<W: Wire>(
    client: &Client,
    wire: &W,
    req: &JsonRequest,
) -> Result<FirstRequest, LlmError> {
    let (url, headers) = wire.target(client)?;
    let next = wire.next_body(client, req, client.max_tokens_for(req));
    Ok(FirstRequest {
        url,
        headers,
        body: next.body,
        note: next
            .step_first
            .map(|s| format!("{} gets {}: {}.", client.kind(), s.label, s.reason)),
    })
}
