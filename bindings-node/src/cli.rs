//! The `partly` command line (crate `partly-cli`), run by the package's `partly` bin
//! (`bin/partly.js`). Only the bridge: the arguments in, the exit status out; the command line
//! reads and writes the process's own stdin, stdout and stderr, as the Rust binary does.

use napi_derive::napi;

/// Runs `partly` with `argv` (the program name first) and returns its exit status. Blocks the
/// calling thread until the command ends (the bin does nothing else); Ctrl-C stops it cleanly.
#[napi(catch_unwind)]
pub fn run_cli(argv: Vec<String>) -> i32 {
    partly_cli::run(argv.into_iter().map(Into::into).collect())
}
