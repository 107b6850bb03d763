"""Runtime behaviour a Python user relies on: Ctrl-C, asyncio cancellation, threads, many
tasks, fork, and no event-loop binding."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List

import partly
import pytest
from _support import wait_until
from partly.testing import DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID, DEMO_JOB_ID, MockServer

# ---------------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys, time, partly
    kwargs = dict(api_key=os.environ["K"], integration_id=os.environ["I"], base_url=os.environ["U"])
    mode = sys.argv[1]
    print("calling", flush=True)
    try:
        if mode == "blocking":
            partly.Client(**kwargs).jobs.get(external="CCC-2026-04817")
        elif mode == "prepare_all":
            partly.Client(**kwargs).tier1.prepare_all(["V1", "V2"], batch_size=1, max_concurrency=1)
        else:
            asyncio.run(partly.AsyncClient(**kwargs).jobs.get(external="CCC-2026-04817"))
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("mode", ["blocking", "prepare_all", "asyncio"])
def test_ctrl_c_interrupts_a_blocked_call(mock: MockServer, mode: str) -> None:
    method = "tier1.prepare" if mode == "prepare_all" else "jobs.get"
    mock.inject_fault(method=method, delay_ms=30_000)
    env = {**os.environ, "K": DEMO_API_KEY, "I": DEMO_INTEGRATION_ID, "U": mock.url}
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "calling"
        # The call is blocked once the mock has the request (it holds the answer for 30 s).
        wait_until(lambda: mock.requests(method), "the child's request", timeout=20)
        started = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline().strip()
        elapsed = time.monotonic() - started
        assert line == "interrupted"
        assert elapsed < 0.5, f"KeyboardInterrupt took {elapsed:.3f} s"
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # The interrupted request was abandoned: the mock never answered it.
    assert mock.requests(method)[0].status is None


# ---------------------------------------------------------------------------------------------
# asyncio cancellation
# ---------------------------------------------------------------------------------------------


def established_server_sockets(port: int) -> int:
    """Connections the mock (listening on `port`) still has open, from the kernel's table."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == port and remote_port != 0 and fields[3] == "01":  # ESTABLISHED
                count += 1
    return count


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads the kernel's TCP table (Linux)")
def test_cancelling_a_task_aborts_its_request(mock: MockServer) -> None:
    port = int(mock.url.rsplit(":", 1)[1])

    async def main() -> None:
        client = mock.async_client()
        mock.inject_fault(method="jobs.get", delay_ms=30_000)
        task = asyncio.create_task(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID))
        while not mock.requests("jobs.get"):
            await asyncio.sleep(0.005)
        assert established_server_sockets(port) == 1
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        # The mock sees the connection close: its side of the socket goes away.
        deadline = time.monotonic() + 5
        while established_server_sockets(port) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert established_server_sockets(port) == 0, "the mock still holds the cancelled request's connection"
        assert mock.requests("jobs.get")[0].status is None, "the cancelled request was never answered"
        # The client is fine afterwards.
        job = await client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        assert job.id == DEMO_JOB_ID

    asyncio.run(main())


def test_wait_for_timeout_cancels_cleanly(mock: MockServer) -> None:
    async def main() -> None:
        client = mock.async_client()
        mock.inject_fault(method="jobs.get", delay_ms=30_000)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID), timeout=0.2)
        assert (await client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)).id == DEMO_JOB_ID

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# concurrency
# ---------------------------------------------------------------------------------------------


def test_16_threads_share_one_client(client: partly.Client, mock: MockServer) -> None:
    calls_per_thread = 20

    def work(i: int) -> List[str]:
        out = []
        for j in range(calls_per_thread):
            if j % 2:
                out.append(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id)
            else:
                job = client.jobs.insert(external=f"T{i}-{j}", data={"repairer_site_id": partly.testing.DEMO_SITE_ID})
                out.append(job.external_id or "")
        return out

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(16)))
    assert len(results) == 16
    for i, r in enumerate(results):
        assert r == [DEMO_JOB_ID if j % 2 else f"T{i}-{j}" for j in range(calls_per_thread)]
    assert len(mock.requests()) == 16 * calls_per_thread


def test_500_concurrent_asyncio_tasks(mock: MockServer) -> None:
    async def main() -> None:
        client = mock.async_client()
        jobs = await asyncio.gather(*(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID) for _ in range(500)))
        assert len(jobs) == 500 and all(j.id == DEMO_JOB_ID for j in jobs)
        missing = await asyncio.gather(
            *(client.jobs.get(external=f"missing-{i}") for i in range(100)), return_exceptions=True
        )
        assert all(isinstance(e, partly.NotFoundError) for e in missing)

    asyncio.run(main())
    assert len(mock.requests("jobs.get")) == 600


def test_async_client_across_asyncio_run_calls(mock: MockServer) -> None:
    client = mock.async_client()  # created outside any event loop
    for _ in range(3):
        assert asyncio.run(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)).id == DEMO_JOB_ID
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(client.call("businesses.list"))["items"]
    finally:
        loop.close()


def test_async_client_used_from_two_event_loops_at_once(mock: MockServer) -> None:
    client = mock.async_client()
    errors: List[BaseException] = []

    def run() -> None:
        async def main() -> None:
            for _ in range(20):
                await client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)

        try:
            asyncio.run(main())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(mock.requests("jobs.get")) == 40


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_no_file_handles_leak_across_asyncio_run_calls(mock: MockServer) -> None:
    client = mock.async_client()

    async def main() -> None:
        await asyncio.gather(*(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID) for _ in range(5)))

    asyncio.run(main())  # the pool's connections, the runtime
    gc.collect()
    before = open_fds()
    for _ in range(20):
        asyncio.run(main())
    gc.collect()
    # Each loop gets its own wake channel (two handles); a closed loop's channel goes with it.
    assert open_fds() - before <= 4


def test_results_and_errors_arriving_together(mock: MockServer) -> None:
    async def main() -> None:
        client = mock.async_client()
        calls = [client.jobs.get(external=DEMO_JOB_EXTERNAL_ID if i % 2 else f"nope-{i}") for i in range(200)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        for i, r in enumerate(results):
            if i % 2:
                assert isinstance(r, partly.Job) and r.id == DEMO_JOB_ID
            else:
                assert isinstance(r, partly.NotFoundError)

    asyncio.run(main())


class LoopWithoutReaders(asyncio.SelectorEventLoop):
    """Like Windows' proactor loop: no add_reader."""

    def add_reader(self, *args: object) -> None:
        raise NotImplementedError


def test_loop_without_add_reader(mock: MockServer) -> None:
    client = mock.async_client()

    async def main() -> None:
        jobs = await asyncio.gather(*(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID) for _ in range(50)))
        assert {j.id for j in jobs} == {DEMO_JOB_ID}
        with pytest.raises(partly.NotFoundError):
            await client.jobs.get(external="nope")
        task = asyncio.create_task(client.jobs.get(external=DEMO_JOB_EXTERNAL_ID))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    loop = LoopWithoutReaders()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def test_async_call_needs_a_running_loop(mock: MockServer) -> None:
    client = mock.async_client()
    coro = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    with pytest.raises(RuntimeError):
        coro.send(None)


# ---------------------------------------------------------------------------------------------
# fork
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork() of a threaded process
def test_client_keeps_working_after_fork(mock: MockServer) -> None:
    client = mock.client()
    aclient = mock.async_client()
    assert client.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id == DEMO_JOB_ID  # pool + runtime in use
    assert asyncio.run(aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID)).id == DEMO_JOB_ID

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's teardown
        code = 1
        try:
            os.close(read_end)
            a = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=10).id
            b = asyncio.run(aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=10)).id
            with ThreadPoolExecutor(max_workers=4) as pool:
                c = set(pool.map(lambda _: client.jobs.get(external=DEMO_JOB_EXTERNAL_ID).id, range(8)))
            try:
                client.jobs.get(external="missing-in-child")
                d = "no error"
            except partly.NotFoundError as e:
                d = type(e).__name__
            # Dropping the parent's objects in the child must not disturb the parent.
            del client
            gc.collect()
            os.write(write_end, f"{a} {b} {sorted(c)} {d}".encode())
            code = 0
        except BaseException as e:
            os.write(write_end, f"error {e!r}".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as f:
        report = f.read()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, report
    assert report == f"{DEMO_JOB_ID} {DEMO_JOB_ID} {[DEMO_JOB_ID]} NotFoundError"
    # The parent's client, its pooled connection and its runtime still work.
    for _ in range(3):
        assert client.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=10).id == DEMO_JOB_ID
    assert asyncio.run(aclient.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=10)).id == DEMO_JOB_ID


def child_task(n: int) -> str:
    return f"{n}:{FORK_CLIENT.jobs.get(external=DEMO_JOB_EXTERNAL_ID, timeout=10).id}"


FORK_CLIENT: partly.Client


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork start method is POSIX")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_multiprocessing_fork_pool_uses_the_parents_client(mock: MockServer) -> None:
    import multiprocessing

    global FORK_CLIENT
    FORK_CLIENT = mock.client()
    FORK_CLIENT.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(child_task, range(4), chunksize=1)
    assert results == [f"{n}:{DEMO_JOB_ID}" for n in range(4)]
    assert len(mock.requests("jobs.get")) == 5
