//! The HTTP side: accept loop, connections, routing, framework behaviour, faults,
//! the request log and the `/__mock/` control routes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::answer::{Answer, Kind};
use crate::authorize;
use crate::body::{CloseFlag, FaultIo, MockBody};
use crate::fault::{FaultAction, FaultPlan, FaultQueue};
use crate::methods::{self, Op};
use crate::state::{
    EmptyRequest, IntegrationsInsertRequest, JobsGetRequest, JobsInsertRequest, State, Tier1PrepareRequest,
    ACCESS_CODE_LIFETIME_SECS,
};
use crate::{lock, MintedCode, RecordedRequest, API_VERSION_PREFIX, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// Largest request body read (a bigger one gets 413).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
const INTEGRATION_ID_HEADER: &str = "partly-integration-id";
const TRACEPARENT: &str = "traceparent";
const REQUEST_ID: &str = "x-request-id";
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) faults: FaultQueue,
    log: Mutex<VecDeque<RecordedRequest>>,
    log_capacity: usize,
    latency: Duration,
    /// Open connections, and a wake-up for when the count reaches zero.
    conns: AtomicUsize,
    conns_idle: Notify,
    request_seq: AtomicU64,
    request_seed: u64,
    log_seq: AtomicU64,
    /// The redirect URLs registered for the demo client (configuration: `reset` keeps them).
    redirect_urls: Mutex<Vec<String>>,
    /// Consent pages shown and not yet answered (`reset` drops them).
    pub(crate) consents: Mutex<HashMap<String, authorize::Pending>>,
    conn_seq: AtomicU64,
    idle_timeout: Option<Duration>,
    /// The gateway's rate limit (rate.rs), if any.
    rate: Mutex<Option<crate::rate::Bucket>>,
    /// Calls answered 429 by the rate limit.
    pub(crate) rate_refused: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        latency: Duration,
        log_capacity: usize,
        chaos_rate: f64,
        redirect_urls: Vec<String>,
        idle_timeout: Option<Duration>,
    ) -> Shared {
        let seed = Uuid::new_v4().as_u64_pair();
        Shared {
            state: Mutex::new(State::seeded()),
            faults: FaultQueue::with_chaos(crate::fault::Chaos::new(chaos_rate, seed.0)),
            log: Mutex::new(VecDeque::new()),
            log_capacity,
            latency,
            conns: AtomicUsize::new(0),
            conns_idle: Notify::new(),
            request_seq: AtomicU64::new(0),
            request_seed: seed.0 ^ seed.1,
            log_seq: AtomicU64::new(0),
            redirect_urls: Mutex::new(redirect_urls),
            consents: Mutex::new(HashMap::new()),
            conn_seq: AtomicU64::new(0),
            idle_timeout,
            rate: Mutex::new(None),
            rate_refused: AtomicU64::new(0),
        }
    }

    /// Registers a redirect URL for the demo client (kept once; `Err` with the reason).
    pub(crate) fn register_redirect_url(&self, url: &str) -> Result<(), String> {
        authorize::check_redirect_url(url)?;
        let mut urls = lock(&self.redirect_urls);
        if !urls.iter().any(|u| u == url) {
            urls.push(url.to_owned());
        }
        Ok(())
    }

    pub(crate) fn set_rate_limit(&self, limit: Option<(f64, Option<u32>)>) -> Result<(), String> {
        let bucket = match limit {
            Some((rate, burst)) => {
                crate::rate::check(rate, burst)?;
                Some(crate::rate::Bucket::new(rate, burst))
            }
            None => None,
        };
        *lock(&self.rate) = bucket;
        Ok(())
    }

    pub(crate) fn rate_limit(&self) -> Option<crate::RateLimit> {
        lock(&self.rate).as_ref().map(|b| crate::RateLimit { rps: b.rate(), burst: b.burst() })
    }

    /// Whether the rate limit lets one more API call through (always, without a limit).
    fn admit(&self) -> bool {
        let admitted = lock(&self.rate).as_mut().is_none_or(|b| b.take());
        if !admitted {
            self.rate_refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    pub(crate) fn redirect_urls(&self) -> Vec<String> {
        lock(&self.redirect_urls).clone()
    }

    pub(crate) fn mint(&self, expires_in_secs: u64) -> MintedCode {
        let access_code = lock(&self.state).mint_code(expires_in_secs);
        MintedCode {
            access_code,
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            expires_in_secs,
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).iter().cloned().collect()
    }

    pub(crate) fn reset(&self) {
        self.faults.clear();
        lock(&self.log).clear();
        lock(&self.consents).clear();
        *lock(&self.state) = State::seeded();
    }

    /// A random-looking, unique `x-request-id` (splitmix64 over a random seed).
    fn request_id(&self) -> HeaderValue {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let a = splitmix64(self.request_seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        let b = splitmix64(a ^ n.rotate_left(32));
        let mut buf = [0u8; 32];
        hex(&mut buf[..16], a);
        hex(&mut buf[16..], b);
        HeaderValue::from_bytes(&buf).unwrap_or(HeaderValue::from_static("0"))
    }

    /// Logs a request as it arrives; returns its sequence number for [`Shared::finish`].
    fn record(&self, conn: u64, parts: &Parts, name: &str, body: &[u8], status: Option<u16>, fault: bool) -> u64 {
        let seq = self.log_seq.fetch_add(1, Ordering::Relaxed);
        if self.log_capacity == 0 {
            return seq;
        }
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in &parts.headers {
            let v = String::from_utf8_lossy(v.as_bytes());
            match headers.get_mut(k.as_str()) {
                Some(joined) => {
                    joined.push_str(", ");
                    joined.push_str(&v);
                }
                None => {
                    headers.insert(k.as_str().to_owned(), v.into_owned());
                }
            }
        }
        let entry = RecordedRequest {
            http_version: match parts.version {
                hyper::Version::HTTP_2 => "HTTP/2",
                hyper::Version::HTTP_10 => "HTTP/1.0",
                _ => "HTTP/1.1",
            }
            .to_owned(),
            seq,
            method: name.to_owned(),
            path: parts.uri.path().to_owned(),
            http_method: parts.method.as_str().to_owned(),
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
            status,
            fault,
            connection: conn,
        };
        let mut log = lock(&self.log);
        while log.len() >= self.log_capacity {
            log.pop_front();
        }
        log.push_back(entry);
        seq
    }

    /// Sets the status answered to the request logged as `seq` (if still in the log).
    fn finish(&self, seq: u64, status: u16) {
        if self.log_capacity == 0 {
            return;
        }
        let mut log = lock(&self.log);
        if let Some(entry) = log.iter_mut().rev().find(|e| e.seq == seq) {
            entry.status = Some(status);
        }
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hex(out: &mut [u8], v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, o) in out.iter_mut().enumerate().take(16) {
        *o = DIGITS[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// The error a service returns to make hyper close the connection without answering.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partly-mock: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

// ---------------------------------------------------------------------------
// Accept loop and connections
// ---------------------------------------------------------------------------

/// Accepts connections until `shutdown` turns true (or its sender is dropped).
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut builder = http1::Builder::new();
    // No header-read timeout: hyper's also closes idle keep-alive connections (after
    // 30 s), which would make long client tests race against the mock. Connection
    // closes happen only when a test asks for them (`close_after`, `idle_timeout`).
    builder.keep_alive(true).timer(TokioTimer::new()).header_read_timeout(None);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                spawn_connection(stream, &shared, &builder, shutdown.clone(), tls.clone());
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// Decrements the open-connection count when a connection task ends (or is dropped).
struct ConnGuard(Arc<Shared>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if self.0.conns.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.conns_idle.notify_waiters();
        }
    }
}

fn spawn_connection(
    stream: tokio::net::TcpStream,
    shared: &Arc<Shared>,
    builder: &http1::Builder,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    shared.conns.fetch_add(1, Ordering::AcqRel);
    let guard = ConnGuard(Arc::clone(shared));
    let shared = Arc::clone(shared);
    let builder = builder.clone();
    tokio::spawn(async move {
        let _guard = guard;
        let Some(acceptor) = tls else {
            return serve(stream, false, shared, &builder, shutdown).await;
        };
        let handshake = tokio::select! {
            r = acceptor.accept(stream) => r,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        // A client that does not trust the CA aborts the handshake: nothing to serve.
        let Ok(stream) = handshake else { return };
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        serve(stream, h2, shared, &builder, shutdown).await
    });
}

/// Serves one connection (plain or TLS) with HTTP/1.1, or HTTP/2 when ALPN chose it.
async fn serve<S>(
    stream: S,
    h2: bool,
    shared: Arc<Shared>,
    builder: &http1::Builder,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let close: CloseFlag = CloseFlag::default();
    let conn = shared.conn_seq.fetch_add(1, Ordering::Relaxed);
    let io = TokioIo::new(FaultIo::new(stream, Arc::clone(&close), shared.idle_timeout));
    let service = service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&close), conn, req));
    if h2 {
        let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .serve_connection(io, service);
        tokio::select! {
            _ = conn => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    } else {
        let conn = builder.serve_connection(io, service);
        tokio::select! {
            _ = conn => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    }
}

/// Waits until every connection task has ended.
pub(crate) async fn wait_idle(shared: &Shared) {
    loop {
        let idle = shared.conns_idle.notified();
        tokio::pin!(idle);
        idle.as_mut().enable();
        if shared.conns.load(Ordering::Acquire) == 0 {
            return;
        }
        idle.await;
    }
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

async fn handle(
    shared: Arc<Shared>,
    close: CloseFlag,
    conn: u64,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    if let Some(route) = req.uri().path().strip_prefix("/__mock/") {
        let route = Control::parse(route);
        return Ok(control(&shared, route, req).await);
    }
    if req.uri().path() == partly_wire::AUTHORIZE_PATH {
        return authorize_page(&shared, conn, req).await;
    }
    api(&shared, &close, conn, req).await
}

/// The OAuth authorize page (authorize.rs): logged like an API call (`method` is `""`), never
/// faulted or delayed.
async fn authorize_page(
    shared: &Shared,
    conn: u64,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(_) => return Err(DropConnection),
    };
    let page = authorize::answer(shared, &parts.method, parts.uri.query(), &body);
    shared.record(conn, &parts, "", &body, Some(page.status.as_u16()), false);
    Ok(page.into_response())
}

enum BodyError {
    TooLarge,
    /// The client went away mid-body.
    Broken,
}

async fn read_body(body: Incoming) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

async fn api(
    shared: &Shared,
    close: &CloseFlag,
    conn: u64,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let name = parts.uri.path().strip_prefix(API_VERSION_PREFIX);
    let op = name.and_then(methods::lookup);
    let name = name.unwrap_or("");
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(BodyError::Broken) => return Err(DropConnection),
        Err(BodyError::TooLarge) => {
            let answer =
                Answer::text(StatusCode::PAYLOAD_TOO_LARGE, format!("request body larger than {MAX_BODY_BYTES} bytes"));
            shared.record(conn, &parts, name, b"", Some(answer.status.as_u16()), false);
            return Ok(respond(shared, answer, &parts.headers));
        }
    };
    if parts.uri.path().starts_with(API_VERSION_PREFIX) && !shared.admit() {
        // The gateway answers at once, before the API (no latency, no fault).
        let answer = Answer::error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests: over the gateway's rate limit; retry after the time in Retry-After",
        );
        shared.record(conn, &parts, name, &body, Some(429), false);
        let mut response = respond(shared, answer, &parts.headers);
        response.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    }
    let fault = if parts.uri.path().starts_with(API_VERSION_PREFIX) { shared.faults.take(name, op) } else { None };
    let seq = shared.record(conn, &parts, name, &body, None, fault.is_some());
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let Some(fault) = fault else {
        let answer = answer(shared, op, &parts, &body);
        shared.finish(seq, answer.status.as_u16());
        return Ok(respond(shared, answer, &parts.headers));
    };

    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match fault.action {
        FaultAction::Drop => Err(DropConnection),
        FaultAction::Respond => {
            let response = match fault.status {
                Some(status) => {
                    let body = fault.body.clone().unwrap_or_default();
                    match fault.advertise_length {
                        Some(total) => {
                            let mut response =
                                Response::new(MockBody::Truncate { half: Some(body), total, close: Arc::clone(close) });
                            *response.status_mut() = status;
                            *response.headers_mut() = fault.headers.clone();
                            response
                        }
                        None => exact_response(status, body, &fault),
                    }
                }
                None => {
                    let answer = answer(shared, op, &parts, &body);
                    let mut response = respond(shared, answer, &parts.headers);
                    overlay(response.headers_mut(), &fault.headers);
                    response
                }
            };
            shared.finish(seq, response.status().as_u16());
            Ok(response)
        }
        FaultAction::Truncate | FaultAction::Trickle | FaultAction::CloseAfter => {
            let (status, payload, headers) = faulted_parts(shared, op, &parts, &body, &fault);
            let out = match fault.action {
                FaultAction::Truncate if !payload.is_empty() => {
                    let half = payload.slice(..payload.len() / 2);
                    MockBody::Truncate { half: Some(half), total: payload.len() as u64, close: Arc::clone(close) }
                }
                FaultAction::Trickle => MockBody::trickle(payload, fault.trickle_chunk, fault.trickle_interval),
                // `close_after`, or `truncate` of an empty body: send it all, then close.
                _ => {
                    if payload.is_empty() {
                        // No body frame will be polled: close at the flush of the head.
                        close.store(true, Ordering::Release);
                    }
                    MockBody::CloseAfter { data: Some(payload), close: Arc::clone(close) }
                }
            };
            shared.finish(seq, status.as_u16());
            let mut response = Response::new(out);
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            Ok(response)
        }
    }
}

/// Status, body and headers of a `truncate`/`trickle`/`close_after` answer: the fault's
/// where given, else the real answer's.
fn faulted_parts(
    shared: &Shared,
    op: Option<Op>,
    parts: &Parts,
    body: &[u8],
    fault: &FaultPlan,
) -> (StatusCode, Bytes, HeaderMap) {
    if let (Some(status), Some(payload)) = (fault.status, &fault.body) {
        return (status, payload.clone(), fault.headers.clone());
    }
    let real = answer(shared, op, parts, body);
    let status = fault.status.unwrap_or(real.status);
    match &fault.body {
        Some(payload) => (status, payload.clone(), fault.headers.clone()),
        None => {
            let mut headers = HeaderMap::new();
            decorate(shared, &mut headers, real.kind, &parts.headers);
            overlay(&mut headers, &fault.headers);
            (status, real.body, headers)
        }
    }
}

fn exact_response(status: StatusCode, body: Bytes, fault: &FaultPlan) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    *response.headers_mut() = fault.headers.clone();
    response
}

fn overlay(headers: &mut HeaderMap, extra: &HeaderMap) {
    for name in extra.keys() {
        headers.remove(name);
    }
    for (name, value) in extra {
        headers.append(name, value.clone());
    }
}

/// The headers every normal answer carries.
fn decorate(shared: &Shared, headers: &mut HeaderMap, kind: Kind, request: &HeaderMap) {
    if kind == Kind::Json {
        headers.insert(CONTENT_TYPE, APPLICATION_JSON);
    }
    if let Some(tp) = request.get(TRACEPARENT) {
        headers.insert(TRACEPARENT, tp.clone());
    }
    headers.insert(REQUEST_ID, shared.request_id());
}

fn respond(shared: &Shared, answer: Answer, request: &HeaderMap) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(answer.body));
    *response.status_mut() = answer.status;
    decorate(shared, response.headers_mut(), answer.kind, request);
    response
}

// ---------------------------------------------------------------------------
// The API itself (framework behaviour, auth, then the method)
// ---------------------------------------------------------------------------

fn answer(shared: &Shared, op: Option<Op>, parts: &Parts, body: &[u8]) -> Answer {
    match try_answer(shared, op, parts, body) {
        Ok(a) | Err(a) => a,
    }
}

fn try_answer(shared: &Shared, op: Option<Op>, parts: &Parts, body: &[u8]) -> Result<Answer, Answer> {
    let Some(op) = op else {
        return Err(Answer::empty(StatusCode::NOT_FOUND));
    };
    if parts.method != Method::POST {
        return Err(Answer::empty(StatusCode::METHOD_NOT_ALLOWED));
    }
    check_content_type(&parts.headers)?;
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    let headers = &parts.headers;
    Ok(match op {
        Op::IntegrationsInsert => {
            let req: IntegrationsInsertRequest = parse(body)?;
            lock(&shared.state).integrations_insert(req)
        }
        Op::JobsGet => {
            let req: JobsGetRequest = parse(body)?;
            let state = authorized(shared, headers)?;
            state.jobs_get(req)
        }
        Op::JobsInsert => {
            let req: JobsInsertRequest = parse(body)?;
            let mut state = authorized(shared, headers)?;
            state.jobs_insert(req)
        }
        Op::Tier1Prepare => {
            let req: Tier1PrepareRequest = parse(body)?;
            let mut state = authorized(shared, headers)?;
            state.tier1_prepare(req)
        }
        Op::BusinessesList => {
            let _: EmptyRequest = parse(body)?;
            let state = authorized(shared, headers)?;
            state.businesses_list()
        }
    })
}

/// `content-type` must be absent (read as JSON) or `application/json` (UTF-8).
fn check_content_type(headers: &HeaderMap) -> Result<(), Answer> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let unsupported = || {
        Answer::text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported media type: {}", String::from_utf8_lossy(value.as_bytes())),
        )
    };
    let text = value.to_str().map_err(|_| unsupported())?;
    let mut params = text.split(';');
    let essence = params.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(unsupported());
    }
    for param in params {
        if let Some((key, val)) = param.split_once('=') {
            let val = val.trim().trim_matches('"');
            if key.trim().eq_ignore_ascii_case("charset")
                && !val.eq_ignore_ascii_case("utf-8")
                && !val.eq_ignore_ascii_case("utf8")
            {
                return Err(unsupported());
            }
        }
    }
    Ok(())
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Answer> {
    serde_json::from_slice(body)
        .map_err(|e| Answer::text(StatusCode::BAD_REQUEST, format!("Failed to parse request body: {e}")))
}

/// Parses the auth headers, checks them, and returns the locked state.
fn authorized<'a>(shared: &'a Shared, headers: &HeaderMap) -> Result<std::sync::MutexGuard<'a, State>, Answer> {
    let integration = integration_id(headers)?;
    let key = headers.get(AUTHORIZATION).and_then(bearer);
    let state = lock(&shared.state);
    state.authorize(key, integration)?;
    Ok(state)
}

fn integration_id(headers: &HeaderMap) -> Result<Uuid, Answer> {
    let bad = |why: String| Answer::text(StatusCode::BAD_REQUEST, format!("Failed to parse request headers: {why}"));
    let Some(value) = headers.get(INTEGRATION_ID_HEADER) else {
        return Err(bad(format!("missing field `{INTEGRATION_ID_HEADER}`")));
    };
    let text = value.to_str().map_err(|_| bad(format!("invalid value for field `{INTEGRATION_ID_HEADER}`")))?;
    Uuid::parse_str(text).map_err(|e| bad(format!("UUID parsing failed: {e}")))
}

/// The key of `Bearer <key>` (scheme case-insensitive).
fn bearer(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, key) = text.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

// ---------------------------------------------------------------------------
// Control routes
// ---------------------------------------------------------------------------

enum Control {
    Health,
    AccessCodes,
    Faults,
    Requests,
    Reset,
    RedirectUrls,
    RateLimit,
    Prepared,
    Unknown,
}

impl Control {
    fn parse(route: &str) -> Control {
        match route.trim_end_matches('/') {
            "health" => Control::Health,
            "access_codes" => Control::AccessCodes,
            "faults" => Control::Faults,
            "requests" => Control::Requests,
            "reset" => Control::Reset,
            "redirect_urls" => Control::RedirectUrls,
            "rate_limit" => Control::RateLimit,
            "prepared" => Control::Prepared,
            _ => Control::Unknown,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectUrlRequest {
    url: String,
}

#[derive(serde::Serialize)]
struct RedirectUrls {
    redirect_urls: Vec<String>,
}

/// `POST /__mock/rate_limit`: `{"rps": 250, "burst": 25}`; `{"rps": null}` lifts it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitRequest {
    rps: Option<f64>,
    #[serde(default)]
    burst: Option<u32>,
}

#[derive(serde::Serialize)]
struct RateLimitAnswer {
    rate_limit: Option<crate::RateLimit>,
    /// Calls answered 429 by the rate limit since the start.
    refused: u64,
}

#[derive(Deserialize)]
struct MintRequest {
    #[serde(default)]
    expires_in_secs: Option<u64>,
}

async fn control(shared: &Shared, route: Control, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let answer = match read_body(body).await {
        Ok(body) => control_answer(shared, route, &parts.method, &body),
        Err(_) => Answer::text(StatusCode::BAD_REQUEST, "unreadable request body".to_owned()),
    };
    respond(shared, answer, &parts.headers)
}

fn control_answer(shared: &Shared, route: Control, method: &Method, body: &[u8]) -> Answer {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    let bad = |what: &str, e: serde_json::Error| Answer::text(StatusCode::BAD_REQUEST, format!("invalid {what}: {e}"));
    match (route, method) {
        (Control::Health, &Method::GET) => Answer::json_static(br#"{"ok":true}"#),
        (Control::AccessCodes, &Method::POST) => match serde_json::from_slice::<MintRequest>(body) {
            Ok(req) => Answer::json(&shared.mint(req.expires_in_secs.unwrap_or(ACCESS_CODE_LIFETIME_SECS))),
            Err(e) => bad("access code request", e),
        },
        (Control::Faults, &Method::POST) => match serde_json::from_slice(body) {
            Ok(fault) => match shared.faults.push(&fault) {
                Ok(()) => Answer::json_static(b"{}"),
                Err(why) => Answer::text(StatusCode::BAD_REQUEST, why),
            },
            Err(e) => bad("fault", e),
        },
        (Control::Faults, &Method::DELETE) => {
            shared.faults.clear();
            Answer::json_static(b"{}")
        }
        (Control::Requests, &Method::GET) => Answer::json(&shared.requests()),
        (Control::Reset, &Method::POST) => {
            shared.reset();
            Answer::json_static(b"{}")
        }
        (Control::RedirectUrls, &Method::GET) => Answer::json(&RedirectUrls { redirect_urls: shared.redirect_urls() }),
        (Control::RedirectUrls, &Method::POST) => match serde_json::from_slice::<RedirectUrlRequest>(body) {
            Ok(req) => match shared.register_redirect_url(&req.url) {
                Ok(()) => Answer::json(&RedirectUrls { redirect_urls: shared.redirect_urls() }),
                Err(why) => Answer::text(StatusCode::BAD_REQUEST, why),
            },
            Err(e) => bad("redirect URL request (expected {\"url\": \"...\"})", e),
        },
        (Control::RateLimit, &Method::GET) => Answer::json(&RateLimitAnswer {
            rate_limit: shared.rate_limit(),
            refused: shared.rate_refused.load(Ordering::Relaxed),
        }),
        (Control::RateLimit, &Method::POST) => match serde_json::from_slice::<RateLimitRequest>(body) {
            Ok(req) => match shared.set_rate_limit(req.rps.map(|r| (r, req.burst))) {
                Ok(()) => Answer::json(&RateLimitAnswer {
                    rate_limit: shared.rate_limit(),
                    refused: shared.rate_refused.load(Ordering::Relaxed),
                }),
                Err(why) => Answer::text(StatusCode::BAD_REQUEST, why),
            },
            Err(e) => bad("rate limit (expected {\"rps\": number or null, \"burst\": integer})", e),
        },
        (Control::Prepared, &Method::GET) => Answer::json(&lock(&shared.state).prepared_stats()),
        (Control::Unknown, _) => Answer::empty(StatusCode::NOT_FOUND),
        _ => Answer::empty(StatusCode::METHOD_NOT_ALLOWED),
    }
}
