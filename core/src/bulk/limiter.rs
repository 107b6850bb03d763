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
//! - **Rate** (CUBIC, RFC 9438, on the request rate instead of a window): unconstrained (or
//!   `max_rate`) until a 429/503. The first cut starts from the rate this process was sending
//!   at; every cut keeps the share of the requests sent since the last cut that were accepted
//!   (between [`RATE_BACKOFF_MAX`] and [`RATE_BACKOFF`] of the rate). The rate then grows back
//!   along `C (t - K)³ + w_max` ([`RATE_CUBIC`]): flat near the rate it was cut from; past it
//!   without a 429 it doubles every [`RATE_PROBE_DOUBLING`] (room has opened: another process
//!   finished). The constant is absolute, the same for every process whatever its share,
//!   so a smaller share regains its old rate sooner: processes sharing one key's limit, each
//!   cutting on its own 429s, converge on equal shares of it (and fast convergence gives a
//!   newcomer room). Requests are paced evenly, each start time taken at the rate of the
//!   moment it comes (a cut slows the requests already waiting).
//!
//! A cut counts only 429s answering requests sent after the last cut (those sent before were
//! sent at the old rate), at most once per [`RATE_CUT_INTERVAL`] or [`RATE_CUT_REQUESTS`]
//! requests. Near the end of the input ([`Limiter::left`]) the rate stops probing: a 429 there
//! would hold up the end of the run by a whole `Retry-After` after everything else is done. It
//! is held halfway between its last cut and the rate it cut, or, when it had already found room
//! ([`PROBED`]), where it is; a hold that no 429 comes to for a whole `Retry-After` probes
//! again from there (it was held too low: the others had finished).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::defaults;

/// What the concurrency limit is multiplied by on a back-off.
const CONCURRENCY_BACKOFF: f64 = 0.75;
/// The most a rate cut keeps of the rate it cuts (the least it takes away)…
const RATE_BACKOFF: f64 = 0.9;
/// …and the least (a cut never more than halves the rate).
const RATE_BACKOFF_MAX: f64 = 0.5;
/// The cubic's constant, in requests/s per s³: how fast the rate grows back to where it was cut
/// and then probes above it. The same for every process, whatever its share: the process with
/// the smaller share reaches its old rate sooner and so takes back more of what a bigger one
/// gave up (CUBIC's fairness).
const RATE_CUBIC: f64 = 50.0;
/// Past the rate it was cut from without a 429, the rate doubles this often: the cubic's own
/// convex region would take seconds to take up the room other processes leave when they finish.
const RATE_PROBE_DOUBLING: Duration = Duration::from_millis(500);
/// No rate above this (requests/s): more than any run sends, it keeps the doubling finite.
const RATE_CEILING: f64 = 1e7;
/// The least time between two rate cuts (one 429 counts once per timer tick, whatever the rate)…
const RATE_CUT_INTERVAL: Duration = Duration::from_millis(10);
/// …and at least this many requests' time at the rate: at a low rate, one refusal of one
/// request is too little evidence to cut again (a storm of 429s another process caused would
/// halve a small share every few milliseconds).
const RATE_CUT_REQUESTS: f64 = 4.0;
/// How much sending the batches read ahead should last under a rate: a little more than the
/// usual `Retry-After` ([`defaults::PREPARE_THROTTLE_WAIT`]).
const LOOKAHEAD: Duration = Duration::from_millis(1250);
/// A rate this far above where it was last cut, reached without a 429, shows room (others
/// sharing the limit have stopped): near the end it is held where it is, not halfway back.
const PROBED: f64 = 1.4;
/// The most batches read ahead (memory: 1,024 x 100 identifiers).
const LOOKAHEAD_MAX: usize = 1024;
/// The least time between two concurrency back-offs.
const BACKOFF_INTERVAL: Duration = Duration::from_millis(100);
/// The window over which the accepted rate is measured (the first cut only).
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

/// The adaptive rate after its first cut: a cubic through the rate it was cut to, flattening
/// at the rate it was cut from (`w_max`), then probing above it.
#[derive(Clone, Copy, Debug)]
struct Cubic {
    /// The rate at the last cut (after fast convergence).
    w_max: f64,
    /// When the cubic reaches `w_max` again, in seconds after `at`.
    k: f64,
    /// When the rate was last cut.
    at: Instant,
}

impl Cubic {
    /// A cut from `from` (whose previous peak was `prev_max`) to `to`, now.
    fn cut(from: f64, to: f64, prev_max: Option<f64>, at: Instant) -> Cubic {
        // Fast convergence (RFC 9438 §4.7): a peak lower than the last one means another
        // process took a share; give it room by aiming below the peak this time.
        let w_max = match prev_max {
            Some(p) if from < p => from * (1.0 + RATE_BACKOFF) / 2.0,
            _ => from,
        }
        .max(to);
        Cubic { w_max, k: ((w_max - to) / RATE_CUBIC).cbrt(), at }
    }

    /// Halfway between the rate of the cut and the rate it cut.
    fn midpoint(&self) -> f64 {
        self.w_max - RATE_CUBIC * self.k.powi(3) / 2.0
    }

    /// The rate at `now`, at most `cap`.
    fn rate(&self, now: Instant, cap: Option<f64>) -> f64 {
        let t = now.saturating_duration_since(self.at).as_secs_f64();
        let r = if t <= self.k {
            RATE_CUBIC * (t - self.k).powi(3) + self.w_max
        } else {
            // Under contention a 429 comes before the rate gets back to where it was cut; one
            // that does not come means room: probe for it exponentially (slow start's growth).
            (self.w_max * 2f64.powf((t - self.k) / RATE_PROBE_DOUBLING.as_secs_f64())).min(RATE_CEILING)
        };
        cap.map_or(r, |c| r.min(c))
    }
}

/// The rate near the end of the input.
#[derive(Clone, Copy, Debug)]
enum Hold {
    /// At most `cap` requests/s, since `since`.
    Capped { cap: f64, since: Instant },
    /// Let go after a quiet Retry-After (see [`Limiter::release_hold`]); not held again.
    Released,
}

impl Hold {
    fn cap(self) -> Option<f64> {
        match self {
            Hold::Capped { cap, .. } => Some(cap),
            Hold::Released => None,
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
    /// The adaptive rate, once the server has pushed back.
    cubic: Option<Cubic>,
    /// Near the end of the input: the rate no longer probes (see [`Limiter::left`]).
    hold: Option<Hold>,
    /// The last 429/503.
    last_throttled: Option<Instant>,
    /// Answers to requests sent since the last cut: accepted, throttled.
    since_cut: (u32, u32),
    /// When the next request may start (pacing).
    next_slot: Instant,
    /// Answers in the last [`RATE_WINDOW`], and whether each was accepted (until the first cut).
    answers: VecDeque<(Instant, bool)>,
    /// When the first request was sent.
    first_sent: Option<Instant>,
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

impl State {
    /// Keeps an answer for the first cut's measurement (not needed after it).
    fn remember(&mut self, now: Instant, accepted: bool) {
        if self.cubic.is_some() {
            return;
        }
        self.answers.push_back((now, accepted));
        while self.answers.front().is_some_and(|(t, _)| now.saturating_duration_since(*t) > RATE_WINDOW) {
            self.answers.pop_front();
        }
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
                cubic: None,
                hold: None,
                last_throttled: None,
                since_cut: (0, 0),
                next_slot: now,
                answers: VecDeque::new(),
                first_sent: None,
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
        let adaptive = match &st.cubic {
            Some(c) if self.adaptive => Some(c.rate(now, st.hold.and_then(Hold::cap)).max(defaults::PREPARE_MIN_RATE)),
            _ => None,
        };
        match (adaptive, self.max_rate) {
            (Some(a), Some(m)) => Some(a.min(m)),
            (a, m) => a.or(m),
        }
    }

    /// `requests` are left to send (the input is exhausted). Once they take less than a
    /// Retry-After at the rate, stop probing above the rate last accepted (a 429 now would keep
    /// the run waiting a whole Retry-After after everything else is done); undone if the rate
    /// then falls so far that they no longer do.
    pub(crate) fn left(&self, requests: usize) {
        let now = Instant::now();
        let mut st = self.lock();
        if let Some(c) = st.cubic {
            let rate = c.rate(now, None);
            let near = (requests as f64) < rate * defaults::PREPARE_THROTTLE_WAIT.as_secs_f64();
            match st.hold {
                None if near => {
                    // Halfway between the last cut and the rate it cut; unless the rate has
                    // already grown well past that without a 429 (others sharing the limit have
                    // finished): then the room it found is kept, but not probed further.
                    let cap = if rate <= c.w_max * PROBED { c.midpoint() } else { rate };
                    st.hold = Some(Hold::Capped { cap, since: now });
                }
                // The rate came down (early in a run whose input was all read ahead, its first
                // guesses are far too high): the end is further away than it looked.
                Some(Hold::Capped { .. }) if !near => st.hold = None,
                _ => {}
            }
        }
        Self::release_hold(&mut st, now);
    }

    /// A hold that has seen no 429 for a whole Retry-After: nobody is pushing back (the others
    /// sharing the limit have finished, or the last cut went deeper than it needed): probe
    /// again, from the held rate.
    fn release_hold(st: &mut State, now: Instant) {
        if let (Some(Hold::Capped { cap, since }), Some(c)) = (st.hold, st.cubic) {
            let quiet = st.last_throttled.map_or(since, |t| t.max(since));
            if now.saturating_duration_since(quiet) >= defaults::PREPARE_THROTTLE_WAIT {
                let rate = c.rate(now, Some(cap));
                st.cubic = Some(Cubic { w_max: rate, k: 0.0, at: now });
                st.hold = Some(Hold::Released);
            }
        }
    }

    /// How many full batches to read ahead of sending: at least `least`, and under a rate about
    /// [`LOOKAHEAD`] of requests (so that [`hold`](Self::hold) comes in time), at most
    /// [`LOOKAHEAD_MAX`] batches.
    pub(crate) fn lookahead(&self, least: usize) -> usize {
        match self.rate() {
            Some(rate) if self.adaptive => {
                ((rate * LOOKAHEAD.as_secs_f64()).ceil() as usize).clamp(least, LOOKAHEAD_MAX.max(least))
            }
            _ => least,
        }
    }

    /// Waits for a slot under the concurrency limit, then for the rate's next start time.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                let limit = (st.limit as usize).clamp(1, self.max_concurrency);
                if st.in_flight < limit {
                    st.in_flight += 1;
                    break;
                }
            }
            notified.await;
        }
        let permit = Permit { limiter: self };
        // Pacing: a start time is taken when it comes, at the rate of that moment (a cut slows
        // down the requests already waiting, not only those after them).
        loop {
            let wait = {
                let mut st = self.lock();
                let now = Instant::now();
                Self::release_hold(&mut st, now);
                match self.rate_at(&st, now) {
                    None => {
                        st.first_sent.get_or_insert(now);
                        None
                    }
                    Some(rate) => {
                        let interval = Duration::from_secs_f64(1.0 / rate);
                        if st.next_slot <= now {
                            st.first_sent.get_or_insert(now);
                            // A late wake-up (timer ticks are 1 ms) is made up within one interval.
                            st.next_slot = st.next_slot.max(now.checked_sub(interval).unwrap_or(now)) + interval;
                            None
                        } else {
                            Some(st.next_slot)
                        }
                    }
                }
            };
            match wait {
                Some(at) => tokio::time::sleep_until(at).await,
                None => return permit,
            }
        }
    }

    /// Feeds one attempt's outcome.
    pub(crate) fn observe(&self, signal: Signal, latency: Duration) {
        let now = Instant::now();
        let sent = now.checked_sub(latency).unwrap_or(now);
        let mut grew = false;
        {
            let mut st = self.lock();
            let after_cut = st.cubic.is_none_or(|c| sent >= c.at);
            match signal {
                Signal::Ok => {
                    st.remember(now, true);
                    if !self.adaptive {
                        return;
                    }
                    if after_cut {
                        st.since_cut.0 += 1;
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
                    st.remember(now, false);
                    st.last_throttled = Some(now);
                    if after_cut {
                        st.since_cut.1 += 1;
                    }
                    // One cut per group of requests: a 429 answering a request sent before the
                    // last cut was sent at the old rate and says nothing new.
                    let interval = match self.rate_at(&st, now) {
                        Some(rate) => RATE_CUT_INTERVAL.max(Duration::from_secs_f64(RATE_CUT_REQUESTS / rate)),
                        None => RATE_CUT_INTERVAL,
                    };
                    if !after_cut || st.cubic.is_some_and(|c| now.saturating_duration_since(c.at) < interval) {
                        return;
                    }
                    self.back_off_concurrency(&mut st, now);
                    self.cut_rate(&mut st, now);
                }
                Signal::Neutral => {}
            }
        }
        if grew {
            self.notify.notify_waiters();
        }
    }

    /// A 429/503 to a request sent at the current rate: cut the rate.
    fn cut_rate(&self, st: &mut State, now: Instant) {
        let (from, to, prev_max) = match (self.rate_at(st, now), st.cubic) {
            // The share of the requests sent since the last cut that were accepted says how far
            // above the server's rate this process was sending (one refusal of one request is
            // weak evidence: the smoothing counts one more acceptance).
            (Some(rate), cubic) => {
                let (ok, refused) = st.since_cut;
                let accepted = f64::from(ok + 1) / f64::from(ok + refused + 1);
                (rate, rate * accepted.clamp(RATE_BACKOFF_MAX, RATE_BACKOFF), cubic.map(|c| c.w_max))
            }
            // The first push-back: the rate this process was sending at over the last second
            // (or since its first request; answered or in flight), cut by the share accepted
            // (an overestimate is cut again within a few requests). A process that joins a
            // limit others already fill starts at half its sending rate and comes down with
            // them, not from nothing.
            (None, _) => {
                let since = st.first_sent.map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                let window = since.clamp(MEASURE_MIN, RATE_WINDOW);
                let recent = st.answers.iter().filter(|(t, _)| now.saturating_duration_since(*t) <= window);
                let (ok, all) = recent.fold((0u32, 0u32), |(ok, all), (_, a)| (ok + u32::from(*a), all + 1));
                let sent = all as usize + st.in_flight;
                let sending = (sent as f64 / window.as_secs_f64()).max(defaults::PREPARE_MIN_RATE);
                let accepted = f64::from(ok + 1) / f64::from(all + 1);
                (sending, sending * accepted.clamp(RATE_BACKOFF_MAX, RATE_BACKOFF), None)
            }
        };
        let to = to.max(defaults::PREPARE_MIN_RATE);
        let cubic = Cubic::cut(from, to, prev_max, now);
        st.cubic = Some(cubic);
        if let Some(Hold::Capped { cap, .. }) = &mut st.hold {
            *cap = cap.min(cubic.midpoint());
        }
        st.since_cut = (0, 0);
        st.answers = VecDeque::new();
        tracing::debug!(target: "partly", rate = to, limit = st.limit, "prepare_all backing off");
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

    /// A limiter cut once from ~10,100 requests/s (100 accepted and one 429 at once).
    fn cut_once() -> Limiter {
        let l = Limiter::new(true, 32, None);
        for _ in 0..100 {
            l.observe(Signal::Ok, Duration::from_millis(5));
        }
        l.observe(Signal::Throttled, Duration::from_millis(1));
        l
    }

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
        // 101 answers in the shortest window: sending at 10,100/s, cut by RATE_BACKOFF.
        let r = l.rate().unwrap();
        assert!((r - 10_100.0 * RATE_BACKOFF).abs() < 1.0, "{r}");
        // A second 429 at once answers a request sent before the cut: the same signal.
        l.observe(Signal::Throttled, Duration::from_millis(1));
        assert_eq!(l.limit(), 24);
        assert!((l.rate().unwrap() - r).abs() < 1.0);
        // Flat near the old rate, then probing above it.
        let k = ((10_100.0 - r) / RATE_CUBIC).cbrt();
        tokio::time::advance(Duration::from_secs_f64(k)).await;
        assert!((l.rate().unwrap() - 10_100.0).abs() < 1.0);
        // Past it without a 429: doubling every RATE_PROBE_DOUBLING.
        tokio::time::advance(RATE_PROBE_DOUBLING * 2).await;
        assert!((l.rate().unwrap() - 10_100.0 * 4.0).abs() < 4.0, "{:?}", l.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_keeps_the_share_accepted_since_the_last_cut() {
        let l = cut_once();
        tokio::time::advance(RATE_CUT_INTERVAL * 2).await;
        let before = l.rate().unwrap();
        // Sent after the cut: 2 accepted, then a 429: (2 + 1) / (3 + 1) of the rate is kept.
        l.observe(Signal::Ok, Duration::from_millis(1));
        l.observe(Signal::Ok, Duration::from_millis(1));
        l.observe(Signal::Throttled, Duration::from_millis(1));
        let after = l.rate().unwrap();
        assert!((after - before * 0.75).abs() < 1.0, "{before} -> {after}");
        // Nothing accepted: never more than halved at once.
        tokio::time::advance(RATE_CUT_INTERVAL * 2).await;
        let before = l.rate().unwrap();
        for _ in 0..10 {
            l.observe(Signal::Throttled, Duration::from_millis(1));
        }
        assert!((l.rate().unwrap() - before * RATE_BACKOFF_MAX).abs() < 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_to_a_request_sent_before_the_cut_is_not_a_new_signal() {
        let l = cut_once();
        tokio::time::advance(Duration::from_millis(50)).await;
        let before = l.rate().unwrap();
        l.observe(Signal::Throttled, Duration::from_millis(60));
        assert_eq!(l.rate().unwrap(), before);
        l.observe(Signal::Throttled, Duration::from_millis(10));
        assert!(l.rate().unwrap() < before);
    }

    #[tokio::test(start_paused = true)]
    async fn near_the_end_the_rate_stops_probing_but_keeps_the_room_it_found() {
        let l = cut_once();
        let to = l.rate().unwrap();
        l.left(1);
        tokio::time::advance(Duration::from_millis(900)).await;
        // Still pushed back (a 429 to a request sent before the cut: no new cut)…
        l.observe(Signal::Throttled, Duration::from_millis(950));
        tokio::time::advance(Duration::from_millis(900)).await;
        l.left(1);
        let held = l.rate().unwrap();
        assert!((held - (to + 10_100.0) / 2.0).abs() < 1.0, "held halfway: {held}");

        // Grown far past the old rate without a 429: others sharing the limit stopped. The room
        // found is kept, not probed further.
        let l = cut_once();
        tokio::time::advance(Duration::from_millis(3500)).await;
        let grown = l.rate().unwrap();
        assert!(grown > 10_100.0 * PROBED);
        l.left(1);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(l.rate().unwrap(), grown);

        // Much left to send: no hold yet.
        let l = cut_once();
        l.left(1_000_000);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(l.rate().unwrap() > 10_100.0 * 2.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_decided_on_a_first_guess_of_the_rate_is_undone_when_the_rate_comes_down() {
        // The whole input (5,000 requests) was read ahead while the first cut guessed ~9,090/s.
        let l = cut_once();
        l.left(5_000);
        tokio::time::advance(Duration::from_secs(2)).await;
        let capped = l.rate().unwrap();
        // The server pushes back hard: the rate falls far below what 5,000 requests take a
        // second at, and the end is no longer near…
        for _ in 0..6 {
            tokio::time::advance(RATE_CUT_INTERVAL * 2).await;
            l.observe(Signal::Throttled, Duration::from_millis(1));
        }
        l.left(5_000);
        let low = l.rate().unwrap();
        assert!(low * 1.0 < 5_000.0, "{low}");
        // …so it grows again past where the hold would have capped it.
        tokio::time::advance(Duration::from_secs(4)).await;
        l.left(4_999);
        assert!(l.rate().unwrap() > capped.min(low * 4.0), "{} vs {capped}", l.rate().unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_no_429_comes_to_for_a_retry_after_probes_again_from_where_it_was() {
        let l = cut_once();
        tokio::time::advance(Duration::from_secs(2)).await;
        l.left(1);
        let held = l.rate().unwrap();
        tokio::time::advance(defaults::PREPARE_THROTTLE_WAIT).await;
        assert_eq!(l.rate().unwrap(), held, "held");
        l.left(1); // (as the driver does on every turn)
        assert_eq!(l.rate().unwrap(), held, "no jump");
        tokio::time::advance(RATE_PROBE_DOUBLING).await;
        assert!((l.rate().unwrap() - held * 2.0).abs() < 1.0, "doubling from the held rate");
    }

    #[tokio::test(start_paused = true)]
    async fn batches_read_ahead_last_about_a_retry_after_and_never_more_than_the_bound() {
        let l = Limiter::new(true, 32, None);
        assert_eq!(l.lookahead(32), 32, "no rate: as many as may be in flight");
        let l = Limiter::new(true, 32, Some(100.0));
        assert_eq!(l.lookahead(32), 125, "100 requests/s for 1.25 s");
        let l = cut_once(); // ~9,090 requests/s
        assert_eq!(l.lookahead(32), LOOKAHEAD_MAX, "memory stays bounded at any rate");
        assert_eq!(Limiter::new(false, 8, Some(100.0)).lookahead(8), 8, "fixed mode reads no further");
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_paced_evenly_at_the_rate() {
        let l = Limiter::new(false, 8, Some(100.0));
        let start = Instant::now();
        for _ in 0..5 {
            drop(l.acquire().await);
        }
        // 100/s: five starts take four intervals.
        let took = Instant::now() - start;
        assert!(took >= Duration::from_millis(40) && took < Duration::from_millis(50), "{took:?}");
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
