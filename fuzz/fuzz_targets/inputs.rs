//! Any JSON a user can hand the bindings → a model or a validation error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = partly::fuzzing::inputs(data) {
        panic!("{why}");
    }
});
