'use strict';
// The whole integrator flow, end to end: authorize URL, install, upsert a job, fetch it by id
// and by your own reference, preload 250 vehicles with progress, a typed error and a cancelled
// call. Mirrors core/examples/integrator_flow.rs.
//
// Runs against PARTLY_BASE_URL when it is set (`make demo` starts a local partly-mock and sets
// it); otherwise it starts the mock in-process from `partly/testing`. With a mock, the access
// code a real install gets from the OAuth redirect is minted through the mock instead.
//
//   node examples/quickstart.js

const { Client, authorizeUrl, verifyState, NotFoundError, AbortError } = require('partly');

const CLIENT_ID = 'partly-demo-client';
const SITE_ID = '2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85';

async function main() {
  let baseUrl = process.env.PARTLY_BASE_URL;
  let mock = null;
  if (!baseUrl) {
    const { MockServer } = require('partly/testing');
    mock = await MockServer.start();
    baseUrl = mock.url;
  }

  // 1. Send the user's browser to Partly to approve the integration.
  const auth = authorizeUrl({
    clientId: CLIENT_ID,
    redirectUrl: 'https://shop.example/partly/callback',
    scopes: ['repairer'],
  });
  console.log(`1. authorize at ${auth.url}`);

  // 2. Partly redirects back with ?code=...&state=...; check the state, then install.
  const minted = mock ? mock.mintAccessCode() : await mintFromMock(baseUrl);
  const returnedState = auth.state; // what the redirect carried
  if (!verifyState(auth.state, returnedState)) throw new Error('state mismatch: possible CSRF');
  const anonymous = new Client({ baseUrl });
  const installed = await anonymous.integrations.insert({
    accessCode: minted.accessCode,
    clientId: minted.clientId,
    clientSecret: minted.clientSecret,
  });
  console.log(`2. installed: integration ${installed.integration_id} (store the api key; never print it)`);

  // 3. From now on, a client with the integration's credentials.
  const client = new Client({ baseUrl, apiKey: installed.api_key, integrationId: installed.integration_id });

  // 4. Upsert a job by our own reference.
  const job = await client.jobs.insert({
    external: 'SHOP-2026-0001',
    data: {
      repairer_site_id: SITE_ID,
      claim_number: 'CLM-2026-555',
      job_number: 'J-555',
      vehicle: { make: 'Toyota', model: 'Corolla', year: 2019 },
    },
  });
  console.log(`3. upserted job ${job.id} (${job.status.type}), claim ${job.claim_number}`);

  // 5. Fetch it back by Partly's id and by our reference.
  const byId = await client.jobs.get({ id: job.id });
  const byRef = await client.jobs.get({ external: 'SHOP-2026-0001' });
  if (byId.id !== byRef.id) throw new Error('fetched two different jobs');
  console.log(`4. fetched by id and by external id: ${byRef.external_id}`);

  // 6. Preload 250 vehicles from a generator (read as needed): 3 requests, with progress.
  function* vins() {
    for (let i = 0; i < 250; i++) yield `JH4KA7561PC${String(i).padStart(6, '0')}`;
  }
  const report = await client.tier1.prepareAll(vins(), {
    maxConcurrency: 2,
    onProgress: (p) =>
      console.log(`5. preparing vehicles: ${p.done} done (${p.requests} requests, ${p.inFlight} in flight)`),
  });
  console.log(`   accepted ${report.accepted} of ${report.total}, failed ${report.failed}`);
  for (const f of report.failures) {
    console.log(`   vehicle #${f.index} failed: ${f.error.message}`);
  }

  // 7. Errors are typed and explain themselves.
  try {
    await client.jobs.get({ external: 'NO-SUCH-JOB' });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    console.log(
      `6. expected error: ${error.message} [${error.name} ${error.code}; status ${error.status}; trace ${error.traceId}]`,
    );
  }

  // 8. Any call can be cancelled with an AbortSignal (AbortSignal.timeout(ms) gives a deadline).
  const controller = new AbortController();
  const pending = client.call('businesses.list', {}, { signal: controller.signal });
  controller.abort(); // e.g. the user navigated away
  try {
    await pending;
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
    console.log(`7. cancelled: ${error.message} (${error.code})`);
  }
  const businesses = await client.call('businesses.list', {});
  console.log(`8. businesses.list through the generic call: ${businesses.items.length} business(es)`);

  await client.close();
  await anonymous.close();
  if (mock) await mock.stop();
}

/** Demo only: asks the local mock for an access code, as Partly's redirect would deliver one. */
async function mintFromMock(baseUrl) {
  const res = await fetch(`${baseUrl.replace(/\/$/, '')}/__mock/access_codes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error(`the mock answered HTTP ${res.status}`);
  const v = await res.json();
  return { accessCode: v.access_code, clientId: v.client_id, clientSecret: v.client_secret };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
