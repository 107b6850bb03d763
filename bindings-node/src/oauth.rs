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

/// `partly::oauth::verify_state_checked`: constant-time comparison; `None` for a value that is
/// not a string (the core decides what that means).
#[napi(catch_unwind)]
pub fn verify_state(expected: Option<String>, received: Option<String>) -> Outcome {
    Outcome::from_result(partly::oauth::verify_state_checked(expected.as_deref(), received.as_deref()).map(Value::Bool))
}

/// `partly::oauth::generate_state`.
#[napi(catch_unwind)]
pub fn generate_state() -> Outcome {
    Outcome::from_result(partly::oauth::generate_state().map(Value::String))
}

/// `partly::oauth::parse_callback`: `{ code, error, errorDescription }` once the state matched.
#[napi(catch_unwind)]
pub fn parse_callback(url_or_query: Option<String>, expected_state: Option<String>) -> Outcome {
    let parsed = partly::oauth::parse_callback(&url_or_query.unwrap_or_default(), &expected_state.unwrap_or_default());
    Outcome::from_result(parsed.map(|cb| {
        json!({
            "code": cb.code.as_ref().map(|c| c.expose()),
            "error": cb.error,
            "errorDescription": cb.error_description,
        })
    }))
}

/// The redirect's `error` when the user clicked Deny.
#[napi(catch_unwind)]
pub fn error_access_denied() -> String {
    partly::oauth::wire::ERROR_ACCESS_DENIED.to_owned()
}
