//! The data shapes every language shows, declared once.
//!
//! The Python models (`partly/models.py`, `_native.pyi`) and the TypeScript declarations
//! (`bindings-node/index.d.ts`) are checked against these tables by drift tests in `make test`
//! (`bindings-python/tests/test_shapes.py`, `bindings-node/test/shapes.test.js`); the core's own
//! test (`core/tests/shapes.rs`) checks them against the Rust structs and their decoders. A new
//! read-only field of [`Job`](crate::Job) is one line here plus the struct field; a copy
//! forgotten in a binding fails its suite.
//!
//! To register a new shape: declare a `const` like [`RESPONSE_INFO`] (`sdk_record: true`: Node
//! names its fields in camelCase) and add it to [`ALL`]; the drift tests then look for a Python
//! class (properties, a dataclass's fields, or a slotted class's annotations) and a TypeScript
//! interface or class of that [`Shape::name`], with those fields and types.
//!
//! The records the SDK makes in the bulk preload ([`PREPARE_PROGRESS`], [`PREPARE_BATCH`],
//! [`PREPARE_FAILURE`], [`PREPARE_REPORT`]) also give their values in the shape's order
//! (`PrepareProgress::fields()` and so on, as [`FieldValue`]s): each binding turns those into its
//! object with its key naming, so no binding copies them field by field. A value that may be
//! unknown is always present, `null`/`None` when unknown.

use std::sync::Arc;

use crate::bulk::PrepareFailure;
use crate::error::Error;
use crate::models::VehicleIdentifier;

/// One field of a shape, as the wire (and Python, and Node's data objects) name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The wire name (snake_case).
    pub name: &'static str,
    /// The field's type in TypeScript notation (`string`, `string | null`, `JobStatus`, ...).
    pub ty: &'static str,
    /// What it is (the doc line of every binding).
    pub doc: &'static str,
    /// Whether a `number` is fractional (a float in Python, `f64` in Rust), not a count.
    pub float: bool,
}

/// A named shape: a result model, or the fields of every error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The class / interface name in Python and TypeScript.
    pub name: &'static str,
    /// Its fields, in the order they are shown.
    pub fields: &'static [Field],
    /// Whether the SDK makes this record (an error, response info, bulk progress) rather than
    /// the server: Node then names its fields in camelCase ([`node_field`]); wire data keeps the
    /// wire's snake_case names in every language.
    pub sdk_record: bool,
}

const fn f(name: &'static str, ty: &'static str, doc: &'static str) -> Field {
    Field { name, ty, doc, float: false }
}

/// A fractional `number` field (Python `float`).
const fn fl(name: &'static str, ty: &'static str, doc: &'static str) -> Field {
    Field { name, ty, doc, float: true }
}

/// `Job`: the answer of `jobs.get` and `jobs.insert`.
pub const JOB: Shape = Shape {
    name: "Job",
    sdk_record: false,
    fields: &[
        f("id", "string", "Partly's id of the job (a UUID)."),
        f("site_id", "string", "The repairer site the job belongs to (a UUID)."),
        f("status", "JobStatus", "The job's status, tagged by `type`."),
        f("images", "string[]", "Image URLs."),
        f("claim_number", "string | null", "The insurer's claim number."),
        f("job_number", "string | null", "The repairer's job number."),
        f("external_id", "string | null", "The integrator's own reference."),
        f("work_provider_id", "string | null", "The work provider (insurer), a UUID."),
        f("vehicle", "Record<string, unknown> | null", "The vehicle, as the server sent it."),
    ],
};

/// `JobStatus`: an object tagged by `type` (unknown types are kept).
pub const JOB_STATUS: Shape =
    Shape { name: "JobStatus", sdk_record: false, fields: &[f("type", "string", "The status type, e.g. `draft`.")] };

/// `InstallResult`: the answer of `integrations.insert`.
pub const INSTALL_RESULT: Shape = Shape {
    name: "InstallResult",
    sdk_record: false,
    fields: &[
        f("api_key", "string", "The integration's API key: a secret, never printed."),
        f("integration_id", "string", "The integration's id (a UUID), sent as `partly-integration-id`."),
    ],
};

/// The fields every error carries (`PartlyError` in Python and Node; [`crate::Error`]'s
/// accessors in Rust). Node names them in camelCase, except `code`, which Node calls
/// `errorType` (its `code` is the stable `PARTLY_*` class code): see [`node_error_field`].
pub const ERROR: Shape = Shape {
    name: "PartlyError",
    sdk_record: true,
    fields: &[
        f(
            "detail",
            "string",
            "What went wrong without the context the message adds: the server's own message when it sent one.",
        ),
        f("method", "string | null", "The wire name of the method called, when a call was involved."),
        f("status", "number | null", "The HTTP status, for answers from the server (and decode errors)."),
        f("code", "string | null", "The error `type` the server sent (`not_found`), if it sent one."),
        f("body", "string | null", "The raw response text (truncated), if there was one."),
        f("attempts", "number", "How many attempts were made (0 when nothing was sent)."),
        f("trace_id", "string | null", "The W3C trace id sent in `traceparent` on every attempt."),
        f("request_id", "string | null", "The server's `x-request-id`, when it sent one."),
        fl("retry_after", "number | null", "The server's `Retry-After` in seconds, when it sent one."),
        f(
            "retryable",
            "boolean",
            "Whether a retry may cure this kind of failure (connect errors, timeouts, 408, 429, 5xx).",
        ),
    ],
};

/// The fields of a successful call's response info ([`crate::ResponseInfo`]).
pub const RESPONSE_INFO: Shape = Shape {
    name: "ResponseInfo",
    sdk_record: true,
    fields: &[
        f("status", "number", "The HTTP status of the answer."),
        f("request_id", "string | null", "The server's `x-request-id`, when it sent one."),
        f("trace_id", "string", "The W3C trace id sent in `traceparent` on every attempt."),
        f("attempts", "number", "How many attempts the call took (1 when the first succeeded)."),
        fl("elapsed_ms", "number", "The whole call, retries and waits included, in milliseconds."),
    ],
};

/// Progress of a bulk preload ([`crate::PrepareProgress`]), given to `on_progress` after every
/// request settles.
pub const PREPARE_PROGRESS: Shape = Shape {
    name: "PrepareProgress",
    sdk_record: true,
    fields: &[
        f(
            "total",
            "number | null",
            "Identifiers in the whole input when known in advance (a list); null for a stream.",
        ),
        f("read", "number", "Identifiers read from the input so far."),
        f("done", "number", "Identifiers settled: accepted + failed + skipped."),
        f("accepted", "number", "Identifiers accepted by the server."),
        f("failed", "number", "Identifiers that failed (bad input, a failed request, the deadline)."),
        f("skipped", "number", "Identifiers skipped: the checkpoint records them as accepted by an earlier run."),
        f("in_flight", "number", "Requests in flight now."),
        f("concurrency", "number", "The adaptive limiter's current concurrency limit."),
        fl("rate", "number | null", "The limiter's current request rate (requests/s), once it has one; null before."),
        f("throttled", "number", "Answers 429/503 seen so far."),
        f("requests", "number", "Requests sent so far (retries and requeues included)."),
        fl("elapsed_ms", "number", "Milliseconds since the run started."),
    ],
};

/// One settled request of a bulk preload ([`crate::PrepareBatch`]), given to `on_batch`.
pub const PREPARE_BATCH: Shape = Shape {
    name: "PrepareBatch",
    sdk_record: true,
    fields: &[
        f("indices", "number[]", "The input index of each identifier."),
        f("identifiers", "Array<Record<string, unknown>>", "The identifiers the request carried, as sent (wire form)."),
        f("error", "PartlyError | null", "null when the server accepted them; the request's error otherwise."),
        f("throttled", "number", "Times it was answered 429 and queued again."),
    ],
};

/// An identifier a bulk preload could not get accepted ([`crate::PrepareFailure`]).
pub const PREPARE_FAILURE: Shape = Shape {
    name: "PrepareFailure",
    sdk_record: true,
    fields: &[
        f("index", "number", "Its index in the input (counting every item read, bad ones included)."),
        f("identifier", "Record<string, unknown> | null", "The identifier (wire form), when the item was one."),
        f("given", "string | null", "How the item looked, when it was not an identifier."),
        f(
            "error",
            "PartlyError",
            "Why: the request's error, a ValidationError for a bad item, a TimeoutError when the deadline passed.",
        ),
    ],
};

/// The outcome of a bulk preload ([`crate::PrepareReport`]).
pub const PREPARE_REPORT: Shape = Shape {
    name: "PrepareReport",
    sdk_record: true,
    fields: &[
        f("ok", "boolean", "Whether every identifier read was accepted (now or, per the checkpoint, earlier)."),
        f("total", "number", "Identifiers read: accepted + failed + skipped."),
        f("accepted", "number", "Identifiers accepted."),
        f("failed", "number", "Identifiers not accepted (each is in failures)."),
        f("skipped", "number", "Identifiers skipped: the checkpoint records them as accepted by an earlier run."),
        f(
            "duplicates_possible",
            "number",
            "Identifiers sent again after an attempt with an unknown outcome (harmless duplicates).",
        ),
        f("throttled", "number", "Answers 429/503 seen (each waited out; a 429 does not spend a batch's retries)."),
        f("requests", "number", "Requests sent."),
        fl("elapsed_ms", "number", "Milliseconds the run took."),
        f("deadline_reached", "boolean", "Whether the deadline ended the run."),
        f("concurrency", "number", "The limiter's concurrency limit at the end."),
        f("failures", "PrepareFailure[]", "Every identifier not accepted, in the order they settled."),
    ],
};

/// Every registered shape. The bindings' drift tests iterate it.
pub const ALL: &[Shape] = &[
    JOB,
    JOB_STATUS,
    INSTALL_RESULT,
    ERROR,
    RESPONSE_INFO,
    PREPARE_PROGRESS,
    PREPARE_BATCH,
    PREPARE_FAILURE,
    PREPARE_REPORT,
];

/// The value of one field of an SDK record, as the core gives it to a binding (which makes it a
/// Python or JavaScript value). Borrowed from the record: making one allocates nothing.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'a> {
    /// `null` / `None`: a value that is not known (a stream's `total`, no `rate` yet, no error).
    Null,
    /// `boolean`.
    Bool(bool),
    /// A whole `number` (a count, an index).
    Count(usize),
    /// A fractional `number` (milliseconds, requests per second).
    Number(f64),
    /// `string`.
    Text(&'a str),
    /// `number[]`: input indices.
    Indices(&'a [usize]),
    /// `Record<string, unknown>`: an identifier in wire form.
    Identifier(&'a VehicleIdentifier),
    /// `Array<Record<string, unknown>>`: identifiers in wire form.
    Identifiers(&'a [VehicleIdentifier]),
    /// `PartlyError`: the error (shared by the identifiers of one request: compare the `Arc`s to
    /// make one error object per request).
    Error(&'a Arc<Error>),
    /// `PrepareFailure[]`: each one's fields are `PrepareFailure::fields()`.
    Failures(&'a [PrepareFailure]),
}

impl<'a> FieldValue<'a> {
    /// `Null` for `None`, else `f(value)`.
    pub fn or_null<T>(value: Option<T>, f: impl FnOnce(T) -> FieldValue<'a>) -> FieldValue<'a> {
        value.map_or(FieldValue::Null, f)
    }

    /// The value as JSON (an error as its [`Error::fields`] plus `message`), for Rust callers
    /// and tests; the bindings convert the variants themselves.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match *self {
            FieldValue::Null => Value::Null,
            FieldValue::Bool(b) => Value::Bool(b),
            FieldValue::Count(n) => Value::from(n as u64),
            FieldValue::Number(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            FieldValue::Text(s) => Value::String(s.to_string()),
            FieldValue::Indices(ix) => Value::Array(ix.iter().map(|i| Value::from(*i as u64)).collect()),
            FieldValue::Identifier(id) => id.to_json(),
            FieldValue::Identifiers(ids) => Value::Array(ids.iter().map(VehicleIdentifier::to_json).collect()),
            FieldValue::Error(e) => {
                let mut fields = e.fields();
                fields.insert("message".into(), Value::String(e.to_string()));
                Value::Object(fields)
            }
            FieldValue::Failures(fs) => Value::Array(fs.iter().map(|f| record_json(&f.fields())).collect()),
        }
    }
}

/// A record's fields (`PrepareReport::fields()`, ...) as one JSON object, in the shape's order.
pub fn record_json(fields: &[(&'static str, FieldValue<'_>)]) -> serde_json::Value {
    serde_json::Value::Object(fields.iter().map(|(k, v)| ((*k).to_string(), v.to_json())).collect())
}

/// The Node name of an error field: camelCase, `code` -> `errorType`.
pub fn node_error_field(name: &str) -> String {
    if name == "code" {
        return "errorType".to_string();
    }
    crate::naming::camel(name)
}

/// The Node name of a field of `shape`: the wire name for wire data, camelCase for a record the
/// SDK makes (and `errorType` for an error's `code`).
pub fn node_field(shape: &Shape, name: &str) -> String {
    match (shape.sdk_record, shape.name == ERROR.name) {
        (_, true) => node_error_field(name),
        (true, false) => crate::naming::camel(name),
        (false, false) => name.to_string(),
    }
}

/// Every shape as JSON (`[{name, sdk_record, fields: [{name, node, ty, doc, float}]}]`), for the
/// bindings' drift tests (`node` is the field's name in Node).
pub fn all_as_json() -> serde_json::Value {
    serde_json::Value::Array(
        ALL.iter()
            .map(|s| {
                let fields: Vec<serde_json::Value> = s
                    .fields
                    .iter()
                    .map(|f| serde_json::json!({"name": f.name, "node": node_field(s, f.name), "ty": f.ty, "doc": f.doc, "float": f.float}))
                    .collect();
                serde_json::json!({ "name": s.name, "sdk_record": s.sdk_record, "fields": fields })
            })
            .collect(),
    )
}
