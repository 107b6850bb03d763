"""Every method, blocking and asyncio, with the arguments a user passes and what the server
received; settings from arguments and the environment; argument mistakes."""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from typing import Any, Dict, List

import partly
import pytest
from partly.testing import (
    DEMO_API_KEY,
    DEMO_INTEGRATION_ID,
    DEMO_JOB_EXTERNAL_ID,
    DEMO_JOB_ID,
    DEMO_SITE_ID,
    MockServer,
)

# ---------------------------------------------------------------------------------------------
# jobs.get
# ---------------------------------------------------------------------------------------------


def check_seeded_job(job: partly.Job) -> None:
    assert isinstance(job, partly.Job)
    assert job.id == DEMO_JOB_ID
    assert job.site_id == DEMO_SITE_ID
    assert job.external_id == DEMO_JOB_EXTERNAL_ID
    assert job.status.type == "draft" and job.status.is_draft
    assert isinstance(job.images, list) and all(isinstance(i, str) for i in job.images)
    assert job.claim_number is not None


@pytest.mark.parametrize(
    "identity",
    [{"external": DEMO_JOB_EXTERNAL_ID}, {"id": DEMO_JOB_ID}, {"id": uuid.UUID(DEMO_JOB_ID)}],
    ids=["external", "id-str", "id-uuid"],
)
def test_jobs_get(client: partly.Client, mock: MockServer, identity: Dict[str, Any]) -> None:
    check_seeded_job(client.jobs.get(**identity))
    (req,) = mock.requests("jobs.get")
    wire = {k: str(v) for k, v in identity.items()}
    assert req.json() == {"identity": wire}
    assert req.headers["authorization"] == f"Bearer {DEMO_API_KEY}"
    assert req.headers["partly-integration-id"] == DEMO_INTEGRATION_ID
    assert req.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "identity",
    [{"external": DEMO_JOB_EXTERNAL_ID}, {"id": DEMO_JOB_ID}, {"id": uuid.UUID(DEMO_JOB_ID)}],
    ids=["external", "id-str", "id-uuid"],
)
def test_jobs_get_async(aclient: partly.AsyncClient, identity: Dict[str, Any]) -> None:
    check_seeded_job(asyncio.run(aclient.jobs.get(**identity)))


def test_jobs_get_identity_mistakes(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="say which job"):
        client.jobs.get()
    with pytest.raises(partly.ValidationError, match="not both"):
        client.jobs.get(id=DEMO_JOB_ID, external="x")
    with pytest.raises(partly.ValidationError, match="not a UUID"):
        client.jobs.get(id="not-a-uuid")
    with pytest.raises(partly.ValidationError, match="id must be a str or uuid.UUID, got int"):
        client.jobs.get(id=5)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="external must be a str"):
        client.jobs.get(external=b"x")  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="external is empty"):
        client.jobs.get(external="  ")
    with pytest.raises(ValueError, match="say which job"):  # ValidationError is also a ValueError
        client.jobs.get()
    assert mock.requests() == [], "nothing is sent for bad input"


def test_jobs_get_async_identity_mistake(aclient: partly.AsyncClient) -> None:
    with pytest.raises(partly.ValidationError, match="say which job"):
        asyncio.run(aclient.jobs.get())


# ---------------------------------------------------------------------------------------------
# jobs.insert
# ---------------------------------------------------------------------------------------------


def test_jobs_insert_creates_updates_replaces(client: partly.Client, mock: MockServer) -> None:
    site = uuid.UUID(DEMO_SITE_ID)
    created = client.jobs.insert(
        external="NEW-1",
        data={"repairer_site_id": site, "claim_number": "C-1", "vehicle": {"plate": "ABC123", "year": 2019}},
    )
    assert created.external_id == "NEW-1"
    assert created.claim_number == "C-1"
    assert created.site_id == DEMO_SITE_ID
    assert created.vehicle == {"plate": "ABC123", "year": 2019}
    sent = mock.requests("jobs.insert")[0].json()
    assert sent == {
        "data": {"repairer_site_id": DEMO_SITE_ID, "claim_number": "C-1", "vehicle": {"plate": "ABC123", "year": 2019}},
        "identity": {"external": "NEW-1"},
        "if_": {"exists": "update"},
    }

    updated = client.jobs.insert(external="NEW-1", data={"repairer_site_id": DEMO_SITE_ID, "job_number": "J-9"})
    assert updated.id == created.id
    assert updated.job_number == "J-9"
    assert updated.claim_number == "C-1", "update merges"

    replaced = client.jobs.insert(
        id=created.id, data={"repairer_site_id": DEMO_SITE_ID, "job_number": "J-10"}, if_exists="replace"
    )
    assert replaced.id == created.id
    assert mock.requests("jobs.insert")[-1].json()["if_"] == {"exists": "replace"}
    assert mock.requests("jobs.insert")[-1].json()["identity"] == {"id": created.id}
    assert client.jobs.get(id=created.id) == replaced


def test_jobs_insert_async(aclient: partly.AsyncClient) -> None:
    async def main() -> None:
        job = await aclient.jobs.insert(
            external="ASYNC-1", data={"repairer_site_id": DEMO_SITE_ID, "claim_number": "A"}
        )
        assert job.external_id == "ASYNC-1" and job.claim_number == "A"
        again = await aclient.jobs.get(external="ASYNC-1")
        assert again == job

    asyncio.run(main())


def test_jobs_insert_mistakes(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="repairer_site_id is required"):
        client.jobs.insert(external="X", data={"claim_number": "C"})
    with pytest.raises(partly.ValidationError, match="if_exists"):
        client.jobs.insert(external="X", data={"repairer_site_id": DEMO_SITE_ID}, if_exists="merge")  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="job data must be an object"):
        client.jobs.insert(external="X", data=["nope"])  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match=r"data\[\"vehicle\"\]\[\"x\"\]: a set cannot be sent as JSON"):
        client.jobs.insert(external="X", data={"repairer_site_id": DEMO_SITE_ID, "vehicle": {"x": {1}}})
    with pytest.raises(partly.ValidationError, match="not a finite number"):
        client.jobs.insert(external="X", data={"repairer_site_id": DEMO_SITE_ID, "vehicle": {"x": math.nan}})
    cyclic: Dict[str, Any] = {"repairer_site_id": DEMO_SITE_ID}
    cyclic["self"] = cyclic
    with pytest.raises(partly.ValidationError, match="nested more than"):
        client.jobs.insert(external="X", data=cyclic)
    assert mock.requests() == []


# ---------------------------------------------------------------------------------------------
# tier1.prepare / prepare_all
# ---------------------------------------------------------------------------------------------

MIXED: List[partly.VehicleIdentifier] = [
    "JH4KA7561PC008269",
    {"plate": "ABC123", "region": "NZ"},
    {"plate": "XYZ9"},
    {"chassis_number": "KE20-123456"},
]
MIXED_WIRE = [
    {"chassis_number": "JH4KA7561PC008269"},
    {"plate": "ABC123", "region": "NZ"},
    {"plate": "XYZ9"},
    {"chassis_number": "KE20-123456"},
]


def test_tier1_prepare_passes_other_objects_through(client: partly.Client, mock: MockServer) -> None:
    # Any other object is sent as it is (the plate form is a guess of ours); the mock, like the
    # server would, answers with what it thinks of it.
    with pytest.raises(partly.BadRequestError) as info:
        client.tier1.prepare([{"vrm": "AB12CDE", "country": "GB"}])
    assert info.value.code == "invalid_identifier"
    assert mock.requests("tier1.prepare")[0].json() == {"identifiers": [{"vrm": "AB12CDE", "country": "GB"}]}


def test_tier1_prepare(client: partly.Client, mock: MockServer) -> None:
    result = client.tier1.prepare(MIXED)
    assert isinstance(result, partly.PrepareResult)
    assert result.to_dict() == {}
    assert mock.requests("tier1.prepare")[0].json() == {"identifiers": MIXED_WIRE}
    assert mock.prepared_identifiers() == len(MIXED)
    client.tier1.prepare(tuple(MIXED))


def test_tier1_prepare_async(aclient: partly.AsyncClient, mock: MockServer) -> None:
    assert asyncio.run(aclient.tier1.prepare(MIXED)).to_dict() == {}
    assert mock.requests("tier1.prepare")[0].json() == {"identifiers": MIXED_WIRE}


def test_tier1_prepare_mistakes(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="identifiers must be a list.*give a list of one"):
        client.tier1.prepare("JH4KA7561PC008269")
    with pytest.raises(partly.ValidationError, match=r"identifiers\[1\]"):
        client.tier1.prepare(["JH4KA7561PC008269", 42])  # type: ignore[list-item]
    with pytest.raises(partly.ValidationError, match="1 to 100"):
        client.tier1.prepare([])
    with pytest.raises(partly.ValidationError, match="got 101"):
        client.tier1.prepare(["V"] * 101)
    assert mock.requests() == []


def test_prepare_all_batches_progress_and_report(client: partly.Client, mock: MockServer) -> None:
    ids = [f"VIN{i:04}" for i in range(250)]
    seen: List[partly.PrepareProgress] = []
    batches: List[partly.PrepareBatch] = []
    caller = threading.get_ident()
    threads = set()

    def on_progress(p: partly.PrepareProgress) -> None:
        threads.add(threading.get_ident())
        seen.append(p)

    report = client.tier1.prepare_all(
        ids, batch_size=100, max_concurrency=2, on_progress=on_progress, on_batch=batches.append
    )
    assert report.ok and report.total == 250 and report.accepted == 250 and report.failed == 0
    assert report.requests == 3 and report.failures() == []
    assert sorted(len(b.identifiers) for b in batches) == [50, 100, 100]
    assert sorted(b.indices[0] for b in batches) == [0, 100, 200]
    first = next(b for b in batches if b.indices[0] == 0)
    assert first.identifiers[0] == {"chassis_number": "VIN0000"} and first.ok
    assert len(seen) == 4 and seen[-1].done == 250 and seen[-1].requests == 3 and seen[0].total == 250
    assert [p.done for p in seen] == sorted(p.done for p in seen), "progress never goes backwards"
    assert threads == {caller}, "on_progress runs on the calling thread"
    assert mock.prepared_identifiers() == 250
    assert len(mock.requests("tier1.prepare")) == 3


def test_prepare_all_records_failed_batches(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(
        method="tier1.prepare",
        times=1,
        status=400,
        body='{"type":"bad_vin"}',
        headers={"content-type": "application/json"},
    )
    report = client.tier1.prepare_all([f"V{i}" for i in range(30)], batch_size=10, max_concurrency=1)
    assert not report.ok
    assert report.failed == 10 and report.accepted == 20
    failures = report.failures()
    assert [f.index for f in failures] == list(range(10))
    assert all(isinstance(f.error, partly.BadRequestError) and f.error.code == "bad_vin" for f in failures)
    assert failures[0].identifier == {"chassis_number": "V0"} and failures[0].given is None
    assert failures[0].error is failures[9].error, "one error object per failed request"
    assert report.to_dict()["failures"][0]["error"]["error"] == "BadRequestError"


def test_prepare_all_callback_exception_stops_the_run(client: partly.Client) -> None:
    class Stop(Exception):
        pass

    def on_progress(p: partly.PrepareProgress) -> None:
        raise Stop()

    with pytest.raises(Stop):
        client.tier1.prepare_all(["A", "B", "C"], batch_size=1, max_concurrency=1, on_progress=on_progress)


def test_prepare_all_mistakes(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="batch_size must be 1 to 100"):
        client.tier1.prepare_all(["A"], batch_size=0)
    with pytest.raises(partly.ValidationError, match="batch_size must be 1 to 100"):
        client.tier1.prepare_all(["A"], batch_size=101)
    with pytest.raises(partly.ValidationError, match="max_concurrency must be at least 1"):
        client.tier1.prepare_all(["A"], max_concurrency=0)
    with pytest.raises(partly.ValidationError, match="max_rate must be a positive number"):
        client.tier1.prepare_all(["A"], max_rate=0)
    with pytest.raises(partly.ValidationError, match="on_progress must be callable"):
        client.tier1.prepare_all(["A"], on_progress=5)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="identifiers must be an iterable"):
        client.tier1.prepare_all(5)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="give a list of one"):
        client.tier1.prepare_all("JH4KA7561PC008269")
    assert mock.requests() == []
    # A bad identifier is reported at its index; the others are sent.
    report = client.tier1.prepare_all(["A", ""])
    assert (report.accepted, report.failed) == (1, 1)
    assert report.failures()[0].index == 1
    assert "identifiers[1]: chassis_number is empty" in str(report.failures()[0].error)


def test_prepare_all_async_progress_on_the_loop(aclient: partly.AsyncClient, mock: MockServer) -> None:
    async def main() -> None:
        loop_thread = threading.get_ident()
        seen: List[partly.PrepareProgress] = []
        threads = set()

        def on_progress(p: partly.PrepareProgress) -> None:
            threads.add(threading.get_ident())
            seen.append(p)

        report = await aclient.tier1.prepare_all([f"V{i}" for i in range(45)], batch_size=10, on_progress=on_progress)
        assert report.ok and report.accepted == 45 and report.requests == 5
        assert len(seen) == 6 and max(p.done for p in seen) == 45, "every progress delivered before the result"
        assert threads == {loop_thread}

    asyncio.run(main())
    assert mock.prepared_identifiers() == 45


# ---------------------------------------------------------------------------------------------
# integrations.insert
# ---------------------------------------------------------------------------------------------


def test_integrations_insert_then_use_the_key(mock: MockServer) -> None:
    code = mock.mint_access_code()
    with partly.Client(base_url=mock.url) as anonymous:
        result = anonymous.integrations.insert(
            access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
        )
    assert isinstance(result, partly.InstallResult)
    assert result.api_key and uuid.UUID(result.integration_id)
    (req,) = mock.requests("integrations.insert")
    assert "authorization" not in req.headers, "integrations.insert is not authenticated"
    assert req.json() == {
        "access_code": code.access_code,
        "client_id": code.client_id,
        "client_secret": code.client_secret,
    }
    with partly.Client(base_url=mock.url, api_key=result.api_key, integration_id=result.integration_id) as c:
        assert c.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id == DEMO_JOB_ID
    with pytest.raises(partly.BadRequestError):  # single use
        partly.Client(base_url=mock.url).integrations.insert(
            access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
        )


def test_integrations_insert_async(mock: MockServer) -> None:
    code = mock.mint_access_code()

    async def main() -> partly.InstallResult:
        async with partly.AsyncClient(base_url=mock.url) as c:
            return await c.integrations.insert(
                access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
            )

    assert uuid.UUID(asyncio.run(main()).integration_id)


def test_integrations_insert_mistakes(mock: MockServer) -> None:
    c = partly.Client(base_url=mock.url)
    with pytest.raises(partly.ValidationError, match="access_code is empty"):
        c.integrations.insert(access_code="", client_id="c", client_secret="s")
    with pytest.raises(partly.ValidationError, match="client_secret must be a str, got int"):
        c.integrations.insert(access_code="a", client_id="c", client_secret=123)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="client_id is required"):
        c.integrations.insert(access_code="a", client_id=None, client_secret="s")  # type: ignore[arg-type]
    assert mock.requests() == []


# ---------------------------------------------------------------------------------------------
# call
# ---------------------------------------------------------------------------------------------


def test_call_generic_method(client: partly.Client, mock: MockServer) -> None:
    answer = client.call("businesses.list", {})
    assert isinstance(answer["items"], list) and answer["items"][0]["name"]
    assert client.call("businesses.list") == answer, "no body means {}"
    assert mock.requests("businesses.list")[0].headers["authorization"].startswith("Bearer ")
    job = client.call("jobs.get", {"identity": {"external": DEMO_JOB_EXTERNAL_ID}})
    assert job["id"] == DEMO_JOB_ID


def test_call_async(aclient: partly.AsyncClient) -> None:
    assert "items" in asyncio.run(aclient.call("businesses.list", {}))


def test_call_mistakes(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="not a method name"):
        client.call("jobs get")
    with pytest.raises(partly.ValidationError, match="the body must be a JSON object"):
        client.call("businesses.list", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="method must be a str"):
        client.call(b"jobs.get")  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="method is required"):
        client.call(None)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="idempotent must be True or False"):
        client.call("businesses.list", idempotent=1)  # type: ignore[arg-type]
    assert mock.requests() == []


def test_call_idempotent_retries_unknown_method(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(method="businesses.list", status=503, headers={"retry-after": "0"})
    with pytest.raises(partly.ServerError):
        client.call("businesses.list", {})
    assert len(mock.requests("businesses.list")) == 1, "an unknown method is not resent by default"
    mock.inject_fault(method="businesses.list", status=503, headers={"retry-after": "0"})
    assert "items" in client.call("businesses.list", {}, idempotent=True)
    assert len(mock.requests("businesses.list")) == 3


# ---------------------------------------------------------------------------------------------
# per-call options
# ---------------------------------------------------------------------------------------------


def test_per_call_timeout_and_retries(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(method="jobs.get", delay_ms=2000)
    started = time.monotonic()
    with pytest.raises(partly.TimeoutError) as info:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=0.2, max_retries=0)
    assert time.monotonic() - started < 1.5
    assert info.value.attempts == 1
    mock.inject_fault(method="jobs.get", status=503, times=3, headers={"retry-after": "0"})
    with pytest.raises(partly.ServerError) as info2:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=1)
    assert info2.value.attempts == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be greater than zero|must be a positive number"),
        (-1, "must be a positive number"),
        (math.nan, "must be a positive number"),
        (math.inf, "must be a positive number"),
        (10**6, "longer than a day"),
        ("5", "must be a number of seconds"),
        (True, "must be a number of seconds"),
    ],
)
def test_timeout_mistakes(client: partly.Client, mock: MockServer, value: Any, message: str) -> None:
    with pytest.raises(partly.ValidationError, match=message) as info:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=value)
    assert "timeout" in str(info.value)
    with pytest.raises(partly.ValidationError, match="timeout"):
        partly.Client(timeout=value)
    assert mock.requests() == []


@pytest.mark.parametrize("value", [-1, 1.5, "2", False, 2**40])
def test_max_retries_mistakes(client: partly.Client, value: Any) -> None:
    with pytest.raises(partly.ValidationError, match="max_retries"):
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=value)


# ---------------------------------------------------------------------------------------------
# settings, environment, lifecycle
# ---------------------------------------------------------------------------------------------


def test_settings_from_environment(mock: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTLY_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID)
    monkeypatch.setenv("PARTLY_BASE_URL", mock.url)
    with partly.Client() as c:
        assert c.base_url == mock.url
        assert c.integration_id == DEMO_INTEGRATION_ID
        assert c.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id == DEMO_JOB_ID
    with partly.Client(api_key="pk_other_key_123456") as c:
        with pytest.raises(partly.AuthenticationError):
            c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    monkeypatch.setenv("PARTLY_BASE_URL", "ftp://nope")
    with pytest.raises(partly.ValidationError, match="PARTLY_BASE_URL"):
        partly.Client()


def test_defaults_and_user_agent(mock: MockServer) -> None:
    c = partly.Client()
    assert c.base_url == partly.DEFAULT_BASE_URL == "https://api.partly.com"
    assert c.timeout == partly.DEFAULT_TIMEOUT == 30.0
    assert c.max_retries == partly.DEFAULT_MAX_RETRIES == 2
    assert c.integration_id is None
    c2 = partly.Client(timeout=None, max_retries=None)
    assert (c2.timeout, c2.max_retries) == (30.0, 2), "None means the default, never 'wait forever'"
    import platform

    with mock.client() as mc:
        expected = (
            f"partly-python/{partly.__version__} ({platform.python_implementation()} {platform.python_version()};"
        )
        assert mc.user_agent.startswith(expected)
        mc.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        assert mock.requests()[0].headers["user-agent"] == mc.user_agent


def test_client_setting_mistakes() -> None:
    with pytest.raises(partly.ValidationError, match="integration_id .* is not a UUID"):
        partly.Client(integration_id="nope")
    with pytest.raises(partly.ValidationError, match="clear text"):
        partly.Client(base_url="http://api.example.com")
    assert (
        partly.Client(base_url="http://api.example.com", allow_insecure_http=True).base_url == "http://api.example.com"
    )
    with pytest.raises(partly.ValidationError, match="api_key must be a str, got int"):
        partly.Client(api_key=12345)  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="allow_insecure_http must be True or False"):
        partly.Client(allow_insecure_http="yes")  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="api_key contains whitespace"):
        partly.Client(api_key="pk with space")
    c = partly.Client(integration_id=uuid.UUID(DEMO_INTEGRATION_ID))
    assert c.integration_id == DEMO_INTEGRATION_ID


def test_close_and_context_managers(mock: MockServer) -> None:
    with mock.client() as c:
        c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert c.closed
    assert repr(c) == "Client(closed)"
    with pytest.raises(partly.ValidationError, match="closed"):
        c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    c.close()  # twice is fine

    async def main() -> partly.AsyncClient:
        async with mock.async_client() as ac:
            await ac.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        with pytest.raises(partly.ValidationError, match="closed"):
            await ac.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        return ac

    assert asyncio.run(main()).closed


def test_blocking_call_releases_the_gil(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(method="jobs.get", delay_ms=400)
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        before = ticks
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        during = ticks - before
    finally:
        stop.set()
        t.join()
    assert during > 10_000, f"another Python thread ran only {during} iterations during a 400 ms call"


def test_close_lets_calls_in_flight_finish(mock: MockServer) -> None:
    """The rule of every language: close() refuses new calls at once, calls in flight finish."""
    mock.inject_fault(method="jobs.get", times=3, delay_ms=300)

    async def main() -> None:
        ac = mock.async_client()
        calls = [asyncio.ensure_future(ac.jobs.get(external=DEMO_JOB_EXTERNAL_ID)) for _ in range(3)]
        while len(mock.requests("jobs.get")) < 3:
            await asyncio.sleep(0.01)
        await ac.close()
        assert ac.closed
        with pytest.raises(partly.ValidationError, match="closed"):
            await ac.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        jobs = await asyncio.gather(*calls)
        assert [j.external_id for j in jobs] == [DEMO_JOB_EXTERNAL_ID] * 3

    asyncio.run(main())
    assert len(mock.requests("jobs.get")) == 3, "nothing sent after close"


def test_with_response_info_tells_status_request_id_trace_id_attempts_and_elapsed(mock: MockServer) -> None:
    client = mock.client()
    got = client.with_response_info.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert isinstance(got, partly.Response) and isinstance(got.value, partly.Job)
    assert got.value.external_id == DEMO_JOB_EXTERNAL_ID
    info = got.info
    assert (info.status, info.attempts) == (200, 1)
    (sent,) = mock.requests("jobs.get")
    assert sent.headers["traceparent"].split("-")[1] == info.trace_id
    assert info.request_id and info.elapsed_ms > 0
    mock.inject_fault(method="tier1.prepare", times=1, status=503, headers={"retry-after": "0"})
    prepared = client.with_response_info.tier1.prepare(["JH4KA7561PC008269"])
    assert prepared.info.attempts == 2
    listed = client.with_response_info.call("businesses.list", {})
    assert "items" in listed.value and listed.info.status == 200

    async def main() -> partly.Response[partly.Job]:
        async with mock.async_client() as ac:
            return await ac.with_response_info.jobs.get(external=DEMO_JOB_EXTERNAL_ID)

    async_got = asyncio.run(main())
    assert async_got.value.external_id == DEMO_JOB_EXTERNAL_ID and async_got.info.attempts == 1
