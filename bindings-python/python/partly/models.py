"""Result objects: attribute access with type hints, a readable ``repr``, equality, and
``to_dict()`` giving back every field the server sent (unknown ones included).

Ids (``job.id``, ``job.site_id``, ...) are ``str`` in the canonical lowercase hyphenated form,
as on the wire; wrap one in ``uuid.UUID(...)`` if you need the type. Arguments accept either a
``str`` or a ``uuid.UUID``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Generic, List, Mapping, Optional, Tuple, TypeVar, Union

from . import _native
from .errors import PartlyError

__all__ = [
    "Job",
    "JobStatus",
    "InstallResult",
    "PrepareResult",
    "PrepareProgress",
    "PrepareBatch",
    "PrepareReport",
    "VehicleIdentifier",
    "ResponseInfo",
    "Response",
]

VehicleIdentifier = Union[str, Mapping[str, Any]]
"""A vehicle: a chassis number / VIN (``"JH4KA7561PC008269"``), a plate
(``{"plate": "ABC123", "region": "NZ"}``), or any other object the API accepts."""


# The fields of each shape, from the core (`partly::shapes`): what a model reads as properties
# rather than keeping in `extra`. tests/test_shapes.py fails when a property is missing.
_SHAPES: Dict[str, Tuple[str, ...]] = {s["name"]: tuple(f["name"] for f in s["fields"]) for s in _native.shapes()}


class _Model:
    """A result backed by the JSON object the server sent."""

    __slots__ = ("_data",)
    _known: Tuple[str, ...] = ()

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: Dict[str, Any] = dict(data)

    def to_dict(self) -> Dict[str, Any]:
        """Every field as the server sent it (a deep copy), unknown fields included."""
        return copy.deepcopy(self._data)

    @property
    def extra(self) -> Dict[str, Any]:
        """The fields this SDK version does not know (a copy)."""
        return {k: copy.deepcopy(v) for k, v in self._data.items() if k not in self._known}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Model)
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def _repr_fields(self) -> List[Tuple[str, Any]]:
        return [(k, self._data.get(k)) for k in self._known if self._data.get(k) is not None]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._repr_fields())
        extra = self.extra
        if extra:
            fields += (", " if fields else "") + f"extra={extra!r}"
        return f"{type(self).__name__}({fields})"

    def __getstate__(self) -> Dict[str, Any]:
        return self._data

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._data = state


class JobStatus(_Model):
    """A job's status: ``type`` (``"draft"``, or any other value the server sends) and any
    other fields of the status object in ``extra``."""

    __slots__ = ()
    _known = _SHAPES["JobStatus"]

    DRAFT = "draft"

    @property
    def type(self) -> str:
        """The status type, e.g. ``"draft"``."""
        return str(self._data.get("type", ""))

    @property
    def is_draft(self) -> bool:
        """Whether the job is a draft."""
        return self.type == self.DRAFT

    def __repr__(self) -> str:
        extra = self.extra
        return f"JobStatus(type={self.type!r}" + (f", extra={extra!r})" if extra else ")")


class Job(_Model):
    """A repair job (the answer of ``jobs.get`` and ``jobs.insert``)."""

    __slots__ = ()
    _known = _SHAPES["Job"]

    @property
    def id(self) -> str:
        """Partly's id of the job."""
        return str(self._data["id"])

    @property
    def site_id(self) -> str:
        """The repairer site the job belongs to."""
        return str(self._data["site_id"])

    @property
    def status(self) -> JobStatus:
        """The job's status (``job.status.type``)."""
        return JobStatus(self._data.get("status") or {})

    @property
    def images(self) -> List[str]:
        """Image URLs."""
        return list(self._data.get("images") or [])

    @property
    def claim_number(self) -> Optional[str]:
        """The insurer's claim number."""
        return self._data.get("claim_number")

    @property
    def job_number(self) -> Optional[str]:
        """The repairer's job number."""
        return self._data.get("job_number")

    @property
    def external_id(self) -> Optional[str]:
        """Your own reference for the job."""
        return self._data.get("external_id")

    @property
    def work_provider_id(self) -> Optional[str]:
        """The work provider (insurer)."""
        return self._data.get("work_provider_id")

    @property
    def vehicle(self) -> Optional[Dict[str, Any]]:
        """The vehicle as the server sent it (its shape is not published), or ``None``."""
        v = self._data.get("vehicle")
        return copy.deepcopy(v) if v is not None else None

    def _repr_fields(self) -> List[Tuple[str, Any]]:
        fields = [(k, v) for k, v in super()._repr_fields() if k != "status"]
        fields.insert(2, ("status", self.status))
        return fields


class InstallResult(_Model):
    """The answer of ``integrations.insert``: store both values and pass them to the client.
    ``repr`` hides the API key."""

    __slots__ = ()
    _known = _SHAPES["InstallResult"]

    @property
    def api_key(self) -> str:
        """The integration's long-lived API key. A secret: never print or log it."""
        return str(self._data["api_key"])

    @property
    def integration_id(self) -> str:
        """The integration id, sent as ``partly-integration-id``."""
        return str(self._data["integration_id"])

    def __repr__(self) -> str:
        extra = self.extra
        return f"InstallResult(integration_id={self.integration_id!r}, api_key='***'" + (
            f", extra={extra!r})" if extra else ")"
        )


class PrepareResult(_Model):
    """The answer of ``tier1.prepare`` (``{}`` today; anything the server adds is in ``extra``)."""

    __slots__ = ()


@dataclass(frozen=True)
class PrepareProgress:
    """Progress of a ``prepare_all`` run, reported after every request settles."""

    total: Optional[int]
    """Identifiers in the whole input when known in advance (a list); ``None`` for a generator."""
    read: int
    """Identifiers read from the input so far."""
    done: int
    """Identifiers settled: accepted + failed + skipped."""
    accepted: int
    """Identifiers accepted by the server."""
    failed: int
    """Identifiers that failed (bad input, a failed request, the deadline)."""
    skipped: int
    """Identifiers skipped: the checkpoint records them as accepted by an earlier run."""
    in_flight: int
    """Requests in flight now."""
    concurrency: int
    """The adaptive limiter's current concurrency limit."""
    rate: Optional[float]
    """The limiter's current request rate (requests/s), once it has one."""
    throttled: int
    """Answers 429/503 seen so far."""
    requests: int
    """Requests sent so far (retries and requeues included)."""
    elapsed_ms: float
    """Milliseconds since the run started."""


def _error_dict(e: Optional[PartlyError]) -> Optional[Dict[str, Any]]:
    if e is None:
        return None
    return {
        "error": type(e).__name__,
        "message": str(e),
        "status": e.status,
        "code": e.code,
        "attempts": e.attempts,
    }


class PrepareBatch:
    """One settled request of a ``prepare_all`` run, given to ``on_batch``."""

    __slots__ = ("indices", "identifiers", "error", "throttled")

    indices: List[int]
    """The input index of each identifier."""
    identifiers: List[Dict[str, Any]]
    """The identifiers the request carried, as sent (``{"chassis_number": ...}``)."""
    error: Optional[PartlyError]
    """``None`` when the server accepted them; the request's error otherwise."""
    throttled: int
    """Times it was answered 429 and queued again."""

    def __init__(
        self, indices: List[int], identifiers: List[Dict[str, Any]], error: Optional[PartlyError], throttled: int = 0
    ) -> None:
        self.indices = indices
        self.identifiers = identifiers
        self.error = error
        self.throttled = throttled

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> PrepareBatch:
        return cls(**d)  # the core's fields (partly::shapes::PREPARE_BATCH), by name

    @property
    def ok(self) -> bool:
        """Whether the server accepted this batch."""
        return self.error is None

    def to_dict(self) -> Dict[str, Any]:
        """The batch as plain values (the error as its class name, message and fields)."""
        d: Dict[str, Any] = {name: copy.deepcopy(getattr(self, name)) for name in _SHAPES["PrepareBatch"]}
        d["error"] = _error_dict(self.error)
        return d

    def __repr__(self) -> str:
        err = f", error={self.error!r}" if self.error is not None else ""
        first = self.indices[0] if self.indices else "-"
        return f"PrepareBatch(first_index={first}, identifiers=<{len(self.identifiers)}>{err})"


@dataclass(frozen=True)
class PrepareFailure:
    """An identifier ``prepare_all`` could not get accepted."""

    index: int
    """Its index in the input (counting every item read, bad ones included)."""
    identifier: Optional[Dict[str, Any]]
    """The identifier (as sent), when the item was one."""
    given: Optional[str]
    """``repr`` of the item, when it was not an identifier."""
    error: PartlyError
    """Why: the request's error, a ``ValidationError`` for a bad item, a ``TimeoutError`` when
    the run's deadline passed."""


class PrepareReport:
    """The outcome of ``prepare_all``: totals for every identifier read, and each failed one.
    Accepted identifiers are counted, not kept (memory grows only with failures)."""

    # The core's fields (partly::shapes::PREPARE_REPORT); `failures` is a method here.
    __slots__ = tuple(n for n in _SHAPES["PrepareReport"] if n != "failures") + ("_failures",)

    ok: bool
    """Whether every identifier read was accepted (now or, per the checkpoint, earlier)."""
    total: int
    """Identifiers read: ``accepted + failed + skipped``."""
    accepted: int
    """Identifiers accepted."""
    failed: int
    """Identifiers not accepted (each is in :meth:`failures`)."""
    skipped: int
    """Identifiers skipped: the checkpoint records them as accepted by an earlier run."""
    duplicates_possible: int
    """Identifiers sent again after an attempt with an unknown outcome (harmless duplicates)."""
    throttled: int
    """Answers 429/503 seen (each waited out; a 429 does not spend a batch's retries)."""
    requests: int
    """Requests sent."""
    elapsed_ms: float
    """Milliseconds the run took."""
    deadline_reached: bool
    """Whether the ``deadline`` ended the run."""
    concurrency: int
    """The limiter's concurrency limit at the end."""

    def __init__(self, d: Mapping[str, Any]) -> None:
        for name in self.__slots__[:-1]:
            setattr(self, name, d[name])
        self._failures = [PrepareFailure(**f) for f in d["failures"]]

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> PrepareReport:
        return cls(d)

    def failures(self) -> List[PrepareFailure]:
        """Every identifier not accepted (``index``, ``identifier``, ``given``, ``error``), so
        that you can retry exactly those."""
        return list(self._failures)

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain values."""
        d: Dict[str, Any] = {name: getattr(self, name) for name in self.__slots__[:-1]}
        d["failures"] = [
            {**{n: getattr(f, n) for n in _SHAPES["PrepareFailure"]}, "error": _error_dict(f.error)}
            for f in self._failures
        ]
        return d

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrepareReport):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"PrepareReport(ok={self.ok}, total={self.total}, accepted={self.accepted}, failed={self.failed}, "
            f"skipped={self.skipped}, throttled={self.throttled}, requests={self.requests}, "
            f"elapsed_ms={self.elapsed_ms:.1f}, deadline_reached={self.deadline_reached})"
        )


_T = TypeVar("_T")


@dataclass(frozen=True)
class ResponseInfo:
    """What a successful call's answer says about it (``client.with_response_info``): the same
    fields as Rust's ``ResponseInfo`` and Node's ``info`` (camelCase there)."""

    status: int
    """The HTTP status of the answer."""
    request_id: Optional[str]
    """The server's ``x-request-id``, when it sent one."""
    trace_id: str
    """The W3C trace id sent in ``traceparent`` on every attempt."""
    attempts: int
    """How many attempts the call took (1 when the first succeeded)."""
    elapsed_ms: float
    """The whole call, retries and waits included, in milliseconds."""

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> ResponseInfo:
        fields: Dict[str, Any] = {name: d.get(name) for name in _SHAPES["ResponseInfo"]}
        return cls(**fields)


@dataclass(frozen=True)
class Response(Generic[_T]):
    """A result with the :class:`ResponseInfo` of the call that produced it."""

    value: _T
    """The result, as the method returns it without ``with_response_info``."""
    info: ResponseInfo
    """What the answer said about the call."""
