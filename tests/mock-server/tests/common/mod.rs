//! Helpers shared by the integration tests.
#![allow(dead_code)]

use partly_mock::{MockConfig, MockServer, DEMO_API_KEY, DEMO_INTEGRATION_ID};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub async fn start() -> MockServer {
    MockServer::start(MockConfig::default()).await.expect("mock server starts")
}

pub fn method_url(server: &MockServer, method: &str) -> String {
    format!("{}/api/2026-01/{method}", server.url())
}

/// An answer as a test sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// Asserts an application error: status, JSON content type, `type`.
    pub fn assert_error(&self, status: u16, kind: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), Some("application/json"), "{self:?}");
        let body = self.json();
        assert_eq!(body["type"], kind, "{self:?}");
        assert!(body["message"].is_string(), "{self:?}");
    }

    /// Asserts a framework error: status, no content type, body starting with `prefix`.
    pub fn assert_text(&self, status: u16, prefix: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), None, "{self:?}");
        assert!(self.text.starts_with(prefix), "{self:?}");
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    Reply { status, headers, text }
}

/// POSTs `body` to `method` with the given key and integration id.
pub async fn call_as(
    client: &reqwest::Client,
    server: &MockServer,
    method: &str,
    key: &str,
    integration: &str,
    body: &Value,
) -> Reply {
    let resp = client
        .post(method_url(server, method))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .header("partly-integration-id", integration)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    reply(resp).await
}

/// POSTs `body` to `method` as the demo integration.
pub async fn call(client: &reqwest::Client, server: &MockServer, method: &str, body: &Value) -> Reply {
    call_as(client, server, method, DEMO_API_KEY, DEMO_INTEGRATION_ID, body).await
}

/// POSTs `body` with no auth headers.
pub async fn call_anon(client: &reqwest::Client, server: &MockServer, method: &str, body: &Value) -> Reply {
    let resp = client
        .post(method_url(server, method))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    reply(resp).await
}
