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
    /// Identifiers in the whole run.
    pub total: u32,
    /// Identifiers whose request has settled.
    pub done: u32,
    /// Identifiers accepted.
    pub accepted: u32,
    /// Identifiers whose request failed.
    pub failed: u32,
    /// Requests settled.
    pub batches_done: u32,
    /// Requests in the whole run.
    pub batches_total: u32,
}

fn n32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<PrepareProgress> for PrepareProgressInfo {
    fn from(p: PrepareProgress) -> Self {
        PrepareProgressInfo {
            total: n32(p.total),
            done: n32(p.done),
            accepted: n32(p.accepted),
            failed: n32(p.failed),
            batches_done: n32(p.batches_done),
            batches_total: n32(p.batches_total),
        }
    }
}

/// One request of a `tier1.prepareAll` run.
#[napi(object)]
#[derive(Debug)]
pub struct PrepareBatchInfo {
    /// Index of the batch's first identifier in the input.
    pub offset: u32,
    /// The identifiers it carried, as sent.
    pub identifiers: Vec<Value>,
    /// The request's error, when it failed.
    pub error: Option<ErrorInfo>,
}

/// The outcome of a `tier1.prepareAll` run.
#[napi(object)]
#[derive(Debug)]
pub struct PrepareReportInfo {
    /// Identifiers in the run.
    pub total: u32,
    /// Identifiers accepted.
    pub accepted: u32,
    /// Identifiers whose request failed.
    pub failed: u32,
    /// Every request, in input order.
    pub batches: Vec<PrepareBatchInfo>,
}

impl From<PrepareReport> for PrepareReportInfo {
    fn from(r: PrepareReport) -> Self {
        PrepareReportInfo {
            total: n32(r.total),
            accepted: n32(r.accepted),
            failed: n32(r.failed),
            batches: r
                .batches
                .into_iter()
                .map(|b| PrepareBatchInfo {
                    offset: n32(b.offset),
                    identifiers: b.identifiers.iter().map(VehicleIdentifier::to_json).collect(),
                    error: b.error.as_ref().map(ErrorInfo::from),
                })
                .collect(),
        }
    }
}
