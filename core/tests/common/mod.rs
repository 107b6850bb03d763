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
    Client::builder_without_env().base_url(mock.url()).backoff(Duration::from_millis(10), Duration::from_millis(50))
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

pub async fn tls_mock() -> MockServer {
    MockServer::start(MockConfig { tls: true, ..MockConfig::default() }).await.expect("start partly-mock --tls")
}

/// A small HTTP CONNECT proxy on 127.0.0.1:0 for tests. It records the head of every request it
/// receives and every byte it tunnels from the client, answers anything but `CONNECT` with 502,
/// and connects `partly_mock::TLS_TEST_HOST` (and loopback names) to 127.0.0.1.
pub struct ConnectProxy {
    pub addr: std::net::SocketAddr,
    pub heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub tunnelled: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    /// `auth`: the `Proxy-Authorization` value required (else 407).
    pub async fn start(auth: Option<&str>) -> ConnectProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let tunnelled = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (h, t) = (heads.clone(), tunnelled.clone());
        let auth = auth.map(str::to_string);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let (heads, tunnelled, auth) = (h.clone(), t.clone(), auth.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    heads.lock().unwrap().push(text.clone());
                    let line = text.lines().next().unwrap_or("").to_string();
                    let mut parts = line.split_whitespace();
                    let (verb, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    if verb != "CONNECT" {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
                        return;
                    }
                    if let Some(want) = &auth {
                        let ok = text.lines().any(|l| {
                            l.split_once(':')
                                .is_some_and(|(k, v)| k.eq_ignore_ascii_case("proxy-authorization") && v.trim() == want)
                        });
                        if !ok {
                            let _ = client
                                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
                                .await;
                            return;
                        }
                    }
                    let port = target.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).unwrap_or(443);
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
                        return;
                    };
                    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                        return;
                    }
                    let (mut cr, mut cw) = client.into_split();
                    let (mut ur, mut uw) = upstream.split();
                    let up = async {
                        let mut buf = [0u8; 16384];
                        loop {
                            match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    tunnelled.lock().unwrap().extend_from_slice(&buf[..n]);
                                    if uw.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = uw.shutdown().await;
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut ur, &mut cw).await;
                        let _ = cw.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        ConnectProxy { addr, heads, tunnelled, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// Whether `needle` ever crossed the proxy in clear text (in a head or a tunnel).
    pub fn saw(&self, needle: &str) -> bool {
        let heads = self.heads().join("");
        let tunnelled = self.tunnelled.lock().unwrap().clone();
        heads.contains(needle) || tunnelled.windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

/// The base URL of a TLS mock under its non-loopback name (reachable only through [`ConnectProxy`]).
pub fn proxied_url(mock: &MockServer) -> String {
    format!("https://{}:{}", partly_mock::TLS_TEST_HOST, mock.addr().port())
}

/// A client of the (plain http, loopback) mock with an explicit proxy.
pub fn client_builder_with_proxy(mock: &MockServer, proxy: &str) -> ClientBuilder {
    builder(mock).api_key(partly_mock::DEMO_API_KEY).integration_id(partly_mock::DEMO_INTEGRATION_ID).proxy(proxy)
}
