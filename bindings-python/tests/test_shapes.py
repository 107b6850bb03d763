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
}
# Properties that are helpers, not fields of the wire object.
HELPERS = {"extra", "is_draft"}


def fields(name: str) -> List[Dict[str, Any]]:
    (shape,) = [s for s in SHAPES if s["name"] == name]
    return list(shape["fields"])


def test_the_core_declares_the_shapes() -> None:
    names = [s["name"] for s in SHAPES]
    assert {"Job", "JobStatus", "InstallResult", "PartlyError", "ResponseInfo"} <= set(names)
    assert len(names) == len(set(names))


def test_every_model_shape_is_a_class_with_one_typed_property_per_field() -> None:
    for shape in SHAPES:
        if shape["name"] == "PartlyError":
            continue
        cls: Any = getattr(partly, shape["name"], None)
        assert inspect.isclass(cls), f"the core declares {shape['name']}; partly has no such class"
        declared = [f["name"] for f in shape["fields"]]
        if dataclasses.is_dataclass(cls):  # an SDK-made record (ResponseInfo): its fields
            annotations = {f.name: f.type for f in dataclasses.fields(cls)}
            assert list(annotations) == declared, f"{shape['name']}: fields {list(annotations)} vs {declared}"
            for f in shape["fields"]:
                want = PY_TYPES[f["ty"]] if f["name"] != "elapsed_ms" else "float"
                assert annotations[f["name"]] == want, f"{shape['name']}.{f['name']}: {annotations[f['name']]}"
            continue
        props = {n for n, v in vars(cls).items() if isinstance(v, property)} - HELPERS
        assert props == set(declared), f"{shape['name']}: properties {sorted(props)} vs the core's {declared}"
        for f in shape["fields"]:
            prop = vars(cls)[f["name"]]
            annotation = prop.fget.__annotations__["return"]
            assert annotation == PY_TYPES[f["ty"]], f"{shape['name']}.{f['name']}: {annotation} vs {f['ty']}"
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
