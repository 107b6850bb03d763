//! The names on the wire that the `partly` SDK and `partly-mock` share, defined once (use them
//! through `partly::oauth::wire`).
//!
//! The OAuth install (partly-api.md §5): the integrator sends the browser to the authorize page
//! ([`AUTHORIZE_PATH`]) with [`CLIENT_ID`], [`STATE`], [`SCOPES`] and [`REDIRECT_URL`]; Partly
//! sends it back to the redirect URL with an access code ([`CODE`]) and the same [`STATE`], or
//! with an [`ERROR`].
//!
//! Partly's published material names the authorize page's parameters but not the redirect's.
//! \[decision\] The redirect uses OAuth 2.0's names (RFC 6749 §4.1.2 and §4.1.2.1): `code`,
//! `state`, `error` (`access_denied` when the user clicks Deny) and `error_description`. If
//! Partly's turn out different, this file is the one place to change.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The path of the authorize page on Partly's app (`https://app.partly.com` + this). \[doc\]
pub const AUTHORIZE_PATH: &str = "/auth/integration/authorize";

/// Authorize page: the integration's client id, issued by Partly. \[doc\]
pub const CLIENT_ID: &str = "client_id";
/// Authorize page and redirect: the random value of this attempt, sent back unchanged. \[doc\]
pub const STATE: &str = "state";
/// Authorize page: the scopes asked for, as a JSON list (`["repairer"]`). \[doc\]
pub const SCOPES: &str = "scopes";
/// Authorize page: where to send the browser back, exactly as registered (not `redirect_uri`). \[doc\]
pub const REDIRECT_URL: &str = "redirect_url";

/// Redirect: the single-use access code for `integrations.insert`. \[decision\] (RFC 6749 §4.1.2)
pub const CODE: &str = "code";
/// Redirect: why no code was issued (one of the `ERROR_*` values). \[decision\] (RFC 6749 §4.1.2.1)
pub const ERROR: &str = "error";
/// Redirect: a sentence for a person about [`ERROR`]. \[decision\] (RFC 6749 §4.1.2.1)
pub const ERROR_DESCRIPTION: &str = "error_description";

/// [`ERROR`] when the user declined (clicked Deny). \[decision\]
pub const ERROR_ACCESS_DENIED: &str = "access_denied";
/// [`ERROR`] when the request lacked a parameter or had a malformed one. \[decision\]
pub const ERROR_INVALID_REQUEST: &str = "invalid_request";
/// [`ERROR`] when a scope asked for is unknown. \[decision\]
pub const ERROR_INVALID_SCOPE: &str = "invalid_scope";

/// The scopes there are today. \[doc\]
pub const KNOWN_SCOPES: &[&str] = &["repairer", "supplier"];
