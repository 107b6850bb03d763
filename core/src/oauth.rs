//! The OAuth install flow (partly-api.md §5): the authorize URL with a fresh `state`, and the
//! constant-time check of the `state` that comes back.
//!
//! ```
//! let auth = partly::oauth::authorize_url("my-client-id", "https://shop.example/partly/callback", &["repairer"])?;
//! // keep auth.state in the user's session, send the browser to auth.url ...
//! // ... and when Partly redirects back with ?code=...&state=...:
//! assert!(partly::oauth::verify_state(&auth.state, &auth.state));
//! # Ok::<(), partly::Error>(())
//! ```

use subtle::ConstantTimeEq;
use url::Url;

use crate::config::defaults;
use crate::error::Error;

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
pub fn authorize_url_at<S: AsRef<str>>(
    endpoint: &str,
    client_id: &str,
    redirect_url: &str,
    scopes: &[S],
) -> Result<AuthorizeUrl, Error> {
    let mut url = Url::parse(endpoint)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| Error::validation(format!("authorize endpoint {endpoint:?} is not an http(s) URL")))?;
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
        return Err(Error::validation("scopes is empty; ask for at least one, e.g. [\"repairer\"] or [\"supplier\"]"));
    }
    let scopes: Vec<&str> = scopes.iter().map(AsRef::as_ref).collect();
    if let Some(bad) = scopes.iter().find(|s| s.trim().is_empty()) {
        return Err(Error::validation(format!("scopes contains an empty scope ({bad:?})")));
    }
    let scopes_json =
        serde_json::to_string(&scopes).map_err(|e| Error::validation(format!("scopes could not be encoded: {e}")))?;
    let state = generate_state()?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("state", &state)
        .append_pair("scopes", &scopes_json)
        .append_pair("redirect_url", redirect_url);
    Ok(AuthorizeUrl { url: url.into(), state })
}

/// Whether the `state` that came back equals the one sent, compared in constant time. An empty
/// expected state never matches.
pub fn verify_state(expected: &str, received: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
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
    fn state_check() {
        assert!(verify_state("abc", "abc"));
        assert!(!verify_state("abc", "abd"));
        assert!(!verify_state("abc", "ab"));
        assert!(!verify_state("", ""));
    }
}
