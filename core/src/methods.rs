//! The method table: every wire name the SDK knows, whether it needs credentials, and whether
//! it is safe to resend after a request may have reached the server (partly-api.md §6).
//!
//! A renamed method is a one-line change here.

/// Whether a method may be sent again after a request may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resend {
    /// Reading, or an idempotent write: retry timeouts, dropped connections, 408/429/5xx.
    Safe,
    /// Not idempotent: retry only when the connection was never made.
    OnlyIfNotSent,
}

/// One API method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    /// The dotted wire name, the last segment of `POST {base}/api/{version}/{name}`.
    pub name: &'static str,
    /// Whether the call sends `authorization` and `partly-integration-id`.
    pub requires_auth: bool,
    /// Whether it may be resent. A method that must not be resent is also sent on a new
    /// connection (never a pooled one the server may have just closed).
    pub resend: Resend,
    /// Fields of the answer that are secrets: if the answer cannot be decoded, their values
    /// are scrubbed from the error with the other secrets.
    pub answer_secrets: &'static [&'static str],
    /// Whether the documented answer is the empty object, so that an empty 2xx body (a 204)
    /// reads as `{}` rather than failing to decode. \[decision\]
    pub empty_answer: bool,
}

/// Finish an OAuth install: trade the access code for an API key. The code is single use, so
/// the call is never resent once it may have reached the server.
pub const INTEGRATIONS_INSERT: Method = Method {
    name: "integrations.insert",
    requires_auth: false,
    resend: Resend::OnlyIfNotSent,
    answer_secrets: &["api_key"],
    empty_answer: false,
};
/// Fetch one repair job.
pub const JOBS_GET: Method =
    Method { name: "jobs.get", requires_auth: true, resend: Resend::Safe, answer_secrets: &[], empty_answer: false };
/// Create, update or replace a repair job, keyed by identity: the same upsert twice gives the
/// same job. \[decision: wire name\]
pub const JOBS_INSERT: Method =
    Method { name: "jobs.insert", requires_auth: true, resend: Resend::Safe, answer_secrets: &[], empty_answer: false };
/// Queue vehicles for Partly to prepare; queuing twice is harmless. Its documented answer is
/// `{}`, which carries nothing: an empty 2xx answer (a 204) means the same and is accepted.
/// \[decision\]
pub const TIER1_PREPARE: Method = Method {
    name: "tier1.prepare",
    requires_auth: true,
    resend: Resend::Safe,
    answer_secrets: &[],
    empty_answer: true,
};

/// Every typed method.
pub const ALL: [Method; 4] = [INTEGRATIONS_INSERT, JOBS_GET, JOBS_INSERT, TIER1_PREPARE];

/// The spec of a method called by name through [`Client::call`](crate::Client::call): a known
/// name gets its own row; any other is authenticated and, unless the caller declares it
/// idempotent, resent only when the connection was never made.
pub fn lookup(name: &str) -> Option<Method> {
    ALL.iter().copied().find(|m| m.name == name)
}

/// Checks a method name given to [`Client::call`](crate::Client::call): dotted segments of
/// letters, digits, `_` and `-`.
pub(crate) fn validate_name(name: &str) -> Result<(), crate::Error> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .split('.')
            .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(crate::Error::validation(format!(
            "method {name:?} is not a method name; give the dotted wire name such as \"businesses.list\""
        )))
    }
}
