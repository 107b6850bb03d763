"""One benchmark client process for tests/bench/run.py.

Makes ``--calls`` calls of one scenario with ``--concurrency`` in flight through partly
(blocking or asyncio), requests, httpx (blocking or async) or aiohttp, each with the same
headers, JSON decoded into Python objects and one shared connection pool, and prints one JSON
line: wall seconds, CPU seconds (user + system, all threads), peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any, Callable

KEY = "pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71"
INTEGRATION = "6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60"
SITE = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85"
HEADERS = {
    "content-type": "application/json",
    "accept": "application/json",
    "authorization": f"Bearer {KEY}",
    "partly-integration-id": INTEGRATION,
}


def vins(i: int) -> list[str]:
    return [f"JH4KA7561PC{(i % 7) * 1000 + k:06d}" for k in range(100)]


def wire(scenario: str, i: int) -> tuple[str, dict[str, Any]]:
    if scenario in ("get", "memory"):
        return "jobs.get", {"identity": {"external": "CCC-2026-04817"}}
    if scenario == "insert":
        return "jobs.insert", {
            "data": {"repairer_site_id": SITE, "claim_number": f"CLM-{i}"},
            "identity": {"external": "BENCH-1"},
            "if_": {"exists": "update"},
        }
    if scenario == "prepare":
        return "tier1.prepare", {"identifiers": [{"chassis_number": v} for v in vins(i)]}
    raise SystemExit(f"unknown scenario {scenario}")


def rss_kb() -> int:
    import gc

    gc.collect()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def sync_caller(client: str, scenario: str, url: str) -> Callable[[int], Any]:
    if client == "partly":
        import partly

        c = partly.Client(api_key=KEY, integration_id=INTEGRATION, base_url=url)
        if scenario in ("get", "memory"):
            return lambda i: c.jobs.get(external="CCC-2026-04817")
        if scenario == "insert":
            return lambda i: c.jobs.insert(
                external="BENCH-1", data={"repairer_site_id": SITE, "claim_number": f"CLM-{i}"}, if_exists="update"
            )
        if scenario == "prepare":
            return lambda i: c.tier1.prepare(vins(i))
    if client == "requests":
        import requests

        s = requests.Session()

        def call(i: int) -> Any:
            method, body = wire(scenario, i)
            r = s.post(f"{url}/api/2026-01/{method}", data=json.dumps(body), headers=HEADERS, timeout=30)
            r.raise_for_status()
            return r.json()

        return call
    if client == "httpx":
        import httpx

        h = httpx.Client(timeout=30)

        def call(i: int) -> Any:
            method, body = wire(scenario, i)
            r = h.post(f"{url}/api/2026-01/{method}", content=json.dumps(body), headers=HEADERS)
            r.raise_for_status()
            return r.json()

        return call
    raise SystemExit(f"unknown blocking client {client}")


async def async_caller(client: str, scenario: str, url: str, concurrency: int) -> tuple[Callable[[int], Any], Any]:
    if client == "partly-async":
        import partly

        c = partly.AsyncClient(api_key=KEY, integration_id=INTEGRATION, base_url=url)
        return (lambda i: c.jobs.get(external="CCC-2026-04817")), None
    if client == "httpx-async":
        import httpx

        h = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=max(concurrency, 10)))

        async def call(i: int) -> Any:
            method, body = wire(scenario, i)
            r = await h.post(f"{url}/api/2026-01/{method}", content=json.dumps(body), headers=HEADERS)
            r.raise_for_status()
            return r.json()

        return call, h
    if client == "aiohttp":
        import aiohttp

        s = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(concurrency, 10)))

        async def call(i: int) -> Any:
            method, body = wire(scenario, i)
            async with s.post(f"{url}/api/2026-01/{method}", data=json.dumps(body), headers=HEADERS) as r:
                r.raise_for_status()
                return await r.json()

        return call, s
    raise SystemExit(f"unknown async client {client}")


def run_sync(call: Callable[[int], Any], n: int, concurrency: int) -> None:
    if concurrency == 1:
        for i in range(n):
            call(i)
        return
    import threading

    # `concurrency` threads sharing one counter: at most that many calls in flight and no
    # backlog of futures (Executor.map would submit all n at once and hold every result).
    it = iter(range(n))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                i = next(it, None)
            if i is None:
                return
            try:
                call(i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


async def run_async(call: Callable[[int], Any], n: int, concurrency: int) -> None:
    it = iter(range(n))

    async def worker() -> None:
        for i in it:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))


def measure(run: Callable[[int], Any], calls: int, concurrency: int, scenario: str) -> dict[str, Any]:
    run(max(20, concurrency))  # warm-up: connections, imports, caches
    after_warm = 0
    if scenario == "memory":
        run(1000)
        after_warm = rss_kb()
    c0, t0 = cpu_s(), time.perf_counter()
    run(calls)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    return {
        "calls": calls,
        "wall_s": wall,
        "cpu_s": cpu,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "rss_after_warm_kb": after_warm,
        "rss_end_kb": rss_kb(),
    }


def bulk(client: str, url: str, n: int, concurrency: int) -> dict[str, Any]:
    ids = [f"JH4KA7561PC{i:06d}" for i in range(n)]
    c0, t0 = cpu_s(), time.perf_counter()
    if client == "partly":
        import partly

        c = partly.Client(api_key=KEY, integration_id=INTEGRATION, base_url=url)
        report = c.tier1.prepare_all(ids, concurrency=concurrency)
        assert report.failed == 0, report
        requests_made = len(report.batches)
    elif client == "httpx":  # the loop a user would write: one request of 100 after another
        import httpx

        with httpx.Client(timeout=30) as h:
            requests_made = 0
            for k in range(0, n, 100):
                body = {"identifiers": [{"chassis_number": v} for v in ids[k : k + 100]]}
                r = h.post(f"{url}/api/2026-01/tier1.prepare", content=json.dumps(body), headers=HEADERS)
                r.raise_for_status()
                requests_made += 1
    else:
        raise SystemExit(f"bulk: unknown client {client}")
    return {
        "calls": requests_made,
        "identifiers": n,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": cpu_s() - c0,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


async def soak(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """``n`` calls through one AsyncClient with ``concurrency`` in flight; every outcome counted."""
    import partly

    rss_start = rss_kb()
    c = partly.AsyncClient(api_key=KEY, integration_id=INTEGRATION, base_url=url)
    ok = 0
    errors: dict[str, int] = {}
    it = iter(range(n))

    async def worker() -> None:
        nonlocal ok
        for _ in it:
            try:
                await c.jobs.get(external="CCC-2026-04817")
                ok += 1
            except partly.PartlyError as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1

    c0, t0 = cpu_s(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    wall = time.perf_counter() - t0
    await c.close()
    return {
        "calls": n,
        "concurrency": concurrency,
        "ok": ok,
        "errors": errors,
        "accounted": ok + sum(errors.values()),
        "wall_s": wall,
        "cpu_s": cpu_s() - c0,
        "calls_per_s": n / wall,
        "rss_start_kb": rss_start,
        "rss_end_kb": rss_kb(),
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=1)
    a = ap.parse_args()
    if a.scenario == "soak":
        out = asyncio.run(soak(a.url, a.calls, a.concurrency))
    elif a.scenario in ("bulk", "bulk-sequential"):
        out = bulk(a.client, a.url, a.calls, a.concurrency)
    elif a.client.endswith("-async") or a.client == "aiohttp":

        async def go() -> dict[str, Any]:
            call, closer = await async_caller(a.client, a.scenario, a.url, a.concurrency)

            async def run(n: int) -> None:
                await run_async(call, n, a.concurrency)

            await run(max(20, a.concurrency))
            after_warm = 0
            if a.scenario == "memory":
                await run(1000)
                after_warm = rss_kb()
            c0, t0 = cpu_s(), time.perf_counter()
            await run(a.calls)
            results = {
                "calls": a.calls,
                "wall_s": time.perf_counter() - t0,
                "cpu_s": cpu_s() - c0,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "rss_after_warm_kb": after_warm,
                "rss_end_kb": rss_kb(),
            }
            if closer is not None:
                await closer.aclose() if hasattr(closer, "aclose") else await closer.close()
            return results

        out = asyncio.run(go())
    else:
        call = sync_caller(a.client, a.scenario, a.url)
        out = measure(lambda n: run_sync(call, n, a.concurrency), a.calls, a.concurrency, a.scenario)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
