//! `partly`: the command line of the Partly SDK. Everything is in the library (`partly_cli::run`),
//! which the Python and Node packages run too.

fn main() {
    std::process::exit(partly_cli::run(std::env::args_os().collect()));
}
