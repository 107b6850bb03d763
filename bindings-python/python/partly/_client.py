"""``partly.Client`` (blocking) and ``partly.AsyncClient`` (asyncio): the same methods and
keyword arguments, over the same Rust core (``partly._native``)."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from types import TracebackType
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Type,
    TypedDict,
    TypeVar,
    Union,
    cast,
)

from . import _native
from ._response_info import AsyncWithResponseInfo, WithResponseInfo
from .models import (
    InstallResult,
    Job,
    PrepareBatch,
    PrepareProgress,
    PrepareReport,
    PrepareResult,
    Response,
    ResponseInfo,
    VehicleIdentifier,
)

__all__ = ["Client", "AsyncClient", "diagnostics", "Diagnostics"]

_S = TypeVar("_S", bound="_Settings")

UuidLike = Union[str, uuid.UUID]
ProxyOption = Union[str, Literal[False], None]
"""A proxy URL (``"http://user:password@proxy:3128"``), ``False`` for none, or ``None`` for the
environment's (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` with ``NO_PROXY``, either case)."""
PathLike = Union[str, "os.PathLike[str]"]
IfExistsWord = Literal["update", "replace"]
ProgressCallback = Callable[[PrepareProgress], object]
BatchCallback = Callable[[PrepareBatch], object]
Identifiers = Union[Iterable[VehicleIdentifier], Iterable[Any]]
AsyncIdentifiers = Union[Iterable[Any], AsyncIterable[Any]]

DEFAULT_TIMEOUT: float = _native.DEFAULT_TIMEOUT
"""Timeout of one attempt (connect, request, headers and whole body), in seconds."""
DEFAULT_MAX_RETRIES: int = _native.DEFAULT_MAX_RETRIES
"""Retries after the first attempt, only where resending is safe."""


def _repr(client: _native.Client, cls: str) -> str:
    if client.closed:
        return f"{cls}(closed)"
    key = "***" if client.has_api_key else None
    proxy = f", proxy={client.proxy!r}" if client.proxy is not None else ""
    return (
        f"{cls}(base_url={client.base_url!r}, integration_id={client.integration_id!r}, "
        f"api_key={key!r}, timeout={client.timeout!r}, max_retries={client.max_retries!r}{proxy})"
    )


def _native_client(
    api_key: Optional[str],
    integration_id: Optional[UuidLike],
    base_url: Optional[str],
    timeout: Optional[float],
    max_retries: Optional[int],
    allow_insecure_http: bool,
    proxy: ProxyOption,
    ca_bundle: Optional[PathLike],
) -> _native.Client:
    return _native.Client(
        api_key=api_key,
        integration_id=integration_id,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        allow_insecure_http=allow_insecure_http,
        proxy=proxy,
        ca_bundle=ca_bundle,
    )


class DiagnosticsProxy(TypedDict):
    """The proxy in force for the base URL."""

    url: Optional[str]
    """The proxy URL with credentials redacted (``http://***@proxy:3128``); ``None``: direct."""
    source: Literal["option", "environment", "none"]
    variable: Optional[str]
    """The environment variable it came from (``HTTPS_PROXY``)."""
    bypassed: Optional[str]
    """Why a configured proxy is not used (``loopback is never proxied``, ``NO_PROXY ...``)."""


class DiagnosticsRoots(TypedDict):
    """One source of trusted roots."""

    source: str
    """``system`` or ``ca_bundle``."""
    path: Optional[str]
    certificates: Optional[int]
    warning: Optional[str]


class DiagnosticsTimings(TypedDict):
    """Milliseconds per step (``None``: not done or not reached)."""

    dns_ms: Optional[float]
    tcp_ms: Optional[float]
    proxy_connect_ms: Optional[float]
    tls_ms: Optional[float]
    first_byte_ms: Optional[float]
    total_ms: float


class DiagnosticsError(TypedDict):
    """Where the probe failed."""

    stage: Literal["dns", "tcp", "proxy", "tls", "request", "timeout"]
    message: str


class Diagnostics(TypedDict):
    """What :func:`partly.diagnostics` found (the same fields in Rust and Node)."""

    sdk_version: str
    user_agent: str
    base_url: str
    proxy: DiagnosticsProxy
    trusted_roots: List[DiagnosticsRoots]
    http2_offered: bool
    resolved_addresses: List[str]
    connected_to: Optional[str]
    tls_version: Optional[str]
    http_version: Optional[str]
    status: Optional[int]
    """The status of the answer: any status means the API was reached."""
    server_date: Optional[str]
    clock_offset_ms: Optional[int]
    """The server's clock minus this machine's (±1000 ms: ``Date`` has a one-second resolution)."""
    timings: DiagnosticsTimings
    error: Optional[DiagnosticsError]


def diagnostics(
    *,
    base_url: Optional[str] = None,
    proxy: ProxyOption = None,
    ca_bundle: Optional[PathLike] = None,
    timeout: Optional[float] = None,
    allow_insecure_http: bool = False,
) -> Diagnostics:
    """For a support ticket: the SDK version, base URL, effective proxy (credentials redacted),
    where trusted roots come from, and the DNS, TCP, TLS and first-byte timings of one
    unauthenticated request to the base URL, with the server's clock offset. Settings not given
    come from the environment, as for :class:`Client`. It never raises for a network failure:
    ``result["error"]`` says at which step and why."""
    client = _native_client(None, None, base_url, timeout, None, allow_insecure_http, proxy, ca_bundle)
    try:
        return cast(Diagnostics, client.diagnostics())
    finally:
        client.close()


_T = TypeVar("_T")


def _same(value: Any) -> Any:
    return value


def _result(info: bool, make: Callable[[Any], _T], raw: Any) -> _T:
    """``make(raw)``; in the namespaces of ``with_response_info`` (``info``), a
    :class:`~partly.Response` of it and the call's info. Typed as the plain result here: the
    views of ``_response_info.py`` type those methods as returning the ``Response``."""
    if info:
        return cast(_T, Response(make(raw["value"]), ResponseInfo._from_native(raw["info"])))
    return make(raw)


class _Settings:
    _native: _native.Client
    _info: bool = False
    """True in the twin whose ``call`` serves ``with_response_info.call``."""

    def _info_twin(self: _S) -> _S:
        """This client's twin (same native client) whose ``call`` returns a Response."""
        twin = object.__new__(type(self))
        twin._native = self._native
        twin._info = True
        return twin

    @property
    def base_url(self) -> str:
        """The API's base URL (without ``/api/<version>/``)."""
        return self._native.base_url

    @property
    def integration_id(self) -> Optional[str]:
        """The integration id sent as ``partly-integration-id``, if any."""
        return self._native.integration_id

    @property
    def timeout(self) -> float:
        """Timeout of each attempt, in seconds."""
        return self._native.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._native.max_retries

    @property
    def user_agent(self) -> str:
        """The ``user-agent`` the client sends."""
        return self._native.user_agent

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._native.closed

    @property
    def proxy(self) -> Optional[str]:
        """The proxy calls go through (credentials redacted), or ``None`` when they go direct."""
        return self._native.proxy


# --------------------------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------------------------


class Jobs:
    """``jobs.*``: repair jobs. Use ``client.jobs``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    def get(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Job:
        """Fetches one repair job by Partly's ``id`` or by your own reference (``external``).

        Raises :class:`~partly.NotFoundError` when there is no such job."""
        raw = self._native.jobs_get(id=id, external=external, timeout=timeout, max_retries=max_retries, info=self._info)
        return _result(self._info, Job, raw)

    def insert(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        data: Mapping[str, Any],
        if_exists: Optional[IfExistsWord] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Job:
        """Creates a repair job, or updates it (``if_exists="update"``, the default: merges the
        fields given) or replaces it (``"replace"``) when one with the identity exists.

        ``data`` has the fields of the API's ``ExternalInsert``: ``repairer_site_id`` (required),
        ``claim_number``, ``job_number``, ``vehicle`` (a dict), ``work_provider_id``; other keys are
        sent as they are."""
        raw = self._native.jobs_insert(
            id=id,
            external=external,
            data=data,
            if_exists=if_exists,
            timeout=timeout,
            max_retries=max_retries,
            info=self._info,
        )
        return _result(self._info, Job, raw)


class Tier1:
    """``tier1.*``: vehicle preparation. Use ``client.tier1``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    def prepare(
        self,
        identifiers: Sequence[VehicleIdentifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> PrepareResult:
        """Queues 1 to 100 vehicles for Partly to fetch and cache ahead of use. A vehicle is a
        chassis number (``"JH4KA7561PC008269"``) or a plate (``{"plate": "ABC123", "region": "NZ"}``)."""
        raw = self._native.tier1_prepare(identifiers, timeout=timeout, max_retries=max_retries, info=self._info)
        return _result(self._info, PrepareResult, raw)

    def prepare_all(
        self,
        identifiers: Identifiers,
        *,
        batch_size: Optional[int] = None,
        max_concurrency: Optional[int] = None,
        max_rate: Optional[float] = None,
        deadline: Optional[float] = None,
        checkpoint: Optional[PathLike] = None,
        on_progress: Optional[ProgressCallback] = None,
        on_batch: Optional[BatchCallback] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        adaptive: Optional[bool] = None,
    ) -> PrepareReport:
        """Queues any number of vehicles from any iterable (a list, a generator), read as the
        run needs more, never all at once: requests of ``batch_size`` (default 100) identifiers,
        the number in flight adapted to what the server allows (429/503, latency) within
        ``max_concurrency`` (default 32) and ``max_rate`` (requests/s). A 429 is waited out and
        its batch queued again without spending its retries.

        ``deadline`` (seconds) ends the run: whatever was not accepted by then is reported failed.
        ``checkpoint`` (a file path) records what was accepted: running the same input again with
        it sends only the rest. ``on_progress(PrepareProgress)`` and ``on_batch(PrepareBatch)`` are
        called on this thread after each request; an exception from them (or from the iterator)
        stops the run and propagates. A bad item or a request that still fails is recorded in the
        report and the run goes on: check ``report.ok`` and ``report.failures()``. Raises only for
        bad options, before anything is sent."""
        report = self._native.tier1_prepare_all(
            identifiers,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_rate=max_rate,
            deadline=deadline,
            checkpoint=checkpoint,
            adaptive=adaptive,
            on_progress=on_progress,
            on_batch=_batch_callback(on_batch),
            timeout=timeout,
            max_retries=max_retries,
        )
        return PrepareReport._from_native(report)


def _batch_callback(on_batch: Optional[BatchCallback]) -> Optional[Callable[[Mapping[str, Any]], object]]:
    if on_batch is None or not callable(on_batch):
        return on_batch  # the native side names a non-callable
    return lambda d: on_batch(PrepareBatch._from_native(d))


_PUMP_CHUNK = 1000


def _pump_async(ait: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """A blocking iterator over an async iterator, for the worker thread that runs
    ``prepare_all``: it asks the event loop for the next items, ``_PUMP_CHUNK`` at a time."""

    async def take() -> List[Any]:
        out: List[Any] = []
        try:
            while len(out) < _PUMP_CHUNK:
                out.append(await ait.__anext__())
        except StopAsyncIteration:
            out.append(_END)
        return out

    while True:
        chunk = asyncio.run_coroutine_threadsafe(take(), loop).result()
        for item in chunk:
            if item is _END:
                return
            yield item


_END = object()


def _on_loop(loop: asyncio.AbstractEventLoop, cb: Optional[Callable[[Any], object]]) -> Optional[Callable[[Any], None]]:
    """``cb`` run on the event loop (with ``call_soon_threadsafe``) instead of the worker thread."""
    if cb is None:
        return None

    def run(value: Any) -> None:
        loop.call_soon_threadsafe(cb, value)

    return run


class Integrations:
    """``integrations.*``: installs. Use ``client.integrations``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    def insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> InstallResult:
        """Finishes an OAuth install: trades the access code from the redirect for the
        integration's API key and id. Needs no credentials on the client. Never resent once the
        request may have reached the server (the code is single use)."""
        raw = self._native.integrations_insert(
            access_code=access_code,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            max_retries=max_retries,
            info=self._info,
        )
        return _result(self._info, InstallResult, raw)


class Client(_Settings):
    """The Partly API client (blocking). Thread-safe: share one across threads so that they
    share its connection pool. Calls release the GIL and stay interruptible by Ctrl-C.

    Every setting left ``None`` comes from the environment (``PARTLY_API_KEY``,
    ``PARTLY_INTEGRATION_ID``, ``PARTLY_BASE_URL``) or the default (``https://api.partly.com``,
    30 s per attempt, 2 retries). Without an API key only ``integrations.insert`` works.
    ``timeout`` is in seconds, per attempt; there is no "wait forever".

    ``proxy``: a proxy URL (credentials allowed, never shown), ``False`` for none; by default the
    environment's (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, either case).
    Loopback base URLs are never proxied. ``ca_bundle``: a PEM file of CA certificates trusted in
    addition to the system's (``SSL_CERT_FILE`` works too).
    """

    jobs: Jobs
    """``jobs.get`` / ``jobs.insert``."""
    tier1: Tier1
    """``tier1.prepare`` / ``prepare_all``."""
    integrations: Integrations
    """``integrations.insert``."""

    def __init__(
        self,
        *,
        api_key: Optional[str] = None,
        integration_id: Optional[UuidLike] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: Optional[int] = DEFAULT_MAX_RETRIES,
        allow_insecure_http: bool = False,
        proxy: ProxyOption = None,
        ca_bundle: Optional[PathLike] = None,
    ) -> None:
        self._native = _native_client(
            api_key, integration_id, base_url, timeout, max_retries, allow_insecure_http, proxy, ca_bundle
        )
        self.jobs = Jobs(self._native)
        self.tier1 = Tier1(self._native)
        self.integrations = Integrations(self._native)
        self.with_response_info = WithResponseInfo(
            Jobs(self._native, info=True),
            Tier1(self._native, info=True),
            Integrations(self._native, info=True),
            self._info_twin(),
        )
        """The same methods, each returning a :class:`~partly.Response`: the result and the
        call's :class:`~partly.ResponseInfo` (status, request id, trace id, attempts, elapsed)."""

    def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
    ) -> Any:
        """Calls any method by its wire name (``"businesses.list"``) with a JSON body, with the
        same auth, retries, timeouts and errors as the typed methods; returns the JSON answer.

        A method the SDK does not know is resent only when the connection was never made,
        unless ``idempotent=True`` says it is safe; it is sent with the client's credentials
        unless ``auth=False`` (a method that needs none, from a client that has none)."""
        raw = self._native.call(
            method, body, timeout=timeout, max_retries=max_retries, idempotent=idempotent, auth=auth, info=self._info
        )
        return _result(self._info, _same, raw)

    def diagnostics(self) -> Diagnostics:
        """:func:`partly.diagnostics` with this client's settings."""
        return cast(Diagnostics, self._native.diagnostics())

    def close(self) -> None:
        """Releases the connection pool. Later calls raise :class:`~partly.ValidationError`."""
        self._native.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return _repr(self._native, "Client")


# --------------------------------------------------------------------------------------------
# asyncio
# --------------------------------------------------------------------------------------------


class AsyncJobs:
    """``jobs.*``: repair jobs. Use ``client.jobs``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    async def get(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Job:
        """Fetches one repair job by Partly's ``id`` or by your own reference (``external``).

        Raises :class:`~partly.NotFoundError` when there is no such job."""
        raw = await self._native.jobs_get(
            id=id, external=external, timeout=timeout, max_retries=max_retries, info=self._info, blocking=False
        )
        return _result(self._info, Job, raw)

    async def insert(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        data: Mapping[str, Any],
        if_exists: Optional[IfExistsWord] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Job:
        """Creates, updates (``if_exists="update"``, the default) or replaces a repair job; see
        :meth:`partly.Client.jobs.insert <Jobs.insert>`."""
        raw = await self._native.jobs_insert(
            id=id,
            external=external,
            data=data,
            if_exists=if_exists,
            timeout=timeout,
            max_retries=max_retries,
            info=self._info,
            blocking=False,
        )
        return _result(self._info, Job, raw)


class AsyncTier1:
    """``tier1.*``: vehicle preparation. Use ``client.tier1``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    async def prepare(
        self,
        identifiers: Sequence[VehicleIdentifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> PrepareResult:
        """Queues 1 to 100 vehicles for Partly to fetch and cache ahead of use."""
        raw = await self._native.tier1_prepare(
            identifiers, timeout=timeout, max_retries=max_retries, info=self._info, blocking=False
        )
        return _result(self._info, PrepareResult, raw)

    async def prepare_all(
        self,
        identifiers: AsyncIdentifiers,
        *,
        batch_size: Optional[int] = None,
        max_concurrency: Optional[int] = None,
        max_rate: Optional[float] = None,
        deadline: Optional[float] = None,
        checkpoint: Optional[PathLike] = None,
        on_progress: Optional[ProgressCallback] = None,
        on_batch: Optional[BatchCallback] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        adaptive: Optional[bool] = None,
    ) -> PrepareReport:
        """Queues any number of vehicles from any iterable or async iterable; see
        :meth:`Tier1.prepare_all`. The run waits on a worker thread (the loop stays free); an
        async iterable is read on the loop, a chunk at a time as the run needs more.
        ``on_progress`` and ``on_batch`` are called on the event loop (an exception from them goes
        to the loop's exception handler). Cancelling the task stops the run at the next request."""
        loop = asyncio.get_running_loop()
        source: Any = identifiers
        if hasattr(identifiers, "__aiter__"):
            source = _pump_async(cast(AsyncIterable[Any], identifiers).__aiter__(), loop)
        cancelled = threading.Event()

        def check(value: Any, cb: Optional[Callable[[Any], None]]) -> None:
            if cancelled.is_set():
                raise asyncio.CancelledError()
            if cb is not None:
                cb(value)

        progress = _on_loop(loop, on_progress)
        batch = _on_loop(loop, on_batch)
        native_batch = None if on_batch is None else (lambda d: check(PrepareBatch._from_native(d), batch))

        def run() -> Mapping[str, Any]:
            return cast(
                Mapping[str, Any],
                self._native.tier1_prepare_all(
                    source,
                    batch_size=batch_size,
                    max_concurrency=max_concurrency,
                    max_rate=max_rate,
                    deadline=deadline,
                    checkpoint=checkpoint,
                    adaptive=adaptive,
                    # Always a progress callback: it is where a cancelled task stops the run. A
                    # callback that is not callable goes as it is: the native side names it.
                    on_progress=(lambda p: check(p, progress))
                    if on_progress is None or callable(on_progress)
                    else on_progress,
                    on_batch=native_batch if on_batch is None or callable(on_batch) else on_batch,
                    timeout=timeout,
                    max_retries=max_retries,
                ),
            )

        try:
            report = await loop.run_in_executor(None, run)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return PrepareReport._from_native(report)


class AsyncIntegrations:
    """``integrations.*``: installs. Use ``client.integrations``."""

    def __init__(self, native: _native.Client, info: bool = False) -> None:
        self._native = native
        self._info = info  # the namespace of `with_response_info`: results are Responses

    async def insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> InstallResult:
        """Finishes an OAuth install: trades the access code for the API key and id."""
        raw = await self._native.integrations_insert(
            access_code=access_code,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            max_retries=max_retries,
            info=self._info,
            blocking=False,
        )
        return _result(self._info, InstallResult, raw)


class AsyncClient(_Settings):
    """The Partly API client for asyncio: the methods of :class:`Client`, awaitable.

    Not bound to an event loop: one client works across ``asyncio.run()`` calls and any number
    of concurrent tasks. Cancelling a task aborts its HTTP request.
    """

    jobs: AsyncJobs
    """``jobs.get`` / ``jobs.insert``."""
    tier1: AsyncTier1
    """``tier1.prepare`` / ``prepare_all``."""
    integrations: AsyncIntegrations
    """``integrations.insert``."""

    def __init__(
        self,
        *,
        api_key: Optional[str] = None,
        integration_id: Optional[UuidLike] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: Optional[int] = DEFAULT_MAX_RETRIES,
        allow_insecure_http: bool = False,
        proxy: ProxyOption = None,
        ca_bundle: Optional[PathLike] = None,
    ) -> None:
        self._native = _native_client(
            api_key, integration_id, base_url, timeout, max_retries, allow_insecure_http, proxy, ca_bundle
        )
        self.jobs = AsyncJobs(self._native)
        self.tier1 = AsyncTier1(self._native)
        self.integrations = AsyncIntegrations(self._native)
        self.with_response_info = AsyncWithResponseInfo(
            AsyncJobs(self._native, info=True),
            AsyncTier1(self._native, info=True),
            AsyncIntegrations(self._native, info=True),
            self._info_twin(),
        )
        """The same methods, each returning a :class:`~partly.Response` (see ``Client``)."""

    async def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
    ) -> Any:
        """Calls any method by its wire name with a JSON body; see :meth:`Client.call`."""
        raw = await self._native.call(
            method,
            body,
            timeout=timeout,
            max_retries=max_retries,
            idempotent=idempotent,
            auth=auth,
            info=self._info,
            blocking=False,
        )
        return _result(self._info, _same, raw)

    async def diagnostics(self) -> Diagnostics:
        """:func:`partly.diagnostics` with this client's settings."""
        return cast(Diagnostics, await self._native.diagnostics(blocking=False))

    async def close(self) -> None:
        """Releases the connection pool. Later calls raise :class:`~partly.ValidationError`."""
        self._native.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return _repr(self._native, "AsyncClient")
