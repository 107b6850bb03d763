"""A process that uses the SDK and exits without closing anything exits cleanly.

The SDK's I/O threads enter Python on their own (to hand async results to the event loop, to
log). One caught inside Python when the interpreter started to finalize used to crash the
process at exit (SIGSEGV, or SIGABRT with "Fatal Python error: PyGILState_Release") in about
half the runs of an asyncio program on one CPU; ``src/shutdown.rs`` explains the race and the
``atexit`` gate that closes it. Each scenario runs in many fresh child processes, pinned to one
CPU where the OS allows it, since that is where the race showed most."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import pytest
from partly.testing import DEMO_JOB_EXTERNAL_ID

RUNS = 20

CHILD = textwrap.dedent(
    """
    import asyncio, logging, os, sys, threading
    from partly.testing import DEMO_JOB_EXTERNAL_ID as EXT, MockServer

    client_kind, logs, inflight = sys.argv[1].split("-")
    # Threads give up the GIL as often as CPython allows: a daemon thread caught inside the SDK
    # when the interpreter finalizes, the race this guards against, then shows in about one run
    # in five instead of one in thousands.
    sys.setswitchinterval(1e-6)
    if hasattr(os, "sched_setaffinity"):  # one CPU: the workers and the main thread take turns
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[int(sys.argv[2]) % len(cpus)]})
    if logs == "debuglog":  # every attempt logs at DEBUG, from the SDK's threads, to a file
        logger = logging.getLogger("partly")
        logger.addHandler(logging.StreamHandler(open(os.devnull, "w")))
        logger.setLevel(logging.DEBUG)

    mock = MockServer()
    if inflight == "inflight":  # after the first 100, answers take 0-24 ms: some land during the exit
        for i in range(200):
            mock.inject_fault(method="jobs.get", delay_ms=i % 25 if i >= 100 else 0)
    if client_kind == "async":
        client = mock.async_client()

        async def burst():
            await asyncio.gather(*(client.jobs.get(external=EXT) for _ in range(100)))

        asyncio.run(burst())
        if inflight == "inflight":  # an event loop in a daemon thread keeps 10 calls in flight
            answered = threading.Semaphore(0)

            async def forever():
                async def one():
                    while True:
                        await client.jobs.get(external=EXT)
                        answered.release()

                await asyncio.gather(*(one() for _ in range(10)))

            threading.Thread(target=asyncio.run, args=(forever(),), daemon=True).start()
            for _ in range(20):
                answered.acquire()
    else:
        client = mock.client()
        for _ in range(100):
            client.jobs.get(external=EXT)
        if inflight == "inflight":  # daemon threads calling in a loop: leave once each has answered
            answered = threading.Semaphore(0)

            def work():
                while True:
                    client.jobs.get(external=EXT)
                    answered.release()

            for _ in range(4):
                threading.Thread(target=work, daemon=True).start()
            for _ in range(4):
                answered.acquire()
    print("exiting", flush=True)
    # No close(): not the client, the mock, the event loop.
    """
)


def run_child(scenario: str, index: int) -> Tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, str(index)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "scenario",
    [
        "async-nolog-done",
        "async-debuglog-done",
        "async-nolog-inflight",
        "async-debuglog-inflight",
        "sync-nolog-done",
        "sync-debuglog-done",
        "sync-debuglog-inflight",
    ],
)
def test_exit_without_closing_is_clean(scenario: str) -> None:
    workers = max(2, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda i: run_child(scenario, i), range(RUNS)))
    failures: List[str] = []
    for rc, out, err in results:
        if rc != 0 or out.strip() != "exiting" or "Fatal Python error" in err or "panicked" in err:
            failures.append(f"rc={rc} stdout={out.strip()!r}\n{err[-2000:]}")
    assert not failures, f"{len(failures)} of {RUNS} runs did not exit cleanly; first:\n{failures[0]}"


LATE_HOOK = textwrap.dedent(
    """
    import asyncio, atexit

    def late():  # registered before partly is imported, so it runs after partly's own hook
        import partly
        try:
            asyncio.run(ACLIENT.jobs.get(external=EXT))
            print("async: answered")
        except partly.PartlyError as e:
            print("async: refused" if "shutting down" in str(e) else f"async: {e!r}")
        print("blocking:", CLIENT.jobs.get(external=EXT).external_id, flush=True)

    atexit.register(late)
    from partly.testing import DEMO_JOB_EXTERNAL_ID as EXT, MockServer
    mock = MockServer()
    CLIENT, ACLIENT = mock.client(), mock.async_client()
    """
)


def test_atexit_hooks_that_run_after_the_sdks_own() -> None:
    """After partly's hook no SDK thread enters Python: a new async call fails at once (rather
    than returning an awaitable that could never complete), a blocking call still works."""
    done = subprocess.run([sys.executable, "-c", LATE_HOOK], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["async: refused", f"blocking: {DEMO_JOB_EXTERNAL_ID}"], done.stderr
