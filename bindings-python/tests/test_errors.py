"""Every error class, raised by a real call, with its fields; the hierarchy and builtin bases;
pickling (also across a process pool); secrets absent from str and repr."""

from __future__ import annotations

import builtins
import multiprocessing
import pickle
import re
import socket
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Dict, List, Type

import partly
import pytest
from partly.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_JOB_EXTERNAL_ID, MockServer

ALL_CLASSES = [
    partly.PartlyError,
    partly.ValidationError,
    partly.ConnectionError,
    partly.TimeoutError,
    partly.DecodeError,
    partly.ApiError,
    partly.BadRequestError,
    partly.AuthenticationError,
    partly.PermissionDeniedError,
    partly.NotFoundError,
    partly.ConflictError,
    partly.RateLimitError,
    partly.ServerError,
]


def test_hierarchy() -> None:
    for cls in ALL_CLASSES:
        assert issubclass(cls, partly.PartlyError) and issubclass(cls, Exception)
        assert cls.__module__ == "partly.errors"
        assert cls.__doc__
    assert issubclass(partly.ValidationError, ValueError)
    assert issubclass(partly.ConnectionError, builtins.ConnectionError)
    assert issubclass(partly.TimeoutError, partly.ConnectionError)
    assert issubclass(partly.TimeoutError, builtins.TimeoutError)
    for cls in (
        partly.BadRequestError,
        partly.AuthenticationError,
        partly.PermissionDeniedError,
        partly.NotFoundError,
        partly.ConflictError,
        partly.RateLimitError,
        partly.ServerError,
    ):
        assert issubclass(cls, partly.ApiError)
    assert not issubclass(partly.DecodeError, partly.ApiError)
    assert partly.errors.__all__ == [c.__name__ for c in ALL_CLASSES]


def fault(status: int, body: str = "", **headers: str) -> Dict[str, Any]:
    return {"method": "jobs.get", "status": status, "body": body, "headers": headers}


JSON = {"content-type": "application/json"}

# (class, fault or None, what the error must carry)
SCENARIOS: Dict[str, Any] = {
    "BadRequestError": (fault(400, '{"type":"bad_request","message":"no"}', **JSON), 400, "bad_request"),
    "AuthenticationError": (fault(401, '{"type":"unauthorized"}', **JSON), 401, "unauthorized"),
    "PermissionDeniedError": (fault(403, '{"type":"forbidden"}', **JSON), 403, "forbidden"),
    "NotFoundError": (fault(404, '{"type":"not_found"}', **JSON), 404, "not_found"),
    "ConflictError": (fault(409, '"conflict"', **JSON), 409, "conflict"),
    "RateLimitError": (fault(429, '{"type":"rate_limited"}', **{"retry-after": "120", **JSON}), 429, "rate_limited"),
    "ServerError": (fault(500, '{"type":"internal","message":"boom"}', **JSON), 500, "internal"),
    "ApiError": (fault(418, "I'm a teapot"), 418, None),
    "DecodeError": (fault(200, "not json", **JSON), 200, None),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_api_and_decode_errors_carry_their_fields(name: str, client: partly.Client, mock: MockServer) -> None:
    spec, status, code = SCENARIOS[name]
    mock.inject_fault(spec)
    with pytest.raises(partly.PartlyError) as info:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=0)
    err = info.value
    assert type(err) is getattr(partly, name)
    assert err.status == status
    assert err.code == code
    assert err.method == "jobs.get"
    assert err.attempts == 1
    assert err.body == spec["body"]
    assert err.trace_id is not None and re.fullmatch(r"[0-9a-f]{32}", err.trace_id)
    assert err.message and err.message in str(err)
    assert str(err).startswith(f"jobs.get: HTTP {status}")
    if name == "RateLimitError":
        assert err.retry_after == 120.0
        assert "retry after 120" in str(err)
    else:
        assert err.retry_after is None
    if name == "ApiError":
        assert err.message == "I'm a teapot"


def test_request_id_from_the_server(client: partly.Client, mock: MockServer) -> None:
    with pytest.raises(partly.NotFoundError) as info:
        client.jobs.get(external="no-such-job")
    assert info.value.request_id and re.fullmatch(r"[0-9a-f]+", info.value.request_id)
    assert info.value.code == "not_found"


def test_validation_error_fields(client: partly.Client) -> None:
    with pytest.raises(partly.ValidationError) as info:
        client.tier1.prepare([])
    err = info.value
    assert err.attempts == 0 and err.status is None and err.code is None and err.body is None
    assert err.method == "tier1.prepare"
    assert isinstance(err, ValueError)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_error_fields() -> None:
    with partly.Client(
        base_url=f"http://127.0.0.1:{free_port()}",
        api_key="pk_x_1234",
        integration_id=partly.testing.DEMO_INTEGRATION_ID,
    ) as c:
        with pytest.raises(partly.ConnectionError) as info:
            c.jobs.get(external="x", max_retries=0)
    err = info.value
    assert type(err) is partly.ConnectionError
    assert isinstance(err, builtins.ConnectionError) and isinstance(err, OSError)
    assert err.status is None and err.attempts == 1 and err.method == "jobs.get"
    assert "could not connect" in str(err)


def test_timeout_error_fields(client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(method="jobs.get", delay_ms=2000)
    with pytest.raises(partly.TimeoutError) as info:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=0.1, max_retries=0)
    err = info.value
    assert isinstance(err, builtins.TimeoutError) and isinstance(err, partly.ConnectionError)
    assert err.attempts == 1 and err.method == "jobs.get" and "100 ms" in str(err)
    try:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=0.1, max_retries=0)
    except TimeoutError:  # the builtin catches it too
        pass


def roundtrip(err: partly.PartlyError) -> partly.PartlyError:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err) and repr(copy) == repr(err)
    for field in ("message", "method", "status", "code", "body", "attempts", "trace_id", "request_id", "retry_after"):
        assert getattr(copy, field) == getattr(err, field), field
    return copy


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_pickle_api_errors(name: str, client: partly.Client, mock: MockServer) -> None:
    mock.inject_fault(SCENARIOS[name][0])
    with pytest.raises(partly.PartlyError) as info:
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, max_retries=0)
    roundtrip(info.value)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_pickle_every_class(cls: Type[partly.PartlyError]) -> None:
    err = cls(
        "jobs.get: HTTP 503 unavailable",
        message="unavailable",
        method="jobs.get",
        status=503,
        code="unavailable",
        body="{}",
        attempts=3,
        trace_id="ab" * 16,
        request_id="r1",
        retry_after=1.5,
    )
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(copy) is cls and copy.retry_after == 1.5 and copy.attempts == 3 and str(copy) == str(err)


def failing_call(base_url: str) -> None:
    """Runs in a worker process: its NotFoundError must come back whole."""
    with partly.Client(
        base_url=base_url, api_key=partly.testing.DEMO_API_KEY, integration_id=partly.testing.DEMO_INTEGRATION_ID
    ) as c:
        c.jobs.get(external="missing-in-worker")


def test_errors_cross_a_process_pool(mock: MockServer) -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(failing_call, mock.url)
        with pytest.raises(partly.NotFoundError) as info:
            future.result(timeout=60)
    assert info.value.status == 404 and info.value.code == "not_found" and info.value.method == "jobs.get"


def test_secrets_absent_from_errors(mock: MockServer) -> None:
    bad_key = "pk_live_SECRET_9f8e7d6c5b4a"
    code = "ac_SECRET_code_0123456789"
    secret = "cs_SECRET_0123456789abcdef"
    errors: List[partly.PartlyError] = []
    with partly.Client(base_url=mock.url, api_key=bad_key, integration_id=partly.testing.DEMO_INTEGRATION_ID) as c:
        with pytest.raises(partly.AuthenticationError) as a:
            c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        errors.append(a.value)
        # The server echoes the key back in its error body: the client scrubs it.
        mock.inject_fault(
            method="jobs.get",
            status=400,
            body=f'{{"type":"bad","message":"key {bad_key} rejected"}}',
            headers={"content-type": "application/json"},
        )
        with pytest.raises(partly.BadRequestError) as b:
            c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        errors.append(b.value)
        with pytest.raises(partly.AuthenticationError) as d:
            c.integrations.insert(access_code=code, client_id=DEMO_CLIENT_ID, client_secret=secret)
        errors.append(d.value)
        with pytest.raises(partly.BadRequestError) as d2:
            c.integrations.insert(access_code=code, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        errors.append(d2.value)
        mock.inject_fault(method="integrations.insert", status=500, body=f"echo {code} and {DEMO_CLIENT_SECRET}")
        with pytest.raises(partly.ServerError) as e:
            c.integrations.insert(access_code=code, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        errors.append(e.value)
        with pytest.raises(partly.ValidationError) as f:
            partly.Client(api_key="pk has spaces SECRET")
        errors.append(f.value)
    for err in errors:
        for text in (str(err), repr(err), err.message, err.body or "", repr(pickle.loads(pickle.dumps(err)))):
            for s in (bad_key, code, secret, DEMO_CLIENT_SECRET, "pk has spaces SECRET"):
                assert s not in text, f"{s!r} leaked in {type(err).__name__}: {text!r}"
