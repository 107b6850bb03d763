//! Runs every case of `core/tests/fixtures/cases.json` (behaviour) and `core/tests/fixtures/faults.json`
//! (the fault matrix), which the Rust, Python and Node suites share.

mod common;

use std::time::{Duration, Instant};

use partly::{
    CallOptions, Client, Error, IfExists, InstallRequest, JobData, JobIdentity, JobInsert, VehicleIdentifier,
};
use serde_json::Value;

const UNKNOWN_UUID: &str = "00000000-0000-4000-8000-000000000001";

struct Env {
    minted: String,
    dead_url: String,
    big_job: String,
}

/// The text of a placeholder name (without the `$`), `None` for an unknown one.
fn placeholder(name: &str, env: &Env) -> Option<String> {
    if let Some(n) = name.strip_prefix("PAD(").and_then(|r| r.strip_suffix(')')) {
        return n.parse::<usize>().ok().map(|n| "x".repeat(n));
    }
    Some(match name {
        "DEMO_SITE_ID" => partly_mock::DEMO_SITE_ID.to_string(),
        "DEMO_JOB_ID" => partly_mock::DEMO_JOB_ID.to_string(),
        "DEMO_CLIENT_ID" => partly_mock::DEMO_CLIENT_ID.to_string(),
        "DEMO_CLIENT_SECRET" => partly_mock::DEMO_CLIENT_SECRET.to_string(),
        "DEMO_API_KEY" => partly_mock::DEMO_API_KEY.to_string(),
        "DEMO_API_KEY_JSON_ESCAPED" => {
            partly_mock::DEMO_API_KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
        }
        "MINTED_CODE" => env.minted.clone(),
        "DEAD_URL" => env.dead_url.clone(),
        "BIG_JOB_10MB" => env.big_job.clone(),
        "HTTP_DATE_IN_2S" => httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2)),
        "UNKNOWN_UUID" => UNKNOWN_UUID.to_string(),
        _ => return None,
    })
}

/// Replaces every `$NAME` / `$PAD(n)` inside a string (faults.json's "about").
fn substitute_text(s: &str, env: &Env) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = if after.starts_with("PAD(") {
            after.find(')').map_or(0, |j| j + 1)
        } else {
            after.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(after.len())
        };
        match placeholder(&after[..len], env) {
            Some(text) if len > 0 => out.push_str(&text),
            _ => panic!("unknown placeholder ${} in {s:?}", &after[..len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

fn substitute(v: &Value, env: &Env) -> Value {
    match v {
        Value::String(s) => Value::String(substitute_text(s, env)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, env)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), substitute(x, env))).collect()),
        other => other.clone(),
    }
}

/// Every log record the SDK emits (through the `log` facade, as `tracing` forwards it when no
/// subscriber is set), formatted as a user's logger would print it.
static LOGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LOGS.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if log::set_logger(&Capture).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

/// Whether `text` shows `secret`: any 16-character window of it (all of it when shorter).
fn shows(text: &str, secret: &str) -> bool {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 16 {
        return text.contains(secret);
    }
    chars.windows(16).any(|w| text.contains(&w.iter().collect::<String>()))
}

/// The strings (keys and values) of a JSON value.
fn json_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            json_strings(x, out)
        }),
        _ => {}
    }
}

fn identifiers(v: &Value) -> Vec<VehicleIdentifier> {
    if let Some(rep) = v.get("repeat") {
        let n = v["count"].as_u64().expect("count") as usize;
        let base = rep.as_str().expect("repeat");
        return (0..n).map(|i| VehicleIdentifier::chassis_number(format!("{base}{i}"))).collect();
    }
    v.as_array()
        .expect("identifiers array")
        .iter()
        .map(|x| VehicleIdentifier::from_json(x.clone()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|_| panic!("identifiers {v}"))
}

/// Makes the call; identifiers that fail to parse count as a validation error, as they would
/// in a binding.
async fn run_call(client: &Client, call: &Value, opts: &CallOptions) -> Result<Value, Error> {
    let args = &call["args"];
    let method = call["method"].as_str().expect("method");
    let s = |k: &str| args.get(k).and_then(Value::as_str);
    match method {
        "jobs.get" => {
            let identity = JobIdentity::from_parts(s("id"), s("external"))?;
            let job = client.jobs().get_with(identity, opts).await?;
            Ok(serde_json::to_value(job).expect("job json"))
        }
        "jobs.insert" => {
            let identity = JobIdentity::from_parts(s("id"), s("external"))?;
            let data = JobData::from_json(args["data"].clone())?;
            let if_exists = IfExists::parse(s("if_exists").unwrap_or("update"))?;
            let job = client.jobs().insert_with(JobInsert::new(identity, data).if_exists(if_exists), opts).await?;
            Ok(serde_json::to_value(job).expect("job json"))
        }
        "tier1.prepare" => {
            let r = client.tier1().prepare_with(identifiers(&args["identifiers"]), opts).await?;
            Ok(serde_json::to_value(r).expect("json"))
        }
        "integrations.insert" => {
            let req = InstallRequest::new(
                s("access_code").unwrap_or(""),
                s("client_id").unwrap_or(""),
                s("client_secret").unwrap_or(""),
            );
            let r = client.integrations().insert_with(req, opts).await?;
            Ok(serde_json::to_value(r).expect("json"))
        }
        "call" => client.call_with(s("method").expect("method"), args["body"].clone(), opts).await,
        "oauth.authorize_url" => {
            let scopes: Vec<&str> = args["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let a =
                partly::oauth::authorize_url(s("client_id").unwrap_or(""), s("redirect_url").unwrap_or(""), &scopes)?;
            Ok(serde_json::json!({"url": a.url, "state": a.state}))
        }
        "oauth.verify_state" => partly::oauth::verify_state_checked(s("expected"), s("received")).map(Value::Bool),
        other => panic!("unknown call {other}"),
    }
}

/// `want` is a subset of `got`: every key of an object in `want` is in `got` with a matching value.
fn assert_subset(want: &Value, got: &Value, path: &str) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let gv = g.get(k).unwrap_or_else(|| panic!("{path}.{k} missing in {got}"));
                assert_subset(wv, gv, &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(want, got, "at {path}"),
    }
}

fn load(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read cases")).expect("parse cases");
    doc["cases"].as_array().expect("cases").clone()
}

/// With `PARTLY_MATRIX_OUT=<file>`, appends what was observed for each case as one JSON line
/// (`tests/bench/reliability_table.py` turns the lines of the three languages into the table of
/// docs/reliability.md).
fn observe(name: &str, outcome: &Result<Value, Error>, mock: &partly_mock::MockServer, elapsed: Duration) {
    let Ok(path) = std::env::var("PARTLY_MATRIX_OUT") else { return };
    let observed = match outcome {
        Ok(_) => serde_json::json!({"outcome": "ok"}),
        Err(e) => serde_json::json!({"outcome": e.kind().class_name(), "status": e.status(), "code": e.code(),
                                     "attempts": e.attempts(), "retry_after": e.retry_after().map(|d| d.as_secs_f64())}),
    };
    let line = serde_json::json!({"language": "rust", "case": name, "observed": observed,
                                  "requests": mock.requests().len(), "elapsed_ms": elapsed.as_millis() as u64});
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}

fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn big_job() -> String {
    let mut job = serde_json::json!({
        "id": partly_mock::DEMO_JOB_ID, "site_id": partly_mock::DEMO_SITE_ID, "status": {"type": "draft"},
        "images": [], "external_id": partly_mock::DEMO_JOB_EXTERNAL_ID,
    });
    job["padding"] = Value::String("x".repeat(10 * 1024 * 1024));
    job.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_cases() {
    let cases = load("cases.json");
    assert!(cases.len() >= 10, "cases.json has {} cases", cases.len());
    run_cases(&cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let cases = load("faults.json");
    assert!(cases.len() >= 25, "faults.json has {} cases", cases.len());
    run_cases(&cases).await;
}

/// Runs every case (a failing case does not hide the ones after it), then fails naming each
/// case that failed; its assertion message is printed above.
async fn run_cases(cases: &[Value]) {
    use futures_util::FutureExt;
    capture_logs();
    let mock = common::mock().await;
    let big = big_job();
    let mut failed = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        if std::panic::AssertUnwindSafe(run_case(case, &mock, &big)).catch_unwind().await.is_err() {
            failed.push(name.to_string());
        }
    }
    assert!(failed.is_empty(), "{} of {} cases failed: {failed:?}", failed.len(), cases.len());
}

async fn run_case(case: &Value, mock: &partly_mock::MockServer, big: &str) {
    {
        let name = case["name"].as_str().expect("name");
        mock.reset();
        let env = Env { minted: mock.mint_access_code().access_code, dead_url: dead_url(), big_job: big.to_string() };
        let case = substitute(case, &env);
        if let Some(f) = case.get("fault") {
            mock.inject_fault(common::fault(f.clone())).unwrap_or_else(|e| panic!("{name}: fault: {e}"));
        }
        let mut b = common::builder(mock);
        if let Some(url) = case.pointer("/client/base_url").and_then(Value::as_str) {
            b = b.base_url(url);
        }
        let client = match case.pointer("/client/credentials").and_then(Value::as_str).unwrap_or("demo") {
            "none" => b.build(),
            "bad_key" => b.api_key("pk_wrong_key_0000000000").integration_id(partly_mock::DEMO_INTEGRATION_ID).build(),
            _ => b.api_key(partly_mock::DEMO_API_KEY).integration_id(partly_mock::DEMO_INTEGRATION_ID).build(),
        }
        .unwrap_or_else(|e| panic!("{name}: client: {e}"));
        let mut opts = CallOptions::default();
        if let Some(ms) = case.pointer("/options/timeout_ms").and_then(Value::as_u64) {
            opts.timeout = Some(Duration::from_millis(ms));
        }
        if let Some(n) = case.pointer("/options/max_retries").and_then(Value::as_u64) {
            opts.max_retries = Some(n as u32);
        }
        opts.auth = case.pointer("/options/auth").and_then(Value::as_bool);
        let calls = case.get("calls").and_then(Value::as_u64).unwrap_or(1);
        let mut outcome = Err(Error::validation("no call made"));
        let mut elapsed = Duration::ZERO;
        for _ in 0..calls {
            let started = Instant::now();
            outcome = run_call(&client, &case["call"], &opts).await;
            elapsed = started.elapsed();
        }
        let expect = &case["expect"];
        observe(name, &outcome, mock, elapsed);
        if let Some(min) = expect.get("min_elapsed_ms").and_then(Value::as_u64) {
            assert!(elapsed >= Duration::from_millis(min), "{name}: returned after {elapsed:?}, before {min} ms");
        }
        if let Some(max) = expect.get("max_elapsed_ms").and_then(Value::as_u64) {
            assert!(elapsed <= Duration::from_millis(max), "{name}: took {elapsed:?}, over {max} ms");
        }
        match (expect.get("error"), outcome) {
            (Some(class), Err(e)) => {
                assert_eq!(Some(e.kind().class_name()), class.as_str(), "{name}: class of {e}");
                if let Some(st) = expect.get("status") {
                    assert_eq!(e.status().map(u64::from), st.as_u64(), "{name}: status");
                }
                if let Some(code) = expect.get("code") {
                    assert_eq!(e.code(), code.as_str(), "{name}: code");
                }
                if let Some(a) = expect.get("attempts") {
                    assert_eq!(Some(u64::from(e.attempts())), a.as_u64(), "{name}: attempts");
                }
                if let Some(r) = expect.get("retry_after") {
                    assert_eq!(e.retry_after().map(|d| d.as_secs_f64()), r.as_f64(), "{name}: retry_after");
                }
                if let Some(m) = expect.get("message_contains").and_then(Value::as_str) {
                    assert!(e.to_string().contains(m), "{name}: message {e:?} lacks {m:?}");
                }
                // What Node shows: the same message with options named as in Node.
                if let Some(m) = expect.get("message_contains_node").and_then(Value::as_str) {
                    let node = partly::naming::for_node(&e.to_string());
                    assert!(node.contains(m), "{name}: Node's message {node:?} lacks {m:?}");
                }
                if let Some(m) = expect.get("message_once").and_then(Value::as_str) {
                    assert_eq!(e.to_string().matches(m).count(), 1, "{name}: {m:?} not exactly once in {e}");
                }
                if let Some(r) = expect.get("retryable").and_then(Value::as_bool) {
                    assert_eq!(e.is_retryable(), r, "{name}: retryable");
                }
                if let Some(d) = expect.get("detail") {
                    assert_eq!(Some(e.detail()), d.as_str(), "{name}: detail");
                }
                if let Some(b) = expect.get("body_contains").and_then(Value::as_str) {
                    assert!(e.body().unwrap_or("").contains(b), "{name}: body {:?} lacks {b:?}", e.body());
                }
                if expect.get("trace_id_matches_request").and_then(Value::as_bool) == Some(true) {
                    let reqs = mock.requests();
                    let tp = reqs.last().and_then(|r| r.headers.get("traceparent")).expect("traceparent sent");
                    assert_eq!(tp.split('-').nth(1), e.trace_id(), "{name}: trace id");
                }
                for s in expect.get("secret_absent").and_then(Value::as_array).into_iter().flatten() {
                    let s = s.as_str().expect("secret");
                    let mut texts = vec![e.to_string(), format!("{e:?}"), e.message().to_string()];
                    texts.extend(
                        [e.code(), e.body(), e.method(), e.request_id(), e.trace_id()]
                            .into_iter()
                            .flatten()
                            .map(String::from),
                    );
                    if let Ok(parsed) = serde_json::from_str::<Value>(e.body().unwrap_or("")) {
                        json_strings(&parsed, &mut texts);
                    }
                    for text in &texts {
                        assert!(!shows(text, s), "{name}: a secret shows in {text:?}");
                    }
                    for line in LOGS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                        assert!(!shows(line, s), "{name}: a secret shows in the log record {line:?}");
                    }
                }
            }
            (Some(class), Ok(v)) => panic!("{name}: expected {class}, got {v}"),
            (None, Err(e)) => panic!("{name}: expected success, got {e:?}"),
            (None, Ok(v)) => {
                if let Some(want) = expect.get("result") {
                    assert_subset(want, &v, name);
                }
                if let Some(want) = expect.get("result_equals") {
                    assert_eq!(want, &v, "{name}: result");
                }
                if let Some(lens) = expect.get("result_string_len").and_then(Value::as_object) {
                    for (k, n) in lens {
                        assert_eq!(v[k].as_str().map(|s| s.len() as u64), n.as_u64(), "{name}: length of {k}");
                    }
                }
                for (pointer, text) in expect.get("result_numbers").and_then(Value::as_object).into_iter().flatten() {
                    let got = v.pointer(pointer).unwrap_or_else(|| panic!("{name}: {pointer} missing in the result"));
                    assert!(got.is_number(), "{name}: {pointer} is {got}, not a number");
                    // The same number (serde_json writes `1e400` as `1e+400`: compare as parsed).
                    let want: serde_json::Number = serde_json::from_str(text.as_str().expect("text")).expect("number");
                    assert_eq!(got.as_number(), Some(&want), "{name}: {pointer} not kept exactly");
                }
                for k in expect.get("result_keys").and_then(Value::as_array).into_iter().flatten() {
                    assert!(v.get(k.as_str().expect("key")).is_some(), "{name}: {k} missing in {v}");
                }
            }
        }
        if let Some(n) = expect.get("requests").and_then(Value::as_u64) {
            let method = expect
                .get("requests_method")
                .and_then(Value::as_str)
                .or_else(|| case.pointer("/call/method").and_then(Value::as_str))
                .expect("method");
            let got = common::requests_for(mock, method).len() as u64;
            assert_eq!(got, n, "{name}: requests of {method} received by the mock");
        }
    }
}
