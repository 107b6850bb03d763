"""The whole integrator flow with the blocking client: authorize URL, install, upsert a job,
fetch it by id and by your own reference, preload 250 vehicles with progress, handle errors.

Runs against ``PARTLY_BASE_URL`` (``make demo`` starts a local partly-mock and sets it). Without
it, the script starts a mock inside this process (``partly.testing.MockServer``), so
``python examples/quickstart.py`` works anywhere. With a mock, the access code that a real
install gets from the OAuth redirect is minted through the mock's control surface instead.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from typing import Optional, Tuple

import partly
from partly.testing import MockServer

CLIENT_ID = "partly-demo-client"  # issued by Partly for your integration
SITE_ID = "2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85"  # the repairer site (the mock's demo site)


def mint_code(base_url: str, mock: Optional[MockServer]) -> Tuple[str, str, str]:
    """Demo only: an access code, as Partly's redirect would deliver one."""
    if mock is not None:
        minted = mock.mint_access_code()
        return minted.access_code, minted.client_id, minted.client_secret
    request = urllib.request.Request(
        f"{base_url}/__mock/access_codes", data=b"{}", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    return str(answer["access_code"]), str(answer["client_id"]), str(answer["client_secret"])


def run(base_url: str, mock: Optional[MockServer]) -> None:
    # 1. Send the user's browser to Partly to approve the integration; keep the state.
    auth = partly.oauth.authorize_url(CLIENT_ID, "https://shop.example/partly/callback", ["repairer"])
    print(f"1. authorize at {auth.url}")

    # 2. Partly redirects back with ?code=...&state=...: check the state, then install.
    access_code, client_id, client_secret = mint_code(base_url, mock)
    returned_state = auth.state  # what the redirect carried
    if not partly.oauth.verify_state(auth.state, returned_state):
        raise SystemExit("state mismatch: possible CSRF")
    with partly.Client(base_url=base_url) as anonymous:  # integrations.insert needs no key
        installed = anonymous.integrations.insert(
            access_code=access_code, client_id=client_id, client_secret=client_secret
        )
    print(f"2. installed: {installed!r}")  # the repr hides the API key; store it somewhere safe

    # 3. From now on, a client with the integration's credentials. In production:
    #    partly.Client() reads PARTLY_API_KEY and PARTLY_INTEGRATION_ID from the environment.
    with partly.Client(base_url=base_url, api_key=installed.api_key, integration_id=installed.integration_id) as client:
        # 4. Upsert a job by your own reference.
        job = client.jobs.insert(
            external="SHOP-2026-0001",
            data={
                "repairer_site_id": SITE_ID,
                "claim_number": "CLM-2026-555",
                "job_number": "J-555",
                "vehicle": {"make": "Toyota", "model": "Corolla", "year": 2019},
            },
        )
        print(f"3. upserted job {job.id} ({job.status.type}), claim {job.claim_number}")

        # 5. Fetch it back by Partly's id and by your reference.
        by_id = client.jobs.get(id=job.id)
        by_ref = client.jobs.get(external="SHOP-2026-0001")
        assert by_id == by_ref
        print(f"4. fetched by id and by external id: {by_ref.external_id}")

        # 6. Preload 250 vehicles from a generator (read as needed): 3 requests, with progress.
        vins = (f"JH4KA7561PC{i:06}" for i in range(250))

        def show(p: partly.PrepareProgress) -> None:
            print(f"\r5. preparing vehicles: {p.done} done ({p.requests} requests)", end="", flush=True)

        report = client.tier1.prepare_all(vins, max_concurrency=2, on_progress=show)
        print(f"\n   accepted {report.accepted} of {report.total}, failed {report.failed}")
        for f in report.failures():
            print(f"   vehicle #{f.index} {f.identifier} failed: {f.error}")

        # 7. Errors are typed and explain themselves.
        try:
            client.jobs.get(external="NO-SUCH-JOB")
        except partly.NotFoundError as e:
            print(f"6. expected error: {e} [{type(e).__name__}; status {e.status}; trace {e.trace_id}]")
        except partly.PartlyError as e:
            print(f"6. unexpected error: {e!r}", file=sys.stderr)
            raise


def main() -> None:
    base_url = os.environ.get("PARTLY_BASE_URL")
    if base_url:
        run(base_url.rstrip("/"), None)
    else:
        with MockServer() as mock:
            print(f"(PARTLY_BASE_URL is not set: using a local mock at {mock.url})")
            run(mock.url, mock)


if __name__ == "__main__":
    main()
