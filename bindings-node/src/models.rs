//! Conversion in and out. Inputs arrive as JavaScript numbers, strings and JSON text (the
//! JavaScript layer serialises data objects with `JSON.stringify`, so they follow JSON's rules:
//! `undefined` members are left out, `toJSON` is honoured); the core's own parsers validate them
//! (`JobIdentity::from_parts`, `JobData::from_json`, `VehicleIdentifier::from_json`, ...).
//! Results leave as JSON values with the wire's snake_case names and every field the server sent.

use std::sync::OnceLock;

use napi::bindgen_prelude::{Null, Object, ToNapiValue, TypeName, ValueType};
use napi::{sys, Env};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;

use partly::shapes::{self, FieldValue, Shape};
use partly::{CallOptions, Error, PrepareBatch, PrepareProgress, PrepareReport, VehicleIdentifier};

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

/// A record of `tier1.prepareAll` as a JavaScript object: the fields the core gives in its
/// shape's order (`PrepareProgress::fields()`, ...; `partly::shapes`), named as Node names them
/// (`shapes::node_field`: camelCase), unknown values `null`. Errors cross as [`ErrorInfo`]
/// objects, which the JavaScript layer makes `PartlyError`s; in a report, each failure's `error`
/// is an index into the report's `errors` (one per failed request, shared by its identifiers).
#[derive(Debug)]
pub enum Record {
    /// For `onProgress`.
    Progress(PrepareProgress),
    /// For `onBatch`.
    Batch(PrepareBatch),
    /// What `prepareAll` resolves with (plus `errors`).
    Report(PrepareReport),
}

impl TypeName for Record {
    fn type_name() -> &'static str {
        "Record"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Record {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(env);
        let obj = match &val {
            Record::Progress(p) => object(&env, &shapes::PREPARE_PROGRESS, &p.fields(), None)?,
            Record::Batch(b) => object(&env, &shapes::PREPARE_BATCH, &b.fields(), None)?,
            Record::Report(r) => {
                let mut errors = Errors::default();
                let mut obj = object(&env, &shapes::PREPARE_REPORT, &r.fields(), Some(&mut errors))?;
                obj.set("errors", errors.list)?;
                obj
            }
        };
        // SAFETY: `obj` was made in this `env`, which napi hands us for this call.
        unsafe { Object::to_napi_value(env.raw(), obj) }
    }
}

/// The distinct errors of a report's failures (consecutive failures of one request share one).
#[derive(Default)]
struct Errors {
    list: Vec<ErrorInfo>,
    last: Option<*const Error>,
}

impl Errors {
    fn index(&mut self, e: &std::sync::Arc<Error>) -> f64 {
        let ptr = std::sync::Arc::as_ptr(e);
        if self.last != Some(ptr) {
            self.list.push(ErrorInfo::from(&**e));
            self.last = Some(ptr);
        }
        (self.list.len() - 1) as f64
    }
}

/// The Node names of each registered shape's fields, computed once.
fn node_names(shape: &'static Shape) -> &'static [String] {
    static NAMES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let all = NAMES.get_or_init(|| {
        shapes::ALL.iter().map(|s| s.fields.iter().map(|f| shapes::node_field(s, f.name)).collect()).collect()
    });
    shapes::ALL.iter().position(|s| s.name == shape.name).map_or(&[], |i| &all[i])
}

/// One record's fields as an object; `errors` (a report's) gathers the failures' errors.
fn object<'env>(
    env: &'env Env,
    shape: &'static Shape,
    fields: &[(&'static str, FieldValue<'_>)],
    mut errors: Option<&mut Errors>,
) -> napi::Result<Object<'env>> {
    let mut obj = Object::new(env)?;
    let names = node_names(shape);
    for (i, (name, value)) in fields.iter().enumerate() {
        let key = names.get(i).map_or(*name, String::as_str);
        match *value {
            FieldValue::Null => obj.set(key, Null)?,
            FieldValue::Bool(b) => obj.set(key, b)?,
            FieldValue::Count(n) => obj.set(key, n as f64)?,
            FieldValue::Number(x) => obj.set(key, x)?,
            FieldValue::Text(t) => obj.set(key, t)?,
            FieldValue::Indices(ix) => obj.set(key, ix.iter().map(|i| *i as f64).collect::<Vec<f64>>())?,
            FieldValue::Identifier(id) => obj.set(key, id.to_json())?,
            FieldValue::Identifiers(ids) => {
                obj.set(key, ids.iter().map(VehicleIdentifier::to_json).collect::<Vec<_>>())?
            }
            FieldValue::Error(e) => match errors.as_deref_mut() {
                Some(errors) => obj.set(key, errors.index(e))?,
                None => obj.set(key, ErrorInfo::from(&**e))?,
            },
            FieldValue::Failures(failures) => {
                let mut list = Vec::with_capacity(failures.len());
                for f in failures {
                    list.push(object(env, &shapes::PREPARE_FAILURE, &f.fields(), errors.as_deref_mut())?);
                }
                obj.set(key, list)?
            }
        }
    }
    Ok(obj)
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
