//! How many model requests a run keeps in flight: the configured concurrency until the
//! service pushes back, then additive increase, multiplicative decrease (as TCP does): half
//! as many after a 429, one more after a run of calm answers, never above the configured
//! number. An empty rate-limit window holds new requests until it resets.

use std::time::{Duration, Instant};

use crate::llm::rate::RateState;

/// Requests in a row that stay rate-limited through their retries before the run gives up.
const RATE_LIMITED_ROUNDS: u32 = 8;
/// The longest pause after a request that stayed rate-limited through its retries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

pub(super) struct Pace {
    ceiling: usize,
    limit: usize,
    /// Answers without a new 429 since the last change.
    calm: usize,
    /// 429s already accounted for.
    seen_429: u64,
    /// Requests that stayed rate-limited, in all and in a row.
    rate_limited_rounds: u32,
    rate_limited_in_a_row: u32,
    pause_until: Option<Instant>,
}

impl Pace {
    pub(super) fn new(ceiling: usize, rates: &RateState) -> Self {
        let ceiling = ceiling.max(1);
        Self {
            ceiling,
            limit: ceiling,
            calm: 0,
            seen_429: rates.throttled,
            rate_limited_rounds: 0,
            rate_limited_in_a_row: 0,
            pause_until: None,
        }
    }

    /// Requests allowed in flight now.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Rate-limited requests asked again so far (they do not count as tries of the table).
    pub(super) fn extra_requests(&self) -> u32 {
        self.rate_limited_rounds
    }

    /// Whether the run should still ask again after a request stayed rate-limited.
    pub(super) fn may_retry(&self) -> bool {
        self.rate_limited_in_a_row <= RATE_LIMITED_ROUNDS
    }

    /// After an answer: slows down when the service sent a 429 since the last look, speeds
    /// up by one after twice `limit` calm answers. Returns the new limit when it dropped.
    pub(super) fn after_answer(&mut self, rates: &RateState) -> Option<usize> {
        self.rate_limited_in_a_row = 0;
        if rates.throttled > self.seen_429 {
            self.seen_429 = rates.throttled;
            return self.halve();
        }
        self.calm += 1;
        if self.calm >= 2 * self.limit && self.limit < self.ceiling {
            self.limit += 1;
            self.calm = 0;
        }
        None
    }

    /// A request stayed rate-limited through all its retries: slow down and pause before
    /// asking again. `Err(())` when it happened too often to go on.
    pub(super) fn rate_limited(
        &mut self,
        rates: &RateState,
        now: Instant,
    ) -> Result<Option<usize>, ()> {
        self.rate_limited_rounds += 1;
        self.rate_limited_in_a_row += 1;
        if self.rate_limited_in_a_row > RATE_LIMITED_ROUNDS {
            return Err(());
        }
        self.seen_429 = rates.throttled;
        let pause = Duration::from_millis(250 * 2u64.pow((self.rate_limited_in_a_row - 1).min(7)));
        self.pause_until = Some(now + pause.min(MAX_PAUSE));
        Ok(self.halve())
    }

    /// How long to hold new requests: a pause after a failed round, or an empty window.
    pub(super) fn hold(&self, rates: &RateState, now: Instant) -> Option<Duration> {
        let paused = self
            .pause_until
            .and_then(|at| at.checked_duration_since(now))
            .filter(|d| !d.is_zero());
        match (paused, rates.hold(now)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn halve(&mut self) -> Option<usize> {
        self.calm = 0;
        let before = self.limit;
        self.limit = (self.limit / 2).max(1);
        (self.limit < before).then_some(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(throttled: u64) -> RateState {
        RateState {
            throttled,
            ..RateState::default()
        }
    }

    #[test]
    fn halves_on_429_and_grows_back_slowly() {
        let mut pace = Pace::new(4, &rates(0));
        assert_eq!(pace.after_answer(&rates(1)), Some(2));
        assert_eq!(pace.after_answer(&rates(3)), Some(1));
        assert_eq!(pace.after_answer(&rates(4)), None, "already at one");
        for _ in 0..2 {
            pace.after_answer(&rates(4));
        }
        assert_eq!(pace.limit(), 2, "two calm answers at 1 add one");
        for _ in 0..20 {
            pace.after_answer(&rates(4));
        }
        assert_eq!(pace.limit(), 4, "never above the configured number");
    }

    #[test]
    fn a_rate_limited_request_pauses_and_gives_up_in_the_end() {
        let now = Instant::now();
        let mut pace = Pace::new(4, &rates(0));
        assert_eq!(pace.rate_limited(&rates(4), now), Ok(Some(2)));
        assert!(pace.hold(&rates(4), now).is_some());
        assert!(pace.hold(&rates(4), now + MAX_PAUSE).is_none());
        for _ in 1..RATE_LIMITED_ROUNDS {
            assert!(pace.rate_limited(&rates(4), now).is_ok());
        }
        assert_eq!(pace.rate_limited(&rates(4), now), Err(()));
    }
}
