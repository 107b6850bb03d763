//! The OAuth authorize page (partly-api.md §5): `GET /auth/integration/authorize` shows a consent
//! page for a known client and a registered redirect URL; its form (`POST` to the same path)
//! sends the browser back to the redirect URL with a fresh single-use access code and the same
//! `state` (Approve) or with `error=access_denied` (Deny).
//!
//! An unknown client or a redirect URL not registered for it gets an error page, never a
//! redirect: an open redirect would hand access codes to anyone. Once the client and the
//! redirect URL are known good, other problems (no `state`, bad `scopes`) go back to the
//! redirect URL as an OAuth error, as RFC 6749 §4.1.2.1 does.
//!
//! The query parameters' names come from `partly-wire`, shared with the SDK.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use hyper::{Method, Response, StatusCode};
use partly_wire as wire;
use url::Url;
use uuid::Uuid;

use crate::body::MockBody;
use crate::server::Shared;
use crate::state::ACCESS_CODE_LIFETIME_SECS;
use crate::{lock, DEMO_CLIENT_ID, DEMO_INTEGRATION_NAME};

/// How long a consent page can be answered.
const CONSENT_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Most unanswered consent pages kept (the oldest expired ones go first).
const MAX_PENDING_CONSENTS: usize = 4096;

/// A consent page that was shown and not yet answered: what its form's `consent` id stands for.
/// The form carries only that id, so nothing the browser sends back can change the client, the
/// redirect URL or the state.
pub(crate) struct Pending {
    redirect_url: String,
    state: String,
    expires: Instant,
}

/// Checks a redirect URL before it is registered: absolute http(s) with a host.
pub(crate) fn check_redirect_url(url: &str) -> Result<(), String> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.fragment().is_none() => Ok(()),
        _ => Err(format!(
            "redirect URL {url:?} is not an absolute http(s) URL without a fragment, such as \
             \"http://127.0.0.1:5000/partly/callback\""
        )),
    }
}

/// The page's answer: an HTML page with its status, or a redirect.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    body: Bytes,
    location: Option<HeaderValue>,
}

impl Page {
    fn html(status: StatusCode, html: String) -> Page {
        Page { status, body: Bytes::from(html), location: None }
    }

    fn error(title: &str, message: &str) -> Page {
        Page::html(StatusCode::BAD_REQUEST, error_html(title, message))
    }

    fn redirect(to: &Url) -> Page {
        match HeaderValue::from_str(to.as_str()) {
            Ok(location) => Page { status: StatusCode::SEE_OTHER, body: Bytes::new(), location: Some(location) },
            Err(_) => Page::error("Cannot send you back", "The redirect URL cannot be put in a Location header."),
        }
    }

    pub(crate) fn into_response(self) -> Response<MockBody> {
        let mut response = Response::new(MockBody::full(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        match self.location {
            Some(location) => {
                headers.insert(LOCATION, location);
            }
            None => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                headers.insert(
                    "content-security-policy",
                    HeaderValue::from_static(
                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
                    ),
                );
            }
        }
        response
    }
}

/// Answers `method` on the authorize path; `query` is the URL's query, `body` the form.
pub(crate) fn answer(shared: &Shared, method: &Method, query: Option<&str>, body: &[u8]) -> Page {
    match *method {
        Method::GET | Method::HEAD => show(shared, query.unwrap_or("")),
        Method::POST => decide(shared, body),
        _ => Page { status: StatusCode::METHOD_NOT_ALLOWED, body: Bytes::new(), location: None },
    }
}

/// The parameters of a query or form, each at most once.
fn params<'a>(text: &'a [u8], names: &[&'a str]) -> Result<Vec<Option<String>>, Page> {
    let mut out = vec![None; names.len()];
    for (key, value) in url::form_urlencoded::parse(text) {
        if let Some(i) = names.iter().position(|n| *n == key) {
            if out[i].is_some() {
                return Err(Page::error(
                    "This install link is not valid",
                    &format!("The parameter `{key}` appears more than once."),
                ));
            }
            out[i] = Some(value.into_owned());
        }
    }
    Ok(out)
}

fn show(shared: &Shared, query: &str) -> Page {
    let names = [wire::CLIENT_ID, wire::REDIRECT_URL, wire::STATE, wire::SCOPES];
    let [client_id, redirect_url, state, scopes] = match params(query.as_bytes(), &names) {
        Ok(p) => <[Option<String>; 4]>::try_from(p).unwrap_or_default(),
        Err(page) => return page,
    };
    let invalid = "This install link is not valid";
    let Some(client_id) = client_id.filter(|c| !c.is_empty()) else {
        return Page::error(invalid, &format!("The link has no `{}`.", wire::CLIENT_ID));
    };
    if client_id != DEMO_CLIENT_ID {
        return Page::error(
            "Unknown integration",
            &format!("No integration has the client id “{client_id}”. (This mock knows one: “{DEMO_CLIENT_ID}”.)"),
        );
    }
    let Some(redirect_url) = redirect_url.filter(|r| !r.is_empty()) else {
        return Page::error(invalid, &format!("The link has no `{}`.", wire::REDIRECT_URL));
    };
    let registered = shared.redirect_urls();
    if !registered.contains(&redirect_url) {
        let known = if registered.is_empty() {
            "none yet".to_owned()
        } else {
            registered.iter().map(|r| format!("“{r}”")).collect::<Vec<_>>().join(", ")
        };
        return Page::error(
            "Unregistered redirect URL",
            &format!(
                "“{redirect_url}” is not a redirect URL registered for {DEMO_INTEGRATION_NAME}, so this page \
                 will not send you there. Registered: {known}. Register it with partly-mock --redirect-url, \
                 POST /__mock/redirect_urls or the MockServer's redirect URLs option."
            ),
        );
    }
    // From here on the redirect URL is trusted: problems go back to it as OAuth errors.
    let back = |error: &str, description: &str, state: Option<&str>| {
        let pairs = [(wire::ERROR, error), (wire::ERROR_DESCRIPTION, description)];
        redirect_to(&redirect_url, &pairs, state)
    };
    let Some(state) = state.filter(|s| !s.is_empty()) else {
        return back(wire::ERROR_INVALID_REQUEST, "the authorize request has no state", None);
    };
    let scopes: Vec<String> = match scopes.as_deref().map(serde_json::from_str::<Vec<String>>) {
        Some(Ok(list)) if !list.is_empty() => list,
        _ => {
            return back(
                wire::ERROR_INVALID_REQUEST,
                "scopes must be a non-empty JSON list such as [\"repairer\"]",
                Some(&state),
            )
        }
    };
    if let Some(bad) = scopes.iter().find(|s| !wire::KNOWN_SCOPES.contains(&s.as_str())) {
        return back(wire::ERROR_INVALID_SCOPE, &format!("unknown scope {bad:?}"), Some(&state));
    }
    let consent = Uuid::new_v4().simple().to_string();
    {
        let mut pending = lock(&shared.consents);
        let now = Instant::now();
        if pending.len() >= MAX_PENDING_CONSENTS {
            pending.retain(|_, p| p.expires > now);
        }
        if pending.len() >= MAX_PENDING_CONSENTS {
            return Page::error("Too many open consent pages", "Answer or let expire the ones already open.");
        }
        let expires = now + CONSENT_LIFETIME;
        pending.insert(consent.clone(), Pending { redirect_url: redirect_url.clone(), state, expires });
    }
    Page::html(StatusCode::OK, consent_html(&scopes, &redirect_url, &consent))
}

fn decide(shared: &Shared, body: &[u8]) -> Page {
    let [consent, decision] = match params(body, &["consent", "decision"]) {
        Ok(p) => <[Option<String>; 2]>::try_from(p).unwrap_or_default(),
        Err(page) => return page,
    };
    let pending = consent.and_then(|id| lock(&shared.consents).remove(&id)).filter(|p| p.expires > Instant::now());
    let Some(pending) = pending else {
        return Page::error(
            "This consent page has expired",
            "It was already answered, or it is too old. Start the install again from the integration.",
        );
    };
    match decision.as_deref() {
        Some("approve") => {
            let code = lock(&shared.state).mint_code(ACCESS_CODE_LIFETIME_SECS);
            redirect_to(&pending.redirect_url, &[(wire::CODE, code.as_str())], Some(&pending.state))
        }
        Some("deny") => redirect_to(
            &pending.redirect_url,
            &[(wire::ERROR, wire::ERROR_ACCESS_DENIED), (wire::ERROR_DESCRIPTION, "the user declined the install")],
            Some(&pending.state),
        ),
        _ => Page::error("Nothing was decided", "Use the Approve or Deny button."),
    }
}

/// `redirect_url` (already checked) with `pairs` and the `state` added to its query.
fn redirect_to(redirect_url: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Page {
    let Ok(mut url) = Url::parse(redirect_url) else {
        return Page::error("Cannot send you back", "The registered redirect URL is not a URL.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair(wire::STATE, state);
        }
    }
    Page::redirect(&url)
}

/// `text` safe inside HTML text and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;\
background:#eef1f5;color:#1d2330}main{max-width:420px;margin:32px auto;background:#fff;border-radius:10px;\
padding:24px 28px;box-shadow:0 2px 10px rgba(0,0,0,.08)}.brand{font-weight:700;color:#e4572e;margin:0 0 12px}\
.brand span{font-weight:400;color:#7a8394;font-size:13px;margin-left:6px}h1{font-size:20px;margin:0 0 12px}\
ul{padding-left:20px}code{background:#f3f4f7;padding:1px 4px;border-radius:4px;word-break:break-all}\
.buttons{display:flex;gap:12px;margin-top:18px}button{flex:1;font:inherit;padding:9px 0;border-radius:6px;\
cursor:pointer;border:1px solid #c8ced8;background:#fff}button.approve{background:#e4572e;border-color:#e4572e;\
color:#fff;font-weight:600}.small{color:#6b7384;font-size:13px}";

fn scope_text(scope: &str) -> &'static str {
    match scope {
        "repairer" => "read and update the repair jobs of your sites",
        "supplier" => "read and answer the parts requests sent to you",
        _ => "",
    }
}

fn consent_html(scopes: &[String], redirect_url: &str, consent: &str) -> String {
    let name = escape(DEMO_INTEGRATION_NAME);
    let items: String =
        scopes.iter().map(|s| format!("<li><code>{}</code> — {}</li>", escape(s), scope_text(s))).collect();
    let back = Url::parse(redirect_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Connect {name} — Partly</title>\
         <style>{STYLE}</style></head><body><main>\
         <p class=\"brand\">Partly<span>partly-mock</span></p>\
         <h1 id=\"title\">Connect <strong id=\"integration\">{name}</strong> to Partly?</h1>\
         <p>{name} is asking to:</p><ul id=\"scopes\">{items}</ul>\
         <p class=\"small\">After you answer you will be sent back to <code>{back}</code>.</p>\
         <form method=\"post\" action=\"{path}\"><input type=\"hidden\" name=\"consent\" value=\"{consent}\">\
         <div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\" class=\"approve\">Approve</button>\
         </div></form></main></body></html>",
        back = escape(&back),
        path = wire::AUTHORIZE_PATH,
        consent = escape(consent),
    )
}

fn error_html(title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} — Partly</title>\
         <style>{STYLE}</style></head><body><main>\
         <p class=\"brand\">Partly<span>partly-mock</span></p>\
         <h1 id=\"title\">{title}</h1><p id=\"error\">{message}</p></main></body></html>",
        title = escape(title),
        message = escape(message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn redirect_keeps_the_registered_query() {
        let page = redirect_to("https://shop.example/cb?tenant=7", &[("code", "ac_1")], Some("s t"));
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let location = page.location.as_ref().and_then(|l| l.to_str().ok()).unwrap_or("");
        assert_eq!(location, "https://shop.example/cb?tenant=7&code=ac_1&state=s+t");
    }

    #[test]
    fn redirect_urls_are_checked() {
        assert!(check_redirect_url("http://127.0.0.1:5000/partly/callback").is_ok());
        for bad in ["/cb", "ftp://x/cb", "https://x/cb#f", ""] {
            assert!(check_redirect_url(bad).is_err(), "{bad}");
        }
    }
}
