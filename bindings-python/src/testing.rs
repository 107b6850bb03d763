//! `partly._native.MockServer`: the `partly-mock` server, in-process, on the SDK's runtime.
//! `partly.testing.MockServer` wraps it with ready clients and typed helpers.

use std::net::IpAddr;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyList;

use partly_mock::{Fault, MockConfig};

use crate::error;
use crate::models;
use crate::runtime::{self, ForkSafeCell};

struct State {
    pid: u32,
    server: Option<partly_mock::MockServer>,
}

/// A running mock server. Use `partly.testing.MockServer`.
#[pyclass(frozen, module = "partly._native")]
pub struct MockServer {
    state: ForkSafeCell<State>,
    url: String,
    ca_path: Option<String>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let me = runtime::pid();
        self.state.with(|s| {
            if s.pid != me {
                // Started by the parent of this forked process: it serves there, not here.
                std::mem::forget(s.server.take());
            }
        });
    }
}

impl MockServer {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&partly_mock::MockServer) -> R) -> PyResult<R> {
        let me = runtime::pid();
        let r = self.state.with(|s| match &s.server {
            Some(server) if s.pid == me => Ok(f(server)),
            Some(_) => {
                Err("the mock server was started by the parent process; it serves there, not in this forked child")
            }
            None => Err("the mock server is closed"),
        });
        r.map_err(|m| error::validation(py, m))
    }
}

/// A list (or tuple) of str, or nothing.
fn str_list(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if !(obj.is_instance_of::<PyList>() || obj.is_instance_of::<pyo3::types::PyTuple>()) {
        return Err(error::validation(py, format!("{name} must be a list of str, got {}", models::type_name(obj))));
    }
    let mut out = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        out.push(models::req_str(&item?, &format!("{name}[{i}]"))?);
    }
    Ok(out)
}

#[pymethods]
impl MockServer {
    /// Starts the mock on 127.0.0.1 (or `host`) on a free port (or `port`). `latency` (seconds)
    /// is added to every API answer. `tls`: HTTPS with a CA generated at start (`ca_path`);
    /// `http1_only`: do not offer HTTP/2 over TLS; `redirect_urls` are registered for the demo
    /// client.
    #[new]
    #[pyo3(signature = (*, host=None, port=None, latency=None, log_capacity=None, tls=None, http1_only=None, redirect_urls=None, rate_limit=None, rate_burst=None))]
    #[allow(clippy::too_many_arguments)] // one parameter per keyword argument of MockServer(...)
    fn new(
        py: Python<'_>,
        host: Option<&Bound<'_, PyAny>>,
        port: Option<&Bound<'_, PyAny>>,
        latency: Option<&Bound<'_, PyAny>>,
        log_capacity: Option<&Bound<'_, PyAny>>,
        tls: Option<&Bound<'_, PyAny>>,
        http1_only: Option<&Bound<'_, PyAny>>,
        redirect_urls: Option<&Bound<'_, PyAny>>,
        rate_limit: Option<&Bound<'_, PyAny>>,
        rate_burst: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let host = match models::opt_str(host, "host")? {
            Some(h) => Some(
                h.parse::<IpAddr>().map_err(|_| error::validation(py, format!("host {h:?} is not an IP address")))?,
            ),
            None => None,
        };
        let config = MockConfig {
            host,
            port: models::opt_count::<u16>(port, "port")?.unwrap_or(0),
            latency: models::opt_seconds(latency, "latency")?.unwrap_or(Duration::ZERO),
            log_capacity: models::opt_count::<usize>(log_capacity, "log_capacity")?,
            tls: models::opt_bool(tls, "tls")?.unwrap_or(false),
            http1_only: models::opt_bool(http1_only, "http1_only")?.unwrap_or(false),
            redirect_urls: str_list(py, redirect_urls, "redirect_urls")?,
            rate_limit: models::opt_number(rate_limit, "rate_limit")?,
            rate_burst: models::opt_count::<u32>(rate_burst, "rate_burst")?,
            ..MockConfig::default()
        };
        let server = runtime::block_on(py, partly_mock::MockServer::start(config))?.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidInput {
                let option = if e.to_string().starts_with("rate") { "rate_limit" } else { "redirect_urls" };
                error::validation(py, format!("{option}: {e}"))
            } else {
                error::internal(format!("could not start the mock server: {e}"))
            }
        })?;
        let url = server.url();
        let ca_path = server.ca_path().map(|p| p.display().to_string());
        Ok(MockServer { state: ForkSafeCell::new(State { pid: runtime::pid(), server: Some(server) }), url, ca_path })
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    #[getter]
    fn url(&self) -> String {
        self.url.clone()
    }

    /// With TLS: the PEM file of the CA that signed the server's certificate.
    #[getter]
    fn ca_path(&self) -> Option<String> {
        self.ca_path.clone()
    }

    /// The authorize page, `http://127.0.0.1:PORT/auth/integration/authorize`.
    #[getter]
    fn authorize_endpoint(&self) -> String {
        format!("{}{}", self.url, partly_mock::AUTHORIZE_PATH)
    }

    /// Registers a redirect URL for the demo client (exact match).
    fn register_redirect_url(&self, py: Python<'_>, url: &Bound<'_, PyAny>) -> PyResult<()> {
        let url = models::req_str(url, "url")?;
        self.with(py, |s| s.register_redirect_url(&url))?.map_err(|why| error::validation(py, why))
    }

    /// The redirect URLs registered for the demo client.
    fn redirect_urls(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |s| s.redirect_urls())
    }

    /// Mints a single-use access code (valid 15 minutes, or `expires_in` seconds; 0: expired).
    #[pyo3(signature = (expires_in=None))]
    fn mint_access_code<'py>(
        &self,
        py: Python<'py>,
        expires_in: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let secs = models::opt_count::<u64>(expires_in, "expires_in")?;
        let minted = self.with(py, |s| match secs {
            Some(secs) => s.mint_access_code_expiring_in(secs),
            None => s.mint_access_code(),
        })?;
        let json = serde_json::to_value(&minted).map_err(|e| error::internal(e.to_string()))?;
        models::from_json(py, &json)
    }

    /// Queues a fault given as a dict in the mock's JSON form
    /// (`{"method": "jobs.get", "status": 503, ...}`).
    fn inject_fault(&self, py: Python<'_>, fault: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = models::to_json(fault, "fault")?;
        let fault: Fault = serde_json::from_value(json).map_err(|e| error::validation(py, format!("fault: {e}")))?;
        self.with(py, |s| s.inject_fault(fault))?.map_err(|why| error::validation(py, format!("fault: {why}")))
    }

    /// Removes every queued fault.
    fn clear_faults(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| s.clear_faults())
    }

    /// The request log, oldest first, as dicts.
    fn requests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let requests = self.with(py, |s| s.requests())?;
        let list = PyList::empty(py);
        for r in &requests {
            let json = serde_json::to_value(r).map_err(|e| error::internal(e.to_string()))?;
            list.append(models::from_json(py, &json)?)?;
        }
        Ok(list)
    }

    /// Vehicle identifiers `tier1.prepare` has queued since the last reset.
    fn prepared_identifiers(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |s| s.prepared_identifiers())
    }

    /// `{identifiers, distinct, duplicates}` that `tier1.prepare` has accepted since the last reset.
    fn prepared_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let stats = self.with(py, |s| s.prepared_stats())?;
        let d = pyo3::types::PyDict::new(py);
        d.set_item("identifiers", stats.identifiers)?;
        d.set_item("distinct", stats.distinct)?;
        d.set_item("duplicates", stats.duplicates)?;
        Ok(d)
    }

    /// Sets (`rate_limit` requests/s, `rate_burst`) or, with `None`, lifts the rate limit.
    #[pyo3(signature = (rate_limit, rate_burst=None))]
    fn set_rate_limit(
        &self,
        py: Python<'_>,
        rate_limit: Option<&Bound<'_, PyAny>>,
        rate_burst: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let rate = models::opt_number(rate_limit, "rate_limit")?;
        let burst = models::opt_count::<u32>(rate_burst, "rate_burst")?;
        self.with(py, |s| s.set_rate_limit(rate.map(|r| (r, burst))))?
            .map_err(|why| error::validation(py, format!("rate_limit: {why}")))
    }

    /// Clears faults and the request log and restores the seeded data.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| s.reset())
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.state.with(|s| s.server.is_none())
    }

    /// Stops the server and waits until its connections are closed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let me = runtime::pid();
        let taken = self.state.with(|s| (s.server.take(), s.pid == me));
        match taken {
            (Some(server), true) => runtime::block_on(py, server.shutdown()),
            (Some(server), false) => {
                std::mem::forget(server);
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }
}
