//! The gateway's rate limit (`--rate-limit RPS [--rate-burst N]`): a token bucket in front of
//! every API method. Above it, 429 with `Retry-After: 1` and `{"type": "rate_limited", ..}`.

use std::time::Instant;

/// A token bucket: `rate` tokens a second, holding at most `burst`.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

/// The burst when none is given: a tenth of a second's worth, at least 1.
pub(crate) fn default_burst(rate: f64) -> u32 {
    (rate / 10.0).ceil().clamp(1.0, u32::MAX as f64) as u32
}

/// Checks a rate and burst; `Err` with the reason.
pub(crate) fn check(rate: f64, burst: Option<u32>) -> Result<(), String> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(format!("rate limit must be a positive number of requests per second, got {rate}"));
    }
    if burst == Some(0) {
        return Err("rate burst must be at least 1".to_owned());
    }
    Ok(())
}

impl Bucket {
    /// A full bucket. The rate and burst must have passed [`check`].
    pub(crate) fn new(rate: f64, burst: Option<u32>) -> Bucket {
        let burst = f64::from(burst.unwrap_or_else(|| default_burst(rate)));
        Bucket { rate, burst, tokens: burst, last: Instant::now() }
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }

    pub(crate) fn burst(&self) -> u32 {
        self.burst as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let mut b = Bucket::new(1.0, Some(3));
        assert!((0..3).all(|_| b.take()));
        assert!(!b.take(), "the burst is spent and a second has not passed");
        assert_eq!(default_burst(250.0), 25);
        assert_eq!(default_burst(0.5), 1);
        assert!(check(0.0, None).is_err());
        assert!(check(f64::NAN, None).is_err());
        assert!(check(5.0, Some(0)).is_err());
    }
}
