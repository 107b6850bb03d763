"""The Python models and errors against the core's shapes (`partly::shapes`): a field the core
declares and Python lacks (or types differently) fails here, so a new field is one edit in the
core plus its property, never a copy that silently lands in `extra`.

A shape registered in the core (`shapes::ALL`) is looked up here by its name as a class of the
`partly` package, so registering a new one (say the bulk preload's `PrepareProgress`) is one line
in the core and this test then asks for the class."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Dict, List

import partly
from partly import _native, errors
from partly.testing import DEMO_JOB_EXTERNAL_ID, MockServer

SHAPES: List[Dict[str, Any]] = _native.shapes()
# The core's TypeScript-notation types, as the Python properties annotate them.
PY_TYPES = {
    "string": "str",
    "string | null": "Optional[str]",
    "string[]": "List[str]",
    "JobStatus": "JobStatus",
    "Record<string, unknown> | null": "Optional[Dict[str, Any]]",
    "number": "int",
    "number | null": "Optional[int]",
    "boolean": "bool",
    "number[]": "List[int]",
    "Array<Record<string, unknown>>": "List[Dict[str, Any]]",
    "PartlyError": "PartlyError",
    "PartlyError | null": "Optional[PartlyError]",
    "PrepareFailure[]": "List[PrepareFailure]",
}
# A `number` the core marks fractional (`float`: milliseconds, a rate) is a float in Python.
FLOAT_TYPES = {"number": "float", "number | null": "Optional[float]"}
# Properties that are helpers, not fields of the wire object.
HELPERS = {"extra", "is_draft"}
# Fields Python shows as a method (its idiom for a copy made at each call), typed by its return.
PY_METHODS = {("PrepareReport", "failures")}


def py_type(field: Dict[str, Any]) -> str:
    if field["float"]:
        return FLOAT_TYPES[field["ty"]]
    return PY_TYPES[field["ty"]]


def fields(name: str) -> List[Dict[str, Any]]:
    (shape,) = [s for s in SHAPES if s["name"] == name]
    return list(shape["fields"])


def test_the_core_declares_the_shapes() -> None:
    names = [s["name"] for s in SHAPES]
    assert {"Job", "JobStatus", "InstallResult", "PartlyError", "ResponseInfo"} <= set(names)
    assert {"PrepareProgress", "PrepareBatch", "PrepareFailure", "PrepareReport"} <= set(names)
    assert len(names) == len(set(names))


def test_every_model_shape_is_a_class_with_one_typed_property_per_field() -> None:
    for shape in SHAPES:
        if shape["name"] == "PartlyError":
            continue
        cls: Any = getattr(partly, shape["name"], None)
        assert inspect.isclass(cls), f"the core declares {shape['name']}; partly has no such class"
        declared = [f["name"] for f in shape["fields"]]
        methods = {f for (s, f) in PY_METHODS if s == shape["name"]}
        for name in methods:
            method = vars(cls).get(name)
            assert inspect.isfunction(method), f"{shape['name']}.{name}() is not a method"
            (f,) = [f for f in shape["fields"] if f["name"] == name]
            assert method.__annotations__["return"] == py_type(f), f"{shape['name']}.{name}() returns"
        if dataclasses.is_dataclass(cls) or "__slots__" in vars(cls) and "_known" not in vars(cls):
            # An SDK-made record (ResponseInfo, PrepareProgress, PrepareReport): a dataclass's
            # fields, or a slotted class's annotated attributes.
            if dataclasses.is_dataclass(cls):
                annotations = {f.name: f.type for f in dataclasses.fields(cls)}
            else:
                annotations = dict(vars(cls).get("__annotations__", {}))
            want = [n for n in declared if n not in methods]
            assert list(annotations) == want, f"{shape['name']}: fields {list(annotations)} vs the core's {want}"
            for f in shape["fields"]:
                if f["name"] not in methods:
                    got = annotations[f["name"]]
                    assert got == py_type(f), f"{shape['name']}.{f['name']}: {got} vs {py_type(f)} ({f['ty']})"
            continue
        props = {n for n, v in vars(cls).items() if isinstance(v, property)} - HELPERS
        assert props == set(declared), f"{shape['name']}: properties {sorted(props)} vs the core's {declared}"
        for f in shape["fields"]:
            prop = vars(cls)[f["name"]]
            annotation = prop.fget.__annotations__["return"]
            assert annotation == py_type(f), f"{shape['name']}.{f['name']}: {annotation} vs {f['ty']}"
            assert prop.__doc__, f"{shape['name']}.{f['name']} has no docstring"
        assert tuple(declared) == vars(cls)["_known"], f"{shape['name']}: _known is not the core's list"


def test_error_fields_are_the_core_error_fields() -> None:
    declared = [f["name"] for f in fields("PartlyError")]
    assert list(errors._FIELDS) == declared
    annotations = partly.PartlyError.__annotations__
    params = inspect.signature(partly.PartlyError.__init__).parameters
    for name in declared:
        assert name in annotations, f"PartlyError lacks the annotation of {name}"
        assert name in params, f"PartlyError() does not take {name}="


def test_an_error_from_the_core_carries_every_field() -> None:
    with MockServer() as mock:
        try:
            mock.client().jobs.get(external="NO-SUCH-JOB")
        except partly.NotFoundError as e:
            err = e
    for f in fields("PartlyError"):
        assert hasattr(err, f["name"]), f["name"]
    assert err.retryable is False and err.detail and err.status == 404


def test_a_job_with_every_field_keeps_none_in_extra() -> None:
    with MockServer() as mock:
        job = mock.client().jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert set(job.to_dict()) >= {f["name"] for f in fields("Job") if f["name"] != "vehicle"}
    assert job.extra == {}


def test_the_bulk_preload_gives_the_core_fields_with_their_types() -> None:
    progress: List[partly.PrepareProgress] = []
    batches: List[partly.PrepareBatch] = []
    with MockServer() as mock:
        mock.inject_fault(method="tier1.prepare", times=1, status=400)
        report = mock.client().tier1.prepare_all(
            (v for v in ["JH4KA7561PC000001", "JH4KA7561PC000002", None, "JH4KA7561PC000003", "JH4KA7561PC000004"]),
            batch_size=2,
            max_concurrency=1,
            max_retries=0,
            on_progress=progress.append,
            on_batch=batches.append,
        )
    assert progress and batches
    last = progress[-1]
    assert [f.name for f in dataclasses.fields(last)] == [f["name"] for f in fields("PrepareProgress")]
    assert last.total is None, "a generator's total is unknown: None, not absent"
    assert isinstance(last.elapsed_ms, float) and last.elapsed_ms > 0
    assert isinstance(last.read, int) and last.read == 5
    assert {b.error is None for b in batches} == {True, False}
    failed = [b for b in batches if b.error is not None][0]
    assert isinstance(failed.error, partly.BadRequestError) and failed.indices and failed.throttled == 0
    assert list(failed.to_dict()) == [f["name"] for f in fields("PrepareBatch")]
    assert list(report.to_dict()) == [f["name"] for f in fields("PrepareReport")]
    assert isinstance(report.elapsed_ms, float) and report.elapsed_ms > 0
    assert report.failed == 3 and report.accepted == 2 and not report.ok
    bad = [f for f in report.failures() if f.identifier is None]
    assert len(bad) == 1 and bad[0].given == "None" and isinstance(bad[0].error, partly.ValidationError)
    sent = [f for f in report.failures() if f.identifier is not None]
    assert len(sent) == 2 and sent[0].error is sent[1].error, "one error object per failed request"


def _public_methods(cls: type) -> Dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_the_async_client_takes_what_the_blocking_client_takes() -> None:
    """`Client` and `AsyncClient` (and each namespace) spell every method twice, once blocking and
    once awaitable, as typed SDKs do so that editors and mypy see real signatures: the twins must
    not drift. Same methods, same parameters (names, kinds, defaults)."""
    from partly import _client

    pairs = [(_client.Client, _client.AsyncClient)]
    pairs += [(getattr(_client, n), getattr(_client, f"Async{n}")) for n in ("Jobs", "Tier1", "Integrations")]
    for blocking, awaitable in pairs:
        sync_methods, async_methods = _public_methods(blocking), _public_methods(awaitable)
        assert sorted(sync_methods) == sorted(async_methods), f"{blocking.__name__} vs {awaitable.__name__}"
        for name, sig in sync_methods.items():
            theirs = async_methods[name]
            mine = [(p.name, p.kind, p.default) for p in sig.parameters.values()]
            other = [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
            assert mine == other, f"{blocking.__name__}.{name}{sig} vs {awaitable.__name__}.{name}{theirs}"
        assert sync_methods, blocking
