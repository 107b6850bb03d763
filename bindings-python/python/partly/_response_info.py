"""``client.with_response_info`` / ``aclient.with_response_info``: the same methods as the
client's, returning :class:`~partly.Response` (the result and the call's
:class:`~partly.ResponseInfo`: status, request id, trace id, attempts, elapsed time), as
openai-python's ``with_raw_response``. Node has ``client.withResponseInfo``, Rust the
``*_with_info`` methods; the fields are the core's (``partly::ResponseInfo``).

Each method is declared once, in ``_client.py``: these views hold the client's own namespaces
made with ``info=True`` (which return Responses) and only retype them, keeping each method's
parameters (a ``ParamSpec``) and wrapping its result type in ``Response``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Coroutine, TypeVar, cast

from .models import Response

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    from ._client import AsyncClient, AsyncIntegrations, AsyncJobs, AsyncTier1, Client, Integrations, Jobs, Tier1

    _P = ParamSpec("_P")

__all__ = ["WithResponseInfo", "AsyncWithResponseInfo"]

_T = TypeVar("_T")


def _info(method: Callable[_P, _T]) -> Callable[_P, Response[_T]]:
    """A method of a namespace made with ``info=True``, typed as what it returns."""
    return cast("Callable[_P, Response[_T]]", method)


def _async_info(method: Callable[_P, Coroutine[Any, Any, _T]]) -> Callable[_P, Coroutine[Any, Any, Response[_T]]]:
    """An async method of a namespace made with ``info=True``, typed as what it returns."""
    return cast("Callable[_P, Coroutine[Any, Any, Response[_T]]]", method)


class _JobsWithInfo:
    def __init__(self, jobs: Jobs) -> None:
        self.get = _info(jobs.get)
        self.insert = _info(jobs.insert)


class _Tier1WithInfo:
    def __init__(self, tier1: Tier1) -> None:
        self.prepare = _info(tier1.prepare)


class _IntegrationsWithInfo:
    def __init__(self, integrations: Integrations) -> None:
        self.insert = _info(integrations.insert)


class WithResponseInfo:
    """The blocking client's methods, each returning a :class:`~partly.Response`."""

    def __init__(self, jobs: Jobs, tier1: Tier1, integrations: Integrations, twin: Client) -> None:
        self.jobs = _JobsWithInfo(jobs)
        self.tier1 = _Tier1WithInfo(tier1)
        self.integrations = _IntegrationsWithInfo(integrations)
        self.call = _info(twin.call)


class _AsyncJobsWithInfo:
    def __init__(self, jobs: AsyncJobs) -> None:
        self.get = _async_info(jobs.get)
        self.insert = _async_info(jobs.insert)


class _AsyncTier1WithInfo:
    def __init__(self, tier1: AsyncTier1) -> None:
        self.prepare = _async_info(tier1.prepare)


class _AsyncIntegrationsWithInfo:
    def __init__(self, integrations: AsyncIntegrations) -> None:
        self.insert = _async_info(integrations.insert)


class AsyncWithResponseInfo:
    """The asyncio client's methods, each returning a :class:`~partly.Response`."""

    def __init__(
        self,
        jobs: AsyncJobs,
        tier1: AsyncTier1,
        integrations: AsyncIntegrations,
        twin: AsyncClient,
    ) -> None:
        self.jobs = _AsyncJobsWithInfo(jobs)
        self.tier1 = _AsyncTier1WithInfo(tier1)
        self.integrations = _AsyncIntegrationsWithInfo(integrations)
        self.call = _async_info(twin.call)
