//! Errors out: every failure crosses to JavaScript as a plain [`ErrorInfo`] object carrying the
//! core's stable `code` (`ErrorKind::code()`, e.g. `PARTLY_NOT_FOUND`) and its fields; the
//! JavaScript layer (`errors.js`) instantiates the `Error` subclass that code names. Nothing here
//! decides a class or builds a message: the message is the core error's `Display`, which never
//! contains a secret.

use napi_derive::napi;
use serde_json::Value;

/// The code of an `AbortError` (Node's own code for aborted operations).
pub(crate) const ABORT_CODE: &str = "ABORT_ERR";
/// The code of a failure inside the binding itself (a bug: a panic, a broken invariant).
pub(crate) const INTERNAL_CODE: &str = "PARTLY_INTERNAL";

/// One failure, as the JavaScript layer receives it.
#[napi(object)]
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    /// Stable code: `ErrorKind::code()` for SDK errors, `ABORT_ERR`, or `PARTLY_INTERNAL`.
    pub code: String,
    /// The class to instantiate (`NotFoundError`, `AbortError`, `PartlyError`).
    pub name: String,
    /// The core error's `Display` (options named as in Node: `partly::naming::for_node`).
    pub message: String,
    /// The core error's `detail()`: the server's own message, without the context `message` adds.
    pub detail: Option<String>,
    /// HTTP status, for errors answered by the server (and decode errors).
    pub status: Option<u32>,
    /// The error `type` the server sent (`not_found`).
    pub error_type: Option<String>,
    /// The raw response body (truncated by the core).
    pub body: Option<String>,
    /// The wire name of the method called.
    pub method: Option<String>,
    /// Attempts made (0 when nothing was sent).
    pub attempts: u32,
    /// The W3C trace id sent with every attempt.
    pub trace_id: Option<String>,
    /// The server's `x-request-id`.
    pub request_id: Option<String>,
    /// The server's `Retry-After`, in seconds.
    pub retry_after: Option<f64>,
    /// Whether a retry may cure this kind of failure (the core's `is_retryable`).
    pub retryable: bool,
}

impl From<&partly::Error> for ErrorInfo {
    fn from(e: &partly::Error) -> Self {
        let kind = e.kind();
        ErrorInfo {
            code: kind.code().to_string(),
            name: kind.class_name().to_string(),
            message: partly::naming::for_node(&e.to_string()),
            detail: Some(partly::naming::for_node(e.detail())),
            status: e.status().map(u32::from),
            error_type: e.code().map(str::to_string),
            body: e.body().map(str::to_string),
            method: e.method().map(str::to_string),
            attempts: e.attempts(),
            trace_id: e.trace_id().map(str::to_string),
            request_id: e.request_id().map(str::to_string),
            retry_after: e.retry_after().map(|d| d.as_secs_f64()),
            retryable: e.is_retryable(),
        }
    }
}

fn plain(code: &str, name: &str, message: String) -> ErrorInfo {
    ErrorInfo {
        code: code.to_string(),
        name: name.to_string(),
        detail: Some(message.clone()),
        message,
        status: None,
        error_type: None,
        body: None,
        method: None,
        attempts: 0,
        trace_id: None,
        request_id: None,
        retry_after: None,
        retryable: false,
    }
}

/// A call stopped by its signal or by `close()`.
pub(crate) fn aborted(message: &str) -> ErrorInfo {
    plain(ABORT_CODE, "AbortError", message.to_string())
}

/// A failure of the binding itself.
pub(crate) fn internal(message: &str) -> ErrorInfo {
    plain(INTERNAL_CODE, "PartlyError", format!("internal error in the partly native module: {message}"))
}

/// A caught panic, with its message when it has one.
pub(crate) fn panicked(payload: Box<dyn std::any::Any + Send>) -> ErrorInfo {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    internal(&format!("panicked: {what} (please report this bug)"))
}

/// What every native operation settles with: a value or an error, never a rejection, so that the
/// error's fields reach JavaScript intact.
#[napi(object, object_from_js = false)]
#[derive(Debug, Default)]
pub struct Outcome {
    /// The result, as JSON (the server's fields, snake_case, unknown ones included).
    pub value: Option<Value>,
    /// The result of an API call as JSON text, for the JavaScript layer's `JSON.parse`.
    pub json: Option<String>,
    /// The result of `tier1.prepareAll`, whose failures carry errors.
    #[napi(ts_type = "Record<string, any>")]
    pub report: Option<crate::models::Record>,
    /// The failure.
    pub error: Option<ErrorInfo>,
}

impl Outcome {
    pub(crate) fn value(value: Value) -> Self {
        Outcome { value: Some(value), ..Default::default() }
    }
    pub(crate) fn error(error: ErrorInfo) -> Self {
        Outcome { error: Some(error), ..Default::default() }
    }
    pub(crate) fn from_json_result(result: Result<String, partly::Error>) -> Self {
        match result {
            Ok(text) => Outcome { json: Some(text), ..Default::default() },
            Err(e) => Outcome::error(ErrorInfo::from(&e)),
        }
    }
    pub(crate) fn from_result(result: Result<Value, partly::Error>) -> Self {
        match result {
            Ok(v) => Outcome::value(v),
            Err(e) => Outcome::error(ErrorInfo::from(&e)),
        }
    }
}

/// One error class, for the JavaScript layer to check its table against the core's.
#[napi(object)]
pub struct ErrorKindInfo {
    /// `ErrorKind::code()`.
    pub code: String,
    /// `ErrorKind::class_name()`.
    pub name: String,
    /// Whether it is an answer from the server (an `ApiError` subclass).
    pub is_api: bool,
}

/// Every error kind of the core.
#[napi(catch_unwind)]
pub fn error_kinds() -> Vec<ErrorKindInfo> {
    partly::ErrorKind::ALL
        .iter()
        .map(|k| ErrorKindInfo { code: k.code().to_string(), name: k.class_name().to_string(), is_api: k.is_api() })
        .collect()
}

/// A validation error raised by the binding's own helpers (the mock server's options).
pub(crate) fn plain_validation(message: &str) -> ErrorInfo {
    ErrorInfo::from(&partly::Error::validation(message))
}
