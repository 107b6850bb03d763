"""What ``on_progress`` costs per call in Python: ``prepare_all`` of 100,000 identifiers in
requests of 10 (10,000 progress calls) against the in-process mock, without a callback and with
one that does nothing; the median of 5 interleaved runs of each. Reported: wall time, and the
CPU time of the calling thread, where the progress objects are made and the callback runs
(far less disturbed by other load than wall time). Run with the test venv's Python after
``make python-develop`` (a debug build: compare before/after on the same build type)."""

from __future__ import annotations

import statistics
import time
from typing import Dict, List, Tuple

from partly import PrepareProgress
from partly.testing import MockServer

N = 100_000
BATCH = 10


def main() -> None:
    ids = [f"JH4KA7561PC{i:06d}" for i in range(N)]
    calls = [0]

    def on_progress(_: PrepareProgress) -> None:
        calls[0] += 1

    runs: Dict[bool, List[Tuple[float, float, int]]] = {False: [], True: []}
    with MockServer() as mock:
        client = mock.client()
        for _ in range(5):
            for with_cb in (False, True):
                calls[0] = 0
                wall, cpu = time.perf_counter(), time.thread_time()
                report = client.tier1.prepare_all(ids, batch_size=BATCH, on_progress=on_progress if with_cb else None)
                wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
                assert report.accepted == N, report
                runs[with_cb].append((wall, cpu, calls[0]))

    def med(with_cb: bool, i: int) -> float:
        return statistics.median(r[i] for r in runs[with_cb])

    n = runs[True][0][2]
    print(
        f"python: wall {med(False, 0):.3f} s -> {med(True, 0):.3f} s with on_progress ({n} calls): "
        f"{(med(True, 0) - med(False, 0)) / n * 1e6:.1f} us/call; calling-thread CPU "
        f"{med(False, 1):.3f} s -> {med(True, 1):.3f} s: {(med(True, 1) - med(False, 1)) / n * 1e6:.1f} us/call"
    )


if __name__ == "__main__":
    main()
