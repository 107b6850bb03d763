//! How many `tier1.prepare` requests a bulk preload keeps in flight, and how fast it starts
//! them.
//!
//! Two controls, both fed by every attempt's answer and latency:
//!
//! - **Concurrency** (AIMD with a latency gradient, after Netflix's concurrency-limits): starts
//!   at [`PREPARE_INITIAL_CONCURRENCY`](defaults::PREPARE_INITIAL_CONCURRENCY); in slow start
//!   grows by one per healthy answer (doubling per round trip), then by one per round trip;
//!   multiplies by [`CONCURRENCY_BACKOFF`] on 429/503, or when the smoothed latency rises well
//!   above the lowest seen. Never above `max_concurrency`, never below 1.
//! - **Rate** (after the AWS SDKs' adaptive retry mode): unconstrained (or `max_rate`) until a
//!   429/503; then the rate is set to [`RATE_BACKOFF`] times the rate the server was accepting
//!   over the last second, and grows back along a cubic curve that reaches that rate again
//!   after [`RATE_RECOVERY`] and probes above it after. Requests are paced evenly (no burst).
//!
//! Back-off happens at most once per [`BACKOFF_INTERVAL`] (a burst of 429s answering requests
//! sent together is one signal). Several processes sharing one key's limit each back off on
//! their own 429s and so converge on it together.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::defaults;

/// What the concurrency limit is multiplied by on a back-off.
const CONCURRENCY_BACKOFF: f64 = 0.75;
/// What the measured accepted rate is multiplied by on a 429/503.
const RATE_BACKOFF: f64 = 0.9;
/// How long the rate takes to grow back to the rate measured at the last back-off.
const RATE_RECOVERY: f64 = 1.0;
/// The least time between two back-offs.
const BACKOFF_INTERVAL: Duration = Duration::from_millis(100);
/// The window over which the accepted rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// The shortest window measured (early in a run).
const MEASURE_MIN: Duration = Duration::from_millis(10);
/// Latency counts as rising when the smoothed latency exceeds the lowest seen by this factor…
const LATENCY_TOLERANCE: f64 = 2.0;
/// …and by at least this much (loopback latencies jitter by milliseconds).
const LATENCY_SLACK: Duration = Duration::from_millis(10);

/// The signal one attempt gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// A 2xx: healthy.
    Ok,
    /// A 429 or 503: slow down.
    Throttled,
    /// Anything else (a 400, a timeout, a 500): says nothing about capacity.
    Neutral,
}

impl Signal {
    pub(crate) fn of(status: Option<u16>) -> Signal {
        match status {
            Some(s) if (200..300).contains(&s) => Signal::Ok,
            Some(429 | 503) => Signal::Throttled,
            _ => Signal::Neutral,
        }
    }
}

struct State {
    limit: f64,
    in_flight: usize,
    slow_start: bool,
    min_rtt: Option<Duration>,
    srtt: Option<Duration>,
    last_backoff: Option<Instant>,
    /// The adaptive rate: the rate measured at the last back-off and when it was.
    rate_base: Option<(f64, Instant)>,
    /// When the next request may start (pacing).
    next_slot: Instant,
    /// Accepted answers in the last [`RATE_WINDOW`].
    accepted: VecDeque<Instant>,
    started: Instant,
}

pub(crate) struct Limiter {
    state: Mutex<State>,
    notify: Notify,
    adaptive: bool,
    max_concurrency: usize,
    max_rate: Option<f64>,
}

/// A slot in flight; dropping it frees the slot.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        {
            let mut st = self.limiter.lock();
            st.in_flight = st.in_flight.saturating_sub(1);
        }
        self.limiter.notify.notify_waiters();
    }
}

impl Limiter {
    pub(crate) fn new(adaptive: bool, max_concurrency: usize, max_rate: Option<f64>) -> Limiter {
        let now = Instant::now();
        let limit = if adaptive { defaults::PREPARE_INITIAL_CONCURRENCY.min(max_concurrency) } else { max_concurrency };
        Limiter {
            state: Mutex::new(State {
                limit: limit as f64,
                in_flight: 0,
                slow_start: true,
                min_rtt: None,
                srtt: None,
                last_backoff: None,
                rate_base: None,
                next_slot: now,
                accepted: VecDeque::new(),
                started: now,
            }),
            notify: Notify::new(),
            adaptive,
            max_concurrency,
            max_rate,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The concurrency limit now.
    pub(crate) fn limit(&self) -> usize {
        (self.lock().limit as usize).clamp(1, self.max_concurrency)
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// The request rate now, when one applies.
    pub(crate) fn rate(&self) -> Option<f64> {
        let st = self.lock();
        self.rate_at(&st, Instant::now())
    }

    fn rate_at(&self, st: &State, now: Instant) -> Option<f64> {
        let adaptive = match st.rate_base {
            Some((base, at)) if self.adaptive => {
                // Cubic growth: base * (1 + c (t - K)^3), with K = RATE_RECOVERY and c chosen
                // so that at t = 0 the rate is RATE_BACKOFF * base.
                let k = RATE_RECOVERY;
                let c = (1.0 - RATE_BACKOFF) / (k * k * k);
                let t = now.saturating_duration_since(at).as_secs_f64();
                Some((base * (1.0 + c * (t - k).powi(3))).max(defaults::PREPARE_MIN_RATE))
            }
            _ => None,
        };
        match (adaptive, self.max_rate) {
            (Some(a), Some(m)) => Some(a.min(m)),
            (a, m) => a.or(m),
        }
    }

    /// Waits for a slot under the concurrency limit, then for the rate's next start time.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let slot = {
                let mut st = self.lock();
                let limit = (st.limit as usize).clamp(1, self.max_concurrency);
                if st.in_flight < limit {
                    st.in_flight += 1;
                    let now = Instant::now();
                    let slot = st.next_slot.max(now);
                    if let Some(rate) = self.rate_at(&st, now) {
                        st.next_slot = slot + Duration::from_secs_f64(1.0 / rate);
                    }
                    Some(slot)
                } else {
                    None
                }
            };
            if let Some(slot) = slot {
                let permit = Permit { limiter: self };
                tokio::time::sleep_until(slot).await;
                return permit;
            }
            notified.await;
        }
    }

    /// Feeds one attempt's outcome.
    pub(crate) fn observe(&self, signal: Signal, latency: Duration) {
        let now = Instant::now();
        let mut grew = false;
        {
            let mut st = self.lock();
            match signal {
                Signal::Ok => {
                    st.accepted.push_back(now);
                    while st.accepted.front().is_some_and(|t| now.saturating_duration_since(*t) > RATE_WINDOW) {
                        st.accepted.pop_front();
                    }
                    if !self.adaptive {
                        return;
                    }
                    st.min_rtt = Some(st.min_rtt.map_or(latency, |m| m.min(latency)));
                    let srtt = match st.srtt {
                        Some(s) => s.mul_f64(0.9) + latency.mul_f64(0.1),
                        None => latency,
                    };
                    st.srtt = Some(srtt);
                    let min = st.min_rtt.unwrap_or(latency);
                    let rising = srtt.as_secs_f64() > min.as_secs_f64() * LATENCY_TOLERANCE
                        && srtt.saturating_sub(min) > LATENCY_SLACK;
                    if rising {
                        self.back_off_concurrency(&mut st, now);
                    } else if st.slow_start {
                        st.limit += 1.0;
                        grew = true;
                    } else {
                        st.limit += 1.0 / st.limit.max(1.0);
                        grew = true;
                    }
                    st.limit = st.limit.min(self.max_concurrency as f64);
                }
                Signal::Throttled => {
                    if !self.adaptive {
                        return;
                    }
                    if st.last_backoff.is_some_and(|t| now.saturating_duration_since(t) < BACKOFF_INTERVAL) {
                        return;
                    }
                    self.back_off_concurrency(&mut st, now);
                    // The rate the server was accepting: over the last second, or since the start
                    // (at least MEASURE_MIN: an overestimate corrects itself at the next 429, an
                    // underestimate only as fast as the rate grows back).
                    let window = now.saturating_duration_since(st.started).clamp(MEASURE_MIN, RATE_WINDOW);
                    let accepted =
                        st.accepted.iter().filter(|t| now.saturating_duration_since(**t) <= window).count() as f64;
                    let measured = accepted / window.as_secs_f64();
                    let base = match self.rate_at(&st, now) {
                        // Never more than halved at once: a window with nothing accepted (every
                        // batch waiting out a Retry-After) says little about the server's rate.
                        Some(r) => r.min(measured).max(r * 0.5),
                        None if measured > 0.0 => measured,
                        None => return,
                    }
                    .max(defaults::PREPARE_MIN_RATE);
                    // At t = 0 the curve gives RATE_BACKOFF * base.
                    st.rate_base = Some((base, now));
                    tracing::debug!(target: "partly", rate = base * RATE_BACKOFF, limit = st.limit, "prepare_all backing off");
                }
                Signal::Neutral => {}
            }
        }
        if grew {
            self.notify.notify_waiters();
        }
    }

    fn back_off_concurrency(&self, st: &mut State, now: Instant) {
        if st
            .last_backoff
            .is_some_and(|t| now.saturating_duration_since(t) < BACKOFF_INTERVAL.max(st.srtt.unwrap_or_default()))
        {
            return;
        }
        st.slow_start = false;
        st.limit = (st.limit * CONCURRENCY_BACKOFF).max(1.0);
        st.last_backoff = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn grows_in_slow_start_and_backs_off_on_throttle() {
        let l = Limiter::new(true, 32, None);
        assert_eq!(l.limit(), defaults::PREPARE_INITIAL_CONCURRENCY);
        for _ in 0..100 {
            l.observe(Signal::Ok, Duration::from_millis(5));
        }
        assert_eq!(l.limit(), 32, "healthy answers grow the limit to max_concurrency");
        assert_eq!(l.rate(), None, "no rate until the server pushes back");
        l.observe(Signal::Throttled, Duration::from_millis(1));
        assert_eq!(l.limit(), 24);
        let r = l.rate().unwrap();
        assert!(r > 0.0 && r <= 100.0 / 0.01 * RATE_BACKOFF + 1e-6, "{r}");
        // A second 429 at once is the same signal.
        l.observe(Signal::Throttled, Duration::from_millis(1));
        assert_eq!(l.limit(), 24);
        // The rate grows back past the measured rate after RATE_RECOVERY.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(l.rate().unwrap() > r / RATE_BACKOFF);
    }

    #[tokio::test(start_paused = true)]
    async fn rising_latency_backs_off() {
        let l = Limiter::new(true, 32, None);
        for _ in 0..20 {
            l.observe(Signal::Ok, Duration::from_millis(20));
        }
        let before = l.limit();
        for _ in 0..20 {
            l.observe(Signal::Ok, Duration::from_millis(200));
            tokio::time::advance(Duration::from_millis(300)).await;
        }
        assert!(l.limit() < before, "{} !< {before}", l.limit());
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_mode_and_max_rate() {
        let l = Limiter::new(false, 8, Some(10.0));
        assert_eq!(l.limit(), 8);
        l.observe(Signal::Throttled, Duration::from_millis(1));
        assert_eq!(l.limit(), 8);
        assert_eq!(l.rate(), Some(10.0));
        let start = Instant::now();
        for _ in 0..5 {
            drop(l.acquire().await);
        }
        assert!(Instant::now() - start >= Duration::from_millis(400), "paced at 10/s");
    }
}
