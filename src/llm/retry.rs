//! Bounded retries with exponential backoff and jitter, honouring `retry-after-ms` and
//! `retry-after`, and stopping at once when the request is cancelled.

use std::future::Future;
use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

use super::error::LlmError;

/// How often and how patiently a request is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (config `max_retries`, default 3: four attempts).
    pub max_retries: u32,
    /// The first backoff delay; it doubles on each retry.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest wait a server's `retry-after` can impose; longer asks are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry): exponential, capped,
    /// with "equal jitter" (half fixed, half random) so concurrent requests spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
        let full = self.base_delay.saturating_mul(exp).min(self.max_delay);
        let half = full / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_nanos)
        };
        half + Duration::from_nanos(jitter)
    }

    /// The wait before the next attempt: the server's ask (capped) or the backoff.
    pub fn wait_for(&self, retry: u32, server_ask: Option<Duration>) -> Duration {
        match server_ask {
            Some(ask) => ask.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// What one attempt came to.
pub(crate) enum Verdict<T> {
    Done(T),
    /// Worth another attempt; `wait` is what the server asked for, if anything.
    Retry {
        error: LlmError,
        wait: Option<Duration>,
    },
    Fail(LlmError),
}

/// Runs `attempt(n)` (n = 1, 2, ...) until it succeeds, fails for good, or the retries run
/// out. Returns the result and the number of attempts made. Cancellation interrupts both an
/// attempt in flight (its future is dropped, which aborts the HTTP request) and a backoff.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    cancel: &CancellationToken,
    mut attempt: F,
    on_retry: impl Fn(&LlmError, u32, Duration),
) -> (Result<T, LlmError>, u32)
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Verdict<T>>,
{
    let mut n = 0u32;
    loop {
        n += 1;
        let verdict = tokio::select! {
            biased;
            () = cancel.cancelled() => return (Err(LlmError::Cancelled), n),
            verdict = attempt(n) => verdict,
        };
        match verdict {
            Verdict::Done(value) => return (Ok(value), n),
            Verdict::Fail(error) => return (Err(error), n),
            Verdict::Retry { error, wait } => {
                if n > policy.max_retries {
                    return (Err(error), n);
                }
                let delay = policy.wait_for(n, wait);
                on_retry(&error, n + 1, delay);
                tracing::warn!(
                    attempt = n,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "retrying after: {error}"
                );
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return (Err(LlmError::Cancelled), n),
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// The wait a response asks for: `retry-after-ms` (milliseconds) first, then `retry-after`
/// in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let ms = text("retry-after-ms").and_then(|t| t.parse::<f64>().ok());
    if let Some(ms) = ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    // All three forms RFC 9110 requires a recipient to read (IMF-fixdate, RFC 850, asctime).
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::UNIX_EPOCH;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(v) = HeaderValue::from_str(value) {
                map.insert(*name, v);
            }
        }
        map
    }

    #[test]
    fn retry_after_ms_wins_over_seconds() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let h = headers(&[("retry-after", "2")]);
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(2))
        );
        let h = headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777 - 5);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)));
        let later = UNIX_EPOCH + Duration::from_secs(784_111_777 + 5);
        assert_eq!(retry_after(&h, later), Some(Duration::ZERO));
        // The two obsolete forms a recipient must still read (RFC 9110, 5.6.7).
        for old in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            let h = headers(&[("retry-after", old)]);
            assert_eq!(retry_after(&h, now), Some(Duration::from_secs(5)), "{old}");
        }
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for retry in 1..6 {
            let d = p.backoff(retry);
            let full = (p.base_delay * 2u32.pow(retry - 1)).min(p.max_delay);
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
        assert!(p.backoff(40) <= p.max_delay);
        assert_eq!(
            p.wait_for(1, Some(Duration::from_secs(3600))),
            p.max_retry_after
        );
    }
}
