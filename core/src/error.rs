//! The one error type of the SDK, with the taxonomy of design.md §4.

use std::fmt;
use std::time::Duration;

/// What went wrong, one value per error class of the Python and Node packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input, found before any request was sent.
    Validation,
    /// Could not connect, or the connection dropped.
    Connection,
    /// An attempt exceeded its timeout.
    Timeout,
    /// A 2xx whose body is not the documented shape.
    Decode,
    /// HTTP 400.
    BadRequest,
    /// HTTP 401: bad API key or integration id.
    Authentication,
    /// HTTP 403: valid key, wrong scope.
    PermissionDenied,
    /// HTTP 404.
    NotFound,
    /// HTTP 409.
    Conflict,
    /// HTTP 429.
    RateLimit,
    /// HTTP 5xx.
    Server,
    /// Any other 4xx (or an unexpected status).
    Api,
}

impl ErrorKind {
    /// Every kind, for bindings that build one class per kind.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Validation,
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::Decode,
        ErrorKind::BadRequest,
        ErrorKind::Authentication,
        ErrorKind::PermissionDenied,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::RateLimit,
        ErrorKind::Server,
        ErrorKind::Api,
    ];

    /// The kind for an HTTP error status.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimit,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Api,
        }
    }

    /// The class name in Python and Node (`NotFoundError`).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationError",
            ErrorKind::Connection => "ConnectionError",
            ErrorKind::Timeout => "TimeoutError",
            ErrorKind::Decode => "DecodeError",
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Conflict => "ConflictError",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::Server => "ServerError",
            ErrorKind::Api => "ApiError",
        }
    }

    /// A stable machine-readable code (Node's `error.code`).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "PARTLY_VALIDATION",
            ErrorKind::Connection => "PARTLY_CONNECTION",
            ErrorKind::Timeout => "PARTLY_TIMEOUT",
            ErrorKind::Decode => "PARTLY_DECODE",
            ErrorKind::BadRequest => "PARTLY_BAD_REQUEST",
            ErrorKind::Authentication => "PARTLY_AUTHENTICATION",
            ErrorKind::PermissionDenied => "PARTLY_PERMISSION_DENIED",
            ErrorKind::NotFound => "PARTLY_NOT_FOUND",
            ErrorKind::Conflict => "PARTLY_CONFLICT",
            ErrorKind::RateLimit => "PARTLY_RATE_LIMIT",
            ErrorKind::Server => "PARTLY_SERVER",
            ErrorKind::Api => "PARTLY_API",
        }
    }

    /// Whether this kind is an answer from the server (an `ApiError` subclass).
    pub fn is_api(self) -> bool {
        matches!(
            self,
            ErrorKind::BadRequest
                | ErrorKind::Authentication
                | ErrorKind::PermissionDenied
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::RateLimit
                | ErrorKind::Server
                | ErrorKind::Api
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class_name())
    }
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    method: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    body: Option<String>,
    attempts: u32,
    trace_id: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The length of the whole body `body` was taken from (it may hold only the start).
    body_total: usize,
    /// Whether [`Error::scrubbed`] has cut the fields to their limits (once: cuts are final).
    sealed: bool,
}

/// Everything the SDK can fail with. Cheap to move (one box). Its `Display` says what happened,
/// on which method, after how many attempts; it never contains a secret: the API key, client
/// secret and access code are scrubbed from server bodies and messages before they are kept.
pub struct Error {
    inner: Box<Inner>,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                method: None,
                status: None,
                code: None,
                body: None,
                attempts: 0,
                trace_id: None,
                request_id: None,
                retry_after: None,
                source: None,
                body_total: 0,
                sealed: false,
            }),
        }
    }

    /// A validation error (bad input; nothing was sent).
    pub fn validation(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Validation, message)
    }

    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }
    pub(crate) fn with_method(mut self, method: &str) -> Self {
        self.inner.method = Some(method.to_string());
        self
    }
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }
    pub(crate) fn with_code(mut self, code: Option<String>) -> Self {
        self.inner.code = code;
        self
    }
    /// The body text kept (possibly only the start of it) and the whole body's length.
    pub(crate) fn with_body_text(mut self, body: Option<(String, usize)>) -> Self {
        match body {
            Some((text, total)) => {
                self.inner.body_total = total.max(text.len());
                self.inner.body = Some(text);
            }
            None => self.inner.body = None,
        }
        self
    }
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }
    pub(crate) fn with_trace_id(mut self, trace_id: &str) -> Self {
        self.inner.trace_id = Some(trace_id.to_string());
        self
    }
    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.inner.request_id = request_id;
        self
    }
    pub(crate) fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.inner.retry_after = retry_after;
        self
    }
    /// The one scrubbing step every error leaving a call goes through (see `scrub.rs`): each
    /// text field (message, code, body, request id, method) and the source's text are
    /// scrubbed; the first time, they are then cut to their length limits (after scrubbing, so
    /// no piece of a secret survives a cut). Scrubbing again (with more secrets, or after more
    /// text was added) is safe; the cuts are made once.
    pub(crate) fn scrubbed(mut self, scrubber: &crate::scrub::Scrubber) -> Self {
        use crate::config::defaults;
        let i = &mut *self.inner;
        let cut = !i.sealed;
        i.sealed = true;
        let clean = |text: &str, max: usize, total: usize| -> String {
            if cut {
                scrubber.bounded_of(text, max, total)
            } else {
                scrubber.scrub(text).into_owned()
            }
        };
        i.message = clean(&i.message, defaults::ERROR_MESSAGE_MAX, i.message.len());
        i.code = i.code.take().map(|c| clean(&c, defaults::ERROR_FIELD_MAX, c.len()));
        let total = i.body_total;
        i.body = i.body.take().map(|b| clean(&b, defaults::ERROR_BODY_MAX, total.max(b.len())));
        i.request_id = i.request_id.take().map(|r| clean(&r, defaults::ERROR_FIELD_MAX, r.len()));
        i.method = i.method.take().map(|m| clean(&m, defaults::ERROR_FIELD_MAX, m.len()));
        if let Some(source) = &i.source {
            let text = crate::client::error_chain(source.as_ref());
            if let std::borrow::Cow::Owned(clean) = scrubber.scrub(&text) {
                // The source's own text shows a secret: keep only its scrubbed text.
                i.source = Some(Box::new(ScrubbedSource(clean)));
            }
        }
        self
    }
    pub(crate) fn map_message(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.inner.message = f(&self.inner.message);
        self
    }
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }
    /// The human message without the context `Display` adds (the server's `message` for an
    /// API error when it sent one). The same text as [`detail`](Error::detail).
    pub fn message(&self) -> &str {
        &self.inner.message
    }
    /// The detail without the context `Display` adds: the server's own `message` for an API
    /// error when it sent one, else what went wrong. The one name of this field in all three
    /// languages (Python `err.detail`, Node `err.detail`; Node's `err.message` is the whole
    /// `Display` line, as Python's `str(err)`).
    pub fn detail(&self) -> &str {
        &self.inner.message
    }
    /// The wire name of the method called (`jobs.get`), when a call was involved.
    pub fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }
    /// The HTTP status, for errors answered by the server (and decode errors).
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }
    /// The error `type` the server sent (`not_found`), if it sent one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }
    /// The raw response body text (truncated to 8 KiB for API errors), if there was one.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }
    /// How many attempts were made (0 for a validation error).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }
    /// The W3C trace id sent in `traceparent` on every attempt of the call.
    pub fn trace_id(&self) -> Option<&str> {
        self.inner.trace_id.as_deref()
    }
    /// The server's `x-request-id`, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// The server's `Retry-After`, for rate-limit and unavailable answers that carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }
    /// Whether this failure is of a kind a retry may cure (connect errors, timeouts, 408, 429,
    /// 5xx). Whether the SDK actually retried also depends on the method (see `methods`).
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Connection | ErrorKind::Timeout => true,
            _ => self.inner.status.is_some_and(|s| crate::retry::RETRY_STATUSES.contains(&s)),
        }
    }
}

impl Error {
    /// The fields of [`shapes::ERROR`](crate::shapes::ERROR) as JSON, by their wire names: what
    /// the bindings copy onto their error objects (one list, declared once).
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_string()));
        let mut m = serde_json::Map::new();
        for field in crate::shapes::ERROR.fields {
            let value = match field.name {
                "detail" => Value::String(self.detail().to_string()),
                "method" => text(self.method()),
                "status" => self.status().map_or(Value::Null, Value::from),
                "code" => text(self.code()),
                "body" => text(self.body()),
                "attempts" => Value::from(self.attempts()),
                "trace_id" => text(self.trace_id()),
                "request_id" => text(self.request_id()),
                "retry_after" => self.retry_after().map_or(Value::Null, |d| Value::from(d.as_secs_f64())),
                "retryable" => Value::Bool(self.is_retryable()),
                _ => Value::Null,
            };
            m.insert(field.name.to_string(), value);
        }
        m
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if let Some(m) = &i.method {
            write!(f, "{m}: ")?;
        }
        if let Some(s) = i.status {
            write!(f, "HTTP {s}")?;
            if let Some(c) = &i.code {
                write!(f, " {c}")?;
            }
            if !i.message.is_empty() && Some(&i.message) != i.code.as_ref() {
                write!(f, ": {}", i.message)?;
            }
        } else {
            f.write_str(&i.message)?;
        }
        if i.attempts > 1 {
            write!(f, " (after {} attempts)", i.attempts)?;
        }
        if let Some(r) = i.retry_after {
            if i.kind == ErrorKind::RateLimit {
                write!(f, " (retry after {}s)", r.as_secs_f64())?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        if let Some(m) = &i.method {
            d.field("method", m);
        }
        if let Some(s) = i.status {
            d.field("status", &s);
        }
        if let Some(c) = &i.code {
            d.field("code", c);
        }
        if i.attempts > 0 {
            d.field("attempts", &i.attempts);
        }
        if let Some(t) = &i.trace_id {
            d.field("trace_id", t);
        }
        if let Some(r) = i.retry_after {
            d.field("retry_after", &r);
        }
        if let Some(s) = &i.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The text of an error source that showed a secret, scrubbed.
#[derive(Debug)]
struct ScrubbedSource(String);

impl fmt::Display for ScrubbedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScrubbedSource {}

/// Truncates `text` to at most `max` bytes at a character boundary, marking the cut.
pub(crate) fn truncate_text(text: &str, max: usize) -> String {
    truncate_text_of(text, max, text.len())
}

/// [`truncate_text`] of a text that was `total` bytes long before an earlier cut.
pub(crate) fn truncate_text_of(text: &str, max: usize, total: usize) -> String {
    if text.len() <= max && total <= text.len() {
        return text.to_string();
    }
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes in all]", &text[..end], total)
}
