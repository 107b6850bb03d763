"""Logging through the standard `logging` module, logger "partly": one line per attempt at
DEBUG, retries at INFO, the final failure at WARNING, and never a secret."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
import threading
from typing import List

import partly
import pytest
from partly.testing import DEMO_API_KEY, DEMO_CLIENT_SECRET, DEMO_JOB_EXTERNAL_ID, MockServer


def partly_records(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "partly" or r.name.startswith("partly.")]


def test_one_debug_line_per_attempt(client: partly.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    (record,) = partly_records(caplog)
    assert record.levelno == logging.DEBUG
    assert "jobs.get" in record.getMessage() and "attempt=1" in record.getMessage()


def test_retries_at_info_and_failure_at_warning(
    client: partly.Client, mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    mock.inject_fault(method="jobs.get", times=3, status=503, headers={"retry-after": "0"})
    with pytest.raises(partly.ServerError):
        client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    levels = [r.levelno for r in partly_records(caplog)]
    assert levels.count(logging.DEBUG) == 3, "one per attempt"
    assert levels.count(logging.INFO) == 2, "one per retry"
    assert levels.count(logging.WARNING) == 1, "the call that failed"
    retry = next(r for r in partly_records(caplog) if r.levelno == logging.INFO)
    assert "retrying" in retry.getMessage() and "503" in retry.getMessage()


def test_blocking_records_are_logged_on_the_calling_thread_in_order(
    mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    mock.inject_fault(method="jobs.get", times=3, status=503, headers={"retry-after": "0"})
    client = mock.client()
    seen: List[int] = []

    def call() -> None:
        with pytest.raises(partly.ServerError):
            client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        # Every record of the call was logged by the time it returned.
        seen.append(len(partly_records(caplog)))
        seen.append(threading.get_ident())

    worker = threading.Thread(target=call)
    worker.start()
    worker.join()
    records = partly_records(caplog)
    assert seen == [6, worker.ident]
    assert {r.thread for r in records} == {worker.ident}
    levels = [r.levelno for r in records]
    debug, info, warning = logging.DEBUG, logging.INFO, logging.WARNING
    assert levels == [debug, info, debug, info, debug, warning], levels
    attempts = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert [f"attempt={n}" in m for n, m in enumerate(attempts, 1)] == [True] * 3, attempts


def test_async_calls_log_too(aclient: partly.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    asyncio.run(aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID))
    assert [r.levelno for r in partly_records(caplog)] == [logging.DEBUG]


def test_async_records_are_logged_on_the_event_loop_before_the_answer(
    mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    mock.inject_fault(method="jobs.get", times=3, status=503, headers={"retry-after": "0"})

    async def main() -> int:
        client = mock.async_client()
        with pytest.raises(partly.ServerError):
            await client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        # Every record of the call was logged by the time its answer arrived.
        assert [r.levelno for r in partly_records(caplog)].count(logging.WARNING) == 1
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    records = partly_records(caplog)
    assert len(records) == 6
    assert {r.thread for r in records} == {loop_thread}


def test_async_level_changes_take_effect_at_once(aclient: partly.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        caplog.set_level(logging.DEBUG, logger="partly")
        await aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        assert len(partly_records(caplog)) == 1
        logging.getLogger("partly").setLevel(logging.WARNING)
        caplog.clear()
        await aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        assert partly_records(caplog) == []

    asyncio.run(main())


def test_level_changes_take_effect_at_once(client: partly.Client, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("partly")
    caplog.set_level(logging.DEBUG, logger="partly")
    client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert len(partly_records(caplog)) == 1
    logger.setLevel(logging.WARNING)
    caplog.clear()
    client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert partly_records(caplog) == []


def test_no_secret_in_any_log_line(mock: MockServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad_key = "pk_live_LOGSECRET_123456789"
    code = mock.mint_access_code()
    with partly.Client(base_url=mock.url) as anon:
        result = anon.integrations.insert(
            access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
        )
        mock.inject_fault(
            method="integrations.insert", times=1, status=500, body=f"echo {code.access_code} {code.client_secret}"
        )
        with pytest.raises(partly.ServerError):
            anon.integrations.insert(
                access_code=code.access_code, client_id=code.client_id, client_secret=code.client_secret
            )
    with partly.Client(base_url=mock.url, api_key=result.api_key, integration_id=result.integration_id) as c:
        c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        mock.inject_fault(
            method="jobs.get", times=3, status=503, headers={"retry-after": "0"}, body=f"key was {result.api_key}"
        )
        with pytest.raises(partly.ServerError):
            c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    with mock.client(api_key=bad_key) as c:
        with pytest.raises(partly.AuthenticationError):
            c.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    with mock.client() as c:
        c.tier1.prepare_all(["V1", "V2"], batch_size=1)
    records = partly_records(caplog)
    assert len(records) >= 8
    secrets = [bad_key, code.access_code, code.client_secret, DEMO_CLIENT_SECRET, result.api_key, DEMO_API_KEY]
    for record in caplog.records:  # every logger, not only "partly"
        text = record.getMessage() + repr(record.__dict__)
        for s in secrets:
            assert s not in text, f"{s!r} leaked in a log line: {record.getMessage()!r}"


def test_a_single_answered_error_is_not_a_warning(client: partly.Client, caplog: pytest.LogCaptureFixture) -> None:
    """A 404 for "does this job exist?" is the caller's business: DEBUG, never WARNING."""
    caplog.set_level(logging.DEBUG, logger="partly")
    with pytest.raises(partly.NotFoundError):
        client.jobs.get(external="no-such-job")
    levels = [r.levelno for r in partly_records(caplog)]
    assert levels and all(level == logging.DEBUG for level in levels), levels


def run_with_partly_log(value: str, code: str) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter with PARTLY_LOG=value (and no logging configured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
    env["PARTLY_LOG"] = value
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120
    )


CALLS = """
    import partly
    from partly.testing import DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID, MockServer

    with MockServer() as mock:
        mock.client().jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        key = "sk-live-NOT-TO-BE-SEEN-4711"
        try:
            client = partly.Client(api_key=key, integration_id=DEMO_INTEGRATION_ID, base_url=mock.url, max_retries=0)
            client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        except partly.AuthenticationError:
            pass
    print("done")
"""


def test_partly_log_debug_prints_the_records_on_stderr_without_secrets() -> None:
    child = run_with_partly_log("debug", CALLS)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "done"
    lines = [line for line in child.stderr.splitlines() if " DEBUG partly: " in line]
    assert "jobs.get" in lines[0] and "attempt=1" in lines[0] and "status=200" in lines[0], child.stderr
    assert any("status=401" in line for line in lines), child.stderr
    assert "NOT-TO-BE-SEEN" not in child.stderr and DEMO_API_KEY not in child.stderr


def test_partly_log_warn_keeps_debug_records_out() -> None:
    child = run_with_partly_log("warn", CALLS)
    assert child.returncode == 0, child.stderr
    assert " DEBUG partly: " not in child.stderr and child.stdout.strip() == "done"


def test_partly_log_leaves_a_handler_the_application_set_alone() -> None:
    before = """
        import logging
        records = []
        handler = logging.Handler()
        handler.emit = records.append  # type: ignore[method-assign]
        logging.getLogger("partly").addHandler(handler)
    """
    after = 'print(len(records), logging.getLogger("partly").level == logging.INFO)'
    child = run_with_partly_log("info", textwrap.dedent(before) + textwrap.dedent(CALLS) + after)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["done", "0", "True"], "INFO: the two DEBUG lines filtered out"
    assert " partly: " not in child.stderr, "no stderr handler added next to the application's"


def test_a_bad_partly_log_is_one_warning_naming_it_and_the_levels() -> None:
    child = run_with_partly_log("loud", CALLS)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "done"
    warnings = [line for line in child.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 1, child.stderr
    assert 'PARTLY_LOG "loud"' in warnings[0] and "off, error, warn, info, debug" in warnings[0]
    assert " partly: " not in child.stderr, "no records: the level stays unset"
