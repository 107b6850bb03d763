//! The OAuth install flow (partly-api.md §5): the authorize URL with a fresh `state`, the
//! constant-time check of the `state` that comes back, and the reading of the redirect.
//!
//! ```
//! let auth = partly::oauth::authorize_url("my-client-id", "https://shop.example/partly/callback", &["repairer"])?;
//! // keep auth.state in the user's session, send the browser to auth.url ...
//! // ... and when Partly redirects back to /partly/callback?code=...&state=...:
//! let returned = format!("/partly/callback?code=ac_123&state={}", auth.state);
//! let callback = partly::oauth::parse_callback(&returned, &auth.state)?; // checks the state
//! assert_eq!(callback.code.as_ref().map(|c| c.expose()), Some("ac_123"));
//! # Ok::<(), partly::Error>(())
//! ```
//!
//! The query parameters' names are in [`wire`], shared with `partly-mock`'s authorize page.

use subtle::ConstantTimeEq;
use url::Url;

use crate::config::defaults;
use crate::error::Error;
use crate::secret::Secret;

/// The names of the authorize page's and the redirect's query parameters, defined once and
/// shared with `partly-mock` (the redirect's are a \[decision\]: OAuth 2.0's `code`, `state`,
/// `error`, `error_description`).
pub use partly_wire as wire;

/// An authorize URL and the `state` it carries.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizeUrl {
    /// Where to send the user's browser.
    pub url: String,
    /// The random `state` in the URL: keep it (e.g. in the user's session) and compare it with
    /// the one Partly sends back, using [`verify_state`].
    pub state: String,
}

impl std::fmt::Debug for AuthorizeUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeUrl").field("url", &self.url).finish_non_exhaustive()
    }
}

/// A fresh random `state`: 32 bytes from the OS's CSPRNG, as 64 hex characters.
pub fn generate_state() -> Result<String, Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| {
        Error::new(crate::ErrorKind::Validation, format!("the operating system's random generator failed: {e}"))
    })?;
    Ok(crate::trace::hex(&b))
}

/// The URL that starts an install on Partly's default authorize page, with a new `state`.
///
/// `scopes` is what the integration asks for (today `["repairer"]` or `["supplier"]`);
/// `redirect_url` must be exactly the one registered with Partly.
pub fn authorize_url<S: AsRef<str>>(client_id: &str, redirect_url: &str, scopes: &[S]) -> Result<AuthorizeUrl, Error> {
    authorize_url_at(defaults::AUTHORIZE_URL, client_id, redirect_url, scopes)
}

/// Like [`authorize_url`], against another authorize page (a staging environment, a test).
///
/// `endpoint` is the page's URL; one with no path (or `/`) (`http://127.0.0.1:4010`, a `partly-mock`'s
/// URL) gets Partly's path, [`wire::AUTHORIZE_PATH`]. The Python and Node packages take the
/// same value as their `endpoint` option.
pub fn authorize_url_at<S: AsRef<str>>(
    endpoint: &str,
    client_id: &str,
    redirect_url: &str,
    scopes: &[S],
) -> Result<AuthorizeUrl, Error> {
    let mut url = Url::parse(endpoint)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .filter(|u| u.host().is_some())
        .ok_or_else(|| {
            Error::validation(format!(
                "authorize endpoint {endpoint:?} is not an absolute http(s) URL; give the authorize page's URL, \
                 e.g. {:?}, or a partly-mock's URL",
                defaults::AUTHORIZE_URL
            ))
        })?;
    if url.path() == "/" {
        url.set_path(wire::AUTHORIZE_PATH);
    }
    if client_id.trim().is_empty() {
        return Err(Error::validation("client_id is empty; give the client id Partly issued for the integration"));
    }
    let redirect =
        Url::parse(redirect_url).ok().filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if redirect.is_none() {
        return Err(Error::validation(format!(
            "redirect_url {redirect_url:?} is not an absolute http(s) URL; give it exactly as registered with Partly"
        )));
    }
    if scopes.is_empty() {
        return Err(Error::validation(
            "scopes is missing or empty; there is no default: ask for at least one, e.g. [\"repairer\"] or [\"supplier\"]",
        ));
    }
    let scopes: Vec<&str> = scopes.iter().map(AsRef::as_ref).collect();
    if let Some(bad) = scopes.iter().find(|s| s.trim().is_empty()) {
        return Err(Error::validation(format!("scopes contains an empty scope ({bad:?})")));
    }
    let scopes_json =
        serde_json::to_string(&scopes).map_err(|e| Error::validation(format!("scopes could not be encoded: {e}")))?;
    let state = generate_state()?;
    url.query_pairs_mut()
        .append_pair(wire::CLIENT_ID, client_id)
        .append_pair(wire::STATE, &state)
        .append_pair(wire::SCOPES, &scopes_json)
        .append_pair(wire::REDIRECT_URL, redirect_url);
    Ok(AuthorizeUrl { url: url.into(), state })
}

/// Whether the `state` that came back equals the one sent, compared in constant time. An empty
/// expected state never matches.
pub fn verify_state(expected: &str, received: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

/// [`verify_state`] for values that may not be text (a binding's dynamic arguments), with one
/// answer in every language: `expected` is the caller's own value, so anything but text is a
/// [`Validation`](crate::ErrorKind::Validation) error; `received` comes from the redirect (an
/// attacker may send anything, or leave it out), so a missing or non-text one never matches:
/// `Ok(false)`.
pub fn verify_state_checked(expected: Option<&str>, received: Option<&str>) -> Result<bool, Error> {
    let expected = expected.ok_or_else(|| {
        Error::validation("expected must be the state string kept from authorize_url (e.g. in the session)")
    })?;
    Ok(received.is_some_and(|r| verify_state(expected, r)))
}

/// What Partly's redirect back to the integrator said, once its `state` was checked: an access
/// code to trade with `integrations.insert`, or why there is none.
#[derive(Clone, PartialEq, Eq)]
pub struct Callback {
    /// The single-use access code (a secret; valid for 15 minutes). `None` when [`Callback::error`] is set.
    pub code: Option<Secret>,
    /// Why no code was issued: `access_denied` when the user clicked Deny
    /// ([`wire::ERROR_ACCESS_DENIED`]), or another OAuth error code.
    pub error: Option<String>,
    /// A sentence about [`Callback::error`] for a person, when the page gave one.
    pub error_description: Option<String>,
}

impl Callback {
    /// Whether the user declined the install (clicked Deny).
    pub fn denied(&self) -> bool {
        self.error.as_deref() == Some(wire::ERROR_ACCESS_DENIED)
    }
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// Reads the redirect Partly sent the browser back with, and checks its `state` against the one
/// this attempt sent (in constant time) before anything else.
///
/// `url_or_query` is what the callback request asked for: a whole URL
/// (`https://shop.example/partly/callback?code=...&state=...`), a path with its query
/// (`/partly/callback?code=...`, as Express's `req.originalUrl` or Node's `req.url` give it), or
/// just the query (`code=...&state=...`, with or without the `?`).
///
/// Errors ([`crate::ErrorKind::Validation`], nothing was sent anywhere): the state is missing or
/// does not match (a forged or stale redirect: reject it and trade nothing), `expected_state` is
/// empty, or the redirect carries neither a code nor an error, or both.
pub fn parse_callback(url_or_query: &str, expected_state: &str) -> Result<Callback, Error> {
    if expected_state.is_empty() {
        return Err(Error::validation(
            "expected_state is empty; pass the state of this attempt, as kept from authorize_url (e.g. in the \
             user's session). A callback without one must be rejected",
        ));
    }
    let query = match url_or_query.split_once('?') {
        Some((_, q)) => q,
        None => url_or_query,
    };
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let (mut state, mut code, mut error, mut description) = (None, None, None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            wire::STATE => &mut state,
            wire::CODE => &mut code,
            wire::ERROR => &mut error,
            wire::ERROR_DESCRIPTION => &mut description,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::validation(format!(
                "the callback carries `{key}` more than once; reject it and start the install again"
            )));
        }
        *slot = Some(value.into_owned());
    }
    let Some(state) = state else {
        return Err(Error::validation(format!(
            "the callback has no `{}`: it did not come from this install attempt; reject it and start again",
            wire::STATE
        )));
    };
    if !verify_state(expected_state, &state) {
        return Err(Error::validation(format!(
            "the callback's `{}` does not match the one this attempt sent: the redirect is forged or from \
             another attempt; reject it (trade no code) and start the install again",
            wire::STATE
        )));
    }
    let code = code.filter(|c| !c.is_empty());
    let error = error.filter(|e| !e.is_empty());
    match (&code, &error) {
        (Some(_), Some(_)) => Err(Error::validation(format!(
            "the callback carries both `{}` and `{}`; reject it and start the install again",
            wire::CODE,
            wire::ERROR
        ))),
        (None, None) => Err(Error::validation(format!(
            "the callback carries neither `{}` nor `{}`; is this the redirect from Partly's authorize page?",
            wire::CODE,
            wire::ERROR
        ))),
        _ => Ok(Callback { code: code.map(Secret::new), error, error_description: description }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_has_all_parameters() {
        let a = authorize_url("cid", "https://shop.example/cb?x=1", &["repairer"]).unwrap();
        let u = Url::parse(&a.url).unwrap();
        assert_eq!(u.host_str(), Some("app.partly.com"));
        assert_eq!(u.path(), "/auth/integration/authorize");
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["state"], a.state);
        assert_eq!(q["scopes"], "[\"repairer\"]");
        assert_eq!(q["redirect_url"], "https://shop.example/cb?x=1");
        assert!(!q.contains_key("redirect_uri"));
        assert_eq!(a.state.len(), 64);
        let b = authorize_url("cid", "https://shop.example/cb", &["repairer"]).unwrap();
        assert_ne!(a.state, b.state, "state is new for every attempt");
    }

    #[test]
    fn bad_inputs() {
        assert!(authorize_url("", "https://x/cb", &["repairer"]).is_err());
        assert!(authorize_url("c", "/cb", &["repairer"]).is_err());
        assert!(authorize_url::<&str>("c", "https://x/cb", &[]).is_err());
    }

    #[test]
    fn endpoint_without_path_gets_the_authorize_path() {
        for (endpoint, path) in [
            ("http://127.0.0.1:4010", "/auth/integration/authorize"),
            ("http://127.0.0.1:4010/", "/auth/integration/authorize"),
            ("https://staging.partly.example/auth/integration/authorize", "/auth/integration/authorize"),
            ("https://proxy.example/partly/authorize", "/partly/authorize"),
        ] {
            let a = authorize_url_at(endpoint, "cid", "https://shop.example/cb", &["repairer"]).unwrap();
            assert_eq!(Url::parse(&a.url).unwrap().path(), path, "{endpoint}");
        }
        assert_eq!(defaults::AUTHORIZE_URL, format!("https://app.partly.com{}", wire::AUTHORIZE_PATH));
        let e = authorize_url_at("/relative", "cid", "https://shop.example/cb", &["repairer"]).unwrap_err();
        assert!(e.message().contains("absolute http(s) URL"), "{e}");
    }

    #[test]
    fn callback_approved_denied_and_forged() {
        let cb = parse_callback("https://shop.example/cb?x=1&code=ac_1&state=s1", "s1").unwrap();
        assert_eq!(cb.code.as_ref().map(Secret::expose), Some("ac_1"));
        assert!(!cb.denied());
        assert!(!format!("{cb:?}").contains("ac_1"));
        for form in ["/cb?code=ac_1&state=s1", "?code=ac_1&state=s1", "code=ac_1&state=s1#frag"] {
            assert_eq!(
                parse_callback(form, "s1").unwrap().code.map(|c| c.expose().to_owned()).as_deref(),
                Some("ac_1")
            );
        }
        let denied = parse_callback("/cb?error=access_denied&error_description=no+thanks&state=s1", "s1").unwrap();
        assert!(denied.denied() && denied.code.is_none());
        assert_eq!(denied.error_description.as_deref(), Some("no thanks"));
        for (query, why) in [
            ("/cb?code=ac_1&state=s2", "does not match"),
            ("/cb?code=ac_1", "has no `state`"),
            ("/cb?state=s1", "neither"),
            ("/cb?state=s1&code=a&error=access_denied", "both"),
            ("/cb?state=s1&state=s1&code=a", "more than once"),
        ] {
            let e = parse_callback(query, "s1").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Validation);
            assert!(e.message().contains(why), "{query}: {e}");
            assert!(!e.message().contains("ac_1"), "{e}");
        }
        assert!(parse_callback("/cb?code=a&state=", "").unwrap_err().message().contains("expected_state is empty"));
    }

    #[test]
    fn state_check() {
        assert!(verify_state("abc", "abc"));
        assert!(!verify_state("abc", "abd"));
        assert!(!verify_state("abc", "ab"));
        assert!(!verify_state("", ""));
    }
}
