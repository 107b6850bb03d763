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
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "accepted" in done.stdout
    assert done.stderr == "", "nothing on stderr (the library logger has a NullHandler)"
