//! What the services say about their rate limits, read from every response.
//!
//! OpenAI sends `x-ratelimit-remaining-requests` / `-tokens` and `x-ratelimit-reset-requests`
//! / `-tokens` as durations such as `1s`, `6m0s` or `12ms` (developers.openai.com/api/docs/
//! guides/rate-limits); Anthropic sends `anthropic-ratelimit-requests-remaining` and
//! `-input-tokens-remaining` with RFC 3339 `-reset` times (platform.claude.com/docs/en/api/
//! rate-limits). A 429 is counted. The generation job reads this to slow down before the
//! service has to refuse it, and to speed up again afterwards.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

/// The client's view of its rate limits.
#[derive(Debug, Default, Clone)]
pub struct RateState {
    /// 429 answers seen so far (retried or not).
    pub throttled: u64,
    /// Requests left in the current window, as last reported.
    pub remaining_requests: Option<u64>,
    /// When the request window is full again, as last reported.
    pub requests_reset: Option<Instant>,
}

impl RateState {
    pub(crate) fn observe(&mut self, status: u16, headers: &HeaderMap, now: Instant) {
        if status == 429 {
            self.throttled += 1;
        }
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| text(name).and_then(|t| t.trim().parse::<u64>().ok());
        if let Some(left) = number("x-ratelimit-remaining-requests")
            .or_else(|| number("anthropic-ratelimit-requests-remaining"))
        {
            self.remaining_requests = Some(left);
            self.requests_reset = text("x-ratelimit-reset-requests")
                .and_then(parse_duration)
                .or_else(|| text("anthropic-ratelimit-requests-reset").and_then(until_rfc3339))
                .map(|wait| now + wait);
        }
    }

    /// How long to hold new requests: until the window resets when none are left.
    pub fn hold(&self, now: Instant) -> Option<Duration> {
        if self.remaining_requests != Some(0) {
            return None;
        }
        self.requests_reset
            .and_then(|at| at.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }
}

/// A Go-style duration as OpenAI writes it: `1s`, `6m0s`, `12ms`, `1h2m3.5s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    total.is_finite().then(|| Duration::from_secs_f64(total))
}

/// The wait until an RFC 3339 time such as `2026-12-04T19:30:26Z`.
fn until_rfc3339(text: &str) -> Option<Duration> {
    let at = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    let at =
        SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at.timestamp_millis()).ok()?);
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn durations_as_openai_writes_them() {
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(
            parse_duration("1m30.5s"),
            Some(Duration::from_millis(90_500))
        );
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn an_empty_window_holds_until_its_reset() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("0"),
        );
        headers.insert("x-ratelimit-reset-requests", HeaderValue::from_static("2s"));
        let now = Instant::now();
        let mut state = RateState::default();
        state.observe(429, &headers, now);
        assert_eq!(state.throttled, 1);
        assert_eq!(state.hold(now), Some(Duration::from_secs(2)));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("5"),
        );
        state.observe(200, &headers, now);
        assert_eq!(state.hold(now), None);
    }
}
