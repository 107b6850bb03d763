"""The examples run (each starts its own in-process mock when PARTLY_BASE_URL is unset)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("name", ["quickstart.py", "quickstart_async.py"])
def test_example_runs(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "accepted" in done.stdout
    assert done.stderr == "", "nothing on stderr (the library logger has a NullHandler)"


def test_install_flask_runs_against_its_own_mock() -> None:
    """`python install_flask.py --mock` (the README's command) serves the Connect page, and its
    Connect button leads to the mock's authorize page with the app's callback registered."""
    pytest.importorskip("flask")
    import http.client
    from urllib.parse import parse_qs, urlsplit

    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "install_flask.py"), "--mock", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        netloc = urlsplit(line.split()[-1]).netloc
        conn = http.client.HTTPConnection(netloc, timeout=10)
        conn.request("GET", "/")
        home = conn.getresponse()
        assert home.status == 200 and 'id="connect"' in home.read().decode()
        conn.request("GET", "/connect")
        to_partly = conn.getresponse()
        to_partly.read()
        assert to_partly.status == 302
        target = urlsplit(to_partly.getheader("location") or "")
        assert target.path == "/auth/integration/authorize"
        assert parse_qs(target.query)["redirect_url"] == [f"http://{netloc}/partly/callback"]
        page = http.client.HTTPConnection(target.netloc, timeout=10)
        page.request("GET", f"{target.path}?{target.query}")
        consent = page.getresponse()
        assert consent.status == 200 and "Approve" in consent.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_readme_install_guide_runs_as_pasted() -> None:
    """The Python code of the README's "Installing an integration" guide, run as it is."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    guide = readme.split("## Installing an integration", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in guide.split("```python\n")[1:]]
    assert blocks, "the guide has Python code"
    for code in blocks:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "InstallResult(integration_id=" in done.stdout and "pk_" not in done.stdout
