"""Bulk preload (``prepare_all``) from Python: generators pulled lazily, bad items deep in the
stream, async iterables, 429 storms, the deadline, and resuming from a checkpoint after SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import AsyncIterator, Iterator, List

import partly
import pytest
from partly.testing import MockServer


def vins(n: int, pulled: List[int]) -> Iterator[str]:
    for i in range(n):
        pulled[0] += 1
        yield f"VIN{i:08d}"


def test_a_generator_is_pulled_as_the_run_needs_it(client: partly.Client, mock: MockServer) -> None:
    pulled = [0]
    at_first: List[int] = []

    def on_progress(p: partly.PrepareProgress) -> None:
        if not at_first:
            at_first.append(pulled[0])

    report = client.tier1.prepare_all(vins(20_000, pulled), batch_size=10, max_concurrency=2, on_progress=on_progress)
    assert (report.total, report.accepted, report.failed) == (20_000, 20_000, 0)
    # At the first answer only a bounded chunk (not 20,000) had been read from the generator.
    assert at_first[0] <= 2_000, at_first
    assert report.failures() == [], "accepted identifiers are counted, not kept"
    assert mock.prepared_stats() == {"identifiers": 20_000, "distinct": 20_000, "duplicates": 0}


def test_a_bad_item_deep_in_a_generator_is_reported_and_the_run_goes_on(client: partly.Client) -> None:
    def items() -> Iterator[object]:
        for i in range(5_000):
            yield None if i == 3_141 else {"plate": ""} if i == 4_000 else f"V{i}"

    report = client.tier1.prepare_all(items())
    assert (report.total, report.accepted, report.failed) == (5_000, 4_998, 2)
    first, second = report.failures()
    assert (first.index, first.given, first.identifier) == (3_141, "None", None)
    assert isinstance(first.error, partly.ValidationError)
    assert "identifiers[3141]: a vehicle identifier is a chassis number" in str(first.error)
    assert second.index == 4_000 and "plate is empty" in str(second.error)


def test_an_exception_from_the_generator_propagates(client: partly.Client) -> None:
    def items() -> Iterator[str]:
        yield "A"
        raise KeyError("broken source")

    with pytest.raises(KeyError, match="broken source"):
        client.tier1.prepare_all(items())


def test_a_429_storm_is_waited_out_without_failures() -> None:
    with MockServer(rate_limit=100, rate_burst=2) as mock, mock.client() as client:
        report = client.tier1.prepare_all((f"V{i}" for i in range(1_500)), batch_size=10, max_retries=0)
        assert (report.accepted, report.failed) == (1_500, 0)
        assert report.throttled > 0
        assert report.throttled == len([r for r in mock.requests("tier1.prepare") if r.status == 429])
        assert mock.prepared_stats()["distinct"] == 1_500


def test_the_deadline_ends_the_run_and_accounts_for_everything() -> None:
    with MockServer(rate_limit=20, rate_burst=1) as mock, mock.client() as client:
        report = client.tier1.prepare_all((f"V{i}" for i in range(10_000)), batch_size=10, deadline=0.5)
        assert report.deadline_reached and not report.ok
        assert report.total == 10_000 and report.accepted + report.failed == 10_000
        last = report.failures()[-1]
        assert last.index == 9_999 and isinstance(last.error, partly.TimeoutError)
        assert "deadline (500 ms) passed" in str(last.error)


def test_async_client_takes_an_async_iterable(aclient: partly.AsyncClient, mock: MockServer) -> None:
    async def items() -> AsyncIterator[object]:
        for i in range(2_500):
            await asyncio.sleep(0) if i % 500 == 0 else None
            yield 42 if i == 2_222 else f"A{i}"

    async def main() -> partly.PrepareReport:
        return await aclient.tier1.prepare_all(items(), batch_size=50)

    report = asyncio.run(main())
    assert (report.accepted, report.failed) == (2_499, 1)
    assert report.failures()[0].index == 2_222 and report.failures()[0].given == "42"
    assert mock.prepared_stats()["distinct"] == 2_499


CHILD = textwrap.dedent(
    """
    import sys, partly
    url, checkpoint, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = partly.Client(base_url=url, api_key=partly._native.DEMO_API_KEY,
                           integration_id=partly._native.DEMO_INTEGRATION_ID)
    def on_progress(p):
        print("accepted", p.accepted, flush=True)
    client.tier1.prepare_all((f"VIN{i:08d}" for i in range(n)), max_rate=20, checkpoint=checkpoint,
                             on_progress=on_progress)
    """
)


def test_resume_after_sigkill_sends_exactly_the_rest(client: partly.Client, mock: MockServer, tmp_path: Path) -> None:
    n = 30_000
    checkpoint = tmp_path / "preload.checkpoint"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mock.url, str(checkpoint), str(n)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert child.stdout is not None
    for line in child.stdout:
        if int(line.split()[1]) >= 5_000:
            child.send_signal(signal.SIGKILL)
            break
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert mock.prepared_stats()["distinct"] < n, "killed midway"

    report = client.tier1.prepare_all((f"VIN{i:08d}" for i in range(n)), checkpoint=checkpoint)
    assert report.ok and report.total == n and report.skipped + report.accepted == n
    assert report.skipped >= 2_000
    stats = mock.prepared_stats()
    assert stats["distinct"] == n, "the server has exactly the input"
    assert stats["duplicates"] <= report.duplicates_possible


def test_the_readme_bulk_section_runs_as_pasted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Bulk preload: a whole fleet", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md#bulk-preload", "exec"), {"__name__": "readme"})
    assert (tmp_path / "fleet.checkpoint").exists()
