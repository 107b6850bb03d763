"""A local Partly API for your tests: ``partly-mock``, running inside this process.

::

    from partly.testing import MockServer

    def test_my_sync_job():
        with MockServer() as mock:
            client = mock.client()                       # demo credentials, mock.url
            mock.inject_fault(method="jobs.get", status=503, headers={"retry-after": "0"})
            job = client.jobs.get(external="CCC-2026-04817")   # retried, then succeeds
            assert [r.method for r in mock.requests()] == ["jobs.get", "jobs.get"]

The mock serves the API's methods with seeded demo data (a site, a job ``CCC-2026-04817``,
demo credentials), behaves like the real server on bad input, and takes faults: an error
status with any body and headers, a delay, a dropped connection, a truncated or trickled
answer. Each ``MockServer()`` listens on its own free port on 127.0.0.1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Type

from . import _native
from ._client import AsyncClient, Client

__all__ = [
    "MockServer",
    "AccessCode",
    "RecordedRequest",
    "DEMO_API_KEY",
    "DEMO_INTEGRATION_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SITE_ID",
    "DEMO_JOB_ID",
    "DEMO_JOB_EXTERNAL_ID",
    "DEMO_INTEGRATION_NAME",
]

DEMO_API_KEY: str = _native.DEMO_API_KEY
"""The mock's API key (belongs to :data:`DEMO_INTEGRATION_ID`)."""
DEMO_INTEGRATION_ID: str = _native.DEMO_INTEGRATION_ID
"""The integration the demo key belongs to."""
DEMO_CLIENT_ID: str = _native.DEMO_CLIENT_ID
"""The client id ``integrations.insert`` accepts."""
DEMO_CLIENT_SECRET: str = _native.DEMO_CLIENT_SECRET
"""The client secret ``integrations.insert`` accepts."""
DEMO_SITE_ID: str = _native.DEMO_SITE_ID
"""The seeded repairer site."""
DEMO_JOB_ID: str = _native.DEMO_JOB_ID
"""The seeded job's id."""
DEMO_JOB_EXTERNAL_ID: str = _native.DEMO_JOB_EXTERNAL_ID
"""The seeded job's external reference."""
DEMO_INTEGRATION_NAME: str = _native.DEMO_INTEGRATION_NAME
"""The demo integration's name, shown on the authorize page."""

FaultAction = Literal["respond", "drop", "truncate", "trickle", "close_after"]


@dataclass(frozen=True)
class AccessCode:
    """An access code minted by the mock, with the client credentials to trade it."""

    access_code: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    expires_in_secs: int


@dataclass(frozen=True)
class RecordedRequest:
    """One request the mock received."""

    seq: int
    """Arrival order: 0 for the first request since the server started."""
    method: str
    """The dotted method name from the path (``"jobs.get"``)."""
    path: str
    """The request path (``/api/2026-01/jobs.get``)."""
    http_method: str
    """``POST``, ``GET``, ..."""
    headers: Dict[str, str] = field(repr=False)
    """Every header, lower-case name to value."""
    body: str = field(repr=False)
    """The raw body."""
    status: Optional[int]
    """The status answered; ``None`` while the answer is pending (a delay fault) and when the
    connection was dropped or the client went away first. A request is logged as soon as its
    body has arrived, so a call the client gave up on still shows."""
    fault: bool
    """Whether an injected fault shaped the answer."""
    http_version: str = "HTTP/1.1"
    """``HTTP/1.1`` or ``HTTP/2`` (negotiated over TLS)."""
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)
    """Fields of the log entry newer than this SDK version."""

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> RecordedRequest:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            **{k: v for k, v in d.items() if k in known},
            extra={k: v for k, v in d.items() if k not in known},
        )

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body or "{}")


class MockServer:
    """``partly-mock`` in this process, on a free port of 127.0.0.1.

    Use it as a context manager (``with MockServer() as mock:``) or call :meth:`close`.
    ``latency`` (seconds) is added to every API answer. ``tls=True`` serves HTTPS with a
    certificate from a CA generated at start, written to :attr:`ca_path` (its clients trust it
    through ``ca_bundle``); HTTP/2 is offered over TLS unless ``http1_only=True``.
    ``redirect_urls`` are registered for the demo client: its OAuth authorize page
    (:attr:`authorize_endpoint`) sends the browser back only to one of them, exactly as written
    (:meth:`register_redirect_url` adds more). ``rate_limit`` (requests/s, a token bucket with
    a burst of ``rate_burst``, by default a tenth of a second's worth) answers calls above it
    with 429, ``Retry-After: 1`` and ``{"type": "rate_limited"}``, as the API's gateway does: to
    rehearse a throttled ``prepare_all`` (:meth:`set_rate_limit` changes it while it runs)."""

    def __init__(
        self,
        *,
        latency: Optional[float] = None,
        tls: bool = False,
        http1_only: bool = False,
        redirect_urls: Sequence[str] = (),
        rate_limit: Optional[float] = None,
        rate_burst: Optional[int] = None,
    ) -> None:
        self._native = _native.MockServer(
            latency=latency,
            tls=tls,
            http1_only=http1_only,
            redirect_urls=list(redirect_urls),
            rate_limit=rate_limit,
            rate_burst=rate_burst,
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with TLS): pass it as ``base_url`` (or
        ``PARTLY_BASE_URL``)."""
        return self._native.url

    @property
    def ca_path(self) -> Optional[str]:
        """With ``tls=True``: the PEM file of the CA that signed the mock's certificate."""
        return self._native.ca_path

    @property
    def authorize_endpoint(self) -> str:
        """The OAuth authorize page, ``http://127.0.0.1:PORT/auth/integration/authorize``: pass
        it (or :attr:`url`) as ``partly.oauth.authorize_url(..., endpoint=...)``."""
        return self._native.authorize_endpoint

    def register_redirect_url(self, url: str) -> None:
        """Registers a redirect URL for the demo client (exact match; twice is harmless).
        Raises :class:`~partly.ValidationError` when it is not an absolute http(s) URL."""
        self._native.register_redirect_url(url)

    def redirect_urls(self) -> List[str]:
        """The redirect URLs registered for the demo client."""
        return self._native.redirect_urls()

    def client(
        self,
        *,
        api_key: Optional[str] = DEMO_API_KEY,
        integration_id: Optional[str] = DEMO_INTEGRATION_ID,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Client:
        """A :class:`partly.Client` for this mock with the demo credentials (pass
        ``api_key=None, integration_id=None`` for one without), trusting its CA with TLS."""
        return Client(
            api_key=api_key,
            integration_id=integration_id,
            base_url=self.url,
            timeout=timeout,
            max_retries=max_retries,
            ca_bundle=self.ca_path,
        )

    def async_client(
        self,
        *,
        api_key: Optional[str] = DEMO_API_KEY,
        integration_id: Optional[str] = DEMO_INTEGRATION_ID,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> AsyncClient:
        """A :class:`partly.AsyncClient` for this mock with the demo credentials."""
        return AsyncClient(
            api_key=api_key,
            integration_id=integration_id,
            base_url=self.url,
            timeout=timeout,
            max_retries=max_retries,
            ca_bundle=self.ca_path,
        )

    def mint_access_code(self, *, expires_in: Optional[int] = None) -> AccessCode:
        """A fresh single-use access code for ``integrations.insert`` (valid 15 minutes, or
        ``expires_in`` seconds; 0 gives one that has already expired)."""
        d = self._native.mint_access_code(expires_in)
        return AccessCode(**d)

    def inject_fault(
        self,
        fault: Optional[Mapping[str, Any]] = None,
        *,
        method: Optional[str] = None,
        times: Optional[int] = None,
        action: Optional[FaultAction] = None,
        status: Optional[int] = None,
        body: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        delay_ms: Optional[int] = None,
        trickle_interval_ms: Optional[int] = None,
        trickle_chunk_bytes: Optional[int] = None,
    ) -> None:
        """Shapes the next ``times`` (default 1) calls of ``method`` (``"*"``: any method).

        ``action``: ``"respond"`` (default: answer with ``status``/``body``/``headers``, or
        normally when no status is given, after ``delay_ms``), ``"drop"`` (close the connection
        without answering), ``"truncate"`` (send half the body), ``"trickle"`` (send the body
        ``trickle_chunk_bytes`` every ``trickle_interval_ms``), ``"close_after"`` (answer, then
        close the connection). The fault can also be given as one dict in the mock's JSON form.
        Raises :class:`~partly.ValidationError` for an invalid fault."""
        spec: Dict[str, Any] = dict(fault) if fault is not None else {}
        given = {
            "method": method,
            "times": times,
            "action": action,
            "status": status,
            "body": body,
            "headers": dict(headers) if headers is not None else None,
            "delay_ms": delay_ms,
            "trickle_interval_ms": trickle_interval_ms,
            "trickle_chunk_bytes": trickle_chunk_bytes,
        }
        spec.update({k: v for k, v in given.items() if v is not None})
        self._native.inject_fault(spec)

    def clear_faults(self) -> None:
        """Removes every queued fault."""
        self._native.clear_faults()

    def requests(self, method: Optional[str] = None) -> List[RecordedRequest]:
        """The requests received since the start or the last :meth:`reset`, oldest first
        (only those of ``method`` when given)."""
        out = [RecordedRequest._from_native(r) for r in self._native.requests()]
        return out if method is None else [r for r in out if r.method == method]

    def prepared_identifiers(self) -> int:
        """How many vehicle identifiers ``tier1.prepare`` has queued since the last reset."""
        return self._native.prepared_identifiers()

    def prepared_stats(self) -> Dict[str, int]:
        """``{"identifiers", "distinct", "duplicates"}`` that ``tier1.prepare`` has accepted since
        the last reset (``duplicates``: accepted more than once)."""
        return self._native.prepared_stats()

    def set_rate_limit(self, rate_limit: Optional[float], rate_burst: Optional[int] = None) -> None:
        """Sets the rate limit (requests/s; the burst defaults to a tenth of a second's worth) or,
        with ``None``, lifts it."""
        self._native.set_rate_limit(rate_limit, rate_burst)

    def reset(self) -> None:
        """Clears faults and the request log and restores the seeded data."""
        self._native.reset()

    def close(self) -> None:
        """Stops the server and closes its connections."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    def __enter__(self) -> MockServer:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MockServer(url={self.url!r}{', closed' if self.closed else ''})"
