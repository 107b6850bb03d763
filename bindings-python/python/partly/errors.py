"""The errors the SDK raises: one taxonomy, the same class names in Rust, Python and Node.

::

    PartlyError                     base of everything the SDK raises
    ├── ValidationError             bad input, found before any request was sent (also ValueError)
    ├── ConnectionError             could not connect / connection dropped (also builtins.ConnectionError)
    │   └── TimeoutError            an attempt exceeded its timeout (also builtins.TimeoutError)
    ├── DecodeError                 a 2xx whose body is not the documented shape (keeps the raw text)
    └── ApiError                    the server answered 4xx/5xx
        ├── BadRequestError 400     ├── AuthenticationError 401   ├── PermissionDeniedError 403
        ├── NotFoundError 404       ├── ConflictError 409         ├── RateLimitError 429
        └── ServerError 5xx

Every error carries the same fields as attributes (``None`` when they do not apply):
``message``, ``method``, ``status``, ``code`` (the error ``type`` the server sent, such as
``"not_found"``), ``body`` (raw response text, truncated to 8 KiB), ``attempts``, ``trace_id``,
``request_id``, ``retry_after`` (seconds) and ``retryable``; ``detail`` (also ``message``)
is the server's own message without that context. ``str(err)`` is one line saying what happened, on
which method, after how many attempts. No message, ``repr`` or attribute ever holds the API key,
the client secret or an access code: the core scrubs them before the error is made.

Errors pickle (they cross ``multiprocessing`` and ``concurrent.futures`` process pools).
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "PartlyError",
    "ValidationError",
    "ConnectionError",
    "TimeoutError",
    "DecodeError",
    "ApiError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
]

# The fields of the core's ``partly::shapes::ERROR`` (the native module passes exactly these);
# tests/test_shapes.py fails when this list and the core's drift apart.
_FIELDS = (
    "detail",
    "method",
    "status",
    "code",
    "body",
    "attempts",
    "trace_id",
    "request_id",
    "retry_after",
    "retryable",
)


def _restore(cls: Type[PartlyError], text: str, fields: Dict[str, Any]) -> PartlyError:
    return cls(text, **fields)


class PartlyError(Exception):
    """Base class of every error the SDK raises."""

    detail: str
    """What went wrong, without the context ``str(err)`` adds (the server's ``message`` when it
    sent one). The same name in Node (``err.detail``) and Rust (``err.detail()``)."""
    message: str
    """The same as :attr:`detail` (kept for compatibility)."""
    method: Optional[str]
    """The wire name of the method called (``"jobs.get"``), when a call was involved."""
    status: Optional[int]
    """The HTTP status, for answers from the server (and decode errors)."""
    code: Optional[str]
    """The error ``type`` the server sent (``"not_found"``), if it sent one."""
    body: Optional[str]
    """The raw response text (truncated), if there was one."""
    attempts: int
    """How many attempts were made (0 when nothing was sent)."""
    trace_id: Optional[str]
    """The W3C trace id sent in ``traceparent`` on every attempt of the call."""
    request_id: Optional[str]
    """The server's ``x-request-id``, when it sent one."""
    retry_after: Optional[float]
    """The server's ``Retry-After`` in seconds, when it sent one."""
    retryable: bool
    """Whether a retry may cure this kind of failure (connect errors, timeouts, 408, 429, 5xx;
    the core's one table). Whether the SDK retried also depends on the method."""

    def __init__(
        self,
        text: str,
        *,
        detail: Optional[str] = None,
        message: Optional[str] = None,
        method: Optional[str] = None,
        status: Optional[int] = None,
        code: Optional[str] = None,
        body: Optional[str] = None,
        attempts: int = 0,
        trace_id: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(text)
        self.detail = detail if detail is not None else (text if message is None else message)
        self.message = self.detail
        self.method = method
        self.status = status
        self.code = code
        self.body = body
        self.attempts = attempts
        self.trace_id = trace_id
        self.request_id = request_id
        self.retry_after = retry_after
        self.retryable = retryable

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        parts = [repr(str(self))]
        for name in ("method", "status", "code", "attempts", "retry_after", "trace_id"):
            value = getattr(self, name, None)
            if value is not None and not (name == "attempts" and value == 0):
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> Tuple[Any, ...]:
        fields = {name: getattr(self, name, None) for name in _FIELDS}
        if fields["attempts"] is None:
            fields["attempts"] = 0
        if fields["retryable"] is None:
            fields["retryable"] = False
        return (_restore, (type(self), str(self), fields))


class ValidationError(PartlyError, ValueError):
    """Bad input, found before any request was sent. Also a :class:`ValueError`."""


class ConnectionError(PartlyError, builtins.ConnectionError):
    """Could not connect, or the connection dropped before a complete answer.

    Also a builtin :class:`ConnectionError` (so an ``OSError``)."""


class TimeoutError(ConnectionError, builtins.TimeoutError):
    """An attempt exceeded its timeout. Also a builtin :class:`TimeoutError`."""


class DecodeError(PartlyError):
    """A 2xx answer whose body is not the documented shape; ``body`` keeps the raw text."""


class ApiError(PartlyError):
    """The server answered with an error status (4xx/5xx); see ``status``, ``code`` and ``body``."""


class BadRequestError(ApiError):
    """HTTP 400: the server could not read the request."""


class AuthenticationError(ApiError):
    """HTTP 401: the API key or integration id is wrong."""


class PermissionDeniedError(ApiError):
    """HTTP 403: a valid key without the scope for this method (a supplier key on a repairer method)."""


class NotFoundError(ApiError):
    """HTTP 404: no such job, site or method."""


class ConflictError(ApiError):
    """HTTP 409: the request conflicts with the current state."""


class RateLimitError(ApiError):
    """HTTP 429: too many requests; ``retry_after`` says how long (seconds) the server asked to wait."""


class ServerError(ApiError):
    """HTTP 5xx: the server (or a proxy in front of it) failed."""
