//! Client settings and their defaults.
//!
//! Every default the SDK has lives in [`defaults`]; the Python and Node packages read them from
//! here, so a change is one line.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;
use uuid::Uuid;

use crate::error::Error;
use crate::network::{Network, NetworkOptions, ProxyEnv, ProxySetting};
use crate::secret::Secret;

/// The defaults of design.md §3, in one place.
pub mod defaults {
    use std::time::Duration;

    /// Where the API lives unless `PARTLY_BASE_URL` or the builder says otherwise. \[decision\]
    pub const BASE_URL: &str = "https://api.partly.com";
    /// The API version every method path carries: `{base_url}/api/{API_VERSION}/{method}`.
    pub const API_VERSION: &str = "2026-01";
    /// Timeout of one attempt: connect, request, response headers and the whole body.
    pub const TIMEOUT: Duration = Duration::from_secs(30);
    /// Timeout of establishing one connection (inside [`TIMEOUT`]).
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Retries after the first attempt (so 3 attempts), only where resending is safe.
    pub const MAX_RETRIES: u32 = 2;
    /// The most retries a client or a call may ask for: beyond it a call could retry for hours
    /// (backoff caps at 8 s), which is a mistake rather than a policy.
    pub const MAX_RETRIES_LIMIT: u32 = 10;
    /// First backoff delay; doubles on every retry.
    pub const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
    /// Largest backoff delay.
    pub const BACKOFF_MAX: Duration = Duration::from_secs(8);
    /// The longest `Retry-After` the client will wait for; beyond it the call fails at once
    /// with a rate-limit error carrying the server's `retry_after`.
    pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);
    /// The largest response body the client reads; a larger one is a decode error.
    pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
    /// How much of an error body is kept on an error (in bytes, cut at a character boundary,
    /// after secrets are scrubbed).
    pub const ERROR_BODY_MAX: usize = 8 * 1024;
    /// The longest message kept on an error (the server's `message`, a first line of text).
    pub const ERROR_MESSAGE_MAX: usize = 1000;
    /// The longest error `code`, `request_id` or method name kept on an error.
    pub const ERROR_FIELD_MAX: usize = 200;
    /// Identifiers per `tier1.prepare` request, as the API allows at most.
    pub const PREPARE_BATCH_MAX: usize = 100;
    /// `prepare_all`: the most requests in flight at once (`max_concurrency`); the adaptive
    /// limiter stays at or below it.
    pub const PREPARE_MAX_CONCURRENCY: usize = 32;
    /// `prepare_all`: requests in flight at the start, before the limiter has seen an answer.
    pub const PREPARE_INITIAL_CONCURRENCY: usize = 8;
    /// `prepare_all`: how long a batch answered 429 waits before it is queued again when the
    /// answer has no `Retry-After`; with one, it waits that long, up to [`RETRY_AFTER_MAX`].
    pub const PREPARE_THROTTLE_WAIT: Duration = Duration::from_secs(1);
    /// `prepare_all`: how often one batch may be answered 429 (each waited out and queued
    /// again, without spending its retries) before it is reported failed with that 429, so a
    /// server that throttles forever cannot hang a run that has no `deadline`.
    pub const PREPARE_THROTTLE_REQUEUES_MAX: u32 = 60;
    /// `prepare_all` with a `checkpoint`: the most time between two writes of the file.
    pub const PREPARE_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);
    /// `prepare_all`: the lowest request rate the limiter backs off to (requests per second).
    pub const PREPARE_MIN_RATE: f64 = 0.5;
    /// Environment variable with the API key.
    pub const ENV_API_KEY: &str = "PARTLY_API_KEY";
    /// Environment variable with the integration id.
    pub const ENV_INTEGRATION_ID: &str = "PARTLY_INTEGRATION_ID";
    /// Environment variable with the base URL.
    pub const ENV_BASE_URL: &str = "PARTLY_BASE_URL";
    /// Where the user's browser is sent to authorize an integration.
    pub const AUTHORIZE_URL: &str = "https://app.partly.com/auth/integration/authorize";
    /// Whether HTTP/2 is offered over TLS (ALPN `h2`, falling back to HTTP/1.1 when the server
    /// does not pick it). Chosen from `make bench` (tests/bench/RESULTS.md, "HTTP/1.1 vs HTTP/2").
    pub const HTTP2: bool = true;
}

/// Which SDK and runtime the client reports in its `user-agent`.
///
/// Bindings set this to their language and runtime (`partly-python`, `CPython 3.11.7`); the
/// Rust default is `partly-rust/<version> (rust; <os> <arch>)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkIdentity {
    /// Product token, e.g. `partly-python`.
    pub product: String,
    /// Package version.
    pub version: String,
    /// Runtime and its version, e.g. `CPython 3.11.7` or `node 20.20.2`.
    pub runtime: String,
}

impl Default for SdkIdentity {
    fn default() -> Self {
        SdkIdentity { product: "partly-rust".into(), version: env!("CARGO_PKG_VERSION").into(), runtime: "rust".into() }
    }
}

impl SdkIdentity {
    /// The `user-agent` header value: `partly-<lang>/<version> (<runtime>; <os> <arch>)`.
    pub fn user_agent(&self) -> String {
        format!(
            "{}/{} ({}; {} {})",
            self.product,
            self.version,
            self.runtime,
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    }
}

/// Resolved, validated settings of a [`Client`](crate::Client).
#[derive(Clone)]
pub struct Config {
    pub(crate) base_url: Url,
    pub(crate) api_key: Option<Secret>,
    /// The password of a proxy URL, scrubbed like the key from anything kept or logged.
    pub(crate) proxy_password: Option<Secret>,
    pub(crate) integration_id: Option<Uuid>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) retry_after_max: Duration,
    pub(crate) allow_insecure_http: bool,
    pub(crate) identity: SdkIdentity,
    pub(crate) max_response_bytes: usize,
    pub(crate) network: Network,
}

impl Config {
    /// The base URL (without the `/api/<version>/` part).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
    /// The integration id sent as `partly-integration-id`, if any.
    pub fn integration_id(&self) -> Option<Uuid> {
        self.integration_id
    }
    /// The secrets among the settings, which every error and log record of the client's calls
    /// is scrubbed of (the API key; any other credential a setting carries belongs here too).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.api_key.iter().chain(self.proxy_password.iter())
    }
    /// Whether an API key is set (the key itself is never handed out).
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }
    /// Timeout of one attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }
    /// The `user-agent` sent.
    pub fn user_agent(&self) -> String {
        self.identity.user_agent()
    }
    /// The proxy, trusted roots and TLS settings in force.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &self.api_key)
            .field("integration_id", &self.integration_id)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("network", &self.network)
            .finish()
    }
}

/// Builds a [`Client`](crate::Client). Start from [`ClientBuilder::new`] (nothing from the
/// environment) or [`ClientBuilder::from_env`]; explicit setters override the environment.
/// Nothing is validated until [`build`](ClientBuilder::build), which reports every mistake as a
/// [`Validation`](crate::ErrorKind::Validation) error before any request is made.
#[derive(Clone, Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<Secret>,
    integration_id: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_retries: Option<u32>,
    backoff_initial: Option<Duration>,
    backoff_max: Option<Duration>,
    retry_after_max: Option<Duration>,
    allow_insecure_http: bool,
    identity: Option<SdkIdentity>,
    base_url_from_env: bool,
    max_response_bytes: Option<usize>,
    network: NetworkOptions,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("integration_id", &self.integration_id)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("proxy", &self.proxy_shown())
            .field("ca_bundle", &self.network.ca_bundle)
            .finish_non_exhaustive()
    }
}

/// The names of the environment variables [`ClientBuilder::from_env`] reads, for bindings whose
/// runtime keeps its own view of the environment (Node's `worker_threads` give each worker its
/// own `process.env`): the SDK's own and the proxy variables ([`crate::network::PROXY_ENV_VARS`]).
pub const ENV_VARS: [&str; 12] = [
    defaults::ENV_API_KEY,
    defaults::ENV_INTEGRATION_ID,
    defaults::ENV_BASE_URL,
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

impl ClientBuilder {
    /// A builder with every setting at its default and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder seeded from `PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID` and `PARTLY_BASE_URL`
    /// (empty variables count as unset). Setters called afterwards win.
    pub fn from_env() -> Self {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading each variable of [`ENV_VARS`] through `lookup`
    /// instead of the process environment, with the same rules (values are trimmed; empty ones
    /// count as unset). For runtimes with their own environment: a Node worker's `process.env`.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut b = Self::new();
        if let Some(key) = var(defaults::ENV_API_KEY) {
            b.api_key = Some(Secret::new(key));
        }
        b.integration_id = var(defaults::ENV_INTEGRATION_ID);
        if let Some(url) = var(defaults::ENV_BASE_URL) {
            b.base_url = Some(url);
            b.base_url_from_env = true;
        }
        b.network.proxy_env = Some(ProxyEnv::from_lookup(&lookup));
        b
    }

    /// The API's base URL (`https://api.partly.com` by default). A path is kept:
    /// `https://proxy/partly` calls `https://proxy/partly/api/2026-01/<method>`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self.base_url_from_env = false;
        self
    }

    /// The API key returned by `integrations.insert`, sent as `authorization: Bearer <key>`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }

    /// The integration id returned by `integrations.insert`, sent as `partly-integration-id`.
    pub fn integration_id(mut self, id: impl Into<String>) -> Self {
        self.integration_id = Some(id.into());
        self
    }

    /// Timeout of one attempt (connect, send, headers and whole body). Default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Timeout of establishing a connection. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt, for failures and methods where resending is safe.
    /// Default 2; 0 disables retries.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Backoff between retries: the first delay and the cap (defaults 0.5 s and 8 s).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = Some(initial);
        self.backoff_max = Some(max);
        self
    }

    /// The longest `Retry-After` honoured (default 60 s); a longer one fails the call at once.
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = Some(max);
        self
    }

    /// Allow plain `http://` to hosts other than loopback. Off by default so that a key never
    /// travels in clear text by accident.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The largest response body read (default 64 MiB); a larger answer fails as a decode
    /// error instead of filling memory.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// Send every call through this proxy (`http://proxy.example:3128`, credentials allowed:
    /// `http://user:password@proxy:3128`), whatever the environment says. By default proxies come
    /// from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` with `NO_PROXY` exceptions (either case).
    /// Loopback base URLs are never proxied. Credentials never appear in a message or `Debug`.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.network.proxy = ProxySetting::Url(url.into());
        self
    }

    /// No proxy at all, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.network.proxy = ProxySetting::Off;
        self
    }

    /// A PEM file of CA certificates to trust in addition to the system's (a corporate
    /// TLS-inspecting proxy's CA, a private CA). A missing file, or one with no certificate, is a
    /// `Validation` error at [`build`](Self::build).
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.network.ca_bundle = Some(path.into());
        self
    }

    /// Extra roots from the value of `NODE_EXTRA_CA_CERTS`, trusted as Node does: added to the
    /// others; a file that cannot be read is a logged warning, not an error. For the Node package.
    #[doc(hidden)]
    pub fn node_extra_ca_certs(mut self, path: Option<String>) -> Self {
        self.network.node_extra_ca_certs = path;
        self
    }

    /// Whether to offer HTTP/2 over TLS (default [`defaults::HTTP2`]). `false`: HTTP/1.1 only.
    /// Plain-http base URLs always use HTTP/1.1.
    pub fn http2(mut self, enabled: bool) -> Self {
        self.network.http2 = Some(enabled);
        self
    }

    fn proxy_shown(&self) -> String {
        match &self.network.proxy {
            ProxySetting::FromEnv => "from the environment".into(),
            ProxySetting::Off => "off".into(),
            ProxySetting::Url(raw) => match crate::network::parse_proxy_url(raw, "proxy") {
                Ok(u) => crate::network::redact_url(&u),
                Err(_) => "(invalid)".into(),
            },
        }
    }

    /// The SDK identity reported in the `user-agent` (bindings set their language here).
    pub fn sdk_identity(mut self, identity: SdkIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Validates the settings into a [`Config`].
    pub fn build_config(self) -> Result<Config, Error> {
        let source = if self.base_url_from_env { defaults::ENV_BASE_URL } else { "base_url" };
        let base_url =
            parse_base_url(self.base_url.as_deref().unwrap_or(defaults::BASE_URL), source, self.allow_insecure_http)?;
        let integration_id = match self.integration_id {
            None => None,
            Some(raw) => Some(parse_integration_id(&raw)?),
        };
        if let Some(key) = &self.api_key {
            validate_api_key(key)?;
        }
        let timeout = self.timeout.unwrap_or(defaults::TIMEOUT);
        validate_timeout(timeout, "timeout")?;
        let connect_timeout = self.connect_timeout.unwrap_or(defaults::CONNECT_TIMEOUT);
        validate_timeout(connect_timeout, "connect_timeout")?;
        let backoff_initial = self.backoff_initial.unwrap_or(defaults::BACKOFF_INITIAL);
        let backoff_max = self.backoff_max.unwrap_or(defaults::BACKOFF_MAX);
        if backoff_max < backoff_initial {
            return Err(Error::validation(format!(
                "backoff: the cap ({backoff_max:?}) is shorter than the first delay ({backoff_initial:?}); give a cap at least as long"
            )));
        }
        let network = Network::build(&base_url, &self.network)?;
        let proxy_password =
            network.proxy().credentials().map(|(_, password)| password).filter(|p| !p.is_empty()).map(Secret::new);
        Ok(Config {
            proxy_password,
            network,
            base_url,
            api_key: self.api_key,
            integration_id,
            timeout,
            connect_timeout,
            max_retries: validate_retries(self.max_retries.unwrap_or(defaults::MAX_RETRIES))?,
            backoff_initial,
            backoff_max,
            retry_after_max: self.retry_after_max.unwrap_or(defaults::RETRY_AFTER_MAX),
            allow_insecure_http: self.allow_insecure_http,
            identity: self.identity.unwrap_or_default(),
            max_response_bytes: self.max_response_bytes.unwrap_or(defaults::MAX_RESPONSE_BYTES).max(1),
        })
    }

    /// Validates the settings and builds the client.
    pub fn build(self) -> Result<crate::Client, Error> {
        crate::Client::from_config(self.build_config()?)
    }
}

/// A duration given in seconds (Python's convention), checked: finite, greater than zero, at
/// most a day. `name` is the argument's name for the error message.
pub fn duration_from_secs(value: f64, name: &str) -> Result<Duration, Error> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Error::validation(format!(
            "{name} must be a positive number of seconds, got {value}; there is no 'wait forever'"
        )));
    }
    let d = Duration::try_from_secs_f64(value)
        .map_err(|_| Error::validation(format!("{name} of {value} seconds is out of range")))?;
    validate_timeout(d, name)?;
    Ok(d)
}

/// A duration given in milliseconds (Node's convention), checked like [`duration_from_secs`].
pub fn duration_from_millis(value: f64, name: &str) -> Result<Duration, Error> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Error::validation(format!(
            "{name} must be a positive number of milliseconds, got {value}; there is no 'wait forever'"
        )));
    }
    duration_from_secs(value / 1000.0, name)
}

/// Checks a retry count: at most [`defaults::MAX_RETRIES_LIMIT`].
pub(crate) fn validate_retries(retries: u32) -> Result<u32, Error> {
    if retries > defaults::MAX_RETRIES_LIMIT {
        return Err(Error::validation(format!(
            "max_retries of {retries} is more than {}; give 0 to {} (the default is {}), or retry in your own code",
            defaults::MAX_RETRIES_LIMIT,
            defaults::MAX_RETRIES_LIMIT,
            defaults::MAX_RETRIES
        )));
    }
    Ok(retries)
}

/// Longest timeout accepted: a day. Anything longer is almost certainly a unit mistake.
const TIMEOUT_MAX: Duration = Duration::from_secs(24 * 3600);

/// Checks a timeout: not zero, not absurdly long.
pub(crate) fn validate_timeout(timeout: Duration, name: &str) -> Result<(), Error> {
    if timeout.is_zero() {
        return Err(Error::validation(format!(
            "{name} must be greater than zero; to wait longer, give a larger value (there is no 'wait forever')"
        )));
    }
    if timeout > TIMEOUT_MAX {
        return Err(Error::validation(format!(
            "{name} of {}s is longer than a day; give it in seconds (Python) or milliseconds (Node), e.g. 30 s",
            timeout.as_secs()
        )));
    }
    Ok(())
}

fn validate_api_key(key: &Secret) -> Result<(), Error> {
    let k = key.expose();
    if k.trim().is_empty() {
        return Err(Error::validation(
            "api_key is empty; pass the key returned by integrations.insert or set PARTLY_API_KEY",
        ));
    }
    if k.chars().any(|c| c.is_control() || c.is_whitespace()) || !k.is_ascii() {
        return Err(Error::validation(
            "api_key contains whitespace, control or non-ASCII characters; copy the key exactly as integrations.insert returned it",
        ));
    }
    Ok(())
}

/// Parses an integration id, which must be a UUID.
pub(crate) fn parse_integration_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        Error::validation(format!(
            "integration_id {raw:?} is not a UUID; pass the integration_id returned by integrations.insert (like \"497f6eca-6276-4993-bfeb-53cbbbba6f08\")"
        ))
    })
}

/// Parses and checks a base URL: http(s) only, a host, no query or fragment, and plain http
/// only to loopback unless `allow_insecure_http`.
pub(crate) fn parse_base_url(raw: &str, source: &str, allow_insecure_http: bool) -> Result<Url, Error> {
    let trimmed = raw.trim();
    let mut url = Url::parse(trimmed).map_err(|e| {
        Error::validation(format!(
            "{source} {trimmed:?} is not a valid URL ({e}); give an absolute URL such as \"https://api.partly.com\""
        ))
    })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            // Plain http only where it cannot leave this machine: a loopback address, or
            // `localhost`, which the client resolves to loopback itself (never through DNS).
            // `*.localhost` names are not: a resolver may send them anywhere.
            if !allow_insecure_http && !crate::network::is_loopback(&url) {
                let hint = if url.host_str().is_some_and(|h| h.to_ascii_lowercase().ends_with(".localhost")) {
                    " (a *.localhost name may resolve to another machine; use localhost or 127.0.0.1)"
                } else {
                    ""
                };
                return Err(Error::validation(format!(
                    "{source} {trimmed:?} uses plain http to a host that is not certainly this machine{hint}, which would send the API key in clear text; use https, or allow_insecure_http if you really mean it"
                )));
            }
        }
        other => {
            return Err(Error::validation(format!(
                "{source} {trimmed:?} has scheme {other:?}; only http and https are supported"
            )))
        }
    }
    if url.host().is_none() {
        return Err(Error::validation(format!("{source} {trimmed:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::validation(format!(
            "{source} {trimmed:?} has a query or fragment; give just scheme, host and optional path"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::validation(format!("{source} must not carry credentials; pass the API key as api_key")));
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_keeps_path_and_strips_slash() {
        let u = parse_base_url("https://proxy.example/partly/", "base_url", false).unwrap();
        assert_eq!(u.as_str(), "https://proxy.example/partly");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(parse_base_url("http://127.0.0.1:8080", "base_url", false).is_ok());
        assert!(parse_base_url("http://localhost:1", "base_url", false).is_ok());
        assert!(parse_base_url("http://[::1]:1", "base_url", false).is_ok());
        assert!(parse_base_url("http://127.9.9.9:1", "base_url", false).is_ok());
        // What a *.localhost name resolves to is up to the resolver (/etc/hosts, DNS): refused.
        let e = parse_base_url("http://api.localhost:8080", "base_url", false).unwrap_err();
        assert!(e.to_string().contains("*.localhost"), "{e}");
        assert!(parse_base_url("https://api.localhost:8080", "base_url", false).is_ok());
        let e = parse_base_url("http://api.partly.com", "base_url", false).unwrap_err();
        assert!(e.to_string().contains("clear text"), "{e}");
        assert!(parse_base_url("http://api.partly.com", "base_url", true).is_ok());
        let e = parse_base_url("ftp://x", "base_url", false).unwrap_err();
        assert!(e.to_string().contains("only http and https"), "{e}");
        assert!(parse_base_url("api.partly.com", "base_url", false).is_err());
    }

    #[test]
    fn env_through_a_lookup() {
        let env = |name: &str| match name {
            defaults::ENV_API_KEY => Some(" pk_x ".to_string()),
            defaults::ENV_INTEGRATION_ID => Some("".to_string()),
            defaults::ENV_BASE_URL => Some("http://127.0.0.1:9".to_string()),
            _ => None,
        };
        let cfg = ClientBuilder::from_env_with(env).build_config().unwrap();
        assert!(cfg.has_api_key());
        assert_eq!(cfg.integration_id(), None, "an empty variable counts as unset");
        assert_eq!(cfg.base_url().as_str(), "http://127.0.0.1:9/");
        let e = ClientBuilder::from_env_with(|n| (n == defaults::ENV_BASE_URL).then(|| "ftp://x".to_string()))
            .build_config()
            .unwrap_err();
        assert!(e.to_string().starts_with(defaults::ENV_BASE_URL), "{e}");
    }

    #[test]
    fn zero_and_absurd_timeouts_are_refused() {
        assert!(validate_timeout(Duration::ZERO, "timeout").is_err());
        assert!(validate_timeout(Duration::from_secs(100_000), "timeout").is_err());
        assert!(validate_timeout(Duration::from_millis(1), "timeout").is_ok());
    }
}
