"""Smoke test of an installed `partly` wheel or sdist (scripts/dist.py check): imports from the
installed package only, never from a checkout, and needs nothing but the package."""

import asyncio
import pathlib
import sys

import partly
import partly.testing

here = pathlib.Path(partly.__file__).resolve()
assert "site-packages" in here.parts, f"partly was imported from {here}, not from the installed package"

with partly.testing.MockServer() as mock:
    with mock.client() as client:
        job = client.jobs.get(external=partly.testing.DEMO_JOB_EXTERNAL_ID)  # a typed call
        assert job.id == partly.testing.DEMO_JOB_ID, job
        assert job.status.type == "draft", job.status
        try:
            client.jobs.get(external="no-such-job")
        except partly.NotFoundError as error:  # an error class, with its fields
            assert error.status == 404 and error.method == "jobs.get", repr(error)
        else:
            raise AssertionError("a missing job did not raise NotFoundError")
        mock.inject_fault(method="tier1.prepare", status=503, headers={"retry-after": "0"})
        client.tier1.prepare(["JH4KA7561PC008269"])  # retried once, then accepted
        assert [r.method for r in mock.requests()][-2:] == ["tier1.prepare", "tier1.prepare"]

    async def main() -> None:
        async with mock.async_client() as aclient:
            job = await aclient.jobs.get(id=partly.testing.DEMO_JOB_ID)
            assert job.external_id == partly.testing.DEMO_JOB_EXTERNAL_ID

    asyncio.run(main())

print(f"smoke: partly {partly.VERSION} on CPython {sys.version.split()[0]} from {here.parent}: ok")
