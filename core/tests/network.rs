//! HTTPS, trusted roots, proxies and `diagnostics()` against `partly-mock --tls` and a CONNECT
//! proxy of the test helpers. (The environment variants, `SSL_CERT_FILE` and `HTTPS_PROXY`, are
//! in `network_env.rs`: a process of their own.)

mod common;

use common::{proxied_url, tls_mock, ConnectProxy};
use partly::{Client, ErrorKind, JobIdentity, VehicleIdentifier};
use partly_mock::{MockConfig, MockServer, DEMO_API_KEY, DEMO_INTEGRATION_ID};

fn tls_client(mock: &MockServer) -> partly::ClientBuilder {
    common::builder(mock)
        .api_key(DEMO_API_KEY)
        .integration_id(DEMO_INTEGRATION_ID)
        .ca_bundle(mock.ca_path().expect("a TLS mock has a CA file"))
        .no_proxy()
}

async fn some_calls(client: &Client) {
    let job = client.jobs().get(JobIdentity::external(partly_mock::DEMO_JOB_EXTERNAL_ID)).await.expect("jobs.get");
    assert_eq!(job.id.to_string(), partly_mock::DEMO_JOB_ID);
    client.tier1().prepare(vec![VehicleIdentifier::chassis_number("JH4KA7561PC008269")]).await.expect("prepare");
    let e = client.jobs().get(JobIdentity::external("no-such-job")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn https_trusted_through_ca_bundle_negotiates_http2() {
    let mock = tls_mock().await;
    assert!(mock.url().starts_with("https://127.0.0.1:"));
    let client = tls_client(&mock).build().unwrap();
    some_calls(&client).await;
    let versions: Vec<String> = mock.requests().iter().map(|r| r.http_version.clone()).collect();
    assert_eq!(versions, ["HTTP/2", "HTTP/2", "HTTP/2"], "the mock offers h2 and the client takes it");
}

#[tokio::test]
async fn http1_when_either_side_does_not_offer_http2() {
    let mock = MockServer::start(MockConfig { tls: true, http1_only: true, ..MockConfig::default() }).await.unwrap();
    let client = tls_client(&mock).build().unwrap();
    some_calls(&client).await;
    assert!(mock.requests().iter().all(|r| r.http_version == "HTTP/1.1"));

    let mock = tls_mock().await;
    let client = tls_client(&mock).http2(false).build().unwrap();
    some_calls(&client).await;
    assert!(mock.requests().iter().all(|r| r.http_version == "HTTP/1.1"));
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_connection_error_and_not_retried() {
    let mock = tls_mock().await;
    let client =
        common::builder(&mock).api_key(DEMO_API_KEY).integration_id(DEMO_INTEGRATION_ID).no_proxy().build().unwrap();
    let e = client.jobs().get(JobIdentity::external("x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let text = e.to_string();
    assert!(text.contains("certificate") && text.contains("not trusted"), "names the problem: {text}");
    assert!(text.contains("ca_bundle") && text.contains("SSL_CERT_FILE"), "says how to fix it: {text}");
    assert_eq!(e.attempts(), 1, "a refused certificate is not retried");
    assert!(mock.requests().is_empty(), "nothing reached the server");
    assert!(!text.contains(DEMO_API_KEY));
}

#[tokio::test]
async fn ca_bundle_must_exist_and_hold_a_certificate() {
    let dir = std::env::temp_dir().join(format!("partly-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("nope.pem");
    let e = Client::builder().ca_bundle(&missing).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("nope.pem") && e.to_string().contains("no such file"), "{e}");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
    let e = Client::builder().ca_bundle(&empty).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("holds no certificate"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn explicit_proxy_sees_only_connect_never_the_key() {
    let mock = tls_mock().await;
    let proxy = ConnectProxy::start(None).await;
    let client = tls_client(&mock).base_url(proxied_url(&mock)).proxy(proxy.url()).build().unwrap();
    some_calls(&client).await;
    let heads = proxy.heads();
    assert!(!heads.is_empty());
    for head in &heads {
        assert!(head.starts_with(&format!("CONNECT {}:", partly_mock::TLS_TEST_HOST)), "{head}");
    }
    assert!(!proxy.saw(DEMO_API_KEY), "the key crossed the proxy in clear text");
    assert!(!proxy.saw(DEMO_INTEGRATION_ID));
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn proxy_credentials_are_sent_to_the_proxy_and_shown_nowhere() {
    let mock = tls_mock().await;
    // "alice:pr0xy-s3cret" in base64.
    let proxy = ConnectProxy::start(Some("Basic YWxpY2U6cHIweHktczNjcmV0")).await;
    let with = |password: &str| format!("http://alice:{password}@{}", proxy.addr);
    let builder = tls_client(&mock).base_url(proxied_url(&mock)).proxy(with("pr0xy-s3cret"));
    assert!(!format!("{builder:?}").contains("pr0xy-s3cret"), "{builder:?}");
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("pr0xy-s3cret"));
    some_calls(&client).await;

    // An answer that quotes the proxy's password (a proxy or server echoing the request) keeps
    // it nowhere: the password is scrubbed like the API key.
    mock.inject_fault(
        partly_mock::Fault::new("jobs.get")
            .status(400)
            .body("bad request from alice:pr0xy-s3cret; url-encoded pr0xy%2Ds3cret too"),
    )
    .unwrap();
    let e = client.jobs().get(JobIdentity::external("x")).await.unwrap_err();
    let text = format!("{e} {e:?} {} {}", e.body().unwrap_or(""), e.message());
    assert!(!text.contains("pr0xy-s3cret") && !text.contains("pr0xy%2Ds3cret"), "{text}");
    assert!(text.contains("***"), "{text}");
    mock.clear_faults();

    // Wrong password: a connection error naming the proxy, without any credential.
    let client = tls_client(&mock).base_url(proxied_url(&mock)).proxy(with("wr0ng-s3cret")).build().unwrap();
    let e = client.jobs().get(JobIdentity::external("x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    let text = format!("{e} {e:?}");
    assert!(text.contains("proxy"), "{text}");
    assert!(!text.contains("wr0ng-s3cret") && !text.contains("alice"), "{text}");
    let diag = client.diagnostics().await;
    let json = serde_json::to_string(&diag).unwrap();
    assert!(!json.contains("wr0ng-s3cret") && !json.contains("alice"), "{json}");
    assert_eq!(diag.proxy.url.as_deref(), Some(format!("http://***@{}", proxy.addr).as_str()));
    assert_eq!(diag.error.as_ref().map(|e| e.stage.as_str()), Some("proxy"), "{json}");
}

#[tokio::test]
async fn loopback_is_never_proxied_even_with_an_explicit_proxy() {
    let mock = common::mock().await;
    let proxy = ConnectProxy::start(None).await;
    let client = common::client_builder_with_proxy(&mock, &proxy.url()).build().unwrap();
    client.jobs().get(JobIdentity::external(partly_mock::DEMO_JOB_EXTERNAL_ID)).await.expect("direct to loopback");
    assert!(proxy.heads().is_empty(), "the proxy saw {:?}", proxy.heads());
}

#[tokio::test]
async fn plain_http_to_a_localhost_subdomain_is_refused() {
    let e = Client::builder().base_url("http://api.localhost:8080").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("*.localhost"), "{e}");
    Client::builder().base_url("http://localhost:8080").build().expect("localhost itself is pinned to loopback");
}

#[tokio::test]
async fn localhost_is_resolved_to_loopback_by_the_client() {
    let mock = common::mock().await;
    let url = format!("http://localhost:{}", mock.addr().port());
    let client =
        Client::builder().base_url(url).api_key(DEMO_API_KEY).integration_id(DEMO_INTEGRATION_ID).build().unwrap();
    client.jobs().get(JobIdentity::external(partly_mock::DEMO_JOB_EXTERNAL_ID)).await.unwrap();
}

#[tokio::test]
async fn diagnostics_over_tls_direct_and_through_a_proxy() {
    let mock = tls_mock().await;
    let client = tls_client(&mock).build().unwrap();
    let d = client.diagnostics().await;
    assert_eq!(d.error, None, "{d:?}");
    assert_eq!(d.sdk_version, partly::VERSION);
    assert_eq!(d.base_url, mock.url());
    assert_eq!(d.http_version.as_deref(), Some("HTTP/2"));
    assert_eq!(d.tls_version.as_deref(), Some("TLSv1_3"));
    assert!(d.status.is_some());
    assert_eq!(d.proxy.url, None);
    let t = &d.timings;
    for (name, v) in [("dns", t.dns_ms), ("tcp", t.tcp_ms), ("tls", t.tls_ms), ("first_byte", t.first_byte_ms)] {
        assert!(v.is_some_and(|v| v >= 0.0), "{name}: {v:?}");
    }
    assert_eq!(t.proxy_connect_ms, None);
    let offset = d.clock_offset_ms.expect("the mock sends Date");
    assert!(offset.abs() <= 2000, "same machine, same clock: {offset} ms");
    let sources: Vec<&str> = d.trusted_roots.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(sources, ["system", "ca_bundle"]);
    assert_eq!(d.trusted_roots[1].certificates, Some(1));
    assert!(mock.requests().iter().all(|r| !r.headers.contains_key("authorization")), "unauthenticated");

    let proxy = ConnectProxy::start(None).await;
    let client = tls_client(&mock).base_url(proxied_url(&mock)).proxy(proxy.url()).build().unwrap();
    let d = client.diagnostics().await;
    assert_eq!(d.error, None, "{d:?}");
    assert!(d.timings.proxy_connect_ms.is_some());
    assert_eq!(d.proxy.url.as_deref(), Some(proxy.url().as_str()));
    assert_eq!(d.connected_to, Some(proxy.addr.to_string()));
    assert!(proxy.heads().iter().all(|h| h.starts_with("CONNECT ")));

    // Untrusted: the TLS stage fails with the same explanation as a call.
    let client = common::builder(&mock).no_proxy().build().unwrap();
    let d = client.diagnostics().await;
    let err = d.error.expect("untrusted");
    assert_eq!(err.stage, "tls");
    assert!(err.message.contains("not trusted") && err.message.contains("ca_bundle"), "{}", err.message);
}

#[tokio::test]
async fn diagnostics_of_an_unreachable_base_url_says_where_it_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let d = partly::diagnostics(Client::builder().base_url(format!("http://127.0.0.1:{port}"))).await.unwrap();
    assert_eq!(d.error.as_ref().map(|e| e.stage.as_str()), Some("tcp"), "{d:?}");
    assert!(d.timings.dns_ms.is_some() && d.timings.tcp_ms.is_none());
    let e = partly::diagnostics(Client::builder().base_url("ftp://x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}
