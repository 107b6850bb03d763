"""Bulk preload benchmarks (``make bench`` runs them after run.py; alone: ``python3
tests/bench/preload.py [--skip-build] [--quick]``). Release builds. Side by side in one run: the
SDK's default (adaptive) ``prepare_all`` and the behaviour before it (``fixed``: batches of
100, 8 in flight, default retries), in Rust, Python and Node:

1. through ``partly-mock --rate-limit 250`` (burst 25): 100,000 identifiers, elapsed vs the
   ideal N/100/250 s, 429s the mock answered, identifiers failed;
2. 4 processes at once through one ``--rate-limit 250``: total throughput vs the limit,
   failures, and the spread of finishing times;
3. 10,000,000 identifiers from a generator (unlimited mock): peak RSS growth and identifiers/s;
4. an unlimited mock with ``--latency-ms 20``: 100,000 identifiers vs the ideal
   (requests × 20 ms / 32 in flight).

Prints a Markdown table (paste into RESULTS.md) and writes the raw rows to
``$CARGO_TARGET_DIR/preload-bench.json``. Every mock is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VENV_PY = ROOT / ".venv-bench" / "bin" / "python"
BENCH = ROOT / "tests" / "bench"


def build() -> None:
    env = {**os.environ, "CARGO_TARGET_DIR": str(TARGET)}
    subprocess.run(
        ["cargo", "build", "--release", "-p", "partly-mock", "-p", "partly-bench"], cwd=ROOT, check=True, env=env
    )
    if not VENV_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV_PY.parent.parent)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", "maturin>=1.9,<2"], check=True)
    wheels = TARGET / "bench-wheels"
    subprocess.run(
        [
            str(VENV_PY),
            "-m",
            "maturin",
            "build",
            "--release",
            "-q",
            "-o",
            str(wheels),
            "-m",
            "bindings-python/Cargo.toml",
        ],
        cwd=ROOT,
        check=True,
        env=env,
    )
    whl = sorted(wheels.glob("*.whl"))
    subprocess.run(
        [str(VENV_PY), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *map(str, whl)], check=True
    )
    subprocess.run(["npm", "run", "build", "--silent"], cwd=ROOT / "bindings-node", check=True, env=env)


class Mock:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(TARGET / "release" / "partly-mock"), "--log-capacity", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.url = line.strip().removeprefix("listening on ")

    def refused(self) -> int:
        with urllib.request.urlopen(f"{self.url}/__mock/rate_limit") as r:
            return int(json.load(r)["refused"])

    def stats(self) -> Dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/__mock/prepared") as r:
            return dict(json.load(r))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def cmd(lang: str, url: str, n: int, mode: str, prefix: str = "P0") -> List[str]:
    common = ["--url", url, "--n", str(n), "--mode", mode, "--prefix", prefix]
    if lang == "rust":
        return [str(TARGET / "release" / "preload"), *common]
    if lang == "python":
        return [str(VENV_PY), str(BENCH / "python" / "preload_client.py"), *common]
    return ["node", str(BENCH / "node" / "preload_client.mjs"), *common]


def run(lang: str, url: str, n: int, mode: str, prefix: str = "P0") -> Dict[str, Any]:
    out = subprocess.run(cmd(lang, url, n, mode, prefix), capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"{lang} {mode} failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--quick", action="store_true", help="1,000,000 instead of 10,000,000 in the memory run")
    ap.add_argument("--only", default="1234", help="which scenarios, e.g. 13")
    ap.add_argument("--langs", default="rust,python,node")
    a = ap.parse_args()
    if not a.skip_build:
        build()
    langs = a.langs.split(",")
    rows: List[Dict[str, Any]] = []
    lines: List[str] = []

    if "1" in a.only:
        lines += ["", "### 1. 100,000 identifiers through `--rate-limit 250` (burst 25); ideal 4.0 s", ""]
        lines += [
            "| language | mode | elapsed s | vs ideal | 429s answered | failed |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for lang in langs:
            for mode in ["adaptive", "fixed"]:
                mock = Mock("--rate-limit", "250")
                r = run(lang, mock.url, 100_000, mode)
                r["refused"] = mock.refused()
                mock.stop()
                rows.append({"scenario": "rate250", **r})
                lines.append(
                    f"| {lang} | {mode} | {r['elapsed_s']:.2f} | {r['elapsed_s'] / 4.0:.2f}x | {r['refused']:,} | {r['failed']:,} |"
                )
                print(lines[-1], flush=True)

    if "2" in a.only:
        per = 50_000
        lines += ["", f"### 2. 4 processes x {per:,} identifiers through one `--rate-limit 250`", ""]
        lines += [
            "| language | mode | total req/s | vs limit | failed | finish times s | slowest/fastest |",
            "|---|---|---:|---:|---:|---|---:|",
        ]
        for lang in [x for x in langs if x != "node"]:
            for mode in ["adaptive", "fixed"]:
                mock = Mock("--rate-limit", "250")
                t0 = time.perf_counter()
                procs = [
                    subprocess.Popen(cmd(lang, mock.url, per, mode, f"P{k}"), stdout=subprocess.PIPE, text=True)
                    for k in range(4)
                ]
                results = []
                for p in procs:
                    out, _ = p.communicate(timeout=1800)
                    results.append(json.loads(out.strip().splitlines()[-1]))
                wall = time.perf_counter() - t0
                stats = mock.stats()
                mock.stop()
                times = sorted(r["elapsed_s"] for r in results)
                failed = sum(r["failed"] for r in results)
                rps = stats["distinct"] / 100 / wall
                rows.append(
                    {"scenario": "four", "lang": lang, "mode": mode, "wall_s": wall, "times": times, "failed": failed}
                )
                lines.append(
                    f"| {lang} | {mode} | {rps:.0f} | {rps / 250:.0%} | {failed:,} | {', '.join(f'{t:.1f}' for t in times)} | {times[-1] / times[0]:.2f}x |"
                )
                print(lines[-1], flush=True)

    if "3" in a.only:
        n = 1_000_000 if a.quick else 10_000_000
        lines += ["", f"### 3. {n:,} identifiers from a generator (unlimited mock)", ""]
        lines += ["| language | peak RSS growth MB | identifiers/s | failed |", "|---|---:|---:|---:|"]
        for lang in langs:
            mock = Mock()
            r = run(lang, mock.url, n, "adaptive")
            mock.stop()
            growth = (r["rss_peak_kb"] - r["rss_start_kb"]) / 1024
            rows.append({"scenario": "memory", "growth_mb": growth, **r})
            lines.append(f"| {lang} | {growth:.1f} | {r['ids_per_s']:,.0f} | {r['failed']:,} |")
            print(lines[-1], flush=True)

    if "4" in a.only:
        ideal = 1000 * 0.020 / 32
        lines += [
            "",
            f"### 4. 100,000 identifiers, unlimited mock at `--latency-ms 20`; ideal {ideal:.3f} s at 32 in flight",
            "",
        ]
        lines += ["| language | mode | elapsed s | vs ideal | failed |", "|---|---|---:|---:|---:|"]
        for lang in langs:
            for mode in ["adaptive", "fixed"]:
                mock = Mock("--latency-ms", "20")
                r = run(lang, mock.url, 100_000, mode)
                mock.stop()
                rows.append({"scenario": "latency20", **r})
                lines.append(
                    f"| {lang} | {mode} | {r['elapsed_s']:.2f} | {r['elapsed_s'] / ideal:.2f}x | {r['failed']:,} |"
                )
                print(lines[-1], flush=True)

    (TARGET / "preload-bench.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
