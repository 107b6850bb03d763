//! Injected faults, observed from the client side.

mod common;

use std::time::{Duration, Instant};

use common::*;
use partly_mock::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn get_job() -> serde_json::Value {
    json!({"identity": {"external": DEMO_JOB_EXTERNAL_ID}})
}

#[tokio::test]
async fn respond_with_status_answers_exactly_that_then_clears() {
    let server = start().await;
    let client = reqwest::Client::new();
    server
        .inject_fault(
            Fault::new("jobs.get")
                .times(2)
                .status(503)
                .body("<html>upstream unavailable</html>")
                .header("retry-after", "1")
                .header("content-type", "text/html"),
        )
        .unwrap();
    for _ in 0..2 {
        let resp = client
            .post(method_url(&server, "jobs.get"))
            .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .body(get_job().to_string())
            .send()
            .await
            .unwrap();
        let r = reply(resp).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.text, "<html>upstream unavailable</html>");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.content_type(), Some("text/html"));
        // Exactly the fault's headers (plus hyper's framing and date).
        assert!(r.header("traceparent").is_none());
        assert!(r.header("x-request-id").is_none());
    }
    let r = call(&client, &server, "jobs.get", &get_job()).await;
    assert_eq!(r.status, 200);

    // Without a body: empty, and no content type.
    server.inject_fault(Fault::new("jobs.get").status(429)).unwrap();
    let r = call(&client, &server, "jobs.get", &get_job()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text, "");
    assert_eq!(r.content_type(), None);

    let log = server.requests();
    let faulted: Vec<_> = log.iter().map(|r| (r.status, r.fault)).collect();
    assert_eq!(faulted, [(Some(503), true), (Some(503), true), (Some(200), false), (Some(429), true)]);
}

#[tokio::test]
async fn faults_match_either_spelling_star_and_unknown_methods() {
    let server = start().await;
    let client = reqwest::Client::new();

    server.inject_fault(Fault::new("repairer.jobs.get").status(502)).unwrap();
    assert_eq!(call(&client, &server, "jobs.get", &get_job()).await.status, 502);
    server.inject_fault(Fault::new("jobs.get").status(502)).unwrap();
    assert_eq!(call(&client, &server, "repairer.jobs.get", &get_job()).await.status, 502);

    // A fault on another method leaves this one alone; faults apply oldest first.
    server.inject_fault(Fault::new("tier1.prepare").status(500)).unwrap();
    server.inject_fault(Fault::new("*").status(504)).unwrap();
    assert_eq!(call(&client, &server, "businesses.list", &json!({})).await.status, 504);
    assert_eq!(call(&client, &server, "businesses.list", &json!({})).await.status, 200);
    let r = call(&client, &server, "tier1.prepare", &json!({"identifiers": [{"plate": "A"}]})).await;
    assert_eq!(r.status, 500);

    // A method the mock does not serve can still be faulted (for generic calls).
    server.inject_fault(Fault::new("parts.search").status(503)).unwrap();
    assert_eq!(call(&client, &server, "parts.search", &json!({})).await.status, 503);
    assert_eq!(call(&client, &server, "parts.search", &json!({})).await.status, 404);
}

#[tokio::test]
async fn respond_without_status_delays_a_normal_answer() {
    let server = start().await;
    let client = reqwest::Client::new();
    server.inject_fault(Fault::new("jobs.get").delay_ms(200)).unwrap();
    let started = Instant::now();
    let r = call(&client, &server, "jobs.get", &get_job()).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], DEMO_JOB_ID);
    assert!(server.requests()[0].fault);
}

#[tokio::test]
async fn drop_closes_without_an_answer() {
    let server = start().await;
    let client = reqwest::Client::new();
    server.inject_fault(Fault::new("jobs.get").action(FaultAction::Drop)).unwrap();
    let err = client
        .post(method_url(&server, "jobs.get"))
        .body(get_job().to_string())
        .send()
        .await
        .expect_err("the connection is dropped");
    assert!(!err.is_status(), "{err:?}");

    let log = server.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, None);
    assert!(log[0].fault);

    // The server is fine afterwards.
    assert_eq!(call(&client, &server, "jobs.get", &get_job()).await.status, 200);
}

#[tokio::test]
async fn truncate_sends_half_the_body_then_closes() {
    let server = start().await;
    let client = reqwest::Client::new();
    let full = call(&client, &server, "jobs.get", &get_job()).await.text;

    server.inject_fault(Fault::new("jobs.get").action(FaultAction::Truncate)).unwrap();
    let resp = client
        .post(method_url(&server, "jobs.get"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .header("authorization", format!("Bearer {DEMO_API_KEY}"))
        .body(get_job().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(full.len() as u64));
    let err = resp.bytes().await.expect_err("the body is cut short");
    assert!(err.is_body() || err.is_decode(), "{err:?}");

    // Raw: exactly half the body arrives, then EOF.
    server.inject_fault(Fault::new("jobs.get").action(FaultAction::Truncate).status(500).body("0123456789")).unwrap();
    let raw = raw_exchange(&server, "jobs.get", &get_job().to_string()).await;
    assert!(raw.starts_with("HTTP/1.1 500"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("content-length: 10\r\n"), "{raw}");
    assert!(raw.ends_with("\r\n\r\n01234"), "{raw}");
}

#[tokio::test]
async fn trickle_sends_the_head_at_once_and_the_body_slowly() {
    let server = start().await;
    let client = reqwest::Client::new();
    let full = call(&client, &server, "jobs.get", &get_job()).await.text;
    let chunk = 64;
    let interval = Duration::from_millis(30);
    let chunks = full.len().div_ceil(chunk) as u32;

    server.inject_fault(Fault::new("jobs.get").trickle(interval.as_millis() as u64, chunk)).unwrap();
    let started = Instant::now();
    let resp = client
        .post(method_url(&server, "jobs.get"))
        .header("partly-integration-id", DEMO_INTEGRATION_ID)
        .header("authorization", format!("Bearer {DEMO_API_KEY}"))
        .body(get_job().to_string())
        .send()
        .await
        .unwrap();
    let head_at = Instant::now();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body = resp.text().await.unwrap();
    assert_eq!(body, full);
    assert!(started.elapsed() >= interval * chunks);
    // After the head arrived, at least all but the first pause were still to come.
    assert!(head_at.elapsed() >= interval * (chunks - 1));
}

#[tokio::test]
async fn close_after_closes_the_connection_after_a_normal_answer() {
    let server = start().await;
    let client = reqwest::Client::new();

    // Raw: a complete answer, then EOF (no `connection: close` warning first).
    server.inject_fault(Fault::new("jobs.get").action(FaultAction::CloseAfter)).unwrap();
    let raw = raw_exchange(&server, "jobs.get", &get_job().to_string()).await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(!raw.to_ascii_lowercase().contains("connection: close"), "{raw}");
    assert!(raw.ends_with('}'), "{raw}");

    // Through a pooling client: the answer is whole, and the next call works.
    let first = call(&client, &server, "businesses.list", &json!({})).await;
    assert_eq!(first.status, 200);
    server.inject_fault(Fault::new("businesses.list").action(FaultAction::CloseAfter)).unwrap();
    let faulted = call(&client, &server, "businesses.list", &json!({})).await;
    assert_eq!(faulted.status, 200);
    assert_eq!(faulted.json(), first.json());
    let next = call(&client, &server, "businesses.list", &json!({})).await;
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn advertise_length_announces_more_than_it_sends() {
    let server = start().await;
    server
        .inject_fault(Fault::new("jobs.get").status(503).body("{\"type\":\"unavailable\"}").advertise_length(1 << 30))
        .unwrap();
    let raw = raw_exchange(&server, "jobs.get", &get_job().to_string()).await;
    assert!(raw.starts_with("HTTP/1.1 503"), "{raw}");
    assert!(raw.contains("content-length: 1073741824"), "{raw}");
    assert!(raw.ends_with("{\"type\":\"unavailable\"}"), "{raw}");
}

#[tokio::test]
async fn idle_timeout_closes_a_keep_alive_connection_and_the_log_names_connections() {
    let config = partly_mock::MockConfig { idle_timeout: Some(Duration::from_millis(200)), ..Default::default() };
    let server = partly_mock::MockServer::start(config).await.unwrap();
    // A whole answer, then the server closes the idle connection by itself.
    let raw = raw_exchange(&server, "jobs.get", &get_job().to_string()).await;
    assert!(raw.starts_with("HTTP/1.1 200") && raw.ends_with('}'), "{raw}");
    // Requests on one connection share its number; a new connection gets the next one.
    let client = reqwest::Client::new();
    call(&client, &server, "businesses.list", &json!({})).await;
    call(&client, &server, "businesses.list", &json!({})).await;
    let log = server.requests();
    assert_eq!(log.iter().map(|r| r.connection).collect::<Vec<_>>(), vec![0, 1, 1]);
}

#[tokio::test]
async fn invalid_faults_are_rejected() {
    let server = start().await;
    assert!(server.inject_fault(Fault::new("jobs.get").status(42)).is_err());
    assert!(server.inject_fault(Fault::new("jobs.get").times(0)).is_err());
    assert!(server.inject_fault(Fault::new("jobs.get").header("bad header", "x")).is_err());
    assert!(server.inject_fault(Fault::new("")).is_err());

    let client = reqwest::Client::new();
    for body in [
        json!({"method": "jobs.get", "status": 1000}),
        json!({"method": "jobs.get", "action": "explode"}),
        json!({"method": "jobs.get", "stauts": 503}),
        json!({"status": 503}),
    ] {
        let resp = client.post(format!("{}/__mock/faults", server.url())).body(body.to_string()).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{body}");
    }
    // Nothing was armed.
    assert_eq!(call(&client, &server, "jobs.get", &get_job()).await.status, 200);
}

/// Sends one request on a fresh connection and reads until the server closes it.
async fn raw_exchange(server: &MockServer, method: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let request = format!(
        "POST /api/2026-01/{method} HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n\
         authorization: Bearer {DEMO_API_KEY}\r\npartly-integration-id: {DEMO_INTEGRATION_ID}\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    // Keep-alive is on: this returns only because the server closes the connection.
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8(out).unwrap()
}
