//! The shapes of `partly::shapes` are the Rust models': every field a shape lists is decoded into
//! its own struct field (never into `extra`), and every struct field is listed. The Python and
//! Node suites check their models and declarations against the same tables.

use std::collections::BTreeSet;

use partly::serde_json::{self, json, Value};
use partly::shapes::{self, Shape};
use partly::{InstallResponse, Job};

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
