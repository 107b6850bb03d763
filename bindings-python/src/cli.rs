//! The `partly` command line (crate `partly-cli`), run by the `partly` console script
//! (`partly/_cli.py`). Only the bridge: the arguments in, the exit status out; the command line
//! reads and writes the process's own stdin, stdout and stderr, as the Rust binary does.

use std::ffi::OsString;

use pyo3::prelude::*;

/// Runs `partly` with `argv` (the program name first) and returns its exit status. The GIL is
/// released for the whole run; the command line stops on Ctrl-C by itself (its own SIGINT
/// handling, with Python's handler set aside by the caller, `partly._cli.main`).
#[pyfunction]
pub fn run_cli(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    py.detach(|| partly_cli::run(argv))
}
