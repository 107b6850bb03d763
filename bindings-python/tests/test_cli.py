"""The `partly` console script of the wheel runs the Rust command line (crate `partly-cli`)
through `partly._native.run_cli`: the same --version and --help as the binary, stdin, stdout,
stderr and exit statuses passed through, Ctrl-C a clean stop. (The commands themselves are
tested once, end to end, in cli/tests/cli.rs.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

import partly
import pytest
from partly.testing import DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID, DEMO_JOB_ID, MockServer

SCRIPT = Path(sysconfig.get_path("scripts")) / ("partly.exe" if os.name == "nt" else "partly")


def partly_cmd(
    args: List[str], mock: Optional[MockServer] = None, stdin: Optional[str] = None
) -> subprocess.CompletedProcess[str]:
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
    if mock is not None:
        env.update(PARTLY_BASE_URL=mock.url, PARTLY_API_KEY=DEMO_API_KEY, PARTLY_INTEGRATION_ID=DEMO_INTEGRATION_ID)
    return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)


def test_the_console_script_is_installed_and_reports_the_version() -> None:
    assert SCRIPT.exists(), f"no console script at {SCRIPT}"
    out = partly_cmd(["--version"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"partly {partly.VERSION}\n"
    helped = partly_cmd(["--help"])
    assert helped.returncode == 0
    assert "partly preload" not in helped.stderr and "Commands:" in helped.stdout
    for command in ("preload", "jobs", "call", "oauth", "mock", "doctor"):
        assert f"  {command} " in helped.stdout


def test_a_command_through_the_script_with_stdin_stdout_and_statuses(mock: MockServer) -> None:
    out = partly_cmd(["--json", "jobs", "get", "--external", DEMO_JOB_EXTERNAL_ID], mock)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["id"] == DEMO_JOB_ID
    body = json.dumps({"identity": {"id": DEMO_JOB_ID}})
    out = partly_cmd(["call", "jobs.get", "-"], mock, stdin=body)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["external_id"] == DEMO_JOB_EXTERNAL_ID
    missing = partly_cmd(["jobs", "get", "--external", "no-such-job"], mock)
    assert missing.returncode == 1
    assert missing.stderr.startswith("partly: jobs.get: HTTP 404 not_found")
    usage = partly_cmd(["jobs", "get"], mock)
    assert usage.returncode == 2
    assert DEMO_API_KEY not in out.stdout + out.stderr + missing.stderr + usage.stderr


def test_run_cli_in_process_returns_the_status(capfd: pytest.CaptureFixture[str]) -> None:
    from partly import _cli

    assert _cli.main(["--version"]) == 0
    assert capfd.readouterr().out == f"partly {partly.VERSION}\n"
    assert _cli.main(["no-such-command"]) == 2
    assert "unrecognized subcommand" in capfd.readouterr().err


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="waits on a thread through Linux's /proc")
def test_ctrl_c_stops_the_mock_cleanly_and_interrupts_a_command() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
    mock = subprocess.Popen(
        [str(SCRIPT), "mock", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert mock.stdout is not None and mock.stderr is not None
    demo = json.loads(mock.stdout.readline())
    assert demo["api_key"] == DEMO_API_KEY
    mock.send_signal(signal.SIGINT)
    assert mock.wait(timeout=30) == 0, "partly mock stops on Ctrl-C with status 0"
    assert "Traceback" not in mock.stderr.read()

    # A preload waiting on stdin: Ctrl-C ends it with 130 and no KeyboardInterrupt.
    env.update(PARTLY_BASE_URL=demo["url"], PARTLY_API_KEY="k", PARTLY_INTEGRATION_ID=DEMO_INTEGRATION_ID)
    waiting = subprocess.Popen(
        [str(SCRIPT), "preload", "-", "--progress-interval", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert waiting.stdin is not None and waiting.stderr is not None
    waiting.stdin.write("A1\n")
    waiting.stdin.flush()
    # Its reader thread runs once the command started (after its SIGINT handling is in place).
    _wait_for_thread(waiting.pid, "partly-preload")
    waiting.send_signal(signal.SIGINT)
    assert waiting.wait(timeout=30) == 130
    err = waiting.stderr.read()
    assert "partly: interrupted" in err and "Traceback" not in err, err


def _wait_for_thread(pid: int, prefix: str) -> None:
    """Until process `pid` has a thread whose name starts with `prefix` (Linux's /proc)."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for comm in Path(f"/proc/{pid}/task").glob("*/comm"):
            try:
                if comm.read_text().startswith(prefix):
                    return
            except OSError:
                pass
        time.sleep(0.01)
    raise AssertionError(f"no thread {prefix}* in process {pid}")
