//! The OAuth install helpers (`partly.oauth`): the core's functions with Python arguments.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::error::{self, IntoPyResult};
use crate::models;

/// `(url, state)`: the authorize URL with a fresh `state` (at `endpoint`, default Partly's page).
#[pyfunction]
#[pyo3(signature = (client_id, redirect_url, scopes, *, endpoint=None))]
pub fn authorize_url(
    py: Python<'_>,
    client_id: &Bound<'_, PyAny>,
    redirect_url: &Bound<'_, PyAny>,
    scopes: &Bound<'_, PyAny>,
    endpoint: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let client_id = models::req_str(client_id, "client_id")?;
    let redirect_url = models::req_str(redirect_url, "redirect_url")?;
    let endpoint = models::opt_str(endpoint, "endpoint")?;
    if !(scopes.is_instance_of::<PyList>() || scopes.is_instance_of::<PyTuple>()) {
        return Err(error::validation(
            py,
            format!("scopes must be a list of str such as [\"repairer\"], got {}", models::type_name(scopes)),
        ));
    }
    let mut list = Vec::new();
    for (i, s) in scopes.try_iter()?.enumerate() {
        let s = s?;
        match s.cast::<PyString>() {
            Ok(s) => list.push(s.to_cow()?.into_owned()),
            Err(_) => {
                return Err(error::validation(py, format!("scopes[{i}] must be a str, got {}", models::type_name(&s))))
            }
        }
    }
    let auth = match endpoint {
        Some(e) => partly::oauth::authorize_url_at(&e, &client_id, &redirect_url, &list),
        None => partly::oauth::authorize_url(&client_id, &redirect_url, &list),
    }
    .py(py)?;
    Ok((auth.url, auth.state))
}

/// Whether the `state` that came back equals the one sent (constant-time).
#[pyfunction]
pub fn verify_state(expected: &Bound<'_, PyAny>, received: &Bound<'_, PyAny>) -> PyResult<bool> {
    let expected = models::req_str(expected, "expected")?;
    let received = models::req_str(received, "received")?;
    Ok(partly::oauth::verify_state(&expected, &received))
}

/// A fresh random `state` (64 hex characters).
#[pyfunction]
pub fn generate_state(py: Python<'_>) -> PyResult<String> {
    partly::oauth::generate_state().py(py)
}

/// `(code, error, error_description)` of the redirect back from the authorize page, once its
/// `state` matched `expected_state` (`partly::oauth::parse_callback`).
#[pyfunction]
pub fn parse_callback(
    py: Python<'_>,
    url_or_query: &Bound<'_, PyAny>,
    expected_state: &Bound<'_, PyAny>,
) -> PyResult<(Option<String>, Option<String>, Option<String>)> {
    let url_or_query = models::req_str(url_or_query, "url_or_query")?;
    let expected_state = models::req_str(expected_state, "expected_state")?;
    let cb = partly::oauth::parse_callback(&url_or_query, &expected_state).py(py)?;
    Ok((cb.code.map(|c| c.expose().to_owned()), cb.error, cb.error_description))
}
