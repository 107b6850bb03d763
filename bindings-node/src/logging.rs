//! The core's log records into the `logger` option of a `Client` (mirrors the Python package's
//! bridge into `logging`, `bindings-python/src/lib.rs` and `runtime::route_log`).
//!
//! The core emits `tracing` records with target `partly`, which reach the `log` crate (no
//! `tracing` subscriber is installed). One process-wide [`log::Log`] takes every record of a
//! call whose client logs: the record is kept in the call's task (a task-local buffer set by
//! `runtime::spawn_call` when the client's level is not `off`) and travels with the call's
//! outcome to the JavaScript thread, where the JavaScript layer hands each to
//! `logger.debug/info/warn/error(message)` before settling the call. Records of other clients,
//! and of calls made with logging off, cost one task-local lookup. Which records exist, their
//! levels and their scrubbing are the core's (`partly::logging`); this file only carries them.

use std::sync::{Arc, Mutex, Once};

use partly::logging::LogLevel;

/// One record: the logger method (`debug`, `info`, `warn`, `error`) and the message.
pub(crate) type Line = (String, String);

/// The records of one call, and the level its client logs at.
#[derive(Clone)]
pub(crate) struct CallLog {
    level: LogLevel,
    lines: Arc<Mutex<Vec<Line>>>,
}

impl CallLog {
    pub(crate) fn new(level: LogLevel) -> Self {
        CallLog { level, lines: Arc::default() }
    }

    /// The records kept so far (the call has ended: no more come).
    pub(crate) fn take(&self) -> Vec<Line> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

tokio::task_local! {
    /// The log of the call running in this task, when its client logs.
    pub(crate) static CALL_LOG: CallLog;
}

fn level_of(level: log::Level) -> LogLevel {
    match level {
        log::Level::Error => LogLevel::Error,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Info => LogLevel::Info,
        log::Level::Debug | log::Level::Trace => LogLevel::Debug,
    }
}

struct Router;

impl log::Log for Router {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with(partly::logging::TARGET)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = level_of(record.level());
        let _ = CALL_LOG.try_with(|log| {
            if log.level.allows(level) {
                let line = (level.name().to_string(), record.args().to_string());
                log.lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
    }

    fn flush(&self) {}
}

/// Installs the router once per process (the first client that logs). When another `log`
/// logger is installed already (not ours: an embedder's), records of calls do not reach us.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_boxed_logger(Box::new(Router)).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}
