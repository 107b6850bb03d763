//! When to retry, and how long to wait: the retry policy of design.md §3 in one place.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::methods::Resend;

/// Statuses that a retry may cure.
pub(crate) const RETRY_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// How an attempt failed, as far as the retry decision cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection was never made: nothing reached the server.
    NotSent,
    /// The request may have reached the server (timeout, dropped connection).
    MaybeSent,
    /// The server answered with this status.
    Status(u16),
    /// Nothing was sent, and trying again cannot help (the server's TLS certificate was refused).
    Fatal,
    /// Nothing was sent because the HTTP client could not be set up; trying again cannot help.
    Setup,
}

/// What the retry loop does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop and report the error.
    GiveUp,
}

/// The knobs of the policy (from the client config, overridable per call).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub max_retries: u32,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub retry_after_max: Duration,
}

impl Policy {
    /// Decides after the `attempt`-th attempt (1-based) failed.
    pub(crate) fn decide(
        &self,
        failure: Failure,
        resend: Resend,
        attempt: u32,
        retry_after: Option<Duration>,
    ) -> Decision {
        if attempt > self.max_retries {
            return Decision::GiveUp;
        }
        let retryable = match failure {
            Failure::NotSent => true,
            Failure::Fatal => false,
            Failure::MaybeSent => resend == Resend::Safe,
            Failure::Status(s) => resend == Resend::Safe && RETRY_STATUSES.contains(&s),
            Failure::Setup => false,
        };
        if !retryable {
            return Decision::GiveUp;
        }
        match retry_after {
            Some(wait) if wait > self.retry_after_max => Decision::GiveUp,
            Some(wait) => Decision::RetryAfter(wait),
            None => Decision::RetryAfter(self.backoff(attempt)),
        }
    }

    /// The backoff before retry number `attempt` (1-based): `initial * 2^(attempt-1)`, capped,
    /// then scaled by a random factor in [0.75, 1.0] so that clients do not retry in lockstep.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self.backoff_initial.saturating_mul(1u32 << exp).min(self.backoff_max);
        base.mul_f64(1.0 - 0.25 * crate::trace::random_unit())
    }
}

/// Reads `retry-after-ms` (milliseconds) or `Retry-After` (seconds, possibly fractional, or an
/// HTTP date). Anything unreadable or negative counts as absent; a date in the past is zero.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) =
        headers.get("retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<f64>().ok())
    {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64((ms / 1000.0).min(1e9)));
        }
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    parse_retry_after_value(raw, SystemTime::now())
}

/// Parses one `Retry-After` value against `now`.
pub(crate) fn parse_retry_after_value(raw: &str, now: SystemTime) -> Option<Duration> {
    if raw.is_empty() {
        return None;
    }
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_retries: 2,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            retry_after_max: Duration::from_secs(60),
        }
    }

    #[test]
    fn retry_after_values() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        let cases: &[(&str, Option<Duration>)] = &[
            ("1", Some(Duration::from_secs(1))),
            ("0", Some(Duration::ZERO)),
            ("1.5", Some(Duration::from_millis(1500))),
            (" 3600 ", None), // trimmed by the caller; here a raw space is not a number or date
            ("-1", None),
            ("NaN", None),
            ("inf", None),
            ("soon", None),
            ("", None),
            ("Wed, 21 Oct 2026 07:28:30 GMT", Some(Duration::from_secs(30))),
            ("Wed, 21 Oct 2026 07:27:00 GMT", Some(Duration::ZERO)),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_retry_after_value(raw, now), *want, "Retry-After {raw:?}");
        }
    }

    #[test]
    fn header_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", " 2 ".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn decisions() {
        let p = policy();
        use Decision::*;
        use Failure::*;
        assert!(matches!(p.decide(Status(503), Resend::Safe, 1, None), RetryAfter(_)));
        assert_eq!(p.decide(Status(503), Resend::Safe, 3, None), GiveUp, "budget spent");
        assert_eq!(p.decide(Status(503), Resend::OnlyIfNotSent, 1, None), GiveUp);
        assert_eq!(p.decide(MaybeSent, Resend::OnlyIfNotSent, 1, None), GiveUp);
        assert!(matches!(p.decide(NotSent, Resend::OnlyIfNotSent, 1, None), RetryAfter(_)));
        assert_eq!(p.decide(Status(404), Resend::Safe, 1, None), GiveUp);
        assert_eq!(p.decide(Setup, Resend::Safe, 1, None), GiveUp);
        assert_eq!(p.decide(Status(400), Resend::Safe, 1, None), GiveUp);
        assert_eq!(
            p.decide(Status(429), Resend::Safe, 1, Some(Duration::from_secs(1))),
            RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(p.decide(Status(429), Resend::Safe, 1, Some(Duration::from_secs(3600))), GiveUp);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let p = policy();
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(375) && b1 <= Duration::from_millis(500), "{b1:?}");
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(1500) && b3 <= Duration::from_millis(2000), "{b3:?}");
            let b20 = p.backoff(20);
            assert!(b20 >= Duration::from_secs(6) && b20 <= Duration::from_secs(8), "{b20:?}");
        }
    }
}
