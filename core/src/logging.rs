//! The SDK's log records and the levels the bindings filter them at, decided once.
//!
//! The core emits `tracing` records with target `partly` (bridged to the `log` crate when no
//! `tracing` subscriber is installed): one `DEBUG` line per attempt, `INFO` per retry, and
//! `WARN` for a call that finally fails after retries or could not reach the server; a single
//! error answer (a 404 for "does this job exist?") stays at `DEBUG`. Every error in a record has
//! gone through the one scrubbing step first (`scrub.rs`), so no secret is ever logged. Python
//! hands them to its `logging` logger `partly`; Node to the `logger` option at its `logLevel`.

use crate::error::Error;

/// The variable that sets the level where a binding takes one (Node's `logLevel`).
pub const ENV_LOG: &str = "PARTLY_LOG";

/// The target of every record.
pub const TARGET: &str = "partly";

/// A level to filter the SDK's records at: records at this level and more severe pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only (the SDK emits none today: a failed call is `Warn`).
    Error,
    /// Calls that finally failed.
    Warn,
    /// Retries, and the above.
    Info,
    /// Every attempt, and the above.
    Debug,
}

impl LogLevel {
    /// Every level, by name, most quiet first.
    pub const ALL: [LogLevel; 5] = [LogLevel::Off, LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug];

    /// The level's name (`"warn"`), as `logLevel` and `PARTLY_LOG` take it.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }

    /// Parses a level's name (case-insensitive; `warning` and `trace` are accepted too).
    /// `source` names where it came from for the error (`log_level`, `PARTLY_LOG`).
    pub fn parse(text: &str, source: &str) -> Result<LogLevel, Error> {
        let t = text.trim().to_ascii_lowercase();
        let level = match t.as_str() {
            "off" | "none" | "silent" => LogLevel::Off,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" | "trace" => LogLevel::Debug,
            _ => {
                let names: Vec<&str> = LogLevel::ALL.iter().map(|l| l.name()).collect();
                return Err(Error::validation(format!(
                    "{source} {text:?} is not a log level; give one of {}",
                    names.join(", ")
                )));
            }
        };
        Ok(level)
    }

    /// The level `PARTLY_LOG` asks for: `None` when unset or blank, an error naming the variable
    /// and the allowed levels when it is not one. Node reads it when a client is made (a bad value
    /// fails `new Client()` like a bad `logLevel`); Python at `import partly`, where nothing can
    /// fail, so it shows the error's message as one warning and goes on without it.
    pub fn from_env(value: Option<&str>) -> Result<Option<LogLevel>, Error> {
        value.map(str::trim).filter(|v| !v.is_empty()).map(|v| LogLevel::parse(v, ENV_LOG)).transpose()
    }

    /// The level in force: the one given (`log_level`), else the environment's `PARTLY_LOG`, else
    /// `Warn` when a logger was given, else `Off` (silent by default).
    pub fn effective(given: Option<&str>, env: Option<&str>, has_logger: bool) -> Result<LogLevel, Error> {
        if let Some(g) = given {
            return LogLevel::parse(g, "log_level");
        }
        if let Some(level) = LogLevel::from_env(env)? {
            return Ok(level);
        }
        Ok(if has_logger { LogLevel::Warn } else { LogLevel::Off })
    }

    /// Whether a record at level `record` passes this filter.
    pub fn allows(self, record: LogLevel) -> bool {
        self != LogLevel::Off && record != LogLevel::Off && record <= self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(LogLevel::parse("WARNING", "log_level").unwrap(), LogLevel::Warn);
        let e = LogLevel::parse("loud", "log_level").unwrap_err();
        assert!(e.to_string().contains("off, error, warn, info, debug"), "{e}");
        assert_eq!(LogLevel::effective(None, None, false).unwrap(), LogLevel::Off);
        assert_eq!(LogLevel::effective(None, None, true).unwrap(), LogLevel::Warn);
        assert_eq!(LogLevel::effective(None, Some("debug"), false).unwrap(), LogLevel::Debug);
        assert_eq!(LogLevel::effective(Some("info"), Some("debug"), true).unwrap(), LogLevel::Info);
        assert!(LogLevel::Info.allows(LogLevel::Warn));
        assert!(!LogLevel::Info.allows(LogLevel::Debug));
        assert!(!LogLevel::Off.allows(LogLevel::Error));
        assert_eq!(LogLevel::from_env(None).unwrap(), None);
        assert_eq!(LogLevel::from_env(Some("  ")).unwrap(), None);
        assert_eq!(LogLevel::from_env(Some("Info")).unwrap(), Some(LogLevel::Info));
        let e = LogLevel::from_env(Some("loud")).unwrap_err().to_string();
        assert!(e.contains("PARTLY_LOG \"loud\"") && e.contains("off, error, warn, info, debug"), "{e}");
    }
}
