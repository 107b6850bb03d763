//! Injected faults: what a test asks for and how the server applies it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use crate::lock;
use crate::methods::{self, Op};

/// What a fault does to the calls it applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Wait `delay_ms`; then answer with `status`/`body`/`headers` if `status` is set,
    /// else answer normally.
    #[default]
    Respond,
    /// Wait `delay_ms`, then close the connection without writing a byte.
    Drop,
    /// Send the status and a `content-length` for the full body, write only the first
    /// half of the body, then close the connection.
    Truncate,
    /// Send the status and headers at once, then the body `trickle_chunk_bytes` at a time
    /// every `trickle_interval_ms`.
    Trickle,
    /// Answer normally, then close the connection (a server closing a keep-alive
    /// connection: the client's pooled connection is dead).
    CloseAfter,
}

fn one() -> u32 {
    1
}
fn default_trickle_interval_ms() -> u64 {
    50
}
fn default_trickle_chunk_bytes() -> usize {
    1
}

/// A fault to inject into the next `times` calls of `method`.
///
/// JSON form (all fields but `method` optional; unknown fields are rejected so a typo
/// does not silently make a fault that does nothing):
/// `{"method": "jobs.get", "times": 1, "action": "respond", "status": 503, "body": "...",
///   "headers": {"retry-after": "1"}, "delay_ms": 0, "trickle_interval_ms": 50,
///   "trickle_chunk_bytes": 1}`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Dotted method name (`jobs.get`); either spelling of a published method
    /// (`jobs.get` / `repairer.jobs.get`) matches both; `*` matches every API method.
    pub method: String,
    /// How many calls the fault applies to (default 1).
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub action: FaultAction,
    /// Status to answer with. `respond`: when unset, answer normally after the delay.
    /// `truncate`/`trickle`/`close_after`: when unset, the real answer's status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Body to answer with. `respond` with a status: default empty.
    /// `truncate`/`trickle`/`close_after`: when unset, the real answer's body.
    #[serde(default)]
    pub body: Option<String>,
    /// Headers to answer with. When the fault supplies the body (a `respond` with a
    /// status, or any `body`), these are the only headers sent (no content type unless
    /// given). Otherwise they are added to (and override) the real answer's headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Wait before acting, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// `trickle`: pause before each chunk, in milliseconds (default 50).
    #[serde(default = "default_trickle_interval_ms")]
    pub trickle_interval_ms: u64,
    /// `trickle`: bytes per chunk (default 1).
    #[serde(default = "default_trickle_chunk_bytes")]
    pub trickle_chunk_bytes: usize,
    /// `respond` with a `status`: announce this `content-length` (at least the body's length),
    /// send the body, then close the connection — an answer that advertises more than it sends
    /// (a client with a size limit refuses it from the header alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise_length: Option<u64>,
}

impl Fault {
    /// A fault on `method` with the defaults: once, `respond`, no status (= a no-op
    /// until a status, delay or other action is set).
    pub fn new(method: impl Into<String>) -> Fault {
        Fault {
            method: method.into(),
            times: 1,
            action: FaultAction::Respond,
            status: None,
            body: None,
            headers: BTreeMap::new(),
            delay_ms: 0,
            trickle_interval_ms: default_trickle_interval_ms(),
            trickle_chunk_bytes: default_trickle_chunk_bytes(),
            advertise_length: None,
        }
    }

    /// Applies to the next `n` calls.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }

    pub fn action(mut self, action: FaultAction) -> Fault {
        self.action = action;
        self
    }

    pub fn status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Fault {
        self.body = Some(body.into());
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Fault {
        self.headers.insert(name.into(), value.into());
        self
    }

    pub fn delay_ms(mut self, ms: u64) -> Fault {
        self.delay_ms = ms;
        self
    }

    /// `trickle` pacing: `chunk_bytes` every `interval_ms`.
    pub fn trickle(mut self, interval_ms: u64, chunk_bytes: usize) -> Fault {
        self.action = FaultAction::Trickle;
        self.trickle_interval_ms = interval_ms;
        self.trickle_chunk_bytes = chunk_bytes;
        self
    }

    /// `respond` with a status: announce `bytes` of body (see [`Fault::advertise_length`]).
    pub fn advertise_length(mut self, bytes: u64) -> Fault {
        self.advertise_length = Some(bytes);
        self
    }

    /// Checks the fault and turns it into what the server applies.
    pub(crate) fn arm(&self) -> Result<(Matcher, Arc<FaultPlan>), String> {
        let matcher = if self.method == "*" {
            Matcher::Any
        } else if self.method.is_empty()
            || self.method.contains('/')
            || self.method.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!("invalid fault method {:?}", self.method));
        } else {
            match methods::lookup(&self.method) {
                Some(op) => Matcher::Op(op),
                None => Matcher::Name(self.method.clone()),
            }
        };
        if self.times == 0 {
            return Err("fault `times` must be at least 1".to_owned());
        }
        let status = match self.status {
            None => None,
            Some(code) => match StatusCode::from_u16(code) {
                Ok(s) if code >= 200 => Some(s),
                _ => return Err(format!("invalid fault status {code} (must be 200..=999)")),
            },
        };
        if self.action == FaultAction::Trickle && self.trickle_chunk_bytes == 0 {
            return Err("fault `trickle_chunk_bytes` must be at least 1".to_owned());
        }
        if let Some(n) = self.advertise_length {
            let body_len = self.body.as_ref().map_or(0, |b| b.len() as u64);
            if self.action != FaultAction::Respond || status.is_none() {
                return Err("fault `advertise_length` needs action `respond` with a `status`".to_owned());
            }
            if n < body_len {
                return Err(format!("fault `advertise_length` {n} is shorter than the body ({body_len} bytes)"));
            }
        }
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid fault header name {name:?}"))?;
            let value = HeaderValue::from_str(value).map_err(|_| format!("invalid value for fault header {name}"))?;
            headers.append(name, value);
        }
        let plan = FaultPlan {
            action: self.action,
            status,
            body: self.body.clone().map(Bytes::from),
            headers,
            delay: Duration::from_millis(self.delay_ms),
            trickle_interval: Duration::from_millis(self.trickle_interval_ms),
            trickle_chunk: self.trickle_chunk_bytes.max(1),
            advertise_length: self.advertise_length,
        };
        Ok((matcher, Arc::new(plan)))
    }
}

/// Which calls a fault applies to.
#[derive(Debug)]
pub(crate) enum Matcher {
    Any,
    Op(Op),
    /// A method the mock does not serve (its calls get the fault instead of the 404).
    Name(String),
}

impl Matcher {
    fn matches(&self, name: &str, op: Option<Op>) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Op(want) => op == Some(*want),
            Matcher::Name(want) => want == name,
        }
    }
}

/// A checked fault, ready to apply.
#[derive(Debug)]
pub(crate) struct FaultPlan {
    pub(crate) action: FaultAction,
    pub(crate) status: Option<StatusCode>,
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: HeaderMap,
    pub(crate) delay: Duration,
    pub(crate) trickle_interval: Duration,
    pub(crate) trickle_chunk: usize,
    pub(crate) advertise_length: Option<u64>,
}

struct Armed {
    matcher: Matcher,
    plan: Arc<FaultPlan>,
    remaining: u32,
}

/// Faults waiting to apply, oldest first, and the optional random faults of `--chaos-rate`.
#[derive(Default)]
pub(crate) struct FaultQueue {
    armed: Mutex<Vec<Armed>>,
    /// Number of armed faults, read without the lock on the hot path.
    count: AtomicUsize,
    chaos: Option<Chaos>,
}

/// Random faults on a share of all API calls, for soak tests: each call, with probability
/// `rate`, gets one of [`Chaos::plans`] — all of them failures a client retries for a method
/// that is safe to resend.
pub(crate) struct Chaos {
    /// `rate` scaled to `u64::MAX`.
    threshold: u64,
    seq: std::sync::atomic::AtomicU64,
    seed: u64,
    plans: Vec<Arc<FaultPlan>>,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Chaos {
    /// The faults chaos draws from.
    fn plans() -> Vec<Fault> {
        let json = |status: u16, ty: &str| {
            Fault::new("*")
                .status(status)
                .body(format!("{{\"type\":\"{ty}\"}}"))
                .header("content-type", "application/json")
                .header("retry-after", "0")
        };
        vec![
            json(503, "unavailable"),
            json(500, "internal"),
            json(429, "rate_limited"),
            Fault::new("*")
                .status(502)
                .body("<html><body>502 Bad Gateway</body></html>")
                .header("content-type", "text/html"),
            Fault::new("*").action(FaultAction::Drop),
            Fault::new("*").action(FaultAction::Truncate),
            Fault::new("*").action(FaultAction::CloseAfter),
        ]
    }

    pub(crate) fn new(rate: f64, seed: u64) -> Option<Chaos> {
        if rate.is_nan() || rate <= 0.0 {
            return None;
        }
        let plans = Chaos::plans().iter().filter_map(|f| f.arm().ok().map(|(_, p)| p)).collect();
        Some(Chaos {
            threshold: (rate.min(1.0) * u64::MAX as f64) as u64,
            seq: std::sync::atomic::AtomicU64::new(0),
            seed,
            plans,
        })
    }

    fn roll(&self) -> Option<Arc<FaultPlan>> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let r = splitmix(self.seed ^ n);
        if r >= self.threshold || self.plans.is_empty() {
            return None;
        }
        let pick = splitmix(r) as usize % self.plans.len();
        Some(Arc::clone(&self.plans[pick]))
    }
}

impl FaultQueue {
    pub(crate) fn push(&self, fault: &Fault) -> Result<(), String> {
        let (matcher, plan) = fault.arm()?;
        let mut armed = lock(&self.armed);
        armed.push(Armed { matcher, plan, remaining: fault.times });
        self.count.store(armed.len(), Ordering::Release);
        Ok(())
    }

    /// Takes one use of the oldest fault matching this call, if any.
    pub(crate) fn with_chaos(chaos: Option<Chaos>) -> FaultQueue {
        FaultQueue { chaos, ..FaultQueue::default() }
    }

    pub(crate) fn take(&self, name: &str, op: Option<Op>) -> Option<Arc<FaultPlan>> {
        if self.count.load(Ordering::Acquire) == 0 {
            return self.chaos.as_ref().and_then(Chaos::roll);
        }
        let mut armed = lock(&self.armed);
        let Some(i) = armed.iter().position(|a| a.matcher.matches(name, op)) else {
            drop(armed);
            return self.chaos.as_ref().and_then(Chaos::roll);
        };
        let entry = &mut armed[i];
        let plan = Arc::clone(&entry.plan);
        entry.remaining = entry.remaining.saturating_sub(1);
        if entry.remaining == 0 {
            armed.remove(i);
            self.count.store(armed.len(), Ordering::Release);
        }
        Some(plan)
    }

    pub(crate) fn clear(&self) {
        let mut armed = lock(&self.armed);
        armed.clear();
        self.count.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_json() {
        let f: Fault = serde_json::from_str(r#"{"method":"jobs.get"}"#).unwrap();
        assert_eq!(f, Fault::new("jobs.get"));
        let f: Fault =
            serde_json::from_str(r#"{"method":"*","action":"close_after","times":3,"headers":{"a":"b"}}"#).unwrap();
        assert_eq!(f.action, FaultAction::CloseAfter);
        assert_eq!(f.times, 3);
        assert!(serde_json::from_str::<Fault>(r#"{"method":"x","stauts":500}"#).is_err());
    }

    #[test]
    fn invalid_faults_are_rejected() {
        assert!(Fault::new("jobs.get").status(99).arm().is_err());
        assert!(Fault::new("jobs.get").status(1000).arm().is_err());
        assert!(Fault::new("jobs.get").times(0).arm().is_err());
        assert!(Fault::new("").arm().is_err());
        assert!(Fault::new("jobs.get").header("bad name", "x").arm().is_err());
        assert!(Fault::new("jobs.get").header("x", "bad\nvalue").arm().is_err());
        assert!(Fault::new("jobs.get").trickle(1, 0).arm().is_err());
        assert!(Fault::new("parts.search").status(503).arm().is_ok());
        assert!(Fault::new("jobs.get").advertise_length(10).arm().is_err(), "needs a status");
        assert!(Fault::new("jobs.get").status(503).body("0123456789x").advertise_length(10).arm().is_err());
        assert!(Fault::new("jobs.get").status(503).body("x").advertise_length(1 << 40).arm().is_ok());
    }

    #[test]
    fn queue_matches_both_spellings_and_counts_down() {
        let q = FaultQueue::default();
        q.push(&Fault::new("repairer.jobs.get").status(503).times(2)).unwrap();
        q.push(&Fault::new("*").status(500)).unwrap();
        let op = methods::lookup("jobs.get");
        assert!(q.take("tier1.prepare", methods::lookup("tier1.prepare")).is_some()); // the `*`
        assert!(q.take("tier1.prepare", methods::lookup("tier1.prepare")).is_none());
        assert!(q.take("jobs.get", op).is_some());
        assert!(q.take("repairer.jobs.get", op).is_some());
        assert!(q.take("jobs.get", op).is_none());
    }
}
