"""The package in the processes production runs it in (issue 10): importing starts no thread;
building clients inside a running event loop does no blocking work; a gunicorn app loaded with
--preload and a Celery prefork worker (its redis-server broker started here, on a free loopback
port) that call Partly in the parent before forking, then from every worker."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Dict, Iterator, List, Optional, Pattern

import pytest
from partly.testing import DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID, MockServer

WORKERS = 3
DEADLINE = 60.0


def run_python(code: str, env: Optional[Dict[str, str]] = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_and_building_clients_start_no_thread() -> None:
    assert pathlib.Path("/proc/self/task").is_dir(), "counts the process's threads in /proc (Linux)"
    out = run_python(
        f"""
        import os
        def threads():
            return len(os.listdir("/proc/self/task"))
        before = threads()
        import partly, partly.testing, partly.errors, partly.models, partly.oauth
        after_import = threads()
        kwargs = dict(api_key={DEMO_API_KEY!r}, integration_id={DEMO_INTEGRATION_ID!r}, base_url="http://127.0.0.1:9")
        clients = [partly.Client(**kwargs), partly.AsyncClient(**kwargs)]
        print(before, after_import, threads())
        """
    )
    before, after_import, after_clients = map(int, out.split())
    assert after_import == before, f"import partly started {after_import - before} thread(s)"
    assert after_clients == before, f"building two clients started {after_clients - before} thread(s)"


def test_clients_built_and_used_inside_a_running_loop_never_block_it(mock: MockServer) -> None:
    # In a fresh process, so that these are the process's first clients and first calls:
    # nothing they do (TLS set-up, the runtime's start) may hold the loop for 10 ms. asyncio's
    # debug mode measures wall time, which a machine busy with other work stretches too: the
    # check passes when one of three fresh processes sees no slow step (real blocking work,
    # such as reading the system's TLS roots, is in every run).
    code = f"""
        import asyncio, json, logging, partly
        slow = []
        class Slow(logging.Handler):
            def emit(self, record):
                if "took" in record.getMessage():
                    slow.append(record.getMessage())
        logging.getLogger("asyncio").addHandler(Slow())
        async def main():
            asyncio.get_running_loop().slow_callback_duration = 0.010
            await asyncio.sleep(0)
            kwargs = dict(api_key={DEMO_API_KEY!r}, integration_id={DEMO_INTEGRATION_ID!r}, base_url={mock.url!r})
            client = partly.AsyncClient(**kwargs)
            blocking = partly.Client(**kwargs)
            https = partly.AsyncClient(**{{**kwargs, "base_url": "https://api.partly.com"}})
            await asyncio.sleep(0)
            job = await client.jobs.get(external={DEMO_JOB_EXTERNAL_ID!r})
            jobs = await asyncio.gather(*(client.jobs.get(external={DEMO_JOB_EXTERNAL_ID!r}) for _ in range(20)))
            return [job.external_id] + [j.external_id for j in jobs]
        refs = asyncio.run(main(), debug=True)
        print(json.dumps({{"slow": slow, "refs": refs}}))
        """
    runs = []
    for _ in range(3):
        result = json.loads(run_python(code).strip().splitlines()[-1])
        assert result["refs"] == [DEMO_JOB_EXTERNAL_ID] * 21
        runs.append(result["slow"])
        if not result["slow"]:
            break
    assert [] in runs, "asyncio debug mode saw the loop blocked in every run: " + repr(runs)


# ---------------------------------------------------------------------------------------------
# Process models: gunicorn --preload, Celery prefork.


class Lines:
    """The lines a child process writes, read on a thread; waits are on lines, not sleeps."""

    def __init__(self, *streams: IO[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: List[str] = []
        for stream in streams:
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: Pattern[str], count: int, what: str, timeout: float = DEADLINE) -> List[re.Match[str]]:
        deadline = time.monotonic() + timeout
        matches = [m for m in map(pattern.search, self.seen) if m]
        while len(matches) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; output so far:\n" + "\n".join(self.seen))
            try:
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            m = pattern.search(line)
            if m:
                matches.append(m)
        return matches


def stop(proc: subprocess.Popen[str]) -> None:
    """Stops a child this test started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def partly_env(mock: MockServer, path: pathlib.Path) -> Dict[str, str]:
    return {
        **os.environ,
        "PARTLY_BASE_URL": mock.url,
        "PARTLY_API_KEY": DEMO_API_KEY,
        "PARTLY_INTEGRATION_ID": DEMO_INTEGRATION_ID,
        "PYTHONPATH": os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]),
        "PYTHONUNBUFFERED": "1",
    }


CALLED = re.compile(r"\b(parent|worker) (\d+) called: (\S+)$")

# One client made at import, in the parent: a call there, then calls from every worker.
SHARED_CLIENT = f"""
import os
import partly

client = partly.Client()
PARENT = os.getpid()
job = client.jobs.get(external={DEMO_JOB_EXTERNAL_ID!r})
print(f"parent {{PARENT}} called: {{job.external_id}}", flush=True)


def call_from_this_worker():
    job = client.jobs.get(external={DEMO_JOB_EXTERNAL_ID!r})
    print(f"worker {{os.getpid()}} called: {{job.external_id}}", flush=True)
"""


def tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    assert found, f"{name} is not installed (bindings-python/requirements-dev.txt and the Makefile install it)"
    return found


def check_calls(lines: Lines) -> List[int]:
    """The parent called first, then each of the WORKERS workers (other processes); returns their pids."""
    matches = lines.wait_for(CALLED, 1 + WORKERS, "the parent's call and one call from every worker")
    parent = [m for m in matches if m.group(1) == "parent"]
    workers = [int(m.group(2)) for m in matches if m.group(1) == "worker"]
    assert len(parent) == 1 and all(m.group(3) == DEMO_JOB_EXTERNAL_ID for m in matches), matches
    assert len(set(workers)) == WORKERS and int(parent[0].group(2)) not in workers, matches
    return workers


def test_gunicorn_preload_app_calls_in_the_master_and_every_worker(mock: MockServer, tmp_path: pathlib.Path) -> None:
    (tmp_path / "shared_client.py").write_text(SHARED_CLIENT)
    (tmp_path / "app.py").write_text(
        textwrap.dedent(f"""
        import json, os
        from shared_client import client, PARENT

        def app(environ, start_response):
            job = client.jobs.get(external={DEMO_JOB_EXTERNAL_ID!r})
            body = json.dumps({{"pid": os.getpid(), "parent": PARENT, "external_id": job.external_id}}).encode()
            start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
            return [body]
    """)
    )
    (tmp_path / "gunicorn_conf.py").write_text(
        textwrap.dedent("""
        def post_worker_init(worker):
            from shared_client import call_from_this_worker
            call_from_this_worker()
    """)
    )
    proc = subprocess.Popen(
        [
            tool("gunicorn"),
            "--preload",
            "--workers",
            str(WORKERS),
            "--bind",
            "127.0.0.1:0",
            "--config",
            "gunicorn_conf.py",
            "--graceful-timeout",
            "5",
            "app:app",
        ],
        cwd=tmp_path,
        env=partly_env(mock, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines = Lines(proc.stdout, proc.stderr)
        (listening,) = lines.wait_for(re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)"), 1, "gunicorn to listen")
        workers = check_calls(lines)

        def get(_: int) -> Dict[str, object]:
            with urllib.request.urlopen(listening.group(1) + "/", timeout=30) as r:
                answer: Dict[str, object] = json.loads(r.read())
                return answer

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, range(24)))
        assert all(a["external_id"] == DEMO_JOB_EXTERNAL_ID for a in answers), answers
        assert {a["pid"] for a in answers} <= set(workers), answers
        assert len(mock.requests("jobs.get")) == 1 + WORKERS + 24
    finally:
        stop(proc)
    assert proc.returncode == 0, "\n".join(lines.seen)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def redis_url(tmp_path: pathlib.Path) -> Iterator[str]:
    """A redis-server of this test's own on a free loopback port (no persistence)."""
    server = tool("redis-server")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        ready = re.compile(r"Ready to accept connections|(Address already in use)")
        lines = Lines(proc.stdout)
        (m,) = lines.wait_for(ready, 1, "redis-server to start")
        if m.group(1):  # another process took the port between our probe and its bind: again
            stop(proc)
            continue
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop(proc)
        return
    raise AssertionError("redis-server found no free port in 5 tries")


def test_celery_prefork_worker_calls_in_the_parent_and_every_child(
    mock: MockServer, tmp_path: pathlib.Path, redis_url: str
) -> None:
    (tmp_path / "shared_client.py").write_text(SHARED_CLIENT)
    (tmp_path / "tasks.py").write_text(
        textwrap.dedent("""
        import os
        from celery import Celery
        from celery.signals import worker_process_init
        from shared_client import client, call_from_this_worker

        app = Celery("tasks", broker=os.environ["BROKER_URL"], backend=os.environ["BROKER_URL"])
        app.conf.update(broker_connection_retry_on_startup=True, worker_prefetch_multiplier=1)

        @worker_process_init.connect
        def each_child(**_):
            call_from_this_worker()

        @app.task(name="tasks.fetch")
        def fetch(reference):
            job = client.jobs.get(external=reference)
            return {"pid": os.getpid(), "external_id": job.external_id}
    """)
    )
    env = {**partly_env(mock, tmp_path), "BROKER_URL": redis_url}
    proc = subprocess.Popen(
        [
            tool("celery"),
            "-A",
            "tasks",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(WORKERS),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        lines = Lines(proc.stdout, proc.stderr)
        workers = check_calls(lines)
        lines.wait_for(re.compile(r"celery@\S+ ready\."), 1, "the Celery worker to be ready")
        from celery import Celery  # type: ignore[import-untyped]  # Celery ships no type hints

        sender = Celery("sender", broker=redis_url, backend=redis_url)
        results = [sender.send_task("tasks.fetch", args=[DEMO_JOB_EXTERNAL_ID]) for _ in range(24)]
        answers = [r.get(timeout=DEADLINE) for r in results]
        assert all(a["external_id"] == DEMO_JOB_EXTERNAL_ID for a in answers), answers
        assert {a["pid"] for a in answers} <= set(workers), answers
        assert len(mock.requests("jobs.get")) == 1 + WORKERS + 24
        sender.close()
    finally:
        stop(proc)
    assert proc.returncode == 0, "\n".join(lines.seen)
