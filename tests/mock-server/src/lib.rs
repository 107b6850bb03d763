//! `partly-mock`: a faithful local mock of Partly's Integrations API (2026-01).
//!
//! Serves `POST /api/2026-01/{method}` with in-memory, seeded demo state, the framework
//! behaviour of the real server (partly-api.md §1, §4), injectable faults and a request
//! log. See README.md for the HTTP control surface under `/__mock/`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use partly_mock::{Fault, FaultAction, MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::default()).await?;
//! server
//!     .inject_fault(Fault::new("jobs.get").status(503).header("retry-after", "1"))
//!     .map_err(std::io::Error::other)?;
//! println!("{}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod answer;
mod authorize;
mod body;
mod fault;
mod methods;
mod rate;
mod server;
mod state;
mod tls;

pub use fault::{Fault, FaultAction};

/// The seeded API key (belongs to [`DEMO_INTEGRATION_ID`]).
pub const DEMO_API_KEY: &str = "pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71";
/// The integration the demo key belongs to.
pub const DEMO_INTEGRATION_ID: &str = "6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60";
/// The client id `integrations.insert` accepts.
pub const DEMO_CLIENT_ID: &str = "partly-demo-client";
/// The client secret `integrations.insert` accepts.
pub const DEMO_CLIENT_SECRET: &str = "pcs_demo_3b8e1f6d0a9c4752b1e8d4f6a2c0b937";
/// The seeded repairer site.
pub const DEMO_SITE_ID: &str = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85";
/// The seeded job.
pub const DEMO_JOB_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";
/// The seeded job's external id.
pub const DEMO_JOB_EXTERNAL_ID: &str = "CCC-2026-04817";
/// The seeded job's claim number.
pub const DEMO_CLAIM_NUMBER: &str = "CLM-2026-118204";
/// The seeded job's job number.
pub const DEMO_JOB_NUMBER: &str = "J-04817";
/// The seeded job's one image.
pub const DEMO_JOB_IMAGE_URL: &str = "https://images.partly.example/jobs/CCC-2026-04817/front-left.jpg";
/// The seeded business (`businesses.list`).
pub const DEMO_BUSINESS_ID: &str = "c4a7e2b9-1d36-4f80-9e5b-7a2c6d1f8e43";
/// The seeded business's name.
pub const DEMO_BUSINESS_NAME: &str = "Demo Panel & Paint";
/// The name of the demo integration (the one [`DEMO_CLIENT_ID`] belongs to), shown on the
/// authorize page.
pub const DEMO_INTEGRATION_NAME: &str = "Demo Estimating";
/// The path of the OAuth authorize page (partly-api.md §5), as on Partly's app.
pub const AUTHORIZE_PATH: &str = partly_wire::AUTHORIZE_PATH;
/// Every API method lives under this path.
pub const API_VERSION_PREFIX: &str = "/api/2026-01/";

/// A name the TLS mock's certificate is also valid for that is not loopback, so that calls to
/// it can go through a proxy (loopback never is); a test proxy maps it to the mock's address.
pub const TLS_TEST_HOST: &str = "mock.partly.test";

/// Default capacity of the request log.
pub const DEFAULT_LOG_CAPACITY: usize = 100_000;

/// How to start a [`MockServer`].
#[derive(Clone, Debug, Default)]
pub struct MockConfig {
    /// Address to bind (default 127.0.0.1).
    pub host: Option<IpAddr>,
    /// Port to bind (0: any free port).
    pub port: u16,
    /// Delay added to every API answer (not to `/__mock/` routes).
    pub latency: Duration,
    /// Most requests kept in the log (default [`DEFAULT_LOG_CAPACITY`]; 0 disables it).
    pub log_capacity: Option<usize>,
    /// Share of API calls (0.0 to 1.0) that get a random retryable fault: 503, 500 or 429 with
    /// `retry-after: 0`, an HTML 502, a dropped connection, a truncated body, or a connection
    /// closed after the answer. For soak tests; 0 (the default) disables it.
    pub chaos_rate: f64,
    /// Serve HTTPS with a certificate from a CA generated at start; the CA is written to
    /// [`MockServer::ca_path`] for clients to trust.
    pub tls: bool,
    /// With `tls`: offer only HTTP/1.1 in ALPN (by default `h2` is offered too).
    pub http1_only: bool,
    /// With `tls`: where to write the CA certificate (PEM); by default a new temporary
    /// directory, removed when the server is dropped.
    pub ca_file: Option<PathBuf>,
    /// The redirect URLs registered for [`DEMO_CLIENT_ID`]: the authorize page sends the
    /// browser back only to one of these, exactly as written (more can be registered while it
    /// runs with [`MockServer::register_redirect_url`]). None by default.
    pub redirect_urls: Vec<String>,
    /// Close a keep-alive connection when no next request starts within this time of the last
    /// answer (as servers and proxies do, some after a millisecond). Default: never.
    pub idle_timeout: Option<Duration>,
    /// The gateway's rate limit, in requests per second over every API method (a token bucket);
    /// above it, 429 with `Retry-After: 1` and `{"type": "rate_limited", ..}`. Default: none.
    /// Changeable while it runs ([`MockServer::set_rate_limit`], `POST /__mock/rate_limit`).
    pub rate_limit: Option<f64>,
    /// The bucket's burst (default: a tenth of a second's worth of `rate_limit`, at least 1).
    pub rate_burst: Option<u32>,
}

/// What `tier1.prepare` has accepted since the last reset (`GET /__mock/prepared`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedStats {
    /// Identifiers accepted, counting repeats.
    pub identifiers: u64,
    /// Distinct identifiers accepted.
    pub distinct: u64,
    /// `identifiers - distinct`: identifiers accepted more than once.
    pub duplicates: u64,
}

/// The rate limit in force (`GET /__mock/rate_limit`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests per second.
    pub rps: f64,
    /// The burst.
    pub burst: u32,
}

/// An access code minted by the mock, with the client credentials to trade it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedCode {
    pub access_code: String,
    pub client_id: String,
    pub client_secret: String,
    pub expires_in_secs: u64,
}

/// One request the mock received (control routes excluded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Arrival order: 0 for the first request since the server started.
    pub seq: u64,
    /// The dotted method name from the path, as sent (`""` outside the API prefix).
    pub method: String,
    /// The request path (`/api/2026-01/jobs.get`).
    pub path: String,
    /// `POST`, `GET`, ...
    pub http_method: String,
    /// Every header, lower-case name -> value (repeated headers joined with `", "`).
    pub headers: BTreeMap<String, String>,
    /// The raw body (lossy UTF-8).
    pub body: String,
    /// The status answered; `None` while the answer is pending (a delay fault, the global
    /// latency) and when the connection was dropped or the client went away first. A request is
    /// logged as soon as its body has arrived, so a call the client gave up on still shows.
    pub status: Option<u16>,
    /// Whether an injected fault shaped the answer.
    pub fault: bool,
    /// `HTTP/1.1` or `HTTP/2` (negotiated over TLS).
    #[serde(default)]
    pub http_version: String,
    /// Which connection it came on: 0 for the first connection since the server started.
    #[serde(default)]
    pub connection: u64,
}

/// A running mock server. Dropping it stops the server.
pub struct MockServer {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    tls: Option<tls::TlsIdentity>,
}

impl MockServer {
    /// Binds and starts serving on the current tokio runtime (multi-thread or
    /// current-thread); returns once listening.
    pub async fn start(config: MockConfig) -> std::io::Result<MockServer> {
        let host = config.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let listener = TcpListener::bind(SocketAddr::new(host, config.port)).await?;
        let addr = listener.local_addr()?;
        for url in &config.redirect_urls {
            authorize::check_redirect_url(url)
                .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        }
        if let Some(rate) = config.rate_limit {
            rate::check(rate, config.rate_burst)
                .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        }
        let shared = Arc::new(server::Shared::new(
            config.latency,
            config.log_capacity.unwrap_or(DEFAULT_LOG_CAPACITY),
            config.chaos_rate,
            config.redirect_urls.clone(),
            config.idle_timeout,
        ));
        if let Some(rate) = config.rate_limit {
            shared
                .set_rate_limit(Some((rate, config.rate_burst)))
                .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        }
        let tls = match config.tls {
            true => Some(tls::identity(host, config.ca_file.as_deref(), config.http1_only)?),
            false => None,
        };
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let (stop, stopped) = watch::channel(false);
        let accept = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), stopped, acceptor));
        Ok(MockServer { shared, addr, stop, accept: Some(accept), tls })
    }

    /// `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` with TLS (no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// With TLS: the file holding the CA certificate (PEM) that signed the server's certificate.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_path.as_path())
    }

    /// With TLS: the CA certificate (PEM).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The authorize page, `http://127.0.0.1:PORT/auth/integration/authorize`: the SDK's
    /// authorize-URL helpers take it (or just [`MockServer::url`]) as their endpoint.
    pub fn authorize_endpoint(&self) -> String {
        format!("{}{AUTHORIZE_PATH}", self.url())
    }

    /// Registers a redirect URL for [`DEMO_CLIENT_ID`] (exact match; registering it twice is
    /// harmless). `Err` with the reason when it is not an absolute http(s) URL.
    pub fn register_redirect_url(&self, url: &str) -> Result<(), String> {
        self.shared.register_redirect_url(url)
    }

    /// The redirect URLs registered for [`DEMO_CLIENT_ID`].
    pub fn redirect_urls(&self) -> Vec<String> {
        self.shared.redirect_urls()
    }

    /// Mints a single-use access code valid for 15 minutes.
    pub fn mint_access_code(&self) -> MintedCode {
        self.shared.mint(state::ACCESS_CODE_LIFETIME_SECS)
    }

    /// Mints a single-use access code valid for `secs` seconds (0: already expired).
    pub fn mint_access_code_expiring_in(&self, secs: u64) -> MintedCode {
        self.shared.mint(secs)
    }

    /// Queues a fault; `Err` (with the reason) when the fault is invalid.
    pub fn inject_fault(&self, fault: Fault) -> Result<(), String> {
        self.shared.faults.push(&fault)
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// How many vehicle identifiers `tier1.prepare` has queued since the last reset.
    pub fn prepared_identifiers(&self) -> u64 {
        lock(&self.shared.state).prepared()
    }

    /// Distinct and repeated identifiers `tier1.prepare` has accepted since the last reset.
    pub fn prepared_stats(&self) -> PreparedStats {
        lock(&self.shared.state).prepared_stats()
    }

    /// Sets (`Some(rps, burst)`) or lifts (`None`) the rate limit; `Err` with the reason when
    /// the rate is not a positive number or the burst is 0. The bucket starts full.
    pub fn set_rate_limit(&self, limit: Option<(f64, Option<u32>)>) -> Result<(), String> {
        self.shared.set_rate_limit(limit)
    }

    /// The rate limit in force.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.shared.rate_limit()
    }

    /// Calls the rate limit has answered with 429 since the start.
    pub fn rate_limited(&self) -> u64 {
        self.shared.rate_refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Clears faults and the request log and restores the seeded state (unanswered consent
    /// pages are dropped; registered redirect URLs and the rate limit are kept).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops accepting, closes every connection and waits until they are gone.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        server::wait_idle(&self.shared).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("addr", &self.addr).finish()
    }
}

/// Locks a mutex, ignoring poisoning (no request path may panic, and the state stays
/// usable even if one somehow did).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<MockServer>();
    is::<Fault>();
    is::<RecordedRequest>();
}

/// The README's code blocks, compiled and run as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
