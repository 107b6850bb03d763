#!/usr/bin/env python3
"""Side-by-side benchmarks of the Partly SDK against the clients users would otherwise write.

One run, one machine: a release `partly-mock` pinned to CPU 0, each client process pinned to
CPU 1 (taskset), the same calls (jobs.get of the seeded job, a jobs.insert upsert, a
tier1.prepare of 100 vehicles). Each client process prints one JSON line (wall seconds, CPU
seconds, peak RSS); this script prints one table with calls/s, client CPU per 1,000 calls and
peak memory, and the ratios the targets in RESULTS.md are stated in.

    make bench                  # everything (about 10 minutes)
    python3 tests/bench/run.py --quick   # fewer calls, for a smoke run

Never part of `make test`: timings are evidence, not gates.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VENV = ROOT / ".venv-bench"
PY = VENV / "bin" / "python"
NODE_DIR = BENCH / "node"

MOCK_CPU = "0"
CLIENT_CPU = "1"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sh(cmd: list[str], **kw) -> None:
    log("+ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kw)


class Mock:
    """A release partly-mock on CPU 0, stopped by PID."""

    def __init__(self, *extra: str) -> None:
        exe = TARGET / "release" / "partly-mock"
        self.proc = subprocess.Popen(
            ["taskset", "-c", MOCK_CPU, str(exe), "--port", "0", "--log-capacity", "0", *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"partly-mock did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.ca: str | None = None
        if "--tls" in extra:
            ca = self.proc.stdout.readline().strip()
            if not ca.startswith("ca certificate "):
                self.stop()
                raise RuntimeError(f"partly-mock --tls printed no CA line: {ca!r}")
            self.ca = ca.removeprefix("ca certificate ")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Mock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_client(cmd: list[str], env: dict[str, str] | None = None, pin: bool = True) -> dict:
    full = (["taskset", "-c", CLIENT_CPU] if pin else []) + cmd
    out = subprocess.run(full, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


@dataclass
class Row:
    group: str
    client: str
    calls_per_s: float
    cpu_ms_per_1000: float
    peak_rss_mb: float
    extra: dict = field(default_factory=dict)


def best_of(n: int, fn) -> dict:
    """Runs fn n times and keeps the run with the highest throughput (least disturbed)."""
    runs = [fn() for _ in range(n)]
    return max(runs, key=lambda r: r["calls"] / r["wall_s"])


def row(group: str, client: str, r: dict) -> Row:
    return Row(
        group=group,
        client=client,
        calls_per_s=r["calls"] / r["wall_s"],
        cpu_ms_per_1000=r["cpu_s"] / r["calls"] * 1e6,
        peak_rss_mb=r["max_rss_kb"] / 1024,
        extra=r,
    )


# ---------------------------------------------------------------------------------------------
# Setup: release builds and the alternatives, from the package registries.


def setup(skip_build: bool) -> None:
    if skip_build:
        return
    sh(["cargo", "build", "--release", "-p", "partly-mock", "-p", "partly-bench"], cwd=ROOT)
    if not PY.exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
    sh([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip", "maturin>=1.9,<2", "requests", "httpx", "aiohttp"])
    # A real (non-editable) install of a release wheel: an editable install would share
    # bindings-python/python/partly/_native.abi3.so with the test venv's debug build.
    wheels = TARGET / "bench-wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    sh(
        [
            str(PY),
            "-m",
            "maturin",
            "build",
            "--release",
            "-q",
            "-o",
            str(wheels),
            "-m",
            str(ROOT / "bindings-python" / "Cargo.toml"),
        ]
    )
    sh([str(PY), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *map(str, wheels.glob("*.whl"))])
    # The dev tools, then a release build of the native module (partly.<platform>.node, which
    # the package loads in a checkout) for measurements.
    sh(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT / "bindings-node")
    sh(["npm", "run", "build", "--silent"], cwd=ROOT / "bindings-node")
    sh(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR)


# ---------------------------------------------------------------------------------------------
# The runs.

SCENARIOS = ["get", "insert", "prepare"]


# How each language's benchmark client is started (the arguments after it are the same).
LAUNCHERS = {
    "rust": lambda: [str(TARGET / "release" / "partly-bench")],
    "python": lambda: [str(PY), str(BENCH / "python" / "bench_client.py")],
    "node": lambda: ["node", "--expose-gc", str(NODE_DIR / "bench_client.mjs")],
}


def client_cmd(lang: str, client: str, scenario: str, url: str, calls: int, conc: int = 1, **kw: object) -> list[str]:
    """The command that runs `client` of `lang` (rust, python, node) through `scenario`; extra
    keywords become `--flag value` options (the Rust client's `--warm-calls`, `--http2`, ...)."""
    cmd = LAUNCHERS[lang]() + ["--client", client, "--scenario", scenario, "--url", url]
    cmd += ["--calls", str(calls), "--concurrency", str(conc)]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    return cmd


def rust_cmd(client: str, scenario: str, url: str, calls: int, conc: int = 1, **kw: object) -> list[str]:
    return client_cmd("rust", client, scenario, url, calls, conc, **kw)


def py_cmd(client: str, scenario: str, url: str, calls: int, conc: int = 1) -> list[str]:
    return client_cmd("python", client, scenario, url, calls, conc)


def node_cmd(client: str, scenario: str, url: str, calls: int, conc: int = 1) -> list[str]:
    return client_cmd("node", client, scenario, url, calls, conc)


def numbers_job() -> str:
    """The seeded job with 500 more numbers (sensor readings, counters, money), 6 of which no
    double holds exactly (issue 10's lossless numbers): what `jobs.get` answers in the
    `numbers` group. Written by hand: json.dumps cannot write 1e400."""
    readings = ",".join(f"{(i * 7919 % 100000) / 1000:.3f}" for i in range(300))
    counters = ",".join(str(i * 104729) for i in range(194))
    exact = "1e400,123456789012345678901234567890,3.14159265358979323846264338327950288,9007199254740993,1e-400,-98765432109876543210"
    return (
        '{"id":"497f6eca-6276-4993-bfeb-53cbbbba6f08","site_id":"2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85",'
        '"status":{"type":"draft"},"images":[],"claim_number":"CLM-2026-118204","job_number":"J-04817",'
        '"external_id":"CCC-2026-04817","work_provider_id":null,"vehicle":{"make":"Toyota","year":2019},'
        f'"telemetry":{{"readings":[{readings}],"counters":[{counters}],"exact":[{exact}]}}}}'
    )


def inject_fault(url: str, fault: dict) -> None:
    req = urllib.request.Request(
        f"{url}/__mock/faults",
        data=json.dumps(fault).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer calls, one repetition")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument(
        "--only", default="", help="comma list of groups: rust,python,asyncio,node,bulk,tls,cold,memory,numbers"
    )
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    if shutil.which("taskset") is None:
        log("taskset is needed (util-linux)")
        return 2
    setup(args.skip_build)
    only = set(filter(None, args.only.split(",")))
    want = lambda g: not only or g in only  # noqa: E731
    n = 500 if args.quick else 3000
    reps = 1 if args.quick else 3
    rows: list[Row] = []
    notes: list[str] = []

    with Mock() as mock:
        url = mock.url

        def group(label: str, lang: str, clients: list[str], scenario: str, calls: int, conc: int = 1) -> None:
            """One row per client of `lang`: the best of `reps` runs of `scenario`."""
            for c in clients:
                cmd = client_cmd(lang, c, scenario, url, calls, conc)
                rows.append(row(label, c, best_of(reps, lambda: run_client(cmd))))

        for sc in SCENARIOS:
            calls = n // 5 if sc == "prepare" else n
            if want("rust"):
                group(f"rust {sc}", "rust", ["partly", "reqwest"], sc, calls)
            if want("python"):
                group(f"python sync {sc}", "python", ["partly", "requests", "httpx"], sc, calls)
        for conc in [1, 64]:
            calls = n if conc == 1 else n * 2
            if want("asyncio"):
                group(
                    f"python asyncio get x{conc}",
                    "python",
                    ["partly-async", "httpx-async", "aiohttp"],
                    "get",
                    calls,
                    conc,
                )
            if want("node"):
                group(f"node get x{conc}", "node", ["partly", "fetch", "undici"], "get", calls, conc)
            if want("rust") and conc == 64:
                group(f"rust get x{conc}", "rust", ["partly", "reqwest"], "get", calls, conc)
        if want("memory"):
            big = 20_000 if args.quick else 200_000
            for label, cmd in [
                ("rust partly", rust_cmd("partly", "memory", url, big, 8, warm_calls=1000)),
                ("python partly", py_cmd("partly", "memory", url, big, 8)),
                ("node partly", node_cmd("partly", "memory", url, big, 8)),
            ]:
                r = run_client(cmd)
                growth = (r["rss_end_kb"] - r["rss_after_warm_kb"]) / 1024
                notes.append(
                    f"memory {label}: RSS after 1,000 calls {r['rss_after_warm_kb'] / 1024:.1f} MB, "
                    f"after {big:,} more {r['rss_end_kb'] / 1024:.1f} MB (growth {growth:+.2f} MB)"
                )
                rows.append(row(f"memory {big:,} calls", label, r))

    if want("numbers"):
        # Lossless numbers (issue 10): every client decodes the same jobs.get answer, first the
        # seeded job, then the job with 500 more numbers; partly keeps each number exactly
        # (Rust: as written; Python: int/float/Decimal; Node: number/LosslessNumber), the
        # alternatives decode into floats (json.loads, JSON.parse; bare reqwest's serde_json
        # shares the workspace's arbitrary_precision, so it is lossless too).
        for body in ["seeded job", "job + 500 numbers"]:
            with Mock() as nm:
                if body != "seeded job":
                    inject_fault(
                        nm.url,
                        {
                            "method": "jobs.get",
                            "times": 4_000_000_000,
                            "status": 200,
                            "body": numbers_job(),
                            "headers": {"content-type": "application/json"},
                        },
                    )
                u = nm.url
                for c in ["partly", "reqwest"]:
                    rows.append(
                        row(f"numbers rust, {body}", c, best_of(reps, lambda: run_client(rust_cmd(c, "get", u, n))))
                    )
                for c in ["partly", "requests", "httpx"]:
                    rows.append(
                        row(
                            f"numbers python sync, {body}", c, best_of(reps, lambda: run_client(py_cmd(c, "get", u, n)))
                        )
                    )
                for c in ["partly", "fetch", "undici"]:
                    rows.append(
                        row(f"numbers node x1, {body}", c, best_of(reps, lambda: run_client(node_cmd(c, "get", u, n))))
                    )
        for lang in ["rust", "python sync", "node x1"]:
            plain = {r.client: r for r in rows if r.group == f"numbers {lang}, seeded job"}
            heavy = {r.client: r for r in rows if r.group == f"numbers {lang}, job + 500 numbers"}
            parts = [f"{c} {heavy[c].cpu_ms_per_1000 / plain[c].cpu_ms_per_1000:.2f}x" for c in plain if c in heavy]
            notes.append(f"numbers, {lang}: CPU per call with 500 more numbers vs the seeded job: " + ", ".join(parts))

    if want("bulk"):
        ids = 2_000 if args.quick else 10_000
        with Mock("--latency-ms", "20") as slow:
            r = run_client(rust_cmd("partly", "bulk", slow.url, ids, 8))
            seq = run_client(py_cmd("httpx", "bulk-sequential", slow.url, ids))
            py_bulk = run_client(py_cmd("partly", "bulk", slow.url, ids, 8))
            py_bulk16 = run_client(py_cmd("partly", "bulk", slow.url, ids, 16))
        requests_n = ids // 100
        ideal = requests_n / 8 * 0.020
        notes.append(
            f"bulk {ids:,} vehicles at 20 ms latency: partly (Rust) {r['wall_s']:.2f} s, partly (Python) {py_bulk['wall_s']:.2f} s, "
            f"httpx sequential loop {seq['wall_s']:.2f} s, ideal {ideal:.2f} s (= {requests_n} requests / 8 in flight x 20 ms); "
            f"speed-up vs loop {seq['wall_s'] / py_bulk['wall_s']:.1f}x (at most {seq['wall_s'] / ideal:.1f}x at 8 in flight), "
            f"vs ideal {py_bulk['wall_s'] / ideal:.2f}x; with concurrency=16: {py_bulk16['wall_s']:.2f} s, "
            f"{seq['wall_s'] / py_bulk16['wall_s']:.1f}x the loop, {py_bulk16['wall_s'] / (ideal / 2):.2f}x its ideal of {ideal / 2:.3f} s"
        )

    if want("tls"):
        # HTTP/1.1 vs HTTP/2 over TLS for prepare_all (Rust core; the bindings share its
        # transport): the default of `http2` (core/src/config.rs, defaults::HTTP2) is chosen
        # from these rows. Without latency the mock's CPU is the limit; at 20 ms it is the
        # number of requests in flight.
        ids = 50_000 if args.quick else 300_000
        for latency in ["0", "20"]:
            n_ids = ids if latency == "0" else ids // 3
            with Mock("--tls", "--latency-ms", latency) as tls:
                for conc in [16, 64]:
                    for proto, flag in [("HTTP/1.1", "false"), ("HTTP/2", "true")]:
                        r = best_of(
                            reps,
                            lambda: run_client(
                                rust_cmd("partly", "bulk", tls.url, n_ids, conc, http2=flag, ca_bundle=tls.ca)
                            ),
                        )
                        rows.append(row(f"tls prepare_all x{conc}, {latency} ms latency", proto, r))

    if want("cold"):

        def cold(cmd: list[str]) -> float:
            times = []
            for _ in range(15):
                t = time.perf_counter()
                subprocess.run(["taskset", "-c", CLIENT_CPU, *cmd], check=True, capture_output=True)
                times.append(time.perf_counter() - t)
            return statistics.median(times) * 1000

        base = cold([str(PY), "-c", "pass"])
        for mod in ["partly", "httpx", "requests", "aiohttp"]:
            notes.append(
                f"cold start: import {mod}: {cold([str(PY), '-c', f'import {mod}']) - base:.1f} ms "
                f"(median of 15, interpreter start-up of {base:.1f} ms subtracted)"
            )
        nbase = cold(["node", "-e", "0"])
        nt = cold(["node", "-e", f"require({json.dumps(str(ROOT / 'bindings-node'))})"])
        notes.append(f"cold start: require('partly'): {nt - nbase:.1f} ms (node start-up of {nbase:.1f} ms subtracted)")

    print_report(rows, notes)
    if args.json:
        args.json.write_text(json.dumps({"rows": [r.__dict__ for r in rows], "notes": notes}, indent=1))
    return 0


def print_report(rows: list[Row], notes: list[str]) -> None:
    print(
        f"\n## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()} "
        f"({os.cpu_count()} CPUs, {platform.processor() or platform.machine()}), mock on CPU {MOCK_CPU}, clients on CPU {CLIENT_CPU}\n"
    )
    print("| scenario | client | calls/s | vs first | client CPU ms / 1,000 calls | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|")
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.group, []).append(r)
    for g, rs in groups.items():
        first = rs[0]
        for r in rs:
            ratio = r.calls_per_s / first.calls_per_s if first.calls_per_s else 0
            print(
                f"| {g} | {r.client} | {r.calls_per_s:,.0f} | {ratio:.2f}x | {r.cpu_ms_per_1000:,.0f} | {r.peak_rss_mb:.1f} |"
            )
    if notes:
        print()
        for n in notes:
            print(f"- {n}")


if __name__ == "__main__":
    sys.exit(main())
