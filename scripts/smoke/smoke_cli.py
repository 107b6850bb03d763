"""Smoke test of an installed `partly` command line (scripts/dist.py check): the console script
of the wheel or the bin of the npm package, given as the arguments (`smoke_cli.py .venv/bin/partly`,
`smoke_cli.py node_modules/.bin/partly`). Runs `partly --help` and `--version`, then `partly mock`
and, against it, `partly jobs get` and `partly call`, and stops the mock with Ctrl-C (SIGINT).
Only the standard library, and nothing of a checkout."""

import json
import os
import signal
import subprocess
import sys

partly = sys.argv[1:]
assert partly, "usage: smoke_cli.py PARTLY_COMMAND..."


def run(*args: str, env: "dict[str, str] | None" = None) -> subprocess.CompletedProcess:
    return subprocess.run([*partly, *args], capture_output=True, text=True, timeout=120, env=env)


help_ = run("--help")
assert help_.returncode == 0, help_.stderr
for word in ("preload", "jobs", "call", "oauth", "mock", "doctor"):
    assert word in help_.stdout, f"--help lacks {word}: {help_.stdout}"
version = run("--version")
assert version.returncode == 0 and version.stdout.startswith("partly "), version

mock = subprocess.Popen([*partly, "mock", "--json"], stdout=subprocess.PIPE, text=True)
try:
    assert mock.stdout is not None
    demo = json.loads(mock.stdout.readline())
    env = dict(
        os.environ,
        PARTLY_BASE_URL=demo["url"],
        PARTLY_API_KEY=demo["api_key"],
        PARTLY_INTEGRATION_ID=demo["integration_id"],
    )
    got = run("--json", "jobs", "get", "--external", demo["job_external_id"], env=env)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["id"] == demo["job_id"], got.stdout
    missing = run("jobs", "get", "--external", "no-such-job", env=env)
    assert missing.returncode == 1 and "HTTP 404 not_found" in missing.stderr, missing
    listed = run("call", "businesses.list", "{}", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout)["items"], listed
    assert demo["api_key"] not in got.stdout + got.stderr + missing.stderr + listed.stdout
finally:
    mock.send_signal(signal.SIGINT)
    code = mock.wait(timeout=30)
assert code == 0, f"partly mock ended with {code} on Ctrl-C"
print(f"smoke: {' '.join(partly)}: {version.stdout.strip()}, mock + jobs get + call: ok")
