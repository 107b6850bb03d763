"""``client.with_response_info`` / ``aclient.with_response_info``: the same methods as the
client's, returning :class:`~partly.Response` (the result and the call's
:class:`~partly.ResponseInfo`: status, request id, trace id, attempts, elapsed time), as
openai-python's ``with_raw_response``. Node has ``client.withResponseInfo``, Rust the
``*_with_info`` methods; the fields are the core's (``partly::ResponseInfo``)."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict, Literal, Mapping, Optional, Sequence, TypeVar, Union

from . import _native
from .models import InstallResult, Job, PrepareResult, Response, ResponseInfo, VehicleIdentifier

__all__ = ["WithResponseInfo", "AsyncWithResponseInfo"]

_T = TypeVar("_T")
UuidLike = Union[str, uuid.UUID]
IfExistsWord = Literal["update", "replace"]


def _response(make: Callable[[Any], _T], raw: Dict[str, Any]) -> Response[_T]:
    return Response(make(raw["value"]), ResponseInfo._from_native(raw["info"]))


def _same(value: Any) -> Any:
    return value


class _JobsWithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    def get(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[Job]:
        """``client.jobs.get``, with the call's :class:`ResponseInfo`."""
        raw = self._native.jobs_get(id=id, external=external, timeout=timeout, max_retries=max_retries, info=True)
        return _response(Job, raw)

    def insert(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        data: Mapping[str, Any],
        if_exists: Optional[IfExistsWord] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[Job]:
        """``client.jobs.insert``, with the call's :class:`ResponseInfo`."""
        raw = self._native.jobs_insert(
            id=id,
            external=external,
            data=data,
            if_exists=if_exists,
            timeout=timeout,
            max_retries=max_retries,
            info=True,
        )
        return _response(Job, raw)


class _Tier1WithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    def prepare(
        self,
        identifiers: Sequence[VehicleIdentifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[PrepareResult]:
        """``client.tier1.prepare``, with the call's :class:`ResponseInfo`."""
        raw = self._native.tier1_prepare(identifiers, timeout=timeout, max_retries=max_retries, info=True)
        return _response(PrepareResult, raw)


class _IntegrationsWithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    def insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[InstallResult]:
        """``client.integrations.insert``, with the call's :class:`ResponseInfo`."""
        raw = self._native.integrations_insert(
            access_code=access_code,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            max_retries=max_retries,
            info=True,
        )
        return _response(InstallResult, raw)


class WithResponseInfo:
    """The blocking client's methods, each returning a :class:`~partly.Response`."""

    def __init__(self, native: _native.Client) -> None:
        self._native = native
        self.jobs = _JobsWithInfo(native)
        self.tier1 = _Tier1WithInfo(native)
        self.integrations = _IntegrationsWithInfo(native)

    def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
    ) -> Response[Any]:
        """``client.call``, with the call's :class:`ResponseInfo`."""
        raw = self._native.call(
            method, body, timeout=timeout, max_retries=max_retries, idempotent=idempotent, auth=auth, info=True
        )
        return _response(_same, raw)


class _AsyncJobsWithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    async def get(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[Job]:
        """``aclient.jobs.get``, with the call's :class:`ResponseInfo`."""
        raw = await self._native.jobs_get(
            id=id, external=external, timeout=timeout, max_retries=max_retries, info=True, blocking=False
        )
        return _response(Job, raw)

    async def insert(
        self,
        *,
        id: Optional[UuidLike] = None,
        external: Optional[str] = None,
        data: Mapping[str, Any],
        if_exists: Optional[IfExistsWord] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[Job]:
        """``aclient.jobs.insert``, with the call's :class:`ResponseInfo`."""
        raw = await self._native.jobs_insert(
            id=id,
            external=external,
            data=data,
            if_exists=if_exists,
            timeout=timeout,
            max_retries=max_retries,
            info=True,
            blocking=False,
        )
        return _response(Job, raw)


class _AsyncTier1WithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    async def prepare(
        self,
        identifiers: Sequence[VehicleIdentifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[PrepareResult]:
        """``aclient.tier1.prepare``, with the call's :class:`ResponseInfo`."""
        raw = await self._native.tier1_prepare(
            identifiers, timeout=timeout, max_retries=max_retries, info=True, blocking=False
        )
        return _response(PrepareResult, raw)


class _AsyncIntegrationsWithInfo:
    def __init__(self, native: _native.Client) -> None:
        self._native = native

    async def insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Response[InstallResult]:
        """``aclient.integrations.insert``, with the call's :class:`ResponseInfo`."""
        raw = await self._native.integrations_insert(
            access_code=access_code,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            max_retries=max_retries,
            info=True,
            blocking=False,
        )
        return _response(InstallResult, raw)


class AsyncWithResponseInfo:
    """The asyncio client's methods, each returning a :class:`~partly.Response`."""

    def __init__(self, native: _native.Client) -> None:
        self._native = native
        self.jobs = _AsyncJobsWithInfo(native)
        self.tier1 = _AsyncTier1WithInfo(native)
        self.integrations = _AsyncIntegrationsWithInfo(native)

    async def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
    ) -> Response[Any]:
        """``aclient.call``, with the call's :class:`ResponseInfo`."""
        raw = await self._native.call(
            method,
            body,
            timeout=timeout,
            max_retries=max_retries,
            idempotent=idempotent,
            auth=auth,
            info=True,
            blocking=False,
        )
        return _response(_same, raw)
