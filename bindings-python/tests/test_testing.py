"""partly.testing.MockServer used the way a user tests their own integration."""

from __future__ import annotations

import asyncio
import json

import partly
import pytest
from partly.testing import (
    DEMO_API_KEY,
    DEMO_CLIENT_SECRET,
    DEMO_INTEGRATION_ID,
    DEMO_JOB_EXTERNAL_ID,
    DEMO_JOB_ID,
    DEMO_SITE_ID,
    MockServer,
)


def sync_my_job(client: partly.Client, reference: str) -> str:
    """The user's own code under test."""
    try:
        return client.jobs.get(external=reference).status.type
    except partly.NotFoundError:
        job = client.jobs.insert(external=reference, data={"repairer_site_id": DEMO_SITE_ID})
        return "created:" + job.status.type


def test_a_user_test_with_the_mock() -> None:
    with MockServer() as mock:
        assert mock.url.startswith("http://127.0.0.1:")
        client = mock.client()
        assert sync_my_job(client, DEMO_JOB_EXTERNAL_ID) == "draft"
        assert sync_my_job(client, "MY-NEW-JOB") == "created:draft"
        assert [r.method for r in mock.requests()] == ["jobs.get", "jobs.get", "jobs.insert"]
        assert mock.requests("jobs.insert")[0].json()["identity"] == {"external": "MY-NEW-JOB"}
        # A flaky server: the SDK retries for the user's code.
        mock.inject_fault(method="jobs.get", status=503, headers={"retry-after": "0"})
        assert sync_my_job(client, DEMO_JOB_EXTERNAL_ID) == "draft"

        # And the same from async code.
        async def main() -> str:
            async with mock.async_client() as ac:
                return (await ac.jobs.get(external="MY-NEW-JOB")).external_id or ""

        assert asyncio.run(main()) == "MY-NEW-JOB"
    assert mock.closed
    with pytest.raises(partly.ConnectionError):
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=0)


def test_each_mock_is_its_own_server() -> None:
    with MockServer() as a, MockServer() as b:
        assert a.url != b.url
        a.client().jobs.insert(external="ONLY-IN-A", data={"repairer_site_id": DEMO_SITE_ID})
        with pytest.raises(partly.NotFoundError):
            b.client().jobs.get(external="ONLY-IN-A")
        assert len(b.requests()) == 1


def test_demo_credentials_and_clients(mock: MockServer) -> None:
    c = mock.client()
    assert c.base_url == mock.url and c.integration_id == DEMO_INTEGRATION_ID
    assert DEMO_API_KEY not in repr(c)
    assert c.jobs.get(id=DEMO_JOB_ID).external_id == DEMO_JOB_EXTERNAL_ID
    anon = mock.client(api_key=None, integration_id=None)
    with pytest.raises(partly.ValidationError, match="needs an API key"):
        anon.jobs.get(id=DEMO_JOB_ID)
    tight = mock.client(timeout=0.2, max_retries=0)
    assert (tight.timeout, tight.max_retries) == (0.2, 0)
    assert isinstance(mock.async_client(), partly.AsyncClient)


def test_mint_access_code(mock: MockServer) -> None:
    code = mock.mint_access_code()
    assert code.client_secret == DEMO_CLIENT_SECRET and code.expires_in_secs == 900
    assert code.access_code not in repr(code) and DEMO_CLIENT_SECRET not in repr(code)
    expired = mock.mint_access_code(expires_in=0)
    with pytest.raises(partly.BadRequestError) as info:
        mock.client().integrations.insert(
            access_code=expired.access_code, client_id=expired.client_id, client_secret=expired.client_secret
        )
    assert info.value.code == "invalid_access_code" and "expired" in str(info.value)


def test_inject_fault_forms(mock: MockServer, client: partly.Client) -> None:
    mock.inject_fault(
        method="jobs.get", status=404, body='{"type":"not_found"}', headers={"content-type": "application/json"}
    )
    with pytest.raises(partly.NotFoundError):
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    mock.inject_fault({"method": "jobs.get", "times": 2, "status": 500, "headers": {"retry-after": "0"}})
    with pytest.raises(partly.ServerError):
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=1)
    mock.inject_fault({"method": "*", "action": "drop"})
    with pytest.raises(partly.ConnectionError):
        client.call("businesses.list", max_retries=0)
    mock.inject_fault(method="jobs.get", status=500, times=5)
    mock.clear_faults()
    assert client.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id == DEMO_JOB_ID


def test_invalid_faults_are_validation_errors(mock: MockServer) -> None:
    with pytest.raises(partly.ValidationError, match="fault"):
        mock.inject_fault({"method": "jobs.get", "statuss": 500})
    with pytest.raises(partly.ValidationError, match="fault"):
        mock.inject_fault(method="jobs.get", action="explode")  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="fault"):
        mock.inject_fault(status=500)


def test_requests_log_and_reset(mock: MockServer, client: partly.Client) -> None:
    client.jobs.insert(external="R-1", data={"repairer_site_id": DEMO_SITE_ID})
    client.tier1.prepare(["V1", "V2"])
    log = mock.requests()
    assert [r.method for r in log] == ["jobs.insert", "tier1.prepare"]
    assert [r.seq for r in log] == sorted(r.seq for r in log)
    first = log[0]
    assert first.path == "/api/2026-01/jobs.insert" and first.http_method == "POST" and first.status == 200
    assert not first.fault and first.headers["traceparent"].startswith("00-")
    assert json.loads(first.body)["identity"] == {"external": "R-1"}
    assert mock.prepared_identifiers() == 2
    assert DEMO_API_KEY not in repr(first)
    mock.reset()
    assert mock.requests() == [] and mock.prepared_identifiers() == 0
    with pytest.raises(partly.NotFoundError):
        client.jobs.get(external="R-1")


def test_close_is_idempotent_and_final() -> None:
    mock = MockServer()
    url = mock.url
    mock.close()
    mock.close()
    assert "closed" in repr(mock)
    with pytest.raises(partly.ValidationError, match="closed"):
        mock.requests()
    with pytest.raises(partly.ConnectionError):
        partly.Client(base_url=url, api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID).jobs.get(
            id=DEMO_JOB_ID, max_retries=0
        )


def test_latency(client: partly.Client) -> None:
    import time

    with MockServer(latency=0.2) as slow:
        started = time.monotonic()
        slow.client().jobs.get(id=DEMO_JOB_ID)
        assert time.monotonic() - started >= 0.2
