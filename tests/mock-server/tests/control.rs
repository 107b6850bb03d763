//! The control surface (HTTP and Rust), the request log, reset, lifecycle and the binary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use partly_mock::*;
use serde_json::{json, Value};

async fn control(
    client: &reqwest::Client,
    server: &MockServer,
    method: &str,
    route: &str,
    body: Option<Value>,
) -> Reply {
    let url = format!("{}/__mock/{route}", server.url());
    let req = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    };
    let req = match body {
        Some(b) => req.body(b.to_string()),
        None => req,
    };
    reply(req.send().await.unwrap()).await
}

#[tokio::test]
async fn health() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = control(&client, &server, "GET", "health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"ok": true}));
    assert!(server.requests().is_empty(), "control routes are not logged");
}

#[tokio::test]
async fn access_codes_over_http() {
    let server = start().await;
    let client = reqwest::Client::new();

    let minted = control(&client, &server, "POST", "access_codes", Some(json!({}))).await;
    assert_eq!(minted.status, 200);
    let minted = minted.json();
    assert_eq!(minted["client_id"], DEMO_CLIENT_ID);
    assert_eq!(minted["client_secret"], DEMO_CLIENT_SECRET);
    assert_eq!(minted["expires_in_secs"], 900);
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({
            "access_code": minted["access_code"],
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }),
    )
    .await;
    assert_eq!(r.status, 200);

    // An empty body mints a default code too; expires_in_secs 0 is already expired.
    let r = control(&client, &server, "POST", "access_codes", None).await;
    assert_eq!(r.json()["expires_in_secs"], 900);
    let expired = control(&client, &server, "POST", "access_codes", Some(json!({"expires_in_secs": 0}))).await;
    let expired = expired.json();
    assert_eq!(expired["expires_in_secs"], 0);
    let r = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({
            "access_code": expired["access_code"],
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }),
    )
    .await;
    r.assert_error(400, "invalid_access_code");
}

#[tokio::test]
async fn faults_over_http() {
    let server = start().await;
    let client = reqwest::Client::new();
    let r = control(
        &client,
        &server,
        "POST",
        "faults",
        Some(json!({
            "method": "jobs.get", "times": 1, "action": "respond", "status": 503,
            "body": "busy", "headers": {"retry-after": "2"}, "delay_ms": 0,
            "trickle_interval_ms": 50, "trickle_chunk_bytes": 1
        })),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({}));
    let r = call(&client, &server, "jobs.get", &json!({"identity": {"id": DEMO_JOB_ID}})).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.text, "busy");
    assert_eq!(r.header("retry-after"), Some("2"));
}

#[tokio::test]
async fn unknown_control_routes_and_methods() {
    let server = start().await;
    let client = reqwest::Client::new();
    assert_eq!(control(&client, &server, "GET", "nope", None).await.status, 404);
    assert_eq!(control(&client, &server, "GET", "reset", None).await.status, 405);
    assert_eq!(control(&client, &server, "POST", "requests", None).await.status, 405);
    let r = control(&client, &server, "POST", "access_codes", Some(json!({"expires_in_secs": "soon"}))).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_request_log_records_what_the_server_received() {
    let server = start().await;
    let client = reqwest::Client::new();
    let body = json!({"identity": {"external": DEMO_JOB_EXTERNAL_ID}});
    call(&client, &server, "repairer.jobs.get", &body).await;
    let resp = client
        .post(method_url(&server, "businesses.list"))
        .header("x-repeat", "a")
        .header("x-repeat", "b")
        .header("X-Mixed-Case", "v")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "no partly-integration-id");
    client.get(method_url(&server, "jobs.get")).send().await.unwrap();

    let log = server.requests();
    assert_eq!(log.len(), 3);
    let first = &log[0];
    assert_eq!(first.method, "repairer.jobs.get");
    assert_eq!(first.path, "/api/2026-01/repairer.jobs.get");
    assert_eq!(first.http_method, "POST");
    assert_eq!(first.headers["authorization"], format!("Bearer {DEMO_API_KEY}"));
    assert_eq!(first.headers["partly-integration-id"], DEMO_INTEGRATION_ID);
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(serde_json::from_str::<Value>(&first.body).unwrap(), body);
    assert_eq!(first.status, Some(200));
    assert!(!first.fault);

    let second = &log[1];
    assert_eq!(second.method, "businesses.list");
    assert_eq!(second.headers["x-repeat"], "a, b");
    assert_eq!(second.headers["x-mixed-case"], "v");
    assert_eq!(second.body, "");
    assert_eq!(second.status, Some(400));

    assert_eq!(log[2].http_method, "GET");
    assert_eq!(log[2].status, Some(405));

    // Over HTTP: the same entries as JSON.
    let r = control(&client, &server, "GET", "requests", None).await;
    let entries: Vec<RecordedRequest> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(entries, log);
    let raw: Value = r.json();
    assert_eq!(raw[0]["status"], 200);
    assert_eq!(raw[2]["fault"], false);
}

#[tokio::test]
async fn the_request_log_is_capped() {
    let server = MockServer::start(MockConfig { log_capacity: Some(3), ..MockConfig::default() }).await.unwrap();
    let client = reqwest::Client::new();
    for i in 0..5 {
        client.post(method_url(&server, "businesses.list")).body(format!("{{\"n\":{i}}}")).send().await.unwrap();
    }
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [r#"{"n":2}"#, r#"{"n":3}"#, r#"{"n":4}"#]);
}

#[tokio::test]
async fn reset_restores_the_seed() {
    let server = start().await;
    let client = reqwest::Client::new();

    // Change everything reset must undo.
    let code = server.mint_access_code();
    let unused = server.mint_access_code();
    let installed = call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({
            "access_code": code.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
        }),
    )
    .await
    .json();
    let key = installed["api_key"].as_str().unwrap().to_owned();
    let integration = installed["integration_id"].as_str().unwrap().to_owned();
    call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID, "claim_number": "CHANGED"},
            "identity": {"external": DEMO_JOB_EXTERNAL_ID}, "if_": {"exists": "replace"}
        }),
    )
    .await;
    call(
        &client,
        &server,
        "jobs.insert",
        &json!({
            "data": {"repairer_site_id": DEMO_SITE_ID}, "identity": {"external": "NEW-1"}
        }),
    )
    .await;
    call(&client, &server, "tier1.prepare", &json!({"identifiers": [{"plate": "A"}]})).await;
    server.inject_fault(Fault::new("*").status(500).times(100)).unwrap();
    assert_eq!(server.prepared_identifiers(), 1);

    let r = control(&client, &server, "POST", "reset", None).await;
    assert_eq!(r.status, 200);

    assert!(server.requests().is_empty());
    assert_eq!(server.prepared_identifiers(), 0);
    let job = call(&client, &server, "jobs.get", &json!({"identity": {"id": DEMO_JOB_ID}})).await;
    assert_eq!(job.status, 200, "faults are cleared");
    assert_eq!(job.json()["claim_number"], DEMO_CLAIM_NUMBER);
    call(&client, &server, "jobs.get", &json!({"identity": {"external": "NEW-1"}}))
        .await
        .assert_error(404, "not_found");
    call_as(&client, &server, "businesses.list", &key, &integration, &json!({}))
        .await
        .assert_error(401, "unauthorized");
    call_anon(
        &client,
        &server,
        "integrations.insert",
        &json!({
            "access_code": unused.access_code, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
        }),
    )
    .await
    .assert_error(400, "invalid_access_code");

    // The Rust method does the same.
    server.inject_fault(Fault::new("*").status(500)).unwrap();
    server.reset();
    assert_eq!(call(&client, &server, "businesses.list", &json!({})).await.status, 200);
}

#[tokio::test]
async fn latency_delays_api_answers() {
    let server =
        MockServer::start(MockConfig { latency: Duration::from_millis(150), ..MockConfig::default() }).await.unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let r = call(&client, &server, "businesses.list", &json!({})).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn chaos_faults_a_share_of_calls() {
    let server = MockServer::start(MockConfig { chaos_rate: 0.3, ..MockConfig::default() }).await.unwrap();
    let mut ok = 0;
    let mut faulted = 0;
    for _ in 0..300 {
        // A fresh connection each time: some chaos faults close the connection.
        let client = reqwest::Client::new();
        match client
            .post(method_url(&server, "businesses.list"))
            .header("authorization", format!("Bearer {DEMO_API_KEY}"))
            .header("partly-integration-id", DEMO_INTEGRATION_ID)
            .body("{}")
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => match r.text().await {
                Ok(t) if serde_json::from_str::<Value>(&t).is_ok() => ok += 1,
                _ => faulted += 1,
            },
            _ => faulted += 1,
        }
    }
    let logged = server.requests();
    assert_eq!(logged.len(), 300);
    let marked = logged.iter().filter(|r| r.fault).count();
    // 30% of 300 = 90 expected; a deterministic generator per seed, so allow a wide band.
    assert!((40..=140).contains(&marked), "{marked} of 300 calls faulted");
    // close_after answers correctly (then closes), so it counts as ok from the client's side.
    assert!(faulted <= marked && ok + faulted == 300, "ok {ok}, faulted {faulted}, marked {marked}");
    assert!(faulted > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_open_connections_and_does_not_hang() {
    let server = start().await;
    let addr = server.addr();
    let client = reqwest::Client::new();
    // A pooled keep-alive connection, and a response trickling for a long time.
    assert_eq!(call(&client, &server, "businesses.list", &json!({})).await.status, 200);
    server.inject_fault(Fault::new("jobs.get").trickle(60_000, 1)).unwrap();
    let slow = client
        .post(method_url(&server, "jobs.get"))
        .body(json!({"identity": {"id": DEMO_JOB_ID}}).to_string())
        .send()
        .await
        .unwrap();

    tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await.expect("shutdown returns");
    assert!(slow.text().await.is_err(), "the trickling answer was cut");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no longer listening");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = start().await;
    let addr = server.addr();
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still listening after drop");
        tokio::task::yield_now().await;
    }
}

#[test]
fn the_binary_prints_its_url_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partly-mock"))
        .args(["--port", "0", "--latency-ms", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn partly-mock");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let authority = url.strip_prefix("http://127.0.0.1:").expect("a loopback URL");
    let port: u16 = authority.parse().expect("a port");
    assert_ne!(port, 0);

    // It serves.
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET /__mock/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"ok":true}"#), "{answer}");

    // SIGTERM stops it cleanly.
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("partly-mock did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[test]
fn the_binary_with_tls_prints_its_https_url_and_ca_file() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partly-mock"))
        .args(["--port", "0", "--tls"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn partly-mock --tls");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let url = first.trim_end().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = second.trim_end().strip_prefix("ca certificate ").unwrap_or_else(|| panic!("{second:?}")).to_owned();
    let pem = std::fs::read_to_string(&ca).expect("the CA file exists while the mock runs");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!std::path::Path::new(&ca).exists(), "its temporary CA file is removed when it stops");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_is_set_over_http() {
    let server = MockServer::start(MockConfig { rate_limit: Some(1.0), rate_burst: Some(2), ..MockConfig::default() })
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let body = json!({"identifiers": [{"chassis_number": "A"}, {"chassis_number": "B"}]});
    // The burst of 2 passes, the third call within the second is refused.
    for _ in 0..2 {
        assert_eq!(call(&client, &server, "tier1.prepare", &body).await.status, 200);
    }
    let refused = call(&client, &server, "tier1.prepare", &body).await;
    refused.assert_error(429, "rate_limited");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(server.rate_limited(), 1);
    let stats = server.prepared_stats();
    assert_eq!((stats.identifiers, stats.distinct, stats.duplicates), (4, 2, 2), "the same two twice");
    let over_http = control(&client, &server, "GET", "prepared", None).await.json();
    assert_eq!(over_http, json!({"identifiers": 4, "distinct": 2, "duplicates": 2}));

    // Lifted over the control surface, calls pass again; set again, it applies at once.
    let r = control(&client, &server, "POST", "rate_limit", Some(json!({"rps": null}))).await.json();
    assert_eq!(r, json!({"rate_limit": null, "refused": 1}));
    assert_eq!(call(&client, &server, "tier1.prepare", &body).await.status, 200);
    let r = control(&client, &server, "POST", "rate_limit", Some(json!({"rps": 5, "burst": 1}))).await.json();
    assert_eq!(r["rate_limit"], json!({"rps": 5.0, "burst": 1}));
    assert_eq!(call(&client, &server, "tier1.prepare", &body).await.status, 200);
    call(&client, &server, "tier1.prepare", &body).await.assert_error(429, "rate_limited");
    let bad = control(&client, &server, "POST", "rate_limit", Some(json!({"rps": -1}))).await;
    bad.assert_text(400, "rate limit must be a positive number");
    assert!(server.set_rate_limit(Some((2.0, Some(0)))).is_err());
    assert!(MockServer::start(MockConfig { rate_limit: Some(0.0), ..MockConfig::default() }).await.is_err());
}
