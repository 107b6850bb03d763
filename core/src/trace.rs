//! W3C trace context (`traceparent`) and the randomness the SDK needs.

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // The OS generator is unavailable (practically never on supported systems). Fall back
        // to a per-call mix of time and address so ids stay distinct; OAuth `state` generation
        // checks for this separately and refuses to proceed.
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
                ^ (buf.as_ptr() as usize as u128);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed.rotate_left((i * 7) as u32) & 0xff) as u8;
        }
    }
}

thread_local! {
    /// A per-thread generator for ids and jitter (not secrets), seeded from the OS once per
    /// thread and process (a forked child reseeds, so its trace ids differ from its parent's).
    /// OAuth `state` uses the OS generator directly.
    static FAST_RNG: std::cell::Cell<(u32, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// The next 64 random bits of this thread's generator (splitmix64).
pub(crate) fn fast_u64() -> u64 {
    FAST_RNG.with(|cell| {
        let (pid, mut state) = cell.get();
        let now_pid = std::process::id();
        if pid != now_pid {
            let mut b = [0u8; 8];
            random_bytes(&mut b);
            state = u64::from_le_bytes(b);
        }
        let next = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        cell.set((now_pid, next));
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A random number in [0, 1).
pub(crate) fn random_unit() -> f64 {
    (fast_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Fills `buf` from this thread's fast generator (ids, not secrets).
fn fast_bytes(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let r = fast_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// The trace of one logical call: one trace id for all its attempts.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    pub trace_id: String,
}

impl Trace {
    pub(crate) fn new() -> Self {
        let mut id = [0u8; 16];
        fast_bytes(&mut id);
        if id == [0u8; 16] {
            id[15] = 1; // all-zero is invalid in W3C trace context
        }
        Trace { trace_id: hex(&id) }
    }

    /// The `traceparent` of one attempt: the call's trace id and a fresh parent (span) id.
    pub(crate) fn traceparent(&self) -> String {
        let mut span = [0u8; 8];
        fast_bytes(&mut span);
        if span == [0u8; 8] {
            span[7] = 1;
        }
        format!("00-{}-{}-01", self.trace_id, hex(&span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_shape() {
        let t = Trace::new();
        let tp = t.traceparent();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], t.trace_id);
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert_ne!(t.traceparent(), tp, "each attempt has its own span id");
        assert_ne!(Trace::new().trace_id, t.trace_id);
    }

    #[test]
    fn unit_range() {
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
