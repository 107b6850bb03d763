"""One bulk-preload benchmark process (Python): ``prepare_all`` of ``n`` identifiers from a
generator (``adaptive``, the SDK's default), or ``fixed``: the behaviour before the adaptive
limiter (batches of 100, 8 in flight, default retries). Prints one JSON line. Run by
``tests/bench/preload.py``."""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List

import partly

KEY = partly._native.DEMO_API_KEY
INTEGRATION = partly._native.DEMO_INTEGRATION_ID


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--mode", default="adaptive")
    ap.add_argument("--prefix", default="P0")
    a = ap.parse_args()
    client = partly.Client(base_url=a.url, api_key=KEY, integration_id=INTEGRATION)

    def ids() -> Iterator[str]:
        for i in range(a.n):
            yield f"{a.prefix}-{i:09d}"

    rss0 = rss_kb()
    t0 = time.perf_counter()
    throttled = None
    if a.mode == "fixed":
        ok = bad = 0
        lock = threading.Lock()
        slots = threading.Semaphore(16)

        def send(batch: List[str]) -> None:
            nonlocal ok, bad
            try:
                client.tier1.prepare(batch)
                with lock:
                    ok += len(batch)
            except partly.PartlyError:
                with lock:
                    bad += len(batch)
            finally:
                slots.release()

        with ThreadPoolExecutor(8) as pool:
            batch: List[str] = []
            for vin in ids():
                batch.append(vin)
                if len(batch) == 100:
                    slots.acquire()
                    pool.submit(send, batch)
                    batch = []
            if batch:
                slots.acquire()
                pool.submit(send, batch)
        accepted, failed = ok, bad
    else:
        report = client.tier1.prepare_all(ids())
        accepted, failed, throttled = report.accepted, report.failed, report.throttled
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "lang": "python",
                "mode": a.mode,
                "n": a.n,
                "elapsed_s": elapsed,
                "accepted": accepted,
                "failed": failed,
                "throttled": throttled,
                "rss_start_kb": rss0,
                "rss_peak_kb": peak,
                "ids_per_s": a.n / elapsed,
            }
        )
    )


if __name__ == "__main__":
    main()
