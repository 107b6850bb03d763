#!/usr/bin/env python3
"""Soak and load: per language, 200,000 calls through one client with 1% injected faults and
10,000 calls in flight at once, against a release partly-mock started with --chaos-rate 0.01.

Reports calls per second, resident memory at start and end, and checks that every outcome is
accounted for (successes + documented errors = calls made). Not a CI gate; see
docs/reliability.md for the figures and `make soak` to reproduce them.

    python3 tests/bench/soak.py [--calls 200000] [--concurrency 10000] [--skip-build]
"""

from __future__ import annotations

import argparse
import sys

from run import BENCH, NODE_DIR, PY, TARGET, Mock, run_client, setup


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--concurrency", type=int, default=10_000)
    ap.add_argument("--chaos-rate", type=float, default=0.01)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    setup(args.skip_build)
    n, c = str(args.calls), str(args.concurrency)
    clients = {
        "rust": [
            str(TARGET / "release" / "partly-bench"),
            "--client",
            "partly",
            "--scenario",
            "soak",
            "--calls",
            n,
            "--concurrency",
            c,
            "--url",
        ],
        "python (asyncio)": [
            str(PY),
            str(BENCH / "python" / "bench_client.py"),
            "--client",
            "partly-async",
            "--scenario",
            "soak",
            "--calls",
            n,
            "--concurrency",
            c,
            "--url",
        ],
        "node": [
            "node",
            str(NODE_DIR / "bench_client.mjs"),
            "--client",
            "partly",
            "--scenario",
            "soak",
            "--calls",
            n,
            "--concurrency",
            c,
            "--url",
        ],
    }
    print(
        f"\n{args.calls:,} calls of jobs.get per language, {args.concurrency:,} in flight, "
        f"{args.chaos_rate:.0%} of calls faulted by the mock (503/500/429 with retry-after 0, HTML 502, "
        "dropped connection, truncated body, connection closed after the answer)\n"
    )
    print("| language | calls/s | ok | errors (after retries) | accounted | RSS start MB | RSS end MB | peak RSS MB |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    failed = False
    for lang, cmd in clients.items():
        with Mock("--chaos-rate", str(args.chaos_rate)) as mock:
            r = run_client(cmd + [mock.url], pin=False)
        errs = ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())) or "none"
        ok = r["accounted"] == r["calls"]
        failed |= not ok
        print(
            f"| {lang} | {r['calls_per_s']:,.0f} | {r['ok']:,} | {errs} | {r['accounted']:,} of {r['calls']:,}"
            f"{'' if ok else ' LOST'} | {r['rss_start_kb'] / 1024:.1f} | {r['rss_end_kb'] / 1024:.1f} | {r['max_rss_kb'] / 1024:.1f} |",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
