//! The data shapes every language shows, declared once.
//!
//! The Python models (`partly/models.py`, `_native.pyi`) and the TypeScript declarations
//! (`bindings-node/index.d.ts`) are checked against these tables by drift tests in `make test`
//! (`bindings-python/tests/test_shapes.py`, `bindings-node/test/shapes.test.js`); the core's own
//! test (`core/tests/shapes.rs`) checks them against the Rust structs and their decoders. A new
//! read-only field of [`Job`](crate::Job) is one line here plus the struct field; a copy
//! forgotten in a binding fails its suite.
//!
//! To register a new shape (e.g. the bulk preload's `PrepareProgress`): declare a `const` like
//! [`RESPONSE_INFO`] (`sdk_record: true`: Node names its fields in camelCase) and add it to
//! [`ALL`]; the drift tests then look for a Python class (properties, or a dataclass's fields)
//! and a TypeScript interface or class of that [`Shape::name`], with those fields and types.

/// One field of a shape, as the wire (and Python, and Node's data objects) name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The wire name (snake_case).
    pub name: &'static str,
    /// The field's type in TypeScript notation (`string`, `string | null`, `JobStatus`, ...).
    pub ty: &'static str,
    /// What it is (the doc line of every binding).
    pub doc: &'static str,
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
    Field { name, ty, doc }
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
        f("retry_after", "number | null", "The server's `Retry-After` in seconds, when it sent one."),
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
        f("elapsed_ms", "number", "The whole call, retries and waits included, in milliseconds."),
    ],
};

/// Every registered shape. The bindings' drift tests iterate it.
pub const ALL: &[Shape] = &[JOB, JOB_STATUS, INSTALL_RESULT, ERROR, RESPONSE_INFO];

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

/// Every shape as JSON (`[{name, sdk_record, fields: [{name, node, ty, doc}]}]`), for the
/// bindings' drift tests (`node` is the field's name in Node).
pub fn all_as_json() -> serde_json::Value {
    serde_json::Value::Array(
        ALL.iter()
            .map(|s| {
                let fields: Vec<serde_json::Value> = s
                    .fields
                    .iter()
                    .map(|f| serde_json::json!({"name": f.name, "node": node_field(s, f.name), "ty": f.ty, "doc": f.doc}))
                    .collect();
                serde_json::json!({ "name": s.name, "sdk_record": s.sdk_record, "fields": fields })
            })
            .collect(),
    )
}
