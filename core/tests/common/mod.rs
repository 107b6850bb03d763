//! Shared helpers of the core's integration tests: a `partly-mock` on port 0 per test.
#![allow(dead_code)]

use std::time::Duration;

use partly::{Client, ClientBuilder};
use partly_mock::{MockConfig, MockServer};

pub async fn mock() -> MockServer {
    MockServer::start(MockConfig::default()).await.expect("start partly-mock")
}

/// A builder pointed at the mock, with short backoff so retry tests stay quick.
pub fn builder(mock: &MockServer) -> ClientBuilder {
    Client::builder().base_url(mock.url()).backoff(Duration::from_millis(10), Duration::from_millis(50))
}

/// A client holding the mock's demo credentials.
pub fn client(mock: &MockServer) -> Client {
    builder(mock)
        .api_key(partly_mock::DEMO_API_KEY)
        .integration_id(partly_mock::DEMO_INTEGRATION_ID)
        .build()
        .expect("client")
}

/// The requests the mock received for one method.
pub fn requests_for(mock: &MockServer, method: &str) -> Vec<partly_mock::RecordedRequest> {
    mock.requests().into_iter().filter(|r| r.method == method).collect()
}

pub fn fault(json: serde_json::Value) -> partly_mock::Fault {
    serde_json::from_value(json).expect("fault json")
}
