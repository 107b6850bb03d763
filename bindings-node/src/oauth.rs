//! The OAuth install helpers (partly-api.md §5): the core's `partly::oauth`, as plain functions.

use napi_derive::napi;
use serde_json::{json, Value};

use crate::error::Outcome;

/// `partly::oauth::authorize_url` (or `authorize_url_at` when `endpoint` is given): `{ url, state }`.
#[napi(catch_unwind)]
pub fn authorize_url(
    client_id: Option<String>,
    redirect_url: Option<String>,
    scopes: Option<Vec<String>>,
    endpoint: Option<String>,
) -> Outcome {
    let client_id = client_id.unwrap_or_default();
    let redirect_url = redirect_url.unwrap_or_default();
    let scopes = scopes.unwrap_or_default();
    let made = match endpoint {
        Some(at) => partly::oauth::authorize_url_at(&at, &client_id, &redirect_url, &scopes),
        None => partly::oauth::authorize_url(&client_id, &redirect_url, &scopes),
    };
    Outcome::from_result(made.map(|a| json!({ "url": a.url, "state": a.state })))
}

/// `partly::oauth::verify_state`: constant-time comparison.
#[napi(catch_unwind)]
pub fn verify_state(expected: String, received: String) -> bool {
    partly::oauth::verify_state(&expected, &received)
}

/// `partly::oauth::generate_state`.
#[napi(catch_unwind)]
pub fn generate_state() -> Outcome {
    Outcome::from_result(partly::oauth::generate_state().map(Value::String))
}
