//! End to end: the `partly` binary against a `partly-mock` started in this process on port 0,
//! checked through what a user sees (stdout, stderr, the exit status, the files written) and
//! what the mock received (its request log).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use partly_mock::{Fault, MockConfig, MockServer, DEMO_API_KEY, DEMO_INTEGRATION_ID};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_partly");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.trim().is_empty()).collect()
    }
}

/// A `partly` command with a clean environment (no PARTLY_* or proxy variable of the machine).
fn command(args: &[&str], dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).current_dir(dir).kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("PARTLY_") || k.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(k);
        }
    }
    cmd
}

async fn partly_in(dir: &Path, mock: Option<&MockServer>, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = command(args, dir);
    if let Some(mock) = mock {
        cmd.env("PARTLY_BASE_URL", mock.url())
            .env("PARTLY_API_KEY", DEMO_API_KEY)
            .env("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID);
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn partly");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).await.expect("write stdin");
        drop(pipe);
    }
    let out = child.wait_with_output().await.expect("partly ran");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn partly(mock: &MockServer, args: &[&str]) -> Out {
    partly_in(&std::env::temp_dir(), Some(mock), args, None).await
}

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default()).await.expect("mock")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("partly-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Every identifier the mock's `tier1.prepare` calls carried (as their JSON text).
fn sent_identifiers(mock: &MockServer) -> Vec<String> {
    mock.requests()
        .iter()
        .filter(|r| r.method == "tier1.prepare" && r.status == Some(200))
        .flat_map(|r| {
            let body: Value = serde_json::from_str(&r.body).expect("body");
            body["identifiers"].as_array().expect("identifiers").iter().map(|v| v.to_string()).collect::<Vec<_>>()
        })
        .collect()
}

fn vin(i: usize) -> String {
    format!("VIN{i:07}")
}

fn chassis(i: usize) -> String {
    serde_json::json!({ "chassis_number": vin(i) }).to_string()
}

fn write_vins(path: &Path, n: usize) {
    let text: String = (0..n).map(|i| format!("{}\n", vin(i))).collect();
    std::fs::write(path, text).expect("write input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_and_version_teach_every_subcommand() {
    let dir = std::env::temp_dir();
    let help = partly_in(&dir, None, &["--help"], None).await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    for word in ["preload", "jobs", "call", "oauth", "mock", "doctor", "PARTLY_API_KEY", "--json", "Exit status"] {
        assert!(help.stdout.contains(word), "--help lacks {word}: {}", help.stdout);
    }
    let preload = partly_in(&dir, None, &["preload", "--help"], None).await;
    for word in ["--checkpoint", "--column", "--plate-column", "--failures", "progress bar"] {
        assert!(preload.stdout.contains(word), "preload --help lacks {word}");
    }
    let version = partly_in(&dir, None, &["--version"], None).await;
    assert_eq!(version.stdout.trim(), format!("partly {}", env!("CARGO_PKG_VERSION")));
    let usage = partly_in(&dir, None, &["jobs", "get"], None).await;
    assert_eq!(usage.code, 2);
    assert!(usage.stderr.contains("--external") && usage.stderr.contains("--id"), "{}", usage.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_get_by_external_and_id_prints_the_job() {
    let mock = mock().await;
    let out = partly(&mock, &["jobs", "get", "--external", partly_mock::DEMO_JOB_EXTERNAL_ID]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(job["id"], partly_mock::DEMO_JOB_ID);
    assert_eq!(job["status"]["type"], "draft");
    assert_eq!(job["vehicle"]["plate"], "MXK482", "unknown fields of the vehicle are kept");
    assert!(out.stdout.lines().count() > 1, "pretty by default");

    let out = partly(&mock, &["--json", "jobs", "get", "--id", partly_mock::DEMO_JOB_ID]).await;
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.lines().count(), 1, "--json: one line");
    assert_eq!(out.json()["external_id"], partly_mock::DEMO_JOB_EXTERNAL_ID);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].headers["authorization"], format!("Bearer {DEMO_API_KEY}"));
    assert!(sent[1].headers["user-agent"].starts_with("partly-cli/"), "{:?}", sent[1].headers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_line_with_their_class_and_status() {
    let mock = mock().await;
    let out = partly(&mock, &["jobs", "get", "--external", "no-such-job"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("partly: jobs.get: HTTP 404 not_found"), "{}", out.stderr);

    let out = partly(&mock, &["jobs", "get", "--external", "no-such-job", "--json"]).await;
    assert_eq!(out.code, 1);
    let err: Value = serde_json::from_str(out.stderr.trim()).expect("a JSON error on stderr");
    assert_eq!(err["error"]["class"], "NotFoundError");
    assert_eq!(err["error"]["status"], 404);
    assert_eq!(err["error"]["method"], "jobs.get");

    // A bad id is found before anything is sent.
    mock.reset();
    let out = partly(&mock, &["jobs", "get", "--id", "not-a-uuid"]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not a UUID"), "{}", out.stderr);
    assert!(mock.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_insert_creates_then_updates() {
    let mock = mock().await;
    let site = partly_mock::DEMO_SITE_ID;
    let out =
        partly(&mock, &["jobs", "insert", "--external", "CLI-1", "--site-id", site, "--claim-number", "C-1"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(job["external_id"], "CLI-1");
    assert_eq!(job["claim_number"], "C-1");

    let data = format!(r#"{{"repairer_site_id": "{site}", "job_number": "J-9", "vehicle": {{"plate": "ABC123"}}}}"#);
    let out = partly_in(
        &std::env::temp_dir(),
        Some(&mock),
        &["jobs", "insert", "--external", "CLI-1", "--data", "-", "--json"],
        Some(&data),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(job["claim_number"], "C-1", "update merges");
    assert_eq!(job["job_number"], "J-9");
    assert_eq!(job["vehicle"]["plate"], "ABC123");
    let last = mock.requests().last().cloned().expect("a request");
    let body: Value = serde_json::from_str(&last.body).expect("json");
    assert_eq!(body["if_"]["exists"], "update");
    assert_eq!(body["identity"]["external"], "CLI-1");

    let out = partly(&mock, &["jobs", "insert", "--external", "CLI-2"]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--site-id"), "{}", out.stderr);

    // --data that is not an object: named with the core's wording of the JSON type, nothing sent.
    let sent = mock.requests().len();
    let out = partly(&mock, &["jobs", "insert", "--external", "CLI-3", "--data", "[1]"]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--data must be a JSON object") && out.stderr.contains("got an array"),
        "{}",
        out.stderr
    );
    assert_eq!(mock.requests().len(), sent, "nothing sent for bad --data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_any_method_from_an_argument_or_stdin() {
    let mock = mock().await;
    let out = partly(&mock, &["call", "businesses.list"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["items"][0]["id"], partly_mock::DEMO_BUSINESS_ID);

    let body = format!(r#"{{"identity": {{"id": "{}"}}}}"#, partly_mock::DEMO_JOB_ID);
    let out = partly_in(&std::env::temp_dir(), Some(&mock), &["call", "jobs.get", "-", "--json"], Some(&body)).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["external_id"], partly_mock::DEMO_JOB_EXTERNAL_ID);

    mock.reset();
    let out = partly(&mock, &["call", "jobs.get", "{not json"]).await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr_lines().len(), 1);
    assert!(out.stderr.contains("the body is not valid JSON"), "{}", out.stderr);
    let out = partly(&mock, &["call", "jobs get"]).await;
    assert_eq!(out.code, 2);
    assert!(mock.requests().is_empty(), "nothing is sent for bad input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_integrations_insert_hides_the_issued_key_and_never_echoes_secrets() {
    let mock = mock().await;
    let code = mock.mint_access_code();
    let body = serde_json::json!({
        "access_code": code.access_code, "client_id": code.client_id, "client_secret": code.client_secret,
    })
    .to_string();
    let out = partly_in(
        &std::env::temp_dir(),
        None,
        &["call", "integrations.insert", "-", "--base-url", &mock.url()],
        Some(&body),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["api_key"], "***");
    assert_eq!(out.json()["integration_id"].as_str().map(str::len), Some(36));

    // Used: the error must not repeat the code or the secret.
    let out = partly_in(
        &std::env::temp_dir(),
        None,
        &["call", "integrations.insert", &body, "--base-url", &mock.url()],
        None,
    )
    .await;
    assert_eq!(out.code, 1);
    for secret in [&code.access_code, &code.client_secret] {
        assert!(!out.stderr.contains(secret.as_str()) && !out.stdout.contains(secret.as_str()), "{}", out.stderr);
    }

    let code = mock.mint_access_code();
    let body = serde_json::json!({
        "access_code": code.access_code, "client_id": code.client_id, "client_secret": code.client_secret,
    })
    .to_string();
    let out = partly_in(
        &std::env::temp_dir(),
        None,
        &["call", "integrations.insert", &body, "--show-secrets", "--base-url", &mock.url()],
        None,
    )
    .await;
    assert!(out.json()["api_key"].as_str().is_some_and(|k| k.len() > 8 && k != "***"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output_or_error() {
    let mock = mock().await;
    // A server (or proxy) echoing the key in an error body.
    mock.inject_fault(Fault::new("jobs.get").status(500).body(format!("bad key {DEMO_API_KEY}")).times(10))
        .expect("fault");
    let dir = temp_dir("secrets");
    write_vins(&dir.join("vins.txt"), 5);
    mock.inject_fault(
        Fault::new("tier1.prepare")
            .status(401)
            .body(format!("{{\"type\":\"unauthorized\",\"message\":\"key {DEMO_API_KEY}\"}}")),
    )
    .expect("fault");
    let runs: Vec<Vec<&str>> = vec![
        vec!["jobs", "get", "--external", "x", "--max-retries", "0"],
        vec!["--json", "jobs", "get", "--external", "x", "--max-retries", "0"],
        vec!["jobs", "get", "--id", "nope"],
        vec!["call", "businesses.list"],
        vec!["doctor"],
        vec!["doctor", "--json"],
        vec!["preload", "vins.txt"],
        vec!["--json", "preload", "vins.txt", "--failures", "second.csv"],
        vec!["doctor", "--proxy", "http://user:hunter2-proxy-pass@127.0.0.1:9"],
        vec![
            "jobs",
            "get",
            "--external",
            "x",
            "--proxy",
            "http://user:hunter2-proxy-pass@127.0.0.1:9",
            "--max-retries",
            "0",
        ],
    ];
    for args in runs {
        let out = partly_in(&dir, Some(&mock), &args, None).await;
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(DEMO_API_KEY), "{args:?} printed the API key: {text}");
            assert!(!text.contains("hunter2-proxy-pass"), "{args:?} printed the proxy password: {text}");
        }
    }
    let failures = std::fs::read_to_string(dir.join("vins.failures.csv")).expect("failures written");
    assert!(failures.contains("AuthenticationError") && !failures.contains(DEMO_API_KEY), "{failures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_url_gives_a_url_and_its_state() {
    let mock = mock().await;
    let args = ["oauth", "url", "--client-id", "partly-demo-client", "--redirect-url", "http://127.0.0.1:5000/cb"];
    let out = partly_in(&std::env::temp_dir(), None, &[&args[..], &["--json"]].concat(), None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let state = v["state"].as_str().expect("state");
    assert_eq!(state.len(), 64);
    let url = url::Url::parse(v["url"].as_str().expect("url")).expect("a URL");
    assert_eq!(url.host_str(), Some("app.partly.com"));
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    assert_eq!(q["client_id"], "partly-demo-client");
    assert_eq!(q["redirect_url"], "http://127.0.0.1:5000/cb");
    assert_eq!(q["scopes"], r#"["repairer"]"#);

    let out = partly_in(
        &std::env::temp_dir(),
        None,
        &[&args[..], &["--endpoint", &mock.url(), "--scope", "supplier"]].concat(),
        None,
    )
    .await;
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("url:   {}/auth/integration/authorize?", mock.url())), "{}", out.stdout);
    assert!(lines[0].contains("supplier"));
    assert!(lines[1].starts_with("state: "));

    let out = partly_in(
        &std::env::temp_dir(),
        None,
        &["oauth", "url", "--client-id", "x", "--redirect-url", "not a url"],
        None,
    )
    .await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_the_path_to_the_api() {
    let mock = mock().await;
    let out = partly(&mock, &["doctor"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(&format!("ok: reached {}", mock.url())), "{}", out.stdout);
    assert!(out.stdout.contains("first_byte_ms:"));
    let out = partly(&mock, &["doctor", "--json"]).await;
    let v = out.json();
    assert_eq!(v["status"], 404);
    assert_eq!(v["connected_to"], mock.addr().to_string());
    assert!(mock.requests().iter().all(|r| !r.headers.contains_key("authorization")), "no credentials sent");

    // Nothing listening: exit status 1, the stage named.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let out =
        partly_in(&std::env::temp_dir(), None, &["doctor", "--base-url", &format!("http://{closed}")], None).await;
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("failed at tcp"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_prints_its_url_and_the_demo_credentials_and_stops_on_ctrl_c() {
    use tokio::io::AsyncBufReadExt;
    let mut cmd = command(&["mock", "--port", "0", "--latency-ms", "1"], &std::env::temp_dir());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next_line().await.expect("read").expect("a line");
    let url = first.strip_prefix("listening on ").expect("the URL line").to_string();
    let mut env = Vec::new();
    while env.len() < 3 {
        let line = lines.next_line().await.expect("read").expect("a line");
        if let Some(kv) = line.strip_prefix("export ") {
            let (k, v) = kv.split_once('=').expect("k=v");
            env.push((k.to_string(), v.to_string()));
        }
    }
    assert_eq!(env[0], ("PARTLY_BASE_URL".to_string(), url.clone()));
    assert_eq!(env[1].1, DEMO_API_KEY);
    // What it printed is enough to use it.
    let mut get = command(&["jobs", "get", "--external", partly_mock::DEMO_JOB_EXTERNAL_ID], &std::env::temp_dir());
    get.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str()))).stdout(Stdio::piped());
    let out = get.output().await.expect("jobs get");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(partly_mock::DEMO_JOB_ID));

    let pid = child.id().expect("pid") as i32;
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await.expect("stopped").expect("status");
    assert_eq!(status.code(), Some(0), "Ctrl-C stops it cleanly");

    // --json: one line to parse; stopped right away by SIGTERM.
    let mut cmd = command(&["mock", "--json"], &std::env::temp_dir());
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let v: Value = serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(v["api_key"], DEMO_API_KEY);
    assert!(v["url"].as_str().is_some_and(|u| u.starts_with("http://127.0.0.1:")));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id().expect("pid") as i32, libc::SIGTERM) };
    assert_eq!(child.wait().await.expect("status").code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_of_10000_lines_from_a_file() {
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let dir = temp_dir("preload10k");
    write_vins(&dir.join("vins.txt"), 10_000);
    let out = partly_in(&dir, Some(&mock), &["--json", "preload", "vins.txt"], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = out.json();
    assert_eq!(summary["total"], 10_000);
    assert_eq!(summary["accepted"], 10_000);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["requests"], 100);
    assert_eq!(mock.prepared_identifiers(), 10_000);
    let sent: BTreeSet<String> = sent_identifiers(&mock).into_iter().collect();
    let expected: BTreeSet<String> = (0..10_000).map(chassis).collect();
    assert_eq!(sent, expected, "every line sent once");
    assert!(!dir.join("vins.failures.csv").exists(), "no failures file when nothing failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_reads_csv_columns_plates_and_stdin() {
    let mock = mock().await;
    let dir = temp_dir("csv");
    std::fs::write(
        dir.join("fleet.csv"),
        "Fleet No,VIN,Rego,State\n1,JH4KA7561PC008269,,\n2,,\"ABC 123\",NSW\n3,WVWZZZ1JZXW000001,XYZ9,VIC\n\n",
    )
    .expect("write");
    let out = partly_in(
        &dir,
        Some(&mock),
        &["preload", "fleet.csv", "--column", "VIN", "--plate-column", "Rego", "--region-column", "State"],
        None,
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("preloaded fleet.csv: 3 read, 3 accepted, 0 failed"), "{}", out.stdout);
    let sent = sent_identifiers(&mock);
    assert_eq!(
        sent,
        vec![
            r#"{"chassis_number":"JH4KA7561PC008269"}"#,
            r#"{"plate":"ABC 123","region":"NSW"}"#,
            r#"{"plate":"XYZ9","region":"VIC"}"#
        ],
        "a plate wins over the chassis number"
    );

    // Default columns, and one identifier per line from stdin (JSON objects too).
    mock.reset();
    std::fs::write(dir.join("auto.csv"), "chassis_number,plate,region\nA1,,\n,P2,\n").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "auto.csv"], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out =
        partly_in(&dir, Some(&mock), &["preload", "-"], Some("L1\n\n{\"plate\": \"P3\", \"region\": \"NZ\"}\nL2\n"))
            .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        sent_identifiers(&mock),
        vec![
            r#"{"chassis_number":"A1"}"#,
            r#"{"plate":"P2"}"#,
            r#"{"chassis_number":"L1"}"#,
            r#"{"plate":"P3","region":"NZ"}"#,
            r#"{"chassis_number":"L2"}"#
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_writes_failures_that_can_be_fed_back() {
    let mock = mock().await;
    let dir = temp_dir("failures");
    write_vins(&dir.join("vins.txt"), 250);
    // The second request (identifiers 100..200) is refused.
    mock.inject_fault(Fault::new("tier1.prepare").times(1).delay_ms(0)).expect("pass one");
    mock.inject_fault(Fault::new("tier1.prepare").status(400).body(r#"{"type":"invalid_identifier"}"#)).expect("fault");
    let out = partly_in(&dir, Some(&mock), &["preload", "vins.txt", "--concurrency", "1"], None).await;
    assert_eq!(out.code, 1, "not everything was accepted: {}", out.stderr);
    assert!(out.stdout.contains("150 accepted, 100 failed"), "{}", out.stdout);
    assert!(out.stdout.contains("failures: vins.failures.csv"), "{}", out.stdout);
    let mut reader = csv::Reader::from_path(dir.join("vins.failures.csv")).expect("failures file");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 100);
    assert_eq!(&rows[0][0], "101", "the line number");
    assert_eq!(&rows[0][1], vin(100));
    assert_eq!(&rows[0][4], "BadRequestError");
    assert!(rows[0][5].contains("invalid_identifier"), "{:?}", rows[0]);

    mock.reset();
    let out = partly_in(&dir, Some(&mock), &["preload", "vins.failures.csv"], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent: BTreeSet<String> = sent_identifiers(&mock).into_iter().collect();
    assert_eq!(sent, (100..200).map(chassis).collect::<BTreeSet<_>>(), "exactly the failed ones again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_resumes_after_sigkill_sending_exactly_the_missing_identifiers() {
    let mock =
        MockServer::start(MockConfig { latency: Duration::from_millis(20), ..Default::default() }).await.expect("mock");
    let dir = temp_dir("resume");
    let n = 10_000;
    write_vins(&dir.join("vins.txt"), n);
    let args = ["preload", "vins.txt", "--checkpoint", "vins.checkpoint", "--concurrency", "2"];
    let mut cmd = command(&args, &dir);
    cmd.env("PARTLY_BASE_URL", mock.url())
        .env("PARTLY_API_KEY", DEMO_API_KEY)
        .env("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    // Wait until the checkpoint records a part of the run, then kill it hard.
    let checkpoint = dir.join("vins.checkpoint");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if std::fs::read_to_string(&checkpoint).ok().is_some_and(|t| t.contains("[[0,"))
            && mock.prepared_identifiers() >= 2_500
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no checkpoint written");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("killed");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&checkpoint).expect("checkpoint")).expect("json");
    let mut done = BTreeSet::new();
    for r in saved["accepted"].as_array().expect("ranges") {
        for i in r[0].as_u64().expect("start")..r[1].as_u64().expect("end") {
            done.insert(i as usize);
        }
    }
    assert!(!done.is_empty() && done.len() < n, "killed midway: {} recorded", done.len());
    let before: BTreeSet<String> = sent_identifiers(&mock).into_iter().collect();
    assert!(done.iter().all(|&i| before.contains(&chassis(i))), "the checkpoint holds only what the server accepted");

    mock.reset();
    let out = partly_in(&dir, Some(&mock), &[&args[..], &["--json"]].concat(), None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = out.json();
    assert_eq!(summary["skipped"], done.len());
    assert_eq!(summary["accepted"], n - done.len());
    let resent: Vec<String> = sent_identifiers(&mock);
    let expected: BTreeSet<String> = (0..n).filter(|i| !done.contains(i)).map(chassis).collect();
    assert_eq!(resent.len(), expected.len(), "each missing identifier sent once");
    assert_eq!(resent.into_iter().collect::<BTreeSet<_>>(), expected, "exactly the missing identifiers");
    assert!(
        out.stderr.contains(&format!("{} identifiers already accepted were skipped", done.len())),
        "{}",
        out.stderr
    );

    // Run again: nothing left to send.
    mock.reset();
    let out = partly_in(&dir, Some(&mock), &args, None).await;
    assert_eq!(out.code, 0);
    assert!(mock.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_prints_plain_progress_lines_without_a_terminal() {
    let mock =
        MockServer::start(MockConfig { latency: Duration::from_millis(30), ..Default::default() }).await.expect("mock");
    let dir = temp_dir("plain");
    write_vins(&dir.join("vins.txt"), 2_000);
    let out = partly_in(
        &dir,
        Some(&mock),
        &["preload", "vins.txt", "--concurrency", "1", "--progress-interval", "0.05"],
        None,
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let progress: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("preload: ")).collect();
    assert!(!progress.is_empty(), "no progress line: {}", out.stderr);
    assert!(progress[0].contains(" of 2000 done (") && progress[0].contains("/s"), "{}", progress[0]);
    assert!(!out.stderr.contains('\r') && !out.stderr.contains('\u{1b}'), "no terminal codes in a pipe");
}

/// Runs `partly` with its stderr on a pseudo-terminal and returns what the terminal received.
#[cfg(unix)]
fn run_on_pty(dir: &Path, mock: &MockServer, args: &[&str]) -> (i32, String) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors; we own them from here on.
    let rc =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: fresh descriptors owned by nobody else.
    let (master, slave) = unsafe { (std::fs::File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("PARTLY_BASE_URL", mock.url())
        .env("PARTLY_API_KEY", DEMO_API_KEY)
        .env("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().expect("spawn");
    drop(cmd); // our copy of the slave: the master reads EOF (EIO) once the child exits
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let status = child.wait().expect("wait");
    let out = reader.join().expect("reader");
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&out).into_owned())
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_draws_a_progress_bar_on_a_terminal() {
    let mock =
        MockServer::start(MockConfig { latency: Duration::from_millis(20), ..Default::default() }).await.expect("mock");
    let dir = temp_dir("pty");
    write_vins(&dir.join("vins.txt"), 3_000);
    let (code, screen) = {
        let (dir, mock) = (&dir, &mock);
        tokio::task::block_in_place(|| run_on_pty(dir, mock, &["preload", "vins.txt", "--concurrency", "2"]))
    };
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("ETA"), "no ETA: {screen:?}");
    assert!(screen.contains("/s"), "no rate: {screen:?}");
    assert!(screen.contains("3000/3000"), "the bar reaches the total: {screen:?}");
    assert!(screen.contains("0 failed"), "failures shown: {screen:?}");
    assert!(screen.contains('\r') || screen.contains("\u{1b}["), "redrawn in place: {screen:?}");
    assert!(!screen.contains("preload: "), "no plain lines on a terminal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_bad_input_gives_one_clear_line_and_sends_nothing() {
    let mock = mock().await;
    let dir = temp_dir("badinput");
    // A missing file.
    let out = partly_in(&dir, Some(&mock), &["preload", "missing.csv"], None).await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr_lines(), vec!["partly: cannot read missing.csv: no such file"]);
    // A directory.
    let out = partly_in(&dir, Some(&mock), &["preload", "."], None).await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    // An unknown column.
    std::fs::write(dir.join("fleet.csv"), "vin,plate\nA1,\n").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "fleet.csv", "--column", "chassis"], None).await;
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr_lines(),
        vec![r#"partly: fleet.csv: --column "chassis": no such column in the header (its columns: "vin", "plate")"#]
    );
    std::fs::write(dir.join("none.csv"), "make,model\nToyota,Corolla\n").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "none.csv"], None).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--column NAME"), "{}", out.stderr);
    assert!(mock.requests().is_empty(), "nothing sent for a file that cannot be used");

    // A malformed row: stops there, naming the line; what came before was sent.
    std::fs::write(dir.join("broken.csv"), "vin,plate\nA1,\nA2,,extra\nA3,\n").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "broken.csv"], None).await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr_lines(), vec!["partly: broken.csv:3: malformed CSV row: it has 3 fields, the header has 2"]);
    assert_eq!(sent_identifiers(&mock), vec![r#"{"chassis_number":"A1"}"#]);

    // A row with nothing in it is a failure of its own, in the failures file.
    mock.reset();
    std::fs::write(dir.join("gaps.csv"), "vin,plate\nA1,\n,\nA3,\n").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "gaps.csv"], None).await;
    assert_eq!(out.code, 1);
    let failures = std::fs::read_to_string(dir.join("gaps.failures.csv")).expect("failures");
    assert!(
        failures.contains(
            "3,,,,ValidationError,tier1.prepare: identifiers[1]: line 3: no chassis number or plate in this row"
        ),
        "{failures}"
    );
    assert_eq!(mock.prepared_identifiers(), 2);

    // A bad checkpoint file.
    std::fs::write(dir.join("notes.txt"), "hello").expect("write");
    let out = partly_in(&dir, Some(&mock), &["preload", "gaps.csv", "--checkpoint", "notes.txt"], None).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("partly: ") && out.stderr.contains("checkpoint notes.txt"), "{}", out.stderr);
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_adapts_to_a_rate_limited_server_and_mock_takes_rate_limit() {
    let mock = MockServer::start(MockConfig { rate_limit: Some(100.0), rate_burst: Some(5), ..Default::default() })
        .await
        .expect("mock");
    let dir = temp_dir("ratelimit");
    write_vins(&dir.join("vins.txt"), 3_000);
    let out = partly_in(&dir, Some(&mock), &["--json", "preload", "vins.txt", "--progress-interval", "0"], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = out.json();
    assert_eq!(summary["accepted"], 3_000, "every identifier accepted despite the 429s");
    assert!(summary["throttled"].as_u64().is_some_and(|t| t > 0), "the server throttled: {summary}");
    assert_eq!(mock.prepared_identifiers(), 3_000);

    // `partly mock` passes --rate-limit to the mock; a bad value is one clear line.
    let out = partly_in(&dir, None, &["mock", "--rate-limit=-1"], None).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("partly mock: "), "{}", out.stderr);
}
