//! `partly._native`: the Rust core of the `partly` Python package.
//!
//! The package is `bindings-python/python/partly/`; this module only translates (design.md §1):
//! arguments in (`models.rs`), results and errors out (`models.rs`, `error.rs`), blocking and
//! asyncio bridges on a fork-aware runtime (`runtime.rs`), kept out of Python once the interpreter
//! starts to shut down (`shutdown.rs`). Its stub is `partly/_native.pyi`.

use log::LevelFilter;
use pyo3::prelude::*;

use partly::config::defaults;

mod bulk;
mod cli;
mod client;
mod error;
mod models;
mod oauth;
mod runtime;
mod shutdown;
mod testing;

/// The core's log records (target `partly`, from `tracing`) go to Python's `logging` logger
/// `partly`. Logger objects are cached, levels are not, so `setLevel` at any time takes effect.
fn init_logging(py: Python<'_>) {
    let logger = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)
        .map(|l| l.filter(LevelFilter::Off).filter_target("partly".to_owned(), LevelFilter::Trace));
    if let Ok(logger) = logger {
        // Err: a logger is installed already (the module was initialised before); keep it.
        if log::set_boxed_logger(Box::new(GatedLogger(logger))).is_ok() {
            log::set_max_level(LevelFilter::Trace);
        }
    }
}

/// The level `PARTLY_LOG` asks for (`"debug"`, `"info"`, `"warn"`, `"error"`, `"off"`), parsed by
/// the core (`LogLevel::from_env`): `None` when unset or blank; a `partly.ValidationError` naming
/// the variable and the allowed levels otherwise. `partly/__init__.py` applies it to the
/// `partly` logger at import.
#[pyfunction]
fn env_log_level(py: Python<'_>, value: Option<&str>) -> PyResult<Option<&'static str>> {
    partly::logging::LogLevel::from_env(value).map(|l| l.map(|l| l.name())).map_err(|e| error::to_pyerr(py, &e))
}

/// `pyo3-log`'s logger behind the gate of `shutdown.rs`. Most records are emitted on the
/// runtime's threads, and `pyo3-log` takes the GIL for each one (to ask `logging` whether the
/// level is enabled, then to log): a thread doing that when the interpreter starts to finalize
/// crashes the process. Once the `atexit` hook has run, records are dropped without touching
/// Python. (`enabled` only reads `pyo3-log`'s cache, never Python.) The records of calls (async
/// and blocking) never take the GIL on a runtime thread: they go to the Python thread waiting
/// for the call, which logs them (`runtime::route_log`); only records emitted outside a call's
/// task come here.
struct GatedLogger(pyo3_log::Logger);

impl log::Log for GatedLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        // A record of a call goes to the thread waiting for it (see `runtime::route_log`).
        if runtime::route_log(record) {
            return;
        }
        if let Some(_pass) = shutdown::enter() {
            self.0.log(record);
        }
    }

    fn flush(&self) {}
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    init_logging(m.py());
    // Before anything can start the runtime's threads: they must be out of Python, for good,
    // before the interpreter finalizes (see `shutdown.rs`).
    shutdown::register(m)?;
    m.add_class::<client::Client>()?;
    m.add_class::<testing::MockServer>()?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(env_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(oauth::authorize_url, m)?)?;
    m.add_function(wrap_pyfunction!(oauth::verify_state, m)?)?;
    m.add_function(wrap_pyfunction!(oauth::shapes, m)?)?;
    m.add_function(wrap_pyfunction!(oauth::generate_state, m)?)?;
    m.add_function(wrap_pyfunction!(oauth::parse_callback, m)?)?;

    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("CORE_VERSION", partly::VERSION)?;
    m.add("API_VERSION", defaults::API_VERSION)?;
    m.add("DEFAULT_BASE_URL", defaults::BASE_URL)?;
    m.add("DEFAULT_AUTHORIZE_URL", defaults::AUTHORIZE_URL)?;
    m.add("DEFAULT_TIMEOUT", defaults::TIMEOUT.as_secs_f64())?;
    m.add("DEFAULT_MAX_RETRIES", defaults::MAX_RETRIES)?;
    m.add("DEFAULT_BATCH_SIZE", defaults::PREPARE_BATCH_MAX)?;
    m.add("DEFAULT_MAX_CONCURRENCY", defaults::PREPARE_MAX_CONCURRENCY)?;

    m.add("DEMO_API_KEY", partly_mock::DEMO_API_KEY)?;
    m.add("DEMO_INTEGRATION_ID", partly_mock::DEMO_INTEGRATION_ID)?;
    m.add("DEMO_CLIENT_ID", partly_mock::DEMO_CLIENT_ID)?;
    m.add("DEMO_CLIENT_SECRET", partly_mock::DEMO_CLIENT_SECRET)?;
    m.add("DEMO_SITE_ID", partly_mock::DEMO_SITE_ID)?;
    m.add("DEMO_JOB_ID", partly_mock::DEMO_JOB_ID)?;
    m.add("DEMO_JOB_EXTERNAL_ID", partly_mock::DEMO_JOB_EXTERNAL_ID)?;
    m.add("DEMO_INTEGRATION_NAME", partly_mock::DEMO_INTEGRATION_NAME)?;
    m.add("ERROR_ACCESS_DENIED", partly::oauth::wire::ERROR_ACCESS_DENIED)?;
    Ok(())
}
