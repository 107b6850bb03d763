//! The environment's say over the network, in a process of its own (it sets variables):
//! `SSL_CERT_FILE` trusts a CA, `HTTPS_PROXY` routes calls through a proxy, and `HTTP_PROXY`
//! never catches a plain-http loopback base URL (the key would travel in clear to the proxy).

mod common;

use common::{proxied_url, tls_mock, ConnectProxy};
use partly::{Client, ErrorKind, JobIdentity};
use partly_mock::{DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID};

fn from_env() -> partly::ClientBuilder {
    Client::builder().api_key(DEMO_API_KEY).integration_id(DEMO_INTEGRATION_ID)
}

// One test: the variables are process-wide.
#[tokio::test]
async fn environment_trust_and_proxies() {
    for var in partly::network::PROXY_ENV_VARS {
        std::env::remove_var(var);
    }
    let tls = tls_mock().await;
    let plain = common::mock().await;
    let proxy = ConnectProxy::start(None).await;
    let external = JobIdentity::external(DEMO_JOB_EXTERNAL_ID);

    // Before SSL_CERT_FILE: untrusted.
    let e = from_env().base_url(tls.url()).build().unwrap().jobs().get(external.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);

    std::env::set_var("SSL_CERT_FILE", tls.ca_path().unwrap());
    let client = from_env().base_url(tls.url()).build().unwrap();
    client.jobs().get(external.clone()).await.expect("trusted through SSL_CERT_FILE");
    let d = client.diagnostics().await;
    assert_eq!(d.trusted_roots[0].path.as_deref(), Some(tls.ca_path().unwrap().to_str().unwrap()));
    assert!(d.trusted_roots[0].certificates.is_some_and(|n| n >= 1));

    std::env::set_var("HTTPS_PROXY", proxy.url());
    std::env::set_var("HTTP_PROXY", proxy.url());
    // Through the environment proxy (by the mock's non-loopback name).
    let client = from_env().base_url(proxied_url(&tls)).build().unwrap();
    client.jobs().get(external.clone()).await.expect("through HTTPS_PROXY");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(heads[0].starts_with("CONNECT mock.partly.test:"), "{heads:?}");
    assert!(!proxy.saw(DEMO_API_KEY));
    let d = client.diagnostics().await;
    assert_eq!(d.proxy.variable.as_deref(), Some("HTTPS_PROXY"));
    assert_eq!(d.error, None, "{d:?}");

    // Loopback, plain http, with HTTP_PROXY set: straight to the mock, never to the proxy.
    let before = proxy.heads().len();
    let client = from_env().base_url(plain.url()).build().unwrap();
    client.jobs().get(external.clone()).await.expect("direct");
    assert_eq!(proxy.heads().len(), before, "a loopback call went to the proxy");
    assert!(!proxy.saw(DEMO_API_KEY));
    assert_eq!(client.diagnostics().await.proxy.bypassed.as_deref(), Some("loopback is never proxied"));

    // NO_PROXY exempts a host; no_proxy() turns the environment off.
    std::env::set_var("NO_PROXY", ".partly.test");
    let d = from_env().base_url(proxied_url(&tls)).build().unwrap().diagnostics().await;
    assert_eq!(d.proxy.url, None);
    assert_eq!(d.proxy.bypassed.as_deref(), Some("NO_PROXY matches the host"));
    std::env::remove_var("NO_PROXY");
    let d = from_env().base_url(proxied_url(&tls)).no_proxy().build().unwrap().diagnostics().await;
    assert_eq!(d.proxy.url, None);

    // A proxy variable that is not a URL is a validation error naming the variable.
    std::env::set_var("HTTPS_PROXY", "socks5://u:hunter2-secret@h:1");
    let e = from_env().base_url(tls.url()).build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("HTTPS_PROXY") && !e.to_string().contains("hunter2"), "{e}");

    std::env::remove_var("HTTPS_PROXY");
    std::env::remove_var("HTTP_PROXY");

    // A machine without any CA certificate (a bare container): an https client is built (the
    // TLS set-up is made at the first call, so building does no blocking work), and its first
    // call fails at once, sending nothing, with a clear error saying what to install; a
    // plain-http one to a local mock still works.
    std::env::set_var("SSL_CERT_FILE", "/nonexistent/partly-test/ca.pem");
    std::env::set_var("SSL_CERT_DIR", "/nonexistent/partly-test/certs");
    let before = tls.requests().len();
    let client = from_env().base_url(tls.url()).build().expect("the TLS set-up waits for the first call");
    let e = client.jobs().get(external.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert_eq!(e.attempts(), 1, "a set-up failure is not retried: {e}");
    assert!(e.to_string().contains("no trusted CA certificates") && e.to_string().contains("ca_bundle"), "{e}");
    assert_eq!(tls.requests().len(), before, "nothing reached the server");
    let client = from_env().base_url(plain.url()).build().expect("plain http needs no roots");
    client.jobs().get(external.clone()).await.expect("plain http to the mock");
    let client = from_env().base_url(tls.url()).ca_bundle(tls.ca_path().unwrap()).build().expect("ca_bundle alone");
    client.jobs().get(external).await.expect("trusted through ca_bundle alone");
}
