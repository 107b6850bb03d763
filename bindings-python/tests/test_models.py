"""Result objects: attributes with types, repr, equality, to_dict() losslessness, pickling."""

from __future__ import annotations

import decimal
import json
import pickle

import partly
import pytest
from partly.testing import DEMO_JOB_EXTERNAL_ID, DEMO_JOB_ID, DEMO_SITE_ID, MockServer

FUTURE_JOB = {
    "id": DEMO_JOB_ID,
    "site_id": DEMO_SITE_ID,
    "status": {"type": "awaiting_parts", "eta": "2026-12-01"},
    "images": ["https://img.example/1.jpg"],
    "claim_number": None,
    "external_id": "EXT-1",
    "vehicle": {"make": "Toyota", "year": 2019},
    "brand_new_field": {"x": [1, 2.5, None, True]},
}


def test_job_from_the_server_keeps_everything(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(
        method="jobs.get", status=200, body=json.dumps(FUTURE_JOB), headers={"content-type": "application/json"}
    )
    job = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert job.status.type == "awaiting_parts" and not job.status.is_draft
    assert job.status.extra == {"eta": "2026-12-01"}
    assert job.extra == {"brand_new_field": {"x": [1, 2.5, None, True]}}
    assert job.images == ["https://img.example/1.jpg"]
    assert job.claim_number is None and job.job_number is None and job.work_provider_id is None
    assert job.vehicle == {"make": "Toyota", "year": 2019}
    d = job.to_dict()
    for key, value in FUTURE_JOB.items():
        assert d[key] == value, key
    assert list(d)[:3] == ["id", "site_id", "status"]
    d["status"]["type"] = "changed"
    assert job.status.type == "awaiting_parts", "to_dict() is a copy"
    assert "brand_new_field" in repr(job) and "awaiting_parts" in repr(job)


def test_job_equality_and_pickle(client: partly.Client) -> None:
    a = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    b = client.jobs.get(id=DEMO_JOB_ID)
    assert a == b
    assert not (a != b)  # noqa: SIM202 (__ne__ is what is tested)
    assert a != partly.Job({**a.to_dict(), "claim_number": "other"})
    assert a != a.to_dict(), "a model is not equal to a dict"
    assert pickle.loads(pickle.dumps(a)) == a
    assert repr(a).startswith(f"Job(id='{DEMO_JOB_ID}', site_id='{DEMO_SITE_ID}', status=JobStatus(type='draft')")
    assert a.status == partly.JobStatus({"type": "draft"})


def test_numbers_no_float_holds_are_kept_exactly_and_sent_back(client: partly.Client, mock: MockServer) -> None:
    # What the server wrote, as text: JSON numbers beyond a float's range or precision.
    body = json.dumps({**FUTURE_JOB, "brand_new_field": None})[:-1] + (
        ', "huge": 1e400, "big": 123456789012345678901234567890, "pi": 3.14159265358979323846264338327950288,'
        ' "small": 0.1, "count": 7}'
    )
    mock.inject_fault(method="jobs.get", status=200, body=body, headers={"content-type": "application/json"})
    job = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert job.extra["big"] == 123456789012345678901234567890 and type(job.extra["big"]) is int
    assert job.extra["huge"] == decimal.Decimal("1e400") and isinstance(job.extra["huge"], decimal.Decimal)
    assert job.extra["pi"] == decimal.Decimal("3.14159265358979323846264338327950288")
    # Numbers a float holds stay floats and ints.
    assert type(job.extra["small"]) is float and job.extra["small"] == 0.1
    assert type(job.extra["count"]) is int
    # Sent back (an upsert carrying them in the vehicle), they arrive and return unchanged.
    vehicle = {"odometer": 2**70, "ratio": job.extra["pi"], "limit": job.extra["huge"], "make": "Toyota"}
    back = client.jobs.insert(external="NUM-1", data={"repairer_site_id": DEMO_SITE_ID, "vehicle": vehicle})
    assert back.vehicle == vehicle
    (sent,) = mock.requests("jobs.insert")
    assert '"odometer":1180591620717411303424' in sent.body and "3.14159265358979323846264338327950288" in sent.body
    # A Decimal that is not a number is refused before anything is sent.
    not_a_number = {"x": decimal.Decimal("NaN")}
    with pytest.raises(partly.ValidationError) as caught:
        client.jobs.insert(external="NUM-2", data={"repairer_site_id": DEMO_SITE_ID, "vehicle": not_a_number})
    assert "vehicle" in str(caught.value) and "NaN" in str(caught.value), caught.value
    assert len(mock.requests("jobs.insert")) == 1


def test_install_result_hides_the_key(mock: MockServer) -> None:
    code = mock.mint_access_code()
    result = partly.Client(base_url=mock.url).integrations.insert(
        access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
    )
    assert result.api_key not in repr(result) and result.api_key not in str(result)
    assert result.integration_id in repr(result)
    assert result.to_dict()["api_key"] == result.api_key
    assert pickle.loads(pickle.dumps(result)) == result


def test_prepare_models() -> None:
    fields = dict(total=3, read=3, done=1, accepted=1, failed=0, skipped=0, in_flight=2, concurrency=8)
    p = partly.PrepareProgress(**fields, rate=None, throttled=0, requests=1, elapsed_ms=500.0)
    assert p == partly.PrepareProgress(3, 3, 1, 1, 0, 0, 2, 8, None, 0, 1, 500.0)
    assert "done=1" in repr(p)
    err = partly.ServerError("tier1.prepare: HTTP 503", status=503, attempts=3)
    totals = dict(ok=False, total=2, accepted=1, failed=1, skipped=0, duplicates_possible=0, throttled=0)
    more = dict(requests=2, elapsed_ms=100.0, deadline_reached=False, concurrency=8)
    failures = [{"index": 1, "identifier": {"chassis_number": "B"}, "given": None, "error": err}]
    report = partly.PrepareReport({**totals, **more, "failures": failures})
    assert not report.ok
    assert report.failures() == [partly.PrepareFailure(1, {"chassis_number": "B"}, None, err)]
    assert report.to_dict()["failures"][0]["error"] == {
        "error": "ServerError",
        "message": "tier1.prepare: HTTP 503",
        "status": 503,
        "code": None,
        "attempts": 3,
    }
    assert "failed=1" in repr(report)
    assert partly.PrepareResult({}).to_dict() == {}
    assert partly.PrepareResult({"queued": 2}).extra == {"queued": 2}
