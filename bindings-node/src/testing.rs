//! `partly/testing`: the `partly-mock` server in-process, on the module's tokio runtime, bound to
//! a free port on 127.0.0.1. Its connections are tokio tasks, not libuv handles: a running mock
//! never keeps the event loop alive, and dropping the JavaScript object stops it.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Value};

use partly_mock::{Fault, MockConfig, MockServer};

use crate::error::{self, ErrorInfo, Outcome};
use crate::runtime::{self, spawn_task};

/// A running mock server (the `MockServer` of `testing.js` holds one).
#[napi]
pub struct NativeMockServer {
    server: Mutex<Option<MockServer>>,
    url: String,
    ca_path: Option<String>,
}

fn stopped() -> ErrorInfo {
    error::plain_validation("the mock server is stopped")
}

impl NativeMockServer {
    fn lock(&self) -> MutexGuard<'_, Option<MockServer>> {
        self.server.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with<T>(&self, f: impl FnOnce(&MockServer) -> Result<T, ErrorInfo>) -> Outcome
    where
        T: Into<Value>,
    {
        let guard = self.lock();
        match guard.as_ref() {
            Some(server) => match runtime::guard(|| f(server)) {
                Ok(Ok(v)) => Outcome::value(v.into()),
                Ok(Err(e)) => Outcome::error(e),
                Err(panic) => panic,
            },
            None => Outcome::error(stopped()),
        }
    }
}

/// Starts a mock server; `latency_ms` is added to every API answer; `tls`: HTTPS with a CA
/// generated at start (`ca_path`), HTTP/2 offered unless `http1_only`.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // one parameter per option of MockServer.start()
pub fn start_mock_server(
    env: &Env,
    latency_ms: Option<f64>,
    log_capacity: Option<f64>,
    chaos_rate: Option<f64>,
    tls: Option<bool>,
    http1_only: Option<bool>,
    redirect_urls: Option<Vec<String>>,
    rate_limit: Option<f64>,
    rate_burst: Option<f64>,
) -> napi::Result<PromiseRaw<'_, Either<NativeMockServer, ErrorInfo>>> {
    let config = (|| {
        let latency = match latency_ms {
            None => Duration::ZERO,
            Some(ms) if (0.0..=86_400_000.0).contains(&ms) => Duration::from_secs_f64(ms / 1000.0),
            Some(ms) => {
                return Err(error::plain_validation(&format!(
                    "latencyMs must be a number of milliseconds from 0, got {ms}"
                )))
            }
        };
        let log_capacity = match log_capacity {
            None => None,
            Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 => Some(n as usize),
            Some(n) => {
                return Err(error::plain_validation(&format!("logCapacity must be a whole number from 0, got {n}")))
            }
        };
        let chaos_rate = match chaos_rate {
            None => 0.0,
            Some(r) if (0.0..=1.0).contains(&r) => r,
            Some(r) => {
                return Err(error::plain_validation(&format!("chaosRate must be a number from 0 to 1, got {r}")))
            }
        };
        let rate_burst = match rate_burst {
            None => None,
            Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            Some(n) => {
                return Err(error::plain_validation(&format!("rateBurst must be a whole number from 1, got {n}")))
            }
        };
        Ok(MockConfig {
            latency,
            log_capacity,
            chaos_rate,
            rate_limit,
            rate_burst,
            tls: tls.unwrap_or(false),
            http1_only: http1_only.unwrap_or(false),
            redirect_urls: redirect_urls.unwrap_or_default(),
            ..Default::default()
        })
    })();
    spawn_task(
        env,
        async move {
            let config = match config {
                Ok(c) => c,
                Err(e) => return Either::B(e),
            };
            match MockServer::start(config).await {
                Ok(server) => {
                    let url = server.url();
                    let ca_path = server.ca_path().map(|p| p.display().to_string());
                    Either::A(NativeMockServer { server: Mutex::new(Some(server)), url, ca_path })
                }
                Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                    let option = if e.to_string().starts_with("rate") { "rateLimit" } else { "redirectUrls" };
                    Either::B(error::plain_validation(&format!("{option}: {e}")))
                }
                Err(e) => Either::B(error::internal(&format!("the mock server could not start: {e}"))),
            }
        },
        Either::B,
    )
}

#[napi]
impl NativeMockServer {
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// With TLS: the PEM file of the CA that signed the server's certificate.
    #[napi(getter, catch_unwind)]
    pub fn ca_path(&self) -> Option<String> {
        self.ca_path.clone()
    }

    /// The authorize page, `http://127.0.0.1:PORT/auth/integration/authorize`.
    #[napi(getter, catch_unwind)]
    pub fn authorize_endpoint(&self) -> String {
        format!("{}{}", self.url, partly_mock::AUTHORIZE_PATH)
    }

    /// Registers a redirect URL for the demo client (exact match).
    #[napi(catch_unwind)]
    pub fn register_redirect_url(&self, url: String) -> Outcome {
        self.with(|server| {
            server.register_redirect_url(&url).map_err(|why| error::plain_validation(&why))?;
            Ok(Value::Null)
        })
    }

    /// The redirect URLs registered for the demo client.
    #[napi(catch_unwind)]
    pub fn redirect_urls(&self) -> Outcome {
        self.with(|server| Ok(json!(server.redirect_urls())))
    }

    /// A fresh single-use access code (`expires_in_secs`: default 15 minutes; 0: already expired).
    #[napi(catch_unwind)]
    pub fn mint_access_code(&self, expires_in_secs: Option<f64>) -> Outcome {
        self.with(|server| {
            let minted = match expires_in_secs {
                None => server.mint_access_code(),
                Some(s) if s.is_finite() && s >= 0.0 && s.fract() == 0.0 => {
                    server.mint_access_code_expiring_in(s as u64)
                }
                Some(s) => {
                    return Err(error::plain_validation(&format!(
                        "expiresInSecs must be a whole number from 0, got {s}"
                    )))
                }
            };
            Ok(json!({
                "accessCode": minted.access_code,
                "clientId": minted.client_id,
                "clientSecret": minted.client_secret,
                "expiresInSecs": minted.expires_in_secs,
            }))
        })
    }

    /// Queues a fault given as the mock's JSON form (see the mock's README).
    #[napi(catch_unwind)]
    pub fn inject_fault(&self, fault: Value) -> Outcome {
        self.with(|server| {
            let fault: Fault =
                serde_json::from_value(fault).map_err(|e| error::plain_validation(&format!("fault: {e}")))?;
            server.inject_fault(fault).map_err(|e| error::plain_validation(&format!("fault: {e}")))?;
            Ok(Value::Null)
        })
    }

    /// The request log, oldest first.
    #[napi(catch_unwind)]
    pub fn requests(&self) -> Outcome {
        self.with(|server| {
            let log = server.requests();
            Ok(Value::Array(
                log.into_iter()
                    .map(|r| {
                        json!({
                            "seq": r.seq,
                            "method": r.method,
                            "path": r.path,
                            "httpMethod": r.http_method,
                            "httpVersion": r.http_version,
                            "headers": r.headers,
                            "body": r.body,
                            "status": r.status,
                            "fault": r.fault,
                            "connection": r.connection,
                        })
                    })
                    .collect(),
            ))
        })
    }

    /// Vehicle identifiers `tier1.prepare` has queued since the last reset.
    #[napi(catch_unwind)]
    pub fn prepared_identifiers(&self) -> Outcome {
        self.with(|server| Ok(json!(server.prepared_identifiers())))
    }

    /// `{ identifiers, distinct, duplicates }` that `tier1.prepare` has accepted since the last reset.
    #[napi(catch_unwind)]
    pub fn prepared_stats(&self) -> Outcome {
        self.with(|server| Ok(json!(server.prepared_stats())))
    }

    /// Sets (`rate_limit` requests/s, `rate_burst`) or, without a rate, lifts the rate limit.
    #[napi(catch_unwind)]
    pub fn set_rate_limit(&self, rate_limit: Option<f64>, rate_burst: Option<f64>) -> Outcome {
        self.with(|server| {
            let burst =
                rate_burst.map(|b| if b.is_finite() && b >= 0.0 { b.min(f64::from(u32::MAX)) as u32 } else { 0 });
            server
                .set_rate_limit(rate_limit.map(|r| (r, burst)))
                .map(|()| Value::Null)
                .map_err(|why| error::plain_validation(&format!("rateLimit: {why}")))
        })
    }

    /// Removes every queued fault.
    #[napi(catch_unwind)]
    pub fn clear_faults(&self) -> Outcome {
        self.with(|server| {
            server.clear_faults();
            Ok(Value::Null)
        })
    }

    /// Clears faults and the log and restores the seeded state.
    #[napi(catch_unwind)]
    pub fn reset(&self) -> Outcome {
        self.with(|server| {
            server.reset();
            Ok(Value::Null)
        })
    }

    /// Stops the server and waits until its connections are closed. Stopping twice is harmless.
    #[napi(catch_unwind)]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Outcome>> {
        let server = self.lock().take();
        spawn_task(
            env,
            async move {
                if let Some(server) = server {
                    server.shutdown().await;
                }
                Outcome::value(Value::Null)
            },
            Outcome::error,
        )
    }

    /// Whether `stop()` was called.
    #[napi(getter, catch_unwind)]
    pub fn stopped(&self) -> bool {
        self.lock().is_none()
    }
}

/// The mock's seeded demo values.
#[napi(catch_unwind)]
pub fn mock_constants() -> Value {
    json!({
        "DEMO_API_KEY": partly_mock::DEMO_API_KEY,
        "DEMO_INTEGRATION_ID": partly_mock::DEMO_INTEGRATION_ID,
        "DEMO_CLIENT_ID": partly_mock::DEMO_CLIENT_ID,
        "DEMO_CLIENT_SECRET": partly_mock::DEMO_CLIENT_SECRET,
        "DEMO_SITE_ID": partly_mock::DEMO_SITE_ID,
        "DEMO_JOB_ID": partly_mock::DEMO_JOB_ID,
        "DEMO_JOB_EXTERNAL_ID": partly_mock::DEMO_JOB_EXTERNAL_ID,
        "DEMO_CLAIM_NUMBER": partly_mock::DEMO_CLAIM_NUMBER,
        "DEMO_JOB_NUMBER": partly_mock::DEMO_JOB_NUMBER,
        "DEMO_BUSINESS_ID": partly_mock::DEMO_BUSINESS_ID,
        "DEMO_BUSINESS_NAME": partly_mock::DEMO_BUSINESS_NAME,
        "DEMO_INTEGRATION_NAME": partly_mock::DEMO_INTEGRATION_NAME,
    })
}

/// Panics on purpose, for the test that proves a panic never kills the process: `"sync"` in
/// this call, `"async"` inside a spawned future. Not part of the public API.
#[napi(js_name = "__panicForTesting", catch_unwind)]
pub fn panic_for_testing(env: &Env, place: String) -> napi::Result<PromiseRaw<'_, Outcome>> {
    if place == "sync" {
        panic!("deliberate panic for the test suite (sync)");
    }
    spawn_task(
        env,
        async move {
            tokio::task::yield_now().await;
            panic!("deliberate panic for the test suite ({place})");
        },
        Outcome::error,
    )
}
