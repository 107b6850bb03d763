//! `partly._native.diagnostics(...)`: the core's `partly::diagnostics` with client settings
//! given as keyword arguments (the rest from the environment), returned as a dict.

use pyo3::prelude::*;

use partly::ClientBuilder;

use crate::client::{network_options, sdk_identity};
use crate::error::IntoPyResult;
use crate::models::{self, Outcome};
use crate::runtime;

/// One unauthenticated request to the base URL, timed step by step, with the settings in force.
#[pyfunction]
#[pyo3(signature = (*, base_url=None, proxy=None, ca_bundle=None, timeout=None, allow_insecure_http=None))]
pub fn diagnostics<'py>(
    py: Python<'py>,
    base_url: Option<&Bound<'py, PyAny>>,
    proxy: Option<&Bound<'py, PyAny>>,
    ca_bundle: Option<&Bound<'py, PyAny>>,
    timeout: Option<&Bound<'py, PyAny>>,
    allow_insecure_http: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut builder = network_options(py, ClientBuilder::from_env(), proxy, ca_bundle)?;
    if let Some(url) = models::opt_str(base_url, "base_url")? {
        builder = builder.base_url(url);
    }
    if let Some(t) = models::opt_seconds(timeout, "timeout")? {
        builder = builder.timeout(t);
    }
    if let Some(allow) = models::opt_bool(allow_insecure_http, "allow_insecure_http")? {
        builder = builder.allow_insecure_http(allow);
    }
    let config = builder.sdk_identity(sdk_identity(py)?).build_config().py(py)?;
    runtime::block_on(py, async move { Outcome::from_result(Ok::<_, partly::Error>(partly::diagnostics::run(&config).await)) })?.into_py(py)
}
