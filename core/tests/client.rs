//! The core client against `partly-mock`: what a user would check, and what the server received.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use partly::{
    CallOptions, Client, ErrorKind, InstallRequest, JobData, JobIdentity, JobInsert, PrepareAllOptions,
    PrepareProgress, VehicleIdentifier,
};
use serde_json::{json, Value};

use common::{client, fault, mock, requests_for};

#[tokio::test]
async fn sends_the_documented_headers_and_body() {
    let mock = mock().await;
    let c = client(&mock);
    c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    let reqs = requests_for(&mock, "jobs.get");
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/api/2026-01/jobs.get");
    assert_eq!(r.http_method, "POST");
    assert_eq!(r.headers["authorization"], format!("Bearer {}", partly_mock::DEMO_API_KEY));
    assert_eq!(r.headers["partly-integration-id"], partly_mock::DEMO_INTEGRATION_ID);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["accept"], "application/json");
    let ua = &r.headers["user-agent"];
    assert!(ua.starts_with(&format!("partly-rust/{} (rust; ", partly::VERSION)), "{ua}");
    let tp = &r.headers["traceparent"];
    assert!(tp.starts_with("00-") && tp.len() == 55, "{tp}");
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body, json!({"identity": {"external": "CCC-2026-04817"}}));
}

#[tokio::test]
async fn every_method_round_trip() {
    let mock = mock().await;
    let c = client(&mock);
    // jobs.get by external and by id
    let job = c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    assert_eq!(job.id.to_string(), partly_mock::DEMO_JOB_ID);
    assert!(job.status.is_draft());
    let again = c.jobs().get(JobIdentity::Id(job.id)).await.unwrap();
    assert_eq!(again, job);
    // jobs.insert: create, then update merges, replace overwrites
    let site = job.site_id;
    let mut data = JobData::new(site);
    data.claim_number = Some("CLM-1".into());
    data.job_number = Some("J-1".into());
    let created = c.jobs().insert(JobInsert::new(JobIdentity::external("NEW-1"), data)).await.unwrap();
    assert_eq!(created.external_id.as_deref(), Some("NEW-1"));
    let mut upd = JobData::new(site);
    upd.claim_number = Some("CLM-2".into());
    let updated = c.jobs().insert(JobInsert::new(JobIdentity::external("NEW-1"), upd.clone())).await.unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.claim_number.as_deref(), Some("CLM-2"));
    assert_eq!(updated.job_number.as_deref(), Some("J-1"), "update keeps fields not given");
    let replaced = c
        .jobs()
        .insert(JobInsert::new(JobIdentity::external("NEW-1"), upd).if_exists(partly::IfExists::Replace))
        .await
        .unwrap();
    assert_eq!(replaced.job_number, None, "replace drops fields not given");
    let body: Value = serde_json::from_str(&requests_for(&mock, "jobs.insert").last().unwrap().body).unwrap();
    assert_eq!(body["if_"], json!({"exists": "replace"}));
    // tier1.prepare
    c.tier1()
        .prepare(vec![
            VehicleIdentifier::chassis_number("JH4KA7561PC008269"),
            VehicleIdentifier::plate("ABC123", Some("NZ".into())),
        ])
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&requests_for(&mock, "tier1.prepare")[0].body).unwrap();
    assert_eq!(
        body,
        json!({"identifiers": [{"chassis_number": "JH4KA7561PC008269"}, {"plate": "ABC123", "region": "NZ"}]})
    );
    // integrations.insert with a minted code, then the new key works
    let minted = mock.mint_access_code();
    let anon = common::builder(&mock).build().unwrap();
    let installed = anon
        .integrations()
        .insert(InstallRequest::new(minted.access_code.clone(), minted.client_id.clone(), minted.client_secret.clone()))
        .await
        .unwrap();
    let r = &requests_for(&mock, "integrations.insert")[0];
    assert!(!r.headers.contains_key("authorization"), "install sends no credentials");
    let fresh = common::builder(&mock)
        .api_key(installed.api_key.expose())
        .integration_id(installed.integration_id.to_string())
        .build()
        .unwrap();
    fresh.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    // the code is single use
    let err = anon
        .integrations()
        .insert(InstallRequest::new(minted.access_code.clone(), minted.client_id, minted.client_secret))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(!err.to_string().contains(&minted.access_code));
    // generic call
    let v = c.call("businesses.list", json!({})).await.unwrap();
    assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
}

#[tokio::test]
async fn expired_access_code_is_refused() {
    let mock = mock().await;
    let minted = mock.mint_access_code_expiring_in(0);
    let anon = common::builder(&mock).build().unwrap();
    let err = anon
        .integrations()
        .insert(InstallRequest::new(minted.access_code, minted.client_id, minted.client_secret))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(err.code(), Some("invalid_access_code"));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mock = mock().await;
    mock.inject_fault(fault(json!({"method": "jobs.get", "status": 429, "body": "{\"type\":\"rate_limited\"}", "headers": {"retry-after": "1", "content-type": "application/json"}})))
        .unwrap();
    let c = client(&mock);
    let started = Instant::now();
    c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert_eq!(requests_for(&mock, "jobs.get").len(), 2);
}

#[tokio::test]
async fn retry_after_as_http_date() {
    let mock = mock().await;
    let when = httpdate_in(2);
    mock.inject_fault(fault(json!({"method": "jobs.get", "status": 503, "headers": {"retry-after": when}}))).unwrap();
    let c = client(&mock);
    let started = Instant::now();
    c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    // An HTTP date has one-second resolution: the wait is between 1 and 2 seconds.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(requests_for(&mock, "jobs.get").len(), 2);
}

fn httpdate_in(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs))
}

#[tokio::test]
async fn timeout_covers_a_trickling_body() {
    let mock = mock().await;
    mock.inject_fault(fault(
        json!({"method": "jobs.get", "action": "trickle", "trickle_interval_ms": 100, "trickle_chunk_bytes": 1}),
    ))
    .unwrap();
    let c = client(&mock);
    let started = Instant::now();
    let err = c
        .jobs()
        .get_with(
            JobIdentity::external("CCC-2026-04817"),
            &CallOptions::default().timeout(Duration::from_millis(300)).max_retries(0),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout bounds the whole attempt");
}

#[tokio::test]
async fn idle_connection_closed_by_server_is_survived() {
    let mock = mock().await;
    let c = client(&mock);
    mock.inject_fault(fault(json!({"method": "jobs.get", "action": "close_after"}))).unwrap();
    c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    c.jobs().get_with(JobIdentity::external("CCC-2026-04817"), &CallOptions::default().max_retries(0)).await.unwrap();
}

/// A server (or proxy) that closes keep-alive connections ~1 ms after an answer: a pooled
/// connection may be closed just as the next request is written, which fails a request that
/// may have been sent. `integrations.insert` cannot be resent (the access code is single use),
/// so it must never meet such a connection: each install gets a new one, and none fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_never_meets_a_connection_the_server_closed() {
    let config = partly_mock::MockConfig { idle_timeout: Some(Duration::from_millis(1)), ..Default::default() };
    let mock = partly_mock::MockServer::start(config).await.unwrap();
    let c = common::builder(&mock).build().unwrap();
    const INSTALLS: usize = 60;
    let mut failures = Vec::new();
    for i in 0..INSTALLS {
        let code = mock.mint_access_code();
        if let Err(e) =
            c.integrations().insert(InstallRequest::new(code.access_code, code.client_id, code.client_secret)).await
        {
            failures.push(format!("install {i}: {e}"));
        }
        // The idle gap being tested (a user's next call comes ~1 ms later), not a wait for
        // anything: tokio's timer rounds it up to about the server's idle timeout.
        tokio::time::sleep(Duration::from_micros(500 + (i as u64 % 7) * 100)).await;
    }
    assert!(failures.is_empty(), "{} of {INSTALLS} installs failed: {failures:#?}", failures.len());
    let installs = requests_for(&mock, "integrations.insert");
    assert_eq!(installs.len(), INSTALLS, "each install sent exactly once");
    let connections: HashSet<u64> = installs.iter().map(|r| r.connection).collect();
    assert_eq!(connections.len(), INSTALLS, "each install on a connection of its own");
    // Methods safe to resend keep sharing pooled connections.
    let c = client(&mock);
    for _ in 0..5 {
        c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    }
    let gets = requests_for(&mock, "jobs.get");
    let reused: HashSet<u64> = gets.iter().map(|r| r.connection).collect();
    assert!(reused.len() < gets.len(), "back-to-back reads reuse a connection: {reused:?}");
}

#[tokio::test]
async fn nothing_listening_is_a_fast_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let c = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key("pk_x_123456")
        .integration_id("497f6eca-6276-4993-bfeb-53cbbbba6f08")
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap();
    let err = c.jobs().get(JobIdentity::external("X")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
    assert_eq!(err.attempts(), 3, "a connection never made is safe to retry");
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[tokio::test]
async fn trace_id_on_the_error_is_the_one_sent() {
    let mock = mock().await;
    let c = client(&mock);
    let err = c.jobs().get(JobIdentity::external("nope")).await.unwrap_err();
    let sent = &requests_for(&mock, "jobs.get")[0].headers["traceparent"];
    assert_eq!(sent.split('-').nth(1), err.trace_id());
    assert!(err.request_id().is_some(), "the mock sends x-request-id");
}

#[tokio::test]
async fn base_url_with_a_path_is_kept() {
    // A one-shot server standing in for a proxy at /partly.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let seen2 = seen.clone();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 8192];
        let mut got = Vec::new();
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
            if n == 0 || got.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&got).to_string();
        *seen2.lock().unwrap() = text.lines().next().unwrap_or("").to_string();
        let body = br#"{"items":[]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(body).await.unwrap();
    });
    let c = Client::builder()
        .base_url(format!("http://{addr}/partly/"))
        .api_key("pk_x_123456")
        .integration_id("497f6eca-6276-4993-bfeb-53cbbbba6f08")
        .build()
        .unwrap();
    assert_eq!(c.method_url("jobs.get"), format!("http://{addr}/partly/api/2026-01/jobs.get"));
    c.call("businesses.list", json!({})).await.unwrap();
    server.await.unwrap();
    assert_eq!(*seen.lock().unwrap(), "POST /partly/api/2026-01/businesses.list HTTP/1.1");
}

#[tokio::test]
async fn prepare_all_1050_in_11_requests_none_lost_or_duplicated() {
    let mock = mock().await;
    let c = client(&mock);
    let ids: Vec<VehicleIdentifier> =
        (0..1050).map(|i| VehicleIdentifier::chassis_number(format!("VIN{i:05}"))).collect();
    let seen: Arc<Mutex<Vec<PrepareProgress>>> = Arc::default();
    let seen2 = seen.clone();
    let opts = PrepareAllOptions {
        max_concurrency: 4,
        on_progress: Some(Arc::new(move |p| seen2.lock().unwrap().push(p))),
        ..Default::default()
    };
    let report = c.tier1().prepare_all(ids, opts).await.unwrap();
    assert_eq!((report.total, report.accepted, report.failed), (1050, 1050, 0));
    assert_eq!(report.requests, 11);
    assert!(report.failures().is_empty(), "accepted identifiers are counted, not kept");
    let reqs = requests_for(&mock, "tier1.prepare");
    assert_eq!(reqs.len(), 11);
    let mut all = Vec::new();
    for r in &reqs {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        let batch = body["identifiers"].as_array().unwrap();
        assert!(!batch.is_empty() && batch.len() <= 100);
        all.extend(batch.iter().map(|x| x["chassis_number"].as_str().unwrap().to_string()));
    }
    assert_eq!(all.len(), 1050, "nothing sent twice");
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 1050, "nothing lost");
    let progress = seen.lock().unwrap();
    assert_eq!(progress.len(), 12, "one per request, and the final one");
    assert!(progress.windows(2).all(|w| w[0].done <= w[1].done), "progress only moves forward");
    assert_eq!(progress[0].total, Some(1050));
    assert_eq!(progress.last().unwrap().done, 1050);
}

#[tokio::test]
async fn prepare_all_accounts_for_failed_batches() {
    let mock = mock().await;
    let c = client(&mock);
    // Two requests fail for good (a 400 is not retried); the rest succeed.
    mock.inject_fault(fault(
        json!({"method": "tier1.prepare", "times": 2, "status": 400, "body": "{\"type\":\"bad_request\"}"}),
    ))
    .unwrap();
    let ids: Vec<VehicleIdentifier> = (0..250).map(|i| VehicleIdentifier::chassis_number(format!("V{i}"))).collect();
    let report =
        c.tier1().prepare_all(ids, PrepareAllOptions { max_concurrency: 1, ..Default::default() }).await.unwrap();
    assert_eq!(report.total, 250);
    assert_eq!(report.accepted + report.failed, 250);
    assert_eq!(report.failed, 200, "the first two batches of 100 failed");
    let failures = report.failures();
    assert_eq!(failures.len(), 200);
    assert_eq!(failures[0].index, 0);
    assert_eq!(failures[0].error.kind(), ErrorKind::BadRequest);
    assert!(!report.is_success());
}

#[tokio::test]
async fn prepare_all_validates_options_before_sending_and_reports_a_bad_identifier() {
    let mock = mock().await;
    let c = client(&mock);
    for (opts, needle) in [
        (PrepareAllOptions { batch_size: 101, ..Default::default() }, "batch_size must be 1 to 100"),
        (PrepareAllOptions { batch_size: 0, ..Default::default() }, "batch_size must be 1 to 100"),
        (PrepareAllOptions { max_concurrency: 0, ..Default::default() }, "max_concurrency must be at least 1"),
        (PrepareAllOptions { max_rate: Some(-1.0), ..Default::default() }, "max_rate must be a positive number"),
        (PrepareAllOptions { deadline: Some(Duration::ZERO), ..Default::default() }, "deadline must be longer"),
    ] {
        let err = c.tier1().prepare_all(vec![VehicleIdentifier::from("A")], opts).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation);
        assert!(err.message().contains(needle), "{err} lacks {needle}");
    }
    assert!(mock.requests().is_empty());
    // A bad identifier deep in the input is reported at its index; the run goes on.
    let mut ids: Vec<VehicleIdentifier> =
        (0..150).map(|i| VehicleIdentifier::chassis_number(format!("V{i}"))).collect();
    ids[120] = VehicleIdentifier::chassis_number(" ");
    let report = c.tier1().prepare_all(ids, PrepareAllOptions::default()).await.unwrap();
    assert_eq!((report.total, report.accepted, report.failed), (150, 149, 1));
    let f = &report.failures()[0];
    assert_eq!(f.index, 120);
    assert_eq!(f.error.kind(), ErrorKind::Validation);
    assert!(f.error.message().contains("identifiers[120]: chassis_number is empty"), "{}", f.error);
    assert_eq!(mock.prepared_identifiers(), 149);
}

#[tokio::test]
async fn validation_errors_name_the_problem_and_send_nothing() {
    let mock = mock().await;
    let cases: Vec<(partly::Result<Client>, &str)> = vec![
        (common::builder(&mock).integration_id("not-a-uuid").build(), "integration_id"),
        (Client::builder().base_url("ftp://x").build(), "only http and https"),
        (Client::builder().base_url("http://partly.example.com").build(), "clear text"),
        (Client::builder().api_key("has space").build(), "api_key"),
        (Client::builder().timeout(Duration::ZERO).build(), "timeout"),
        (Client::builder().max_retries(11).build(), "max_retries of 11"),
    ];
    for (r, needle) in cases {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.to_string().contains(needle), "{e} lacks {needle}");
    }
    let c = client(&mock);
    let e = JobIdentity::from_parts(None, None).unwrap_err();
    assert!(e.message().contains("id") && e.message().contains("external"));
    let e = c.call("not a method", json!({})).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = c.call("businesses.list", json!([1])).await.unwrap_err();
    assert!(e.to_string().contains("JSON object"), "{e}");
    let e = c.jobs().insert(JobInsert::new(JobIdentity::external("X"), JobData::default())).await.unwrap_err();
    assert!(e.to_string().contains("repairer_site_id"), "{e}");
    let e = c
        .jobs()
        .get_with(JobIdentity::external("X"), &CallOptions::default().timeout(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = c
        .jobs()
        .get_with(JobIdentity::external("X"), &CallOptions::default().max_retries(1_000_000))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("max_retries of 1000000"), "{e}");
    let e = c
        .tier1()
        .prepare_all(
            vec![VehicleIdentifier::from("A")],
            PrepareAllOptions { call: CallOptions::default().max_retries(99), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(Client::builder().max_retries(10).build().is_ok(), "10 is the limit, allowed");
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn no_secret_in_debug_or_errors() {
    let mock = mock().await;
    let key = "pk_live_SUPERSECRETKEY123";
    let c = common::builder(&mock).api_key(key).integration_id(partly_mock::DEMO_INTEGRATION_ID).build().unwrap();
    let dbg = format!("{c:?} {:?}", c.config());
    assert!(!dbg.contains(key), "{dbg}");
    assert!(dbg.contains("Secret(***)"));
    let b = format!("{:?}", Client::builder().api_key(key));
    assert!(!b.contains(key));
    // The server echoes the key back in its error body: the SDK scrubs it.
    mock.inject_fault(fault(json!({"method": "jobs.get", "status": 401, "body": format!("{{\"type\":\"unauthorized\",\"message\":\"bad key {key}\"}}")})))
        .unwrap();
    let err = c.jobs().get(JobIdentity::external("X")).await.unwrap_err();
    for text in
        [err.to_string(), format!("{err:?}"), err.body().unwrap_or_default().to_string(), err.message().to_string()]
    {
        assert!(!text.contains(key), "{text}");
    }
    assert!(err.body().unwrap().contains("***"));
    let req = InstallRequest::new("code-SECRET-1", "client", "secret-SECRET-2");
    let d = format!("{req:?}");
    assert!(!d.contains("code-SECRET-1") && !d.contains("secret-SECRET-2"), "{d}");
    let minted = mock.mint_access_code();
    let anon = common::builder(&mock).build().unwrap();
    let resp = anon
        .integrations()
        .insert(InstallRequest::new(minted.access_code, minted.client_id, minted.client_secret))
        .await
        .unwrap();
    assert!(!format!("{resp:?}").contains(resp.api_key.expose()));
}

#[tokio::test]
async fn unknown_method_not_resent_unless_declared_idempotent() {
    let mock = mock().await;
    let c = client(&mock);
    mock.inject_fault(fault(json!({"method": "businesses.list", "times": 5, "status": 503}))).unwrap();
    let e = c.call("businesses.list", json!({})).await.unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (ErrorKind::Server, 1));
    mock.reset();
    mock.inject_fault(fault(json!({"method": "businesses.list", "times": 1, "status": 503}))).unwrap();
    let opts = CallOptions { idempotent: Some(true), ..Default::default() };
    c.call_with("businesses.list", json!({}), &opts).await.unwrap();
    assert_eq!(requests_for(&mock, "businesses.list").len(), 2);
}

#[tokio::test]
async fn ten_megabyte_body_is_read() {
    let mock = mock().await;
    let c = client(&mock);
    let big = "x".repeat(10 * 1024 * 1024);
    let body = json!({"id": partly_mock::DEMO_JOB_ID, "site_id": partly_mock::DEMO_SITE_ID, "status": {"type": "draft"}, "images": [], "blob": big}).to_string();
    mock.inject_fault(fault(
        json!({"method": "jobs.get", "status": 200, "body": body, "headers": {"content-type": "application/json"}}),
    ))
    .unwrap();
    let job = c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();
    assert_eq!(job.extra["blob"].as_str().map(str::len), Some(10 * 1024 * 1024));
}

#[tokio::test]
async fn client_is_shared_across_tasks() {
    let mock = mock().await;
    let c = client(&mock);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.jobs().get(JobIdentity::external("CCC-2026-04817")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(requests_for(&mock, "jobs.get").len(), 50);
}

#[test]
fn from_env_reads_the_three_variables() {
    // The only test touching the environment of this process.
    std::env::set_var("PARTLY_API_KEY", "pk_env_key_123");
    std::env::set_var("PARTLY_INTEGRATION_ID", "497f6eca-6276-4993-bfeb-53cbbbba6f08");
    std::env::set_var("PARTLY_BASE_URL", "https://proxy.example/partly");
    let c = Client::from_env().unwrap();
    assert!(c.config().has_api_key());
    assert_eq!(c.method_url("jobs.get"), "https://proxy.example/partly/api/2026-01/jobs.get");
    std::env::set_var("PARTLY_BASE_URL", "http://partly.example");
    let e = Client::from_env().unwrap_err();
    assert!(e.to_string().contains("PARTLY_BASE_URL"), "{e}");
    let c = partly::ClientBuilder::from_env().base_url("http://127.0.0.1:9").build().unwrap();
    assert_eq!(c.config().base_url().as_str(), "http://127.0.0.1:9/");
    for v in ["PARTLY_API_KEY", "PARTLY_INTEGRATION_ID", "PARTLY_BASE_URL"] {
        std::env::remove_var(v);
    }
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_refused() {
    let mock = mock().await;
    let c = common::builder(&mock)
        .api_key(partly_mock::DEMO_API_KEY)
        .integration_id(partly_mock::DEMO_INTEGRATION_ID)
        .max_response_bytes(64)
        .build()
        .unwrap();
    let err = c
        .jobs()
        .get_with(JobIdentity::external("CCC-2026-04817"), &CallOptions::default().max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
    assert!(err.to_string().contains("larger than max_response_bytes (64 bytes)"), "{err}");
    // The same call within the default limit (64 MiB) succeeds.
    client(&mock).jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap();

    // An error answer over the limit keeps its status class (DecodeError is for 2xx only),
    // whether its size is announced (content-length) or found while reading (chunked).
    let body = format!("{{\"type\":\"unavailable\",\"message\":\"{}\"}}", "z".repeat(200));
    for trickle in [false, true] {
        let mut f =
            json!({"method": "jobs.get", "status": 503, "body": body, "headers": {"content-type": "application/json"}});
        if trickle {
            f["action"] = json!("trickle");
            f["trickle_interval_ms"] = json!(1);
            f["trickle_chunk_bytes"] = json!(50);
        }
        mock.inject_fault(fault(f)).unwrap();
        let err = c
            .jobs()
            .get_with(JobIdentity::external("CCC-2026-04817"), &CallOptions::default().max_retries(0))
            .await
            .unwrap_err();
        assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(503)), "trickle {trickle}: {err:?}");
        assert!(err.to_string().contains("over max_response_bytes (64 bytes)"), "{err}");
        assert!(err.body().is_some_and(|b| b.starts_with("{\"type\":\"unavailable\"")), "{:?}", err.body());
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mock = mock().await;
    let c = client(&mock);
    mock.inject_fault(fault(
        json!({"method": "jobs.get", "status": 302, "headers": {"location": "http://127.0.0.1:9/elsewhere"}}),
    ))
    .unwrap();
    let err = c.jobs().get(JobIdentity::external("CCC-2026-04817")).await.unwrap_err();
    assert_eq!((err.kind(), err.status(), err.attempts()), (ErrorKind::Api, Some(302), 1));
    assert_eq!(requests_for(&mock, "jobs.get").len(), 1, "the API key was not sent anywhere else");
}

#[tokio::test]
async fn successful_calls_tell_their_status_request_id_trace_id_attempts_and_elapsed_time() {
    let mock = mock().await;
    let c = client(&mock);
    let got = c
        .jobs()
        .get_with_info(JobIdentity::external(partly_mock::DEMO_JOB_EXTERNAL_ID), &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(got.value.external_id.as_deref(), Some(partly_mock::DEMO_JOB_EXTERNAL_ID));
    assert_eq!((got.info.status, got.info.attempts), (200, 1));
    let sent = requests_for(&mock, "jobs.get");
    let traceparent = sent[0].headers.get("traceparent").expect("traceparent");
    assert_eq!(traceparent.split('-').nth(1), Some(got.info.trace_id.as_str()));
    assert!(got.info.request_id.as_deref().is_some_and(|r| !r.is_empty()), "{:?}", got.info);

    // A retried call: two attempts, and the wait counted in the elapsed time.
    mock.inject_fault(fault(json!({"method": "tier1.prepare", "times": 1, "status": 503, "delay_ms": 50}))).unwrap();
    let prepared = c
        .tier1()
        .prepare_with_info(vec![VehicleIdentifier::chassis_number("JH4KA7561PC008269")], &CallOptions::default())
        .await
        .unwrap();
    assert_eq!(prepared.info.attempts, 2);
    assert!(prepared.info.elapsed >= Duration::from_millis(50), "{:?}", prepared.info);
    let raw = c.call_with_info("businesses.list", json!({}), &CallOptions::default()).await.unwrap();
    assert!(raw.value.get("items").is_some());
    assert_eq!(raw.info.status, 200);
}
