"""The asyncio client: the same methods as ``partly.Client``, awaited. Shows concurrent calls,
a deadline with ``asyncio.wait_for`` (cancelling a call aborts its HTTP request), and errors.

Runs against ``PARTLY_BASE_URL`` with ``PARTLY_API_KEY`` and ``PARTLY_INTEGRATION_ID``, or,
when ``PARTLY_BASE_URL`` is not set, against a mock started inside this process.
"""

from __future__ import annotations

import asyncio
import os
from typing import List

import partly
from partly.testing import MockServer

JOB_REFERENCE = "CCC-2026-04817"  # a job the mock knows
SITE_ID = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85"


async def run(client: partly.AsyncClient) -> None:
    # One call.
    job = await client.jobs.get(external=JOB_REFERENCE)
    print(f"1. {job.external_id}: {job.status.type}, {len(job.images)} image(s), vehicle {job.vehicle}")

    # Many at once: one client serves any number of concurrent tasks.
    references = [f"ASYNC-{i:03}" for i in range(20)]
    created: List[partly.Job] = await asyncio.gather(
        *(client.jobs.insert(external=ref, data={"repairer_site_id": SITE_ID}) for ref in references)
    )
    print(f"2. upserted {len(created)} jobs concurrently")

    # A deadline of your own: the call is cancelled (and its request aborted) when it passes.
    try:
        await asyncio.wait_for(client.call("businesses.list"), timeout=5)
        print("3. businesses.list answered within the deadline")
    except asyncio.TimeoutError:
        print("3. businesses.list did not answer within 5 s")

    # Errors are the same classes as with the blocking client.
    results = await asyncio.gather(
        client.jobs.get(external=JOB_REFERENCE),
        client.jobs.get(external="NO-SUCH-JOB"),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, partly.NotFoundError):
            print(f"4. not found: {result} (status {result.status})")
        elif isinstance(result, partly.Job):
            print(f"4. found {result.id}")

    # prepare_all reports progress on the event loop.
    report = await client.tier1.prepare_all(
        [f"VIN{i:05}" for i in range(120)],
        on_progress=lambda p: print(f"5. progress {p.done}/{p.total}"),
    )
    print(f"   accepted {report.accepted} of {report.total}")


async def main() -> None:
    if os.environ.get("PARTLY_BASE_URL"):
        async with partly.AsyncClient() as client:  # settings from the environment
            await run(client)
    else:
        with MockServer() as mock:
            async with mock.async_client() as client:
                await run(client)


if __name__ == "__main__":
    asyncio.run(main())
