//! Bulk preload: [`Tier1::prepare_all`](crate::api::Tier1::prepare_all) and
//! [`prepare_stream`](crate::api::Tier1::prepare_stream).
//!
//! - `run.rs`: the driver. It pulls identifiers from the input as capacity frees up (never all
//!   at once), sends batches, and keeps counts and failures only: memory is bounded by
//!   `max_concurrency × batch_size` plus one entry per failed identifier.
//! - `limiter.rs`: how many requests are in flight and how fast they start: an AIMD limit on
//!   concurrency (with a latency gradient) and an adaptive rate after the AWS SDKs' adaptive
//!   retry mode (CUBIC growth, multiplicative back-off on 429/503), within `max_concurrency`
//!   and `max_rate`.
//! - `checkpoint.rs`: the checkpoint file of accepted index ranges (written to a temporary
//!   file, fsynced, renamed), so a run can be resumed.

mod checkpoint;
mod feed;
mod limiter;
pub(crate) mod run;

pub use feed::{demand_feed, FeedStream, Feeder};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::CallOptions;
use crate::config::defaults;
use crate::error::Error;
use crate::models::VehicleIdentifier;
use crate::shapes::{self, FieldValue};

/// A record's fields in its shape's order: `(shape field name, value)`.
pub type Fields<'a, const N: usize> = [(&'static str, FieldValue<'a>); N];

const fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An input item that could not be made into a [`VehicleIdentifier`] (a binding's conversion
/// failed: `None` in a Python list, a number in a JS array). [`prepare_stream`] reports it as a
/// failure with its index and goes on.
///
/// [`prepare_stream`]: crate::api::Tier1::prepare_stream
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// What was given, as the caller's language prints it (cut to 200 characters).
    pub given: String,
    /// Why it is not an identifier, and what to give instead.
    pub message: String,
}

impl InputError {
    /// An input error; `given` is cut to 200 characters.
    pub fn new(given: impl Into<String>, message: impl Into<String>) -> Self {
        let given = crate::error::truncate_text(&given.into(), defaults::ERROR_FIELD_MAX);
        InputError { given, message: message.into() }
    }
}

/// One item of a bulk input: an identifier, or what stood in its place and why it is not one.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkItem {
    /// An identifier to send (still checked: an empty chassis number is reported, not sent).
    Identifier(VehicleIdentifier),
    /// Not an identifier: reported as a failure at its index.
    Invalid(InputError),
}

impl From<VehicleIdentifier> for BulkItem {
    fn from(id: VehicleIdentifier) -> Self {
        BulkItem::Identifier(id)
    }
}

impl From<Result<VehicleIdentifier, InputError>> for BulkItem {
    fn from(r: Result<VehicleIdentifier, InputError>) -> Self {
        match r {
            Ok(id) => BulkItem::Identifier(id),
            Err(e) => BulkItem::Invalid(e),
        }
    }
}

impl From<&str> for BulkItem {
    fn from(vin: &str) -> Self {
        BulkItem::Identifier(VehicleIdentifier::chassis_number(vin))
    }
}

impl From<String> for BulkItem {
    fn from(vin: String) -> Self {
        BulkItem::Identifier(VehicleIdentifier::chassis_number(vin))
    }
}

/// Progress of a bulk preload, reported after every request settles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrepareProgress {
    /// Identifiers in the whole input, when known in advance (a list); `None` for a stream.
    pub total: Option<usize>,
    /// Identifiers read from the input so far.
    pub read: usize,
    /// Identifiers settled: accepted + failed + skipped.
    pub done: usize,
    /// Identifiers accepted by the server.
    pub accepted: usize,
    /// Identifiers that failed (bad input, a failed request, the deadline).
    pub failed: usize,
    /// Identifiers skipped because the checkpoint records them as accepted by an earlier run.
    pub skipped: usize,
    /// Requests in flight now.
    pub in_flight: usize,
    /// The limiter's current concurrency limit.
    pub concurrency: usize,
    /// The limiter's current request rate (requests/s), once it has one (after a 429/503, or
    /// `max_rate`); `None` while unconstrained.
    pub rate: Option<f64>,
    /// Answers 429/503 seen so far.
    pub throttled: usize,
    /// Requests sent so far (attempts, retries and requeues included).
    pub requests: usize,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl PrepareProgress {
    /// The fields of [`shapes::PREPARE_PROGRESS`] in its order, as every binding shows them
    /// (`elapsed` as `elapsed_ms`; `total` and `rate` null when unknown). Allocates nothing.
    pub fn fields(&self) -> Fields<'static, { shapes::PREPARE_PROGRESS.fields.len() }> {
        use FieldValue::{Count, Number};
        [
            ("total", FieldValue::or_null(self.total, Count)),
            ("read", Count(self.read)),
            ("done", Count(self.done)),
            ("accepted", Count(self.accepted)),
            ("failed", Count(self.failed)),
            ("skipped", Count(self.skipped)),
            ("in_flight", Count(self.in_flight)),
            ("concurrency", Count(self.concurrency)),
            ("rate", FieldValue::or_null(self.rate, Number)),
            ("throttled", Count(self.throttled)),
            ("requests", Count(self.requests)),
            ("elapsed_ms", Number(ms(self.elapsed))),
        ]
    }
}

/// One settled request of a bulk preload, given to [`PrepareAllOptions::on_batch`].
#[derive(Clone, Debug)]
pub struct PrepareBatch {
    /// The input index of each identifier, in input order.
    pub indices: Vec<usize>,
    /// The identifiers the request carried.
    pub identifiers: Vec<VehicleIdentifier>,
    /// `None` when the server accepted them; the request's error otherwise.
    pub error: Option<Arc<Error>>,
    /// Times it was answered 429 and queued again.
    pub throttled: u32,
}

impl PrepareBatch {
    /// The fields of [`shapes::PREPARE_BATCH`] in its order.
    pub fn fields(&self) -> Fields<'_, { shapes::PREPARE_BATCH.fields.len() }> {
        [
            ("indices", FieldValue::Indices(&self.indices)),
            ("identifiers", FieldValue::Identifiers(&self.identifiers)),
            ("error", FieldValue::or_null(self.error.as_ref(), FieldValue::Error)),
            ("throttled", FieldValue::Count(self.throttled as usize)),
        ]
    }
}

/// An identifier that was not accepted: its input index, what was given, and why.
#[derive(Clone, Debug)]
pub struct PrepareFailure {
    /// Index in the input (0-based, counting every item read, bad ones included).
    pub index: usize,
    /// The identifier, when the item was one.
    pub identifier: Option<VehicleIdentifier>,
    /// What was given when the item was not an identifier (as the caller's language prints it).
    pub given: Option<String>,
    /// Why: the request's error (shared by the identifiers of one request), a validation error
    /// for a bad item, or a timeout saying the run's deadline passed.
    pub error: Arc<Error>,
}

impl PrepareFailure {
    /// The fields of [`shapes::PREPARE_FAILURE`] in its order.
    pub fn fields(&self) -> Fields<'_, { shapes::PREPARE_FAILURE.fields.len() }> {
        [
            ("index", FieldValue::Count(self.index)),
            ("identifier", FieldValue::or_null(self.identifier.as_ref(), FieldValue::Identifier)),
            ("given", FieldValue::or_null(self.given.as_deref(), FieldValue::Text)),
            ("error", FieldValue::Error(&self.error)),
        ]
    }
}

/// The outcome of a bulk preload: totals for every identifier read, and each failed one.
/// Accepted identifiers are counted, not kept: the report's memory grows only with failures.
#[derive(Debug, Default)]
pub struct PrepareReport {
    /// Identifiers read from the input: `accepted + failed + skipped`.
    pub total: usize,
    /// Identifiers accepted.
    pub accepted: usize,
    /// Identifiers not accepted (each is in [`failures`](Self::failures)).
    pub failed: usize,
    /// Identifiers skipped: the checkpoint records them as accepted by an earlier run.
    pub skipped: usize,
    /// Identifiers sent again after an attempt whose outcome is unknown (a timeout, a dropped
    /// connection, a run killed after sending): the server may have them twice (harmless for
    /// `tier1.prepare`).
    pub duplicates_possible: usize,
    /// Answers 429/503 seen (each waited out; a 429 does not spend a batch's retries).
    pub throttled: usize,
    /// Requests sent (attempts, retries and requeues included).
    pub requests: usize,
    /// How long the run took.
    pub elapsed: Duration,
    /// Whether the run's `deadline` ended it (what was not accepted by then failed).
    pub deadline_reached: bool,
    /// The limiter's concurrency limit at the end.
    pub concurrency: usize,
    /// Every identifier not accepted, in the order they settled.
    pub failures: Vec<PrepareFailure>,
}

impl PrepareReport {
    /// Whether every identifier read was accepted (now or, with a checkpoint, earlier).
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }

    /// The identifiers not accepted, with their index and error, so a caller can retry exactly
    /// those.
    pub fn failures(&self) -> &[PrepareFailure] {
        &self.failures
    }

    /// The fields of [`shapes::PREPARE_REPORT`] in its order (`ok` is [`is_success`](Self::is_success),
    /// `elapsed` is `elapsed_ms`).
    pub fn fields(&self) -> Fields<'_, { shapes::PREPARE_REPORT.fields.len() }> {
        use FieldValue::{Bool, Count};
        [
            ("ok", Bool(self.is_success())),
            ("total", Count(self.total)),
            ("accepted", Count(self.accepted)),
            ("failed", Count(self.failed)),
            ("skipped", Count(self.skipped)),
            ("duplicates_possible", Count(self.duplicates_possible)),
            ("throttled", Count(self.throttled)),
            ("requests", Count(self.requests)),
            ("elapsed_ms", FieldValue::Number(ms(self.elapsed))),
            ("deadline_reached", Bool(self.deadline_reached)),
            ("concurrency", Count(self.concurrency)),
            ("failures", FieldValue::Failures(&self.failures)),
        ]
    }
}

/// The callback given progress.
pub type ProgressCallback = Arc<dyn Fn(PrepareProgress) + Send + Sync>;
/// The callback given every settled request.
pub type BatchCallback = Arc<dyn Fn(&PrepareBatch) + Send + Sync>;

/// How option names are spelled in validation messages: as the caller's language writes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptionNaming {
    /// `batch_size`, `max_concurrency` (Rust, Python).
    #[default]
    SnakeCase,
    /// `batchSize`, `maxConcurrency` (Node).
    CamelCase,
}

impl OptionNaming {
    /// `name` (snake_case) in this spelling.
    pub fn name(self, name: &str) -> String {
        match self {
            OptionNaming::SnakeCase => name.to_string(),
            OptionNaming::CamelCase => crate::naming::camel(name),
        }
    }
}

/// Options of a bulk preload. `Default` gives the documented defaults; setters chain.
#[derive(Clone)]
pub struct PrepareAllOptions {
    /// Identifiers per request, 1 to 100 (default 100).
    pub batch_size: usize,
    /// The most requests in flight at once, at least 1 (default 32). The limiter starts
    /// lower and adapts within it.
    pub max_concurrency: usize,
    /// The most requests per second, when set (a positive number).
    pub max_rate: Option<f64>,
    /// The whole run's time limit: when it passes, requests in flight are abandoned and every
    /// identifier not accepted (the rest of the input too) is reported failed. Default: none.
    pub deadline: Option<Duration>,
    /// A checkpoint file: accepted ranges are recorded there, and a run over the same input
    /// with the same file sends only what was not yet accepted.
    pub checkpoint: Option<PathBuf>,
    /// `false`: exactly `max_concurrency` in flight from the start, no rate adaptation (429s
    /// are still waited out and requeued). Default `true`.
    pub adaptive: bool,
    /// Timeout and retries of each request.
    pub call: CallOptions,
    /// Called after every request settles.
    pub on_progress: Option<ProgressCallback>,
    /// Called after every request settles, with its identifiers and error.
    pub on_batch: Option<BatchCallback>,
    /// How validation messages spell option names (the bindings set their language's).
    pub naming: OptionNaming,
}

impl Default for PrepareAllOptions {
    fn default() -> Self {
        PrepareAllOptions {
            batch_size: defaults::PREPARE_BATCH_MAX,
            max_concurrency: defaults::PREPARE_MAX_CONCURRENCY,
            max_rate: None,
            deadline: None,
            checkpoint: None,
            adaptive: true,
            call: CallOptions::default(),
            on_progress: None,
            on_batch: None,
            naming: OptionNaming::SnakeCase,
        }
    }
}

impl PrepareAllOptions {
    /// Identifiers per request (1 to 100).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// The most requests in flight.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }
    /// The most requests per second.
    pub fn max_rate(mut self, rps: f64) -> Self {
        self.max_rate = Some(rps);
        self
    }
    /// The run's time limit.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// The checkpoint file.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }
    /// Adaptive concurrency on (default) or off.
    pub fn adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }
    /// Timeout and retries of each request.
    pub fn call(mut self, call: CallOptions) -> Self {
        self.call = call;
        self
    }
    /// The progress callback.
    pub fn on_progress(mut self, f: impl Fn(PrepareProgress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }
    /// The per-request callback.
    pub fn on_batch(mut self, f: impl Fn(&PrepareBatch) + Send + Sync + 'static) -> Self {
        self.on_batch = Some(Arc::new(f));
        self
    }

    /// Checks the options, naming the bad one.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let max = defaults::PREPARE_BATCH_MAX;
        let n = |name: &str| self.naming.name(name);
        if self.batch_size == 0 || self.batch_size > max {
            return Err(Error::validation(format!(
                "{} must be 1 to {max} (the API's limit per request); got {}",
                n("batch_size"),
                self.batch_size
            )));
        }
        if self.max_concurrency == 0 {
            return Err(Error::validation(format!("{} must be at least 1", n("max_concurrency"))));
        }
        if let Some(r) = self.max_rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(Error::validation(format!(
                    "{} must be a positive number of requests per second; got {r}",
                    n("max_rate")
                )));
            }
        }
        if let Some(d) = self.deadline {
            if d.is_zero() {
                return Err(Error::validation(format!("{} must be longer than 0", n("deadline"))));
            }
        }
        if let Some(p) = &self.checkpoint {
            if p.as_os_str().is_empty() {
                return Err(Error::validation("checkpoint is an empty path; give a file path, or none"));
            }
        }
        if let Some(n) = self.call.max_retries {
            crate::config::validate_retries(n)?;
        }
        if let Some(t) = self.call.timeout {
            crate::config::validate_timeout(t, "timeout")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for PrepareAllOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrepareAllOptions")
            .field("batch_size", &self.batch_size)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_rate", &self.max_rate)
            .field("deadline", &self.deadline)
            .field("checkpoint", &self.checkpoint)
            .field("adaptive", &self.adaptive)
            .field("call", &self.call)
            .field("on_progress", &self.on_progress.is_some())
            .field("on_batch", &self.on_batch.is_some())
            .field("naming", &self.naming)
            .finish()
    }
}
