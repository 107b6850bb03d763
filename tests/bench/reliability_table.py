#!/usr/bin/env python3
"""Runs the fault matrix (core/tests/fixtures/faults.json) in every language with PARTLY_MATRIX_OUT
set, and prints the scenario x language table of observed outcomes used in
docs/reliability.md.

    python3 tests/bench/reliability_table.py            # runs the three suites' case runners
    python3 tests/bench/reliability_table.py --from F   # only formats an existing JSON-lines file

The runners assert the expected outcome of every case; this table shows what each language
actually observed (error class, status, attempts, requests the mock received).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["rust", "python (blocking)", "python (asyncio)", "node"]


def run_suites(out: Path) -> None:
    env = {**os.environ, "PARTLY_MATRIX_OUT": str(out)}
    steps = [
        (["cargo", "test", "-p", "partly", "--test", "fixtures", "fault_matrix"], ROOT),
        (
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "tests/test_cases.py"],
            ROOT / "bindings-python",
        ),
        (["node", "--test", "test/cases.test.js"], ROOT / "bindings-node"),
    ]
    for cmd, cwd in steps:
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def cell(obs: dict | None) -> str:
    if obs is None:
        return "—"
    o = obs["observed"]
    if o["outcome"] == "ok":
        text = "ok"
    else:
        parts = [o["outcome"]]
        if o.get("status") is not None:
            parts.append(str(o["status"]))
        if o.get("code"):
            parts.append(f"`{o['code']}`")
        if o.get("retry_after") is not None:
            parts.append(f"retry_after {o['retry_after']:g}")
        if o.get("attempts") is not None:
            parts.append(f"x{o['attempts']}")
        text = " ".join(parts)
    return f"{text} ({obs['requests']} req)"


def fault_text(case: dict) -> str:
    f = case.get("fault")
    bits = []
    if case.get("client", {}).get("base_url") == "$DEAD_URL":
        bits.append("nothing listening")
    if f:
        action = f.get("action", "respond")
        times = f.get("times", 1)
        if action == "respond" and "status" in f:
            body = f.get("body", "")
            body = body if len(body) <= 34 else body[:31] + "..."
            ra = f.get("headers", {}).get("retry-after")
            bits.append(
                f"{f['status']} {'`' + body + '`' if body else 'empty body'}" + (f", Retry-After `{ra}`" if ra else "")
            )
        elif action == "respond" and f.get("delay_ms"):
            bits.append(f"delay {f['delay_ms']} ms")
        else:
            bits.append(action)
        if times > 1:
            bits.append(f"x{times}")
    opts = case.get("options", {})
    if opts:
        bits.append(", ".join(f"{k}={v}" for k, v in opts.items()))
    if case.get("calls", 1) > 1:
        bits.append(f"{case['calls']} calls")
    return "; ".join(bits).replace("|", "\\|")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", type=Path)
    args = ap.parse_args()
    src = args.src
    if src is None:
        src = ROOT / "target" / "reliability.jsonl"
        src.parent.mkdir(exist_ok=True)
        src.write_text("")
        run_suites(src)
    lines = [json.loads(line) for line in src.read_text().splitlines() if line.strip()]
    seen = {(line["language"], line["case"]): line for line in lines}
    cases = json.loads((ROOT / "core" / "tests" / "fixtures" / "faults.json").read_text())["cases"]
    print(f"| # | scenario | injected | {' | '.join(LANGS)} |")
    print("|---|---|---|" + "---|" * len(LANGS))
    for i, c in enumerate(cases, 1):
        row = [cell(seen.get((lang, c["name"]))) for lang in LANGS]
        print(f"| {i} | `{c['name']}` | {fault_text(c)} | {' | '.join(row)} |")
    missing = [(lang, c["name"]) for c in cases for lang in LANGS if (lang, c["name"]) not in seen]
    if missing:
        print(f"\n{len(missing)} cells not observed: {missing[:5]}...", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
