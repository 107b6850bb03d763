//! The client: one logical call = validate, then attempts under the retry policy.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{defaults, validate_timeout, ClientBuilder, Config};
use crate::error::{truncate_text, Error, ErrorKind};
use crate::methods::{self, Method, Resend};
use crate::retry::{parse_retry_after, Decision, Failure, Policy};
use crate::scrub::{self, Scrubber};
use crate::secret::Secret;
use crate::trace::Trace;

/// Per-call overrides of the client's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Timeout of each attempt (default: the client's, 30 s).
    pub timeout: Option<Duration>,
    /// Retries after the first attempt (default: the client's, 2).
    pub max_retries: Option<u32>,
    /// For [`Client::call`] of a method the SDK does not know: declare it safe to resend
    /// (a read, or idempotent), so timeouts and 5xx are retried too. Ignored for known methods.
    pub idempotent: Option<bool>,
    /// For [`Client::call`] of a method the SDK does not know: `Some(false)` sends it without
    /// credentials (a method that needs none, called by a client that has none). By default an
    /// unknown method is authenticated. Ignored for known methods, whose table entry decides.
    pub auth: Option<bool>,
}

impl CallOptions {
    /// Options with this attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Options with this retry budget.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }
    /// Options that send an unknown method with (`true`, the default) or without credentials.
    pub fn auth(mut self, auth: bool) -> Self {
        self.auth = Some(auth);
        self
    }
}

/// What a successful call's answer says about it: the HTTP status, the server's request id,
/// the trace id sent, how many attempts it took and how long the whole call took. Its fields are
/// those of [`shapes::RESPONSE_INFO`](crate::shapes::RESPONSE_INFO), the same in Python
/// (`client.with_response_info`) and Node (`client.withResponseInfo`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ResponseInfo {
    /// The HTTP status of the answer (200, or 204 for an empty `tier1.prepare` answer).
    pub status: u16,
    /// The server's `x-request-id`, when it sent one (scrubbed like every error field).
    pub request_id: Option<String>,
    /// The W3C trace id sent in `traceparent` on every attempt.
    pub trace_id: String,
    /// How many attempts the call took (1 when the first one succeeded).
    pub attempts: u32,
    /// The whole call, retries and waits included.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A result with the [`ResponseInfo`] of the call that produced it (the `*_with_info` methods).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Response<T> {
    /// The result, as the method without `_with_info` returns it.
    pub value: T,
    /// What the answer said about the call.
    pub info: ResponseInfo,
}

/// What the bulk engine (bulk/run.rs) asks of one call.
pub(crate) struct Hooks<'a> {
    /// Hand a 429 back at once (the engine waits it out and queues the batch again, without
    /// spending the batch's retries).
    pub(crate) return_on_throttle: bool,
    /// Called after every attempt: its status (`None`: no answer), how long it took, and
    /// whether its outcome is unknown (it may have reached the server: a timeout, a drop).
    pub(crate) observe: &'a (dyn Fn(Option<u16>, Duration, bool) + Send + Sync),
}

struct Inner {
    config: Config,
    /// The pooled connections, for methods safe to resend. Made at the first call, on the
    /// SDK's runtime: setting up TLS (reading the system's roots) takes tens of milliseconds,
    /// which building a client must not spend (it may run inside an event loop).
    http: tokio::sync::OnceCell<reqwest::Client>,
    /// A new connection for every request, for methods that must not be resent (a pooled
    /// connection the server has just closed could fail a request that may have been written,
    /// and such a call cannot be retried). Made at the first such call.
    fresh: tokio::sync::OnceCell<reqwest::Client>,
    api_root: String,
    auth: Option<(HeaderValue, HeaderValue)>,
    user_agent: HeaderValue,
    /// The URLs of the typed methods, parsed once.
    known_urls: Vec<(&'static str, reqwest::Url)>,
}

/// The Partly API client. Cheap to clone (an `Arc` inside); share one across tasks and threads
/// so that they share its connection pool.
///
/// Methods are grouped as on the wire: [`jobs`](Client::jobs), [`tier1`](Client::tier1),
/// [`integrations`](Client::integrations), and [`call`](Client::call) for any other method.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).finish()
    }
}

impl Client {
    /// A builder seeded from the environment, as the Python and Node clients are:
    /// `PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID`, `PARTLY_BASE_URL` (and the proxy variables).
    /// Setters called on it win over the environment. For a builder that reads nothing from the
    /// environment, use [`builder_without_env`](Client::builder_without_env).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::from_env()
    }

    /// A builder with every setting at its default and no `PARTLY_*` variable read (proxies
    /// still come from the process's proxy variables unless [`ClientBuilder::no_proxy`] or
    /// [`ClientBuilder::proxy`] says otherwise).
    pub fn builder_without_env() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID` and
    /// `PARTLY_BASE_URL`. Without a key it can still call `integrations.insert`.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env().build()
    }

    /// A client from validated settings.
    pub fn from_config(config: Config) -> Result<Client, Error> {
        let (http, fresh) = (tokio::sync::OnceCell::new(), tokio::sync::OnceCell::new());
        let auth = match (&config.api_key, config.integration_id) {
            (Some(key), Some(id)) => {
                let mut bearer = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| Error::validation("api_key has characters not allowed in a header"))?;
                bearer.set_sensitive(true);
                let id = HeaderValue::from_str(&id.hyphenated().to_string())
                    .map_err(|_| Error::validation("integration_id is not a valid header value"))?;
                Some((bearer, id))
            }
            _ => None,
        };
        let user_agent = HeaderValue::from_str(&config.identity.user_agent())
            .map_err(|_| Error::validation("the SDK identity has characters not allowed in a user-agent header"))?;
        let api_root = format!("{}/api/{}/", config.base_url.as_str().trim_end_matches('/'), defaults::API_VERSION);
        let known_urls = methods::ALL
            .iter()
            .filter_map(|m| reqwest::Url::parse(&format!("{api_root}{}", m.name)).ok().map(|u| (m.name, u)))
            .collect();
        Ok(Client { inner: Arc::new(Inner { config, http, fresh, api_root, auth, user_agent, known_urls }) })
    }

    /// A client with the same settings and a new, empty connection pool. Bindings call it in a
    /// process forked from one that had used the client.
    pub fn with_fresh_connections(&self) -> Result<Client, Error> {
        Client::from_config(self.inner.config.clone())
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The URL a method is called at: `{base_url}/api/2026-01/{method}`.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}{}", self.inner.api_root, method)
    }

    /// Repair jobs: `jobs.get`, `jobs.insert`.
    pub fn jobs(&self) -> crate::api::Jobs<'_> {
        crate::api::Jobs { client: self }
    }

    /// Vehicle preparation: `tier1.prepare` and the bulk [`prepare_all`](crate::api::Tier1::prepare_all).
    pub fn tier1(&self) -> crate::api::Tier1<'_> {
        crate::api::Tier1 { client: self }
    }

    /// Installs: `integrations.insert`.
    pub fn integrations(&self) -> crate::api::Integrations<'_> {
        crate::api::Integrations { client: self }
    }

    /// Calls any method by its wire name with a JSON body, with the same auth, retries,
    /// timeouts and errors as the typed methods, and returns the raw JSON answer.
    ///
    /// A method the SDK does not know is authenticated and resent only when the connection was
    /// never made, unless `options.idempotent` says it is safe.
    pub async fn call(&self, method: &str, body: Value) -> Result<Value, Error> {
        self.call_with(method, body, &CallOptions::default()).await
    }

    /// [`call`](Client::call) with per-call options.
    pub async fn call_with(&self, method: &str, body: Value, options: &CallOptions) -> Result<Value, Error> {
        self.call_with_info(method, body, options).await.map(|r| r.value)
    }

    /// [`call_with`](Client::call_with), with the [`ResponseInfo`] of the call.
    pub async fn call_with_info(
        &self,
        method: &str,
        body: Value,
        options: &CallOptions,
    ) -> Result<Response<Value>, Error> {
        methods::validate_name(method)?;
        let spec = methods::lookup(method).unwrap_or(Method {
            name: "",
            requires_auth: options.auth != Some(false),
            resend: if options.idempotent == Some(true) { Resend::Safe } else { Resend::OnlyIfNotSent },
            answer_secrets: &[],
            empty_answer: false,
        });
        if !(body.is_object() || body.is_null()) {
            return Err(Error::validation(format!(
                "the body must be a JSON object, got {}",
                crate::models::json_type_name(&body)
            ))
            .with_method(method));
        }
        let body = if body.is_null() { Value::Object(Default::default()) } else { body };
        self.execute_with_info(method, spec, &body, options, &[]).await
    }

    /// Runs one logical call of `spec` with `body` and decodes the answer into `T`.
    /// `secrets` are scrubbed from anything kept on an error, with the API key.
    pub(crate) async fn execute_with_info<T: DeserializeOwned, B: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        spec: Method,
        body: &B,
        options: &CallOptions,
        secrets: &[&Secret],
    ) -> Result<Response<T>, Error> {
        self.execute_hooked(name, spec, body, options, secrets, None).await
    }

    /// [`execute`](Self::execute) with the bulk engine's hooks (see [`Hooks`]).
    pub(crate) async fn execute_hooked<T: DeserializeOwned, B: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        spec: Method,
        body: &B,
        options: &CallOptions,
        secrets: &[&Secret],
        hooks: Option<&Hooks<'_>>,
    ) -> Result<Response<T>, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::validation(format!("could not encode the request as JSON: {e}")))?;
        let scrubber = Scrubber::new(secrets.iter().copied().chain(self.inner.config.secrets()));
        let sent = self.send(name, spec, Bytes::from(bytes), options, &scrubber, hooks).await?;
        let value = decode(name, spec, &sent, &scrubber)?;
        let info = ResponseInfo {
            status: sent.status,
            request_id: request_id(&sent.headers).map(|r| scrubber.scrub(&r).into_owned()),
            trace_id: sent.trace_id.clone(),
            attempts: sent.attempts,
            elapsed: sent.elapsed,
        };
        Ok(Response { value, info })
    }

    /// `Err` (a validation error naming what is missing) when `name` needs credentials the
    /// client does not have.
    pub(crate) fn require_auth(&self, name: &str, spec: Method) -> Result<(), Error> {
        let cfg = &self.inner.config;
        if spec.requires_auth && self.inner.auth.is_none() {
            let missing = match (&cfg.api_key, cfg.integration_id) {
                (None, None) => "an API key and an integration id",
                (None, Some(_)) => "an API key",
                _ => "an integration id",
            };
            return Err(Error::validation(format!(
                "needs {missing}: pass api_key and integration_id (from integrations.insert) to the client, or set {} and {}{}",
                defaults::ENV_API_KEY,
                defaults::ENV_INTEGRATION_ID,
                if methods::lookup(name).is_none() { " (a method that needs none: call it with auth false)" } else { "" }
            ))
            .with_method(name));
        }
        Ok(())
    }

    /// The retry loop. Returns the status, headers and body of a 2xx answer. Every error is
    /// scrubbed ([`Error::scrubbed`]) as soon as it is made, before it is logged or kept.
    async fn send(
        &self,
        name: &str,
        spec: Method,
        body: Bytes,
        options: &CallOptions,
        scrubber: &Scrubber,
        hooks: Option<&Hooks<'_>>,
    ) -> Result<Answer, Error> {
        let cfg = &self.inner.config;
        let timeout = options.timeout.unwrap_or(cfg.timeout);
        validate_timeout(timeout, "timeout").map_err(|e| e.with_method(name))?;
        self.require_auth(name, spec)?;
        let policy = Policy {
            max_retries: match options.max_retries {
                Some(n) => crate::config::validate_retries(n).map_err(|e| e.with_method(name))?,
                None => cfg.max_retries,
            },
            backoff_initial: cfg.backoff_initial,
            backoff_max: cfg.backoff_max,
            retry_after_max: cfg.retry_after_max,
        };
        let trace = Trace::new();
        let url = match self.inner.known_urls.iter().find(|(n, _)| *n == name) {
            Some((_, u)) => u.clone(),
            None => reqwest::Url::parse(&self.method_url(name)).map_err(|e| {
                Error::validation(format!("the method name does not make a valid URL: {e}")).with_method(name)
            })?,
        };
        let call_started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = self.attempt(&url, spec, body.clone(), &trace, timeout).await;
            let latency = started.elapsed();
            let elapsed_ms = latency.as_millis() as u64;
            let (failure, error, retry_after) = match outcome.and_then(|r| classify(spec, r, cfg, scrubber)) {
                Ok(answer) => {
                    let status = answer.status;
                    if let Some(h) = hooks {
                        (h.observe)(Some(status), latency, false);
                    }
                    tracing::debug!(target: "partly", method = name, attempt, status, elapsed_ms, trace_id = %trace.trace_id, "partly call succeeded");
                    return Ok(Answer {
                        attempts: attempt,
                        trace_id: trace.trace_id,
                        elapsed: call_started.elapsed(),
                        ..answer
                    });
                }
                Err((failure, err, retry_after)) => (failure, err, retry_after),
            };
            let err = error.with_method(name).with_attempts(attempt).with_trace_id(&trace.trace_id).scrubbed(scrubber);
            match err.status() {
                Some(status) => {
                    tracing::debug!(target: "partly", method = name, attempt, status, elapsed_ms, error = %err, trace_id = %trace.trace_id, "partly call answered with an error")
                }
                None => {
                    tracing::debug!(target: "partly", method = name, attempt, elapsed_ms, error = %err, trace_id = %trace.trace_id, "partly attempt failed")
                }
            }
            if let Some(h) = hooks {
                (h.observe)(err.status(), latency, failure == Failure::MaybeSent);
                if h.return_on_throttle && err.status() == Some(429) {
                    tracing::debug!(target: "partly", method = name, attempt, trace_id = %trace.trace_id, "partly call throttled, handed back to the bulk engine: {err}");
                    return Err(err);
                }
            }
            let decision = policy.decide(failure, spec.resend, attempt, retry_after);
            match decision {
                Decision::GiveUp => {
                    // A failure after retries, or of the transport, is worth a warning; a single
                    // answered error (a 404 for "does this job exist?") is the caller's business.
                    if attempt > 1 || !err.kind().is_api() {
                        tracing::warn!(target: "partly", method = name, attempts = attempt, trace_id = %trace.trace_id, "partly call failed: {err}");
                    } else {
                        tracing::debug!(target: "partly", method = name, attempts = attempt, trace_id = %trace.trace_id, "partly call failed: {err}");
                    }
                    return Err(err);
                }
                Decision::RetryAfter(wait) => {
                    tracing::info!(
                        target: "partly",
                        method = name,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        trace_id = %trace.trace_id,
                        "partly retrying after: {err}"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One attempt under the attempt timeout: connect, send, headers and the whole body. A
    /// method that must not be resent gets a new connection (never a pooled one).
    async fn attempt(
        &self,
        url: &reqwest::Url,
        spec: Method,
        body: Bytes,
        trace: &Trace,
        timeout: Duration,
    ) -> Result<Reply, Attempted> {
        let (cell, pooled) = match spec.resend {
            Resend::Safe => (&self.inner.http, true),
            Resend::OnlyIfNotSent => (&self.inner.fresh, false),
        };
        let http = cell
            .get_or_try_init(|| async { http_client(&self.inner.config, pooled) })
            .await
            .map_err(|e| (Failure::Setup, e, None))?;
        let mut req = http
            .post(url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, self.inner.user_agent.clone())
            .header("traceparent", trace.traceparent())
            .body(body);
        if spec.requires_auth {
            if let Some((bearer, id)) = &self.inner.auth {
                req = req.header(AUTHORIZATION, bearer.clone()).header("partly-integration-id", id.clone());
            }
        }
        let work = async {
            let resp = req.send().await.map_err(|e| classify_send_error(e, &self.inner.config.network, url))?;
            Ok(read_body(resp, self.inner.config.max_response_bytes).await)
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err((
                Failure::MaybeSent,
                Error::new(
                    ErrorKind::Timeout,
                    format!("no complete answer within the attempt timeout of {}", fmt_duration(timeout)),
                ),
                None,
            )),
        }
    }
}

/// The HTTP client of a [`Client`] (proxy, trusted roots and HTTP/2 from its settings,
/// `network.rs`): `pooled` keeps idle connections for reuse; otherwise every request opens its
/// own connection, closed after the answer.
fn http_client(config: &Config, pooled: bool) -> Result<reqwest::Client, Error> {
    crate::network::http_client(&config.network, config.connect_timeout, pooled)
}

/// A failed attempt: how (for the retry decision), the error, and the server's `Retry-After`.
type Attempted = (Failure, Error, Option<Duration>);

/// How the body of an answer ended.
enum BodyEnd {
    /// Read whole.
    Complete,
    /// Larger than `max_response_bytes` (announced by `content-length`, or found reading):
    /// reading stopped.
    TooLarge { announced: Option<u64> },
    /// The connection broke before the body was whole.
    CutOff(reqwest::Error),
}

/// An answer as it arrived: status, headers, the body bytes read and how the body ended.
struct Reply {
    status: u16,
    headers: HeaderMap,
    raw: Bytes,
    end: BodyEnd,
}

/// Reads the body, refusing more than `max` bytes. Of an error answer over the limit, the
/// first bytes are kept (as much as an error keeps, and the scrubber looks at).
async fn read_body(mut resp: reqwest::Response, max: usize) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let success = (200..300).contains(&status);
    let keep = if success { 0 } else { defaults::ERROR_BODY_MAX + scrub::MARGIN };
    let announced = resp.content_length();
    let mut buf = bytes::BytesMut::new();
    let over = announced.is_some_and(|n| n > max as u64);
    let end = loop {
        if over && buf.len() >= keep {
            break BodyEnd::TooLarge { announced };
        }
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if over || buf.len() + chunk.len() > max {
                    let room = keep.saturating_sub(buf.len()).min(chunk.len());
                    buf.extend_from_slice(&chunk[..room]);
                    if !over {
                        break BodyEnd::TooLarge { announced };
                    }
                } else {
                    buf.extend_from_slice(&chunk);
                }
            }
            Ok(None) if over => break BodyEnd::TooLarge { announced },
            Ok(None) => break BodyEnd::Complete,
            Err(e) if over => {
                drop(e);
                break BodyEnd::TooLarge { announced };
            }
            Err(e) => break BodyEnd::CutOff(e),
        }
    };
    Reply { status, headers, raw: buf.freeze(), end }
}

/// Classifies an answer: a whole 2xx is a success; a 2xx too large or cut off is a
/// [`ErrorKind::Decode`]; any other status is the error of its class, whatever happened to its
/// body (a 503 too large to read is still a `ServerError`, retried as one).
fn classify(spec: Method, reply: Reply, cfg: &Config, scrubber: &Scrubber) -> Result<Answer, Attempted> {
    let Reply { status, headers, raw, end } = reply;
    let max = cfg.max_response_bytes;
    if (200..300).contains(&status) {
        let (what, failure, source) = match end {
            BodyEnd::Complete => {
                return Ok(Answer {
                    status,
                    headers,
                    raw,
                    attempts: 0,
                    trace_id: String::new(),
                    elapsed: Duration::ZERO,
                });
            }
            BodyEnd::TooLarge { .. } => (
                format!("the answer is larger than max_response_bytes ({max} bytes); refused"),
                Failure::Status(status),
                None,
            ),
            BodyEnd::CutOff(e) => (
                format!(
                    "the body was cut off (the connection broke after {} bytes of the answer: {})",
                    raw.len(),
                    error_chain(&e)
                ),
                // A cut-off answer may come again whole: retried where resending is safe.
                Failure::MaybeSent,
                Some(e),
            ),
        };
        let mut err = decode_error(spec, status, &headers, &raw, what, scrubber);
        if let Some(e) = source {
            err = err.with_source(e);
        }
        return Err((failure, err, None));
    }
    let retry_after = parse_retry_after(&headers);
    let (note, source) = match end {
        BodyEnd::Complete => (None, None),
        BodyEnd::TooLarge { announced } => {
            let size = match announced {
                Some(n) => format!("announced {n} bytes"),
                None => "is longer".to_string(),
            };
            (
                Some(format!(
                    "the answer {size}, over max_response_bytes ({max} bytes): only its first {} bytes were read",
                    raw.len()
                )),
                None,
            )
        }
        BodyEnd::CutOff(e) => (
            Some(format!("the connection broke after {} bytes of the answer: {}", raw.len(), error_chain(&e))),
            Some(e),
        ),
    };
    let mut err = api_error(status, &headers, &raw, retry_after, scrubber);
    if let Some(note) = note {
        err = err.map_message(|m| format!("{m} ({note})"));
    }
    if let Some(e) = source {
        err = err.with_source(e);
    }
    Err((Failure::Status(status), err, retry_after))
}

fn fmt_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// The message of an error and its sources, joined, without any `Debug` formatting.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn classify_send_error(e: reqwest::Error, network: &crate::network::Network, url: &reqwest::Url) -> Attempted {
    let mut chain = error_chain(&e);
    let tls = crate::network::find_tls_error(&e);
    let certificate_refused = matches!(tls, Some(rustls::Error::InvalidCertificate(_)));
    if let Some(tls) = tls {
        chain = crate::network::explain_tls_error(tls, url.host_str().unwrap_or("the server"));
    }
    if let Some(via) = network.proxy().describe() {
        chain = format!("{chain} ({via})");
    }
    if certificate_refused {
        (Failure::Fatal, Error::new(ErrorKind::Connection, format!("could not connect: {chain}")).with_source(e), None)
    } else if e.is_connect() {
        let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Connection };
        (Failure::NotSent, Error::new(kind, format!("could not connect: {chain}")).with_source(e), None)
    } else if e.is_timeout() {
        (Failure::MaybeSent, Error::new(ErrorKind::Timeout, format!("timed out: {chain}")).with_source(e), None)
    } else {
        (
            Failure::MaybeSent,
            Error::new(ErrorKind::Connection, format!("the connection failed before an answer arrived: {chain}"))
                .with_source(e),
            None,
        )
    }
}

/// The server's `x-request-id`, as it came (scrubbed and cut with the other fields).
fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-request-id").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The body text an error keeps: the first bytes (as many as are kept after scrubbing, plus
/// the margin the scrubber looks at), and the whole body's length.
fn body_text(raw: &[u8]) -> (String, usize) {
    let keep = raw.len().min(defaults::ERROR_BODY_MAX + scrub::MARGIN);
    (String::from_utf8_lossy(&raw[..keep]).into_owned(), raw.len())
}

/// Builds the error for a non-2xx answer from whatever body the server sent: a JSON object
/// tagged by `type`, a bare JSON string, plain text, HTML or nothing. The text is scrubbed
/// before anything is read from it.
pub(crate) fn api_error(
    status: u16,
    headers: &HeaderMap,
    raw: &[u8],
    retry_after: Option<Duration>,
    scrubber: &Scrubber,
) -> Error {
    // The whole text up to a megabyte (a JSON error body is read whole for its `type` and
    // `message`), else only its start, which is all an error keeps.
    let clean = if raw.len() <= 1 << 20 {
        scrubber.scrub(&String::from_utf8_lossy(raw)).into_owned()
    } else {
        scrubber.scrub(&body_text(raw).0).into_owned()
    };
    let (code, message) = describe_error_body(status, &clean);
    let kind = ErrorKind::from_status(status);
    Error::new(kind, message)
        .with_status(status)
        .with_code(code)
        .with_body_text((!raw.is_empty()).then_some((clean, raw.len())))
        .with_request_id(request_id(headers))
        .with_retry_after(retry_after)
        .scrubbed(scrubber)
}

/// The error `type` and a one-line message from an error body.
pub(crate) fn describe_error_body(status: u16, text: &str) -> (Option<String>, String) {
    let reason =
        reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error").to_string();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return (None, reason);
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(map)) => {
            let code = map.get("type").and_then(Value::as_str).map(|s| truncate_text(s, 200));
            let message = ["message", "error", "detail", "description"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .map(|s| truncate_text(s, 1000))
                .or_else(|| code.clone())
                .unwrap_or(reason);
            (code, message)
        }
        Ok(Value::String(s)) => {
            let s = truncate_text(&s, 200);
            (Some(s.clone()), s)
        }
        Ok(other) => (None, truncate_text(&other.to_string(), 200)),
        Err(_) => {
            let lower = trimmed.get(..trimmed.len().min(200)).unwrap_or("").to_ascii_lowercase();
            if lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<body") {
                (
                    None,
                    format!(
                        "{reason} (the server answered with an HTML page, likely from a proxy in front of the API)"
                    ),
                )
            } else {
                let line = trimmed.lines().next().unwrap_or("");
                (None, truncate_text(line, 500))
            }
        }
    }
}

/// A 2xx answer and how it was reached.
pub(crate) struct Answer {
    status: u16,
    headers: HeaderMap,
    raw: Bytes,
    attempts: u32,
    trace_id: String,
    /// The whole call, from the first attempt to the answer.
    elapsed: Duration,
}

impl Answer {
    pub(crate) fn for_fuzzing(status: u16, headers: HeaderMap, raw: &[u8]) -> Answer {
        Answer {
            status,
            headers,
            raw: Bytes::copy_from_slice(raw),
            attempts: 1,
            trace_id: String::new(),
            elapsed: Duration::ZERO,
        }
    }
}

/// A [`ErrorKind::Decode`] error for a 2xx answer, keeping its text. Secrets the answer itself
/// carries (the `api_key` of an install answer: `Method::answer_secrets`) are found in the text,
/// even when it is not valid JSON or is cut off, and scrubbed with the others.
fn decode_error(
    spec: Method,
    status: u16,
    headers: &HeaderMap,
    raw: &[u8],
    what: String,
    scrubber: &Scrubber,
) -> Error {
    let (text, total) = body_text(raw);
    let mut scrubber = scrubber.clone();
    for field in spec.answer_secrets {
        for value in scrub::string_field_values(&text, field) {
            scrubber.add(Secret::new(value));
        }
    }
    Error::new(ErrorKind::Decode, what)
        .with_status(status)
        .with_body_text(Some((text, total)))
        .with_request_id(request_id(headers))
        .scrubbed(&scrubber)
}

/// Decodes a 2xx answer into `T`; anything else is a [`ErrorKind::Decode`] error keeping the
/// raw text. An empty body is the documented empty answer (`{}`) of a method whose answer
/// carries nothing (`Method::empty_answer`: a 204 to `tier1.prepare`).
pub(crate) fn decode<T: DeserializeOwned>(
    name: &str,
    spec: Method,
    answer: &Answer,
    scrubber: &Scrubber,
) -> Result<T, Error> {
    let Answer { status, headers, raw, attempts, trace_id, .. } = answer;
    let status = *status;
    let err = |what: String| {
        decode_error(spec, status, headers, raw, what, scrubber)
            .with_method(name)
            .with_attempts(*attempts)
            .with_trace_id(trace_id)
    };
    if raw.iter().all(u8::is_ascii_whitespace) {
        if spec.empty_answer {
            return serde_json::from_slice::<T>(b"{}")
                .map_err(|e| err(format!("the empty answer does not read as {{}} ({e})")));
        }
        return Err(err("the body is empty where JSON was expected".to_string()));
    }
    serde_json::from_slice::<T>(raw).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            format!("the body is not valid JSON ({e})")
        } else {
            format!("the JSON does not match the documented shape ({e})")
        };
        err(what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        assert_eq!(
            describe_error_body(404, r#"{"type":"not_found","message":"no job"}"#),
            (Some("not_found".into()), "no job".into())
        );
        assert_eq!(describe_error_body(404, r#"{"type":"not_found"}"#), (Some("not_found".into()), "not_found".into()));
        assert_eq!(describe_error_body(404, r#""not_found""#), (Some("not_found".into()), "not_found".into()));
        assert_eq!(describe_error_body(404, ""), (None, "Not Found".into()));
        let (c, m) = describe_error_body(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
        assert_eq!(c, None);
        assert!(m.contains("HTML page"), "{m}");
        assert_eq!(
            describe_error_body(400, "Failed to parse request body: expected value at line 1 column 1"),
            (None, "Failed to parse request body: expected value at line 1 column 1".into())
        );
        assert_eq!(describe_error_body(500, "[1,2]"), (None, "[1,2]".into()));
    }
}
