//! The shapes of `partly::shapes` are the Rust models': every field a shape lists is decoded into
//! its own struct field (never into `extra`), and every struct field is listed. The Python and
//! Node suites check their models and declarations against the same tables.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use partly::serde_json::{self, json, Value};
use partly::shapes::{self, FieldValue, Shape};
use partly::{InstallResponse, Job, PrepareBatch, PrepareFailure, PrepareProgress, PrepareReport, VehicleIdentifier};

fn names(shape: &Shape) -> BTreeSet<&'static str> {
    shape.fields.iter().map(|f| f.name).collect()
}

/// A value of the shape's declared type, for a decoder to read.
fn sample(ty: &str) -> Value {
    match ty {
        "string" => json!("497f6eca-6276-4993-bfeb-53cbbbba6f08"),
        "string | null" => json!("497f6eca-6276-4993-bfeb-53cbbbba6f08"),
        "string[]" => json!(["https://img.example/1.jpg"]),
        "JobStatus" => json!({"type": "draft"}),
        "Record<string, unknown> | null" => json!({"make": "Honda"}),
        "number" | "number | null" => json!(1),
        "boolean" => json!(true),
        "number[]" => json!([0, 1]),
        "Array<Record<string, unknown>>" => json!([{"chassis_number": "JH4KA7561PC008269"}]),
        "PartlyError" | "PartlyError | null" => json!({"detail": "bad input"}),
        "PrepareFailure[]" => json!([]),
        other => panic!("no sample for type {other}"),
    }
}

fn every_field(shape: &Shape) -> Value {
    Value::Object(shape.fields.iter().map(|f| (f.name.to_string(), sample(f.ty))).collect())
}

#[test]
fn job_shape_is_the_job_struct() {
    let job: Job = serde_json::from_value(every_field(&shapes::JOB)).expect("a job with every field");
    assert!(job.extra.is_empty(), "fields of the shape the decoder does not know: {:?}", job.extra);
    let written = serde_json::to_value(&job).unwrap();
    let keys: BTreeSet<&str> = written.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, names(&shapes::JOB), "Job's fields and shapes::JOB differ");
}

#[test]
fn job_status_shape_is_the_status_struct() {
    let job: Job = serde_json::from_value(every_field(&shapes::JOB)).unwrap();
    let status = serde_json::to_value(&job.status).unwrap();
    let keys: BTreeSet<&str> = status.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, names(&shapes::JOB_STATUS));
}

#[test]
fn install_result_shape_is_the_install_response_struct() {
    let r: InstallResponse = serde_json::from_value(every_field(&shapes::INSTALL_RESULT)).expect("decodes");
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    let written = serde_json::to_value(&r).unwrap();
    let keys: BTreeSet<&str> = written.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, names(&shapes::INSTALL_RESULT));
}

#[test]
fn error_fields_are_the_error_shape() {
    let e = partly::Error::validation("bad input");
    let fields = e.fields();
    let keys: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(keys, names(&shapes::ERROR));
    assert_eq!(fields["detail"], "bad input");
    assert_eq!(fields["retryable"], false);
    assert_eq!(fields["attempts"], 0);
    assert_eq!(shapes::node_error_field("code"), "errorType");
    assert_eq!(shapes::node_error_field("retry_after"), "retryAfter");
}

#[test]
fn every_shape_is_registered_once_with_known_types() {
    let mut seen = BTreeSet::new();
    for shape in shapes::ALL {
        assert!(seen.insert(shape.name), "{} registered twice", shape.name);
        for f in shape.fields {
            sample(f.ty);
            assert!(!f.doc.is_empty(), "{}.{} has no doc", shape.name, f.name);
        }
    }
    let json = shapes::all_as_json();
    assert_eq!(json.as_array().unwrap().len(), shapes::ALL.len());
}

#[test]
fn response_info_shape_is_the_response_info_struct() {
    let info = partly::ResponseInfo {
        status: 200,
        request_id: Some("req-1".into()),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        attempts: 1,
        elapsed: std::time::Duration::from_millis(12),
    };
    let written = serde_json::to_value(&info).unwrap();
    let keys: BTreeSet<&str> = written.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, names(&shapes::RESPONSE_INFO));
    assert_eq!(written["elapsed_ms"], 12.0);
}

#[test]
fn node_names_fields_of_sdk_records_in_camel_case_and_keeps_wire_names() {
    assert_eq!(shapes::node_field(&shapes::JOB, "site_id"), "site_id");
    assert_eq!(shapes::node_field(&shapes::RESPONSE_INFO, "elapsed_ms"), "elapsedMs");
    assert_eq!(shapes::node_field(&shapes::ERROR, "code"), "errorType");
    assert_eq!(shapes::node_field(&shapes::ERROR, "trace_id"), "traceId");
}

// The bulk preload's records: the Rust structs keep Rust's idioms (a `Duration`, a method), the
// shapes name what every binding shows. Each struct's fields are listed by destructuring it
// without `..` (a new struct field does not compile here until it is listed), mapped to the
// shape's names through the one table below, and compared with the record's `fields()` (names in
// the shape's order, and values).

/// Where a Rust struct and its shape name a field differently: (shape, Rust field, shape field).
/// `elapsed` is a `Duration` in Rust and float milliseconds (`elapsed_ms`) in the bindings, as
/// `ResponseInfo` is; `ok` is a method in Rust (`is_success()`).
const RUST_NAMES: &[(&str, &str, &str)] = &[
    ("PrepareProgress", "elapsed", "elapsed_ms"),
    ("PrepareReport", "elapsed", "elapsed_ms"),
    ("PrepareReport", "is_success()", "ok"),
];

/// A Rust field's value as the JSON the shape's field holds.
trait AsShape {
    fn as_shape(&self) -> Value;
}
/// Plain values are their own JSON.
macro_rules! as_shape_by_json {
    ($($t:ty),*) => {$(
        impl AsShape for $t {
            fn as_shape(&self) -> Value {
                json!(self)
            }
        }
    )*};
}
as_shape_by_json!(usize, u32, bool, f64, String);
impl AsShape for std::time::Duration {
    fn as_shape(&self) -> Value {
        json!(self.as_secs_f64() * 1000.0)
    }
}
impl AsShape for VehicleIdentifier {
    fn as_shape(&self) -> Value {
        self.to_json()
    }
}
impl AsShape for Arc<partly::Error> {
    fn as_shape(&self) -> Value {
        let mut fields = self.fields();
        fields.insert("message".into(), json!(self.to_string()));
        Value::Object(fields)
    }
}
impl AsShape for PrepareFailure {
    fn as_shape(&self) -> Value {
        let PrepareFailure { index, identifier, given, error } = self;
        json!({"index": index.as_shape(), "identifier": identifier.as_shape(), "given": given.as_shape(), "error": error.as_shape()})
    }
}
impl<T: AsShape> AsShape for Option<T> {
    fn as_shape(&self) -> Value {
        self.as_ref().map_or(Value::Null, AsShape::as_shape)
    }
}
impl<T: AsShape> AsShape for Vec<T> {
    fn as_shape(&self) -> Value {
        Value::Array(self.iter().map(AsShape::as_shape).collect())
    }
}

/// Every field of a struct value, by its Rust name (destructured: no field can be left out).
macro_rules! rust_fields {
    ($value:expr, $ty:ident { $($field:ident),* $(,)? }) => {{
        let $ty { $($field),* } = &$value;
        vec![$((stringify!($field), $field.as_shape())),*]
    }};
}

/// Checks a record: the Rust fields, renamed by [`RUST_NAMES`], are the shape's fields, and
/// `fields()` gives them in the shape's order with the struct's values.
fn check_record(shape: &Shape, rust: Vec<(&str, Value)>, fields: &[(&'static str, FieldValue<'_>)]) {
    let order: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let declared: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
    assert_eq!(order, declared, "{}: fields() is not in the shape's order", shape.name);
    let rename = |rust: &str| {
        RUST_NAMES
            .iter()
            .find(|(s, r, _)| *s == shape.name && *r == rust)
            .map_or(rust.to_string(), |(_, _, n)| n.to_string())
    };
    let from_rust: std::collections::BTreeMap<String, Value> = rust.into_iter().map(|(k, v)| (rename(k), v)).collect();
    let from_rust_names: BTreeSet<&str> = from_rust.keys().map(String::as_str).collect();
    assert_eq!(
        from_rust_names,
        names(shape),
        "{}: the struct's fields (renamed by RUST_NAMES) and the shape differ",
        shape.name
    );
    for (name, value) in fields {
        assert_eq!(&value.to_json(), &from_rust[*name], "{}.{name}: fields() and the struct differ", shape.name);
    }
    let json = partly::shapes::record_json(fields);
    assert_eq!(json.as_object().unwrap().len(), shape.fields.len());
}

fn distinct_progress(total: Option<usize>, rate: Option<f64>) -> PrepareProgress {
    PrepareProgress {
        total,
        read: 2,
        done: 3,
        accepted: 4,
        failed: 5,
        skipped: 6,
        in_flight: 7,
        concurrency: 8,
        rate,
        throttled: 9,
        requests: 10,
        elapsed: Duration::from_micros(11_500),
    }
}

#[test]
fn prepare_progress_shape_is_the_struct_and_its_fields() {
    for p in [distinct_progress(Some(1), Some(12.5)), distinct_progress(None, None)] {
        let rust = rust_fields!(
            p,
            PrepareProgress {
                total,
                read,
                done,
                accepted,
                failed,
                skipped,
                in_flight,
                concurrency,
                rate,
                throttled,
                requests,
                elapsed
            }
        );
        check_record(&shapes::PREPARE_PROGRESS, rust, &p.fields());
    }
    let unknown = distinct_progress(None, None).fields();
    assert!(matches!(unknown[0], ("total", FieldValue::Null)), "an unknown total is present and null");
    assert_eq!(shapes::record_json(&distinct_progress(None, None).fields())["elapsed_ms"], 11.5);
}

fn failure(index: usize, error: &Arc<partly::Error>, identifier: bool) -> PrepareFailure {
    PrepareFailure {
        index,
        identifier: identifier.then(|| VehicleIdentifier::chassis_number("JH4KA7561PC008269")),
        given: (!identifier).then(|| "None".to_string()),
        error: Arc::clone(error),
    }
}

#[test]
fn prepare_batch_and_failure_shapes_are_the_structs_and_their_fields() {
    let error = Arc::new(partly::Error::validation("bad input"));
    for e in [None, Some(Arc::clone(&error))] {
        let b = PrepareBatch {
            indices: vec![3, 4],
            identifiers: vec![VehicleIdentifier::chassis_number("A"), VehicleIdentifier::chassis_number("B")],
            error: e,
            throttled: 2,
        };
        let rust = rust_fields!(b, PrepareBatch { indices, identifiers, error, throttled });
        check_record(&shapes::PREPARE_BATCH, rust, &b.fields());
    }
    for f in [failure(1, &error, true), failure(2, &error, false)] {
        let rust = rust_fields!(f, PrepareFailure { index, identifier, given, error });
        check_record(&shapes::PREPARE_FAILURE, rust, &f.fields());
    }
}

#[test]
fn prepare_report_shape_is_the_struct_and_its_fields() {
    let error = Arc::new(partly::Error::validation("bad input"));
    let r = PrepareReport {
        total: 9,
        accepted: 6,
        failed: 2,
        skipped: 1,
        duplicates_possible: 3,
        throttled: 4,
        requests: 5,
        elapsed: Duration::from_millis(1500),
        deadline_reached: true,
        concurrency: 7,
        failures: vec![failure(1, &error, true), failure(2, &error, false)],
    };
    let mut rust = rust_fields!(
        r,
        PrepareReport {
            total,
            accepted,
            failed,
            skipped,
            duplicates_possible,
            throttled,
            requests,
            elapsed,
            deadline_reached,
            concurrency,
            failures
        }
    );
    rust.push(("is_success()", r.is_success().as_shape()));
    check_record(&shapes::PREPARE_REPORT, rust, &r.fields());
    assert_eq!(shapes::record_json(&r.fields())["elapsed_ms"], 1500.0);
    assert_eq!(shapes::record_json(&r.fields())["ok"], false);
}

#[test]
fn floats_are_the_fractional_numbers() {
    let floats: BTreeSet<(&str, &str)> =
        shapes::ALL.iter().flat_map(|s| s.fields.iter().filter(|f| f.float).map(move |f| (s.name, f.name))).collect();
    for (shape, field) in &floats {
        let f =
            shapes::ALL.iter().find(|s| s.name == *shape).unwrap().fields.iter().find(|f| f.name == *field).unwrap();
        assert!(f.ty.starts_with("number"), "{shape}.{field} is float but not a number");
    }
    assert!(floats.contains(&("PrepareProgress", "elapsed_ms")) && floats.contains(&("PrepareProgress", "rate")));
    assert!(!floats.contains(&("PrepareProgress", "read")));
}
