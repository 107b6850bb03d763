//! The OAuth install helpers (`partly.oauth`): the core's functions with Python arguments.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::error::{self, IntoPyResult};
use crate::models;

/// `(url, state)`: the authorize URL with a fresh `state` (at `endpoint`, default Partly's page).
#[pyfunction]
#[pyo3(signature = (client_id, redirect_url, scopes=None, *, endpoint=None))]
pub fn authorize_url(
    py: Python<'_>,
    client_id: &Bound<'_, PyAny>,
    redirect_url: &Bound<'_, PyAny>,
    scopes: Option<&Bound<'_, PyAny>>,
    endpoint: Option<&Bound<'_, PyAny>>,
) -> PyResult<(String, String)> {
    let client_id = models::req_str(client_id, "client_id")?;
    let redirect_url = models::req_str(redirect_url, "redirect_url")?;
    let endpoint = models::opt_str(endpoint, "endpoint")?;
    // No scopes: an empty list, so the core answers (a ValidationError; there is no default).
    let mut list = Vec::new();
    if let Some(scopes) = scopes.filter(|s| !s.is_none()) {
        if !(scopes.is_instance_of::<PyList>() || scopes.is_instance_of::<PyTuple>()) {
            return Err(error::validation(
                py,
                format!("scopes must be a list of str such as [\"repairer\"], got {}", models::type_name(scopes)),
            ));
        }
        for (i, s) in scopes.try_iter()?.enumerate() {
            let s = s?;
            match s.cast::<PyString>() {
                Ok(s) => list.push(s.to_cow()?.into_owned()),
                Err(_) => {
                    return Err(error::validation(
                        py,
                        format!("scopes[{i}] must be a str, got {}", models::type_name(&s)),
                    ))
                }
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
pub fn verify_state(py: Python<'_>, expected: &Bound<'_, PyAny>, received: &Bound<'_, PyAny>) -> PyResult<bool> {
    // A value that is not a str goes in as None: the core decides (expected: ValidationError;
    // received: False).
    let text = |o: &Bound<'_, PyAny>| -> PyResult<Option<String>> {
        match o.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => Ok(None),
        }
    };
    partly::oauth::verify_state_checked(text(expected)?.as_deref(), text(received)?.as_deref()).py(py)
}

/// The core's shapes (`partly::shapes::ALL`) as a list of dicts, for the drift test of
/// `models.py`, `errors.py` and the stubs.
#[pyfunction]
pub fn shapes(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    models::from_json(py, &partly::shapes::all_as_json())
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
