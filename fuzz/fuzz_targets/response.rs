//! Any answer a server can send (status, headers, body bytes) → a result or the documented
//! error; never a panic, never the secret in what an error shows.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = partly::fuzzing::response_from_bytes(data) {
        panic!("{why}");
    }
});
