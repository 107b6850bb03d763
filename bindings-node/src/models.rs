//! Conversion in and out. Inputs arrive as JavaScript numbers, strings and JSON text (the
//! JavaScript layer serialises data objects with `JSON.stringify`, so they follow JSON's rules:
//! `undefined` members are left out, `toJSON` is honoured); the core's own parsers validate them
//! (`JobIdentity::from_parts`, `JobData::from_json`, `VehicleIdentifier::from_json`, ...).
//! Results leave as JSON values with the wire's snake_case names and every field the server sent.

use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;

use partly::{CallOptions, Error, PrepareProgress, PrepareReport, VehicleIdentifier};

use crate::error::ErrorInfo;

/// Per-call options as the JavaScript layer passes them (`{ timeoutMs, maxRetries, idempotent }`).
#[napi(object)]
#[derive(Debug, Default)]
pub struct CallOptionsInput {
    /// Attempt timeout in milliseconds.
    pub timeout_ms: Option<f64>,
    /// Retries after the first attempt.
    pub max_retries: Option<f64>,
    /// For `call()` of a method the SDK does not know: safe to resend.
    pub idempotent: Option<bool>,
    /// For `call()` of a method the SDK does not know: `false` sends it without credentials.
    pub auth: Option<bool>,
    /// `client.withResponseInfo`: resolve with `{ value, info }`.
    pub with_info: Option<bool>,
}

/// Whether the options ask for the response info (`client.withResponseInfo`).
pub(crate) fn wants_info(input: &Option<CallOptionsInput>) -> bool {
    input.as_ref().and_then(|o| o.with_info) == Some(true)
}

/// A result with its `partly::ResponseInfo` as JSON text: `{ value, info }` (the info's fields
/// named in camelCase, as Node's error fields are) when `info`, else the value alone.
pub(crate) fn result_text<T: Serialize>(r: partly::Response<T>, info: bool) -> Result<String, Error> {
    if !info {
        return to_json_text(&r.value);
    }
    let fields = serde_json::to_value(&r.info)
        .map_err(|e| Error::validation(format!("could not convert the response info: {e}")))?;
    let camel: serde_json::Map<String, Value> = match fields {
        Value::Object(map) => map.into_iter().map(|(k, v)| (partly::naming::camel(&k), v)).collect(),
        _ => serde_json::Map::new(),
    };
    to_json_text(&serde_json::json!({ "value": r.value, "info": camel }))
}

/// The core's `CallOptions` from the JavaScript ones.
pub(crate) fn call_options(input: Option<CallOptionsInput>) -> Result<CallOptions, Error> {
    let input = input.unwrap_or_default();
    Ok(CallOptions {
        timeout: input.timeout_ms.map(|ms| partly::config::duration_from_millis(ms, "timeoutMs")).transpose()?,
        max_retries: input.max_retries.map(|n| retries(n, "maxRetries")).transpose()?,
        idempotent: input.idempotent,
        auth: input.auth,
    })
}

/// A retry count from a JavaScript number: a whole number from 0.
pub(crate) fn retries(value: f64, name: &str) -> Result<u32, Error> {
    if value.is_finite() && value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(Error::validation(format!("{name} must be a whole number from 0 (0 disables retries), got {value}")))
    }
}

/// A count (batch size, concurrency) from a JavaScript number: a whole number from 0; the core
/// checks its range.
pub(crate) fn count(value: f64, name: &str) -> Result<usize, Error> {
    if value.is_finite() && value.fract() == 0.0 && value >= 0.0 && value <= u32::MAX as f64 {
        Ok(value as usize)
    } else {
        Err(Error::validation(format!("{name} must be a whole number, got {value}")))
    }
}

/// Parses JSON text the JavaScript layer produced (its `LosslessNumber`s marked, see
/// `partly::numbers::unmark`); absent means JSON `null`.
pub(crate) fn json(text: Option<String>, name: &str) -> Result<Value, Error> {
    match text {
        None => Ok(Value::Null),
        Some(t) => partly::numbers::unmark(&t).map_err(|e| Error::validation(format!("{name} is not valid JSON: {e}"))),
    }
}

/// Vehicle identifiers from a JSON array: strings are chassis numbers, objects are used as given.
pub(crate) fn identifiers(value: Value) -> Result<Vec<VehicleIdentifier>, Error> {
    VehicleIdentifier::list_from_json(value)
}

/// Any result model as JSON text (lossless: the models keep unknown fields, and numbers no
/// double holds are marked for the JavaScript layer, `partly::numbers::mark_inexact`). It
/// parses the text with `JSON.parse`, which builds the object far faster than N-API calls
/// property by property.
pub(crate) fn to_json_text<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map(partly::numbers::mark_inexact)
        .map_err(|e| Error::validation(format!("could not convert the result to JSON: {e}")))
}

/// Progress of `tier1.prepareAll`, passed to `onProgress`.
#[napi(object)]
#[derive(Clone, Copy, Debug)]
pub struct PrepareProgressInfo {
    /// Identifiers in the whole input, when known (an array); absent for a stream.
    pub total: Option<f64>,
    /// Identifiers read from the input so far.
    pub read: f64,
    /// Identifiers settled: accepted + failed + skipped.
    pub done: f64,
    /// Identifiers accepted.
    pub accepted: f64,
    /// Identifiers that failed.
    pub failed: f64,
    /// Identifiers skipped (accepted by an earlier run, per the checkpoint).
    pub skipped: f64,
    /// Requests in flight.
    pub in_flight: f64,
    /// The limiter's concurrency limit.
    pub concurrency: f64,
    /// The limiter's request rate (requests/s), once it has one.
    pub rate: Option<f64>,
    /// Answers 429/503 seen.
    pub throttled: f64,
    /// Requests sent.
    pub requests: f64,
    /// Milliseconds since the start.
    pub elapsed_ms: f64,
}

impl From<PrepareProgress> for PrepareProgressInfo {
    fn from(p: PrepareProgress) -> Self {
        PrepareProgressInfo {
            total: p.total.map(|t| t as f64),
            read: p.read as f64,
            done: p.done as f64,
            accepted: p.accepted as f64,
            failed: p.failed as f64,
            skipped: p.skipped as f64,
            in_flight: p.in_flight as f64,
            concurrency: p.concurrency as f64,
            rate: p.rate,
            throttled: p.throttled as f64,
            requests: p.requests as f64,
            elapsed_ms: p.elapsed.as_secs_f64() * 1000.0,
        }
    }
}

/// One settled request of a `tier1.prepareAll` run, passed to `onBatch`.
#[napi(object)]
#[derive(Debug)]
pub struct PrepareBatchInfo {
    /// The input index of each identifier.
    pub indices: Vec<f64>,
    /// The identifiers it carried, as sent.
    pub identifiers: Vec<Value>,
    /// The request's error, when it failed.
    pub error: Option<ErrorInfo>,
    /// Times it was answered 429 and queued again.
    pub throttled: u32,
}

impl From<&partly::PrepareBatch> for PrepareBatchInfo {
    fn from(b: &partly::PrepareBatch) -> Self {
        PrepareBatchInfo {
            indices: b.indices.iter().map(|i| *i as f64).collect(),
            identifiers: b.identifiers.iter().map(VehicleIdentifier::to_json).collect(),
            error: b.error.as_deref().map(ErrorInfo::from),
            throttled: b.throttled,
        }
    }
}

/// An identifier that was not accepted.
#[napi(object)]
#[derive(Debug)]
pub struct PrepareFailureInfo {
    /// Its index in the input.
    pub index: f64,
    /// The identifier, when the item was one.
    pub identifier: Option<Value>,
    /// What was given, when the item was not an identifier.
    pub given: Option<String>,
    /// Index into the report's `errors` (the identifiers of one failed request share one).
    pub error: u32,
}

/// The outcome of a `tier1.prepareAll` run.
#[napi(object)]
#[derive(Debug)]
pub struct PrepareReportInfo {
    /// Whether every identifier read was accepted (now or earlier, per the checkpoint).
    pub ok: bool,
    /// Identifiers read from the input.
    pub total: f64,
    /// Identifiers accepted.
    pub accepted: f64,
    /// Identifiers not accepted.
    pub failed: f64,
    /// Identifiers skipped (per the checkpoint).
    pub skipped: f64,
    /// Identifiers sent again after an attempt with an unknown outcome.
    pub duplicates_possible: f64,
    /// Answers 429/503 seen.
    pub throttled: f64,
    /// Requests sent.
    pub requests: f64,
    /// Milliseconds the run took.
    pub elapsed_ms: f64,
    /// Whether the deadline ended the run.
    pub deadline_reached: bool,
    /// The limiter's concurrency limit at the end.
    pub concurrency: f64,
    /// Every identifier not accepted.
    pub failures: Vec<PrepareFailureInfo>,
    /// The distinct errors of `failures`.
    pub errors: Vec<ErrorInfo>,
}

impl From<PrepareReport> for PrepareReportInfo {
    fn from(r: PrepareReport) -> Self {
        let mut errors: Vec<ErrorInfo> = Vec::new();
        let mut last: Option<*const Error> = None;
        let failures = r
            .failures()
            .iter()
            .map(|f| {
                let ptr = std::sync::Arc::as_ptr(&f.error);
                if last != Some(ptr) {
                    errors.push(ErrorInfo::from(&*f.error));
                    last = Some(ptr);
                }
                PrepareFailureInfo {
                    index: f.index as f64,
                    identifier: f.identifier.as_ref().map(VehicleIdentifier::to_json),
                    given: f.given.clone(),
                    error: u32::try_from(errors.len() - 1).unwrap_or(u32::MAX),
                }
            })
            .collect();
        PrepareReportInfo {
            ok: r.is_success(),
            total: r.total as f64,
            accepted: r.accepted as f64,
            failed: r.failed as f64,
            skipped: r.skipped as f64,
            duplicates_possible: r.duplicates_possible as f64,
            throttled: r.throttled as f64,
            requests: r.requests as f64,
            elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
            deadline_reached: r.deadline_reached,
            concurrency: r.concurrency as f64,
            failures,
            errors,
        }
    }
}

/// The options of `tier1.prepareAll` the core takes (checked here and there, named as a Node
/// user writes them).
#[napi(object)]
#[derive(Debug, Default)]
pub struct PrepareAllInput {
    pub batch_size: Option<f64>,
    pub max_concurrency: Option<f64>,
    pub max_rate: Option<f64>,
    pub deadline_ms: Option<f64>,
    pub checkpoint: Option<String>,
    pub adaptive: Option<bool>,
}

/// The core's options from the JavaScript ones.
pub(crate) fn prepare_all_options(
    input: PrepareAllInput,
    call: Option<CallOptionsInput>,
) -> Result<partly::PrepareAllOptions, Error> {
    let mut o = partly::PrepareAllOptions {
        call: call_options(call)?,
        naming: partly::OptionNaming::CamelCase,
        ..Default::default()
    };
    if let Some(n) = input.batch_size {
        o.batch_size = count(n, "batchSize")?;
    }
    if let Some(n) = input.max_concurrency {
        o.max_concurrency = count(n, "maxConcurrency")?;
    }
    o.max_rate = input.max_rate;
    o.deadline = input.deadline_ms.map(|ms| partly::config::duration_from_millis(ms, "deadlineMs")).transpose()?;
    o.checkpoint = input.checkpoint.map(std::path::PathBuf::from);
    if let Some(a) = input.adaptive {
        o.adaptive = a;
    }
    Ok(o)
}

/// One chunk of input from the JavaScript layer: each item's JSON text, or (when it has none:
/// `undefined`, a function, a `BigInt`) how it looks.
pub(crate) fn bulk_items(texts: Vec<Option<String>>, givens: Vec<Option<String>>) -> Vec<partly::BulkItem> {
    let mut givens = givens.into_iter();
    texts
        .into_iter()
        .map(|text| {
            let given = givens.next().flatten();
            match text {
                Some(t) => match json(Some(t.clone()), "identifier").and_then(VehicleIdentifier::from_json) {
                    Ok(id) => partly::BulkItem::Identifier(id),
                    Err(e) => partly::BulkItem::Invalid(partly::InputError::new(given.unwrap_or(t), e.message())),
                },
                None => partly::BulkItem::Invalid(partly::InputError::new(
                    given.unwrap_or_else(|| "undefined".into()),
                    "a vehicle identifier is a chassis number (string) or an object such as {\"plate\": \"ABC123\"}; got a value JSON cannot represent",
                )),
            }
        })
        .collect()
}
