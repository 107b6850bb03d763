// The integrator flow in TypeScript (type-checked with `tsc --strict --noEmit` by the test
// suite). Same steps as quickstart.js, against the in-process mock of `partly/testing`.

import {
  AbortError,
  Client,
  NotFoundError,
  PartlyError,
  RateLimitError,
  authorizeUrl,
  verifyState,
  type InstallResponse,
  type Job,
  type PrepareProgress,
  type PrepareReport,
  type VehicleIdentifier,
} from 'partly';
import { DEMO, MockServer, type RecordedRequest } from 'partly/testing';

async function main(): Promise<void> {
  const mock: MockServer = await MockServer.start({ latencyMs: 0 });
  try {
    // 1. The authorize URL, with a fresh state to keep in the user's session.
    const auth = authorizeUrl({
      clientId: DEMO.DEMO_CLIENT_ID,
      redirectUrl: 'https://shop.example/partly/callback',
      scopes: ['repairer'],
    });
    console.log(`authorize at ${auth.url}`);

    // 2. The redirect came back: check the state, trade the code for the key.
    const { accessCode, clientId, clientSecret } = mock.mintAccessCode();
    if (!verifyState(auth.state, auth.state)) throw new Error('state mismatch');
    const installer = new Client({ baseUrl: mock.url });
    const installed: InstallResponse = await installer.integrations.insert({ accessCode, clientId, clientSecret });

    // 3. A client with the integration's credentials, a per-attempt timeout and retries.
    const client = new Client({
      baseUrl: mock.url,
      apiKey: installed.api_key,
      integrationId: installed.integration_id,
      timeoutMs: 10_000,
      maxRetries: 2,
    });

    // 4. Upsert, then fetch by id and by reference.
    const job: Job = await client.jobs.insert({
      external: 'SHOP-2026-0001',
      data: { repairer_site_id: DEMO.DEMO_SITE_ID, claim_number: 'CLM-1', vehicle: { make: 'Toyota' } },
      ifExists: 'update',
    });
    const same: Job = await client.jobs.get({ id: job.id }, { timeoutMs: 5_000 });
    console.log(`${same.external_id} is ${same.status.type}; claim ${same.claim_number ?? '-'}`);

    // 5. Preload vehicles with progress; the report counts them and lists every failure.
    const vehicles: VehicleIdentifier[] = [
      'JH4KA7561PC008269',
      { plate: 'ABC123', region: 'NZ' },
      { chassis_number: 'KE20-123456' },
    ];
    await client.tier1.prepare(vehicles);
    const report: PrepareReport = await client.tier1.prepareAll(vehicles, {
      batchSize: 1,
      maxConcurrency: 2,
      onProgress: (p: PrepareProgress) => console.log(`${p.done}/${p.total ?? '?'}`),
    });
    for (const f of report.failures) {
      console.log(`#${f.index} failed: ${f.error.code}`);
    }

    // 6. Errors: classes with typed fields.
    try {
      await client.jobs.get({ external: 'NO-SUCH-JOB' });
    } catch (error) {
      if (error instanceof NotFoundError) {
        const status: number = error.status;
        console.log(`${error.name} ${status} ${error.errorType ?? ''} trace=${error.traceId ?? '-'}`);
      } else if (error instanceof RateLimitError) {
        console.log(`retry after ${error.retryAfter ?? '?'} s`);
      } else if (error instanceof PartlyError) {
        console.log(`${error.code}: ${error.message}`);
      } else {
        throw error;
      }
    }

    // 7. Cancellation.
    const controller = new AbortController();
    mock.injectFault({ method: 'jobs.get', delayMs: 2_000 });
    const slow = client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }, { signal: controller.signal });
    controller.abort();
    await slow.catch((error: unknown) => {
      if (!(error instanceof AbortError)) throw error;
    });

    // 8. Any method by name, typed by you.
    const list = await client.call<{ items: Array<{ id: string; name: string }> }>('businesses.list', {});
    console.log(list.items.map((b) => b.name).join(', '));

    const seen: RecordedRequest[] = mock.requests();
    console.log(`the mock saw ${seen.length} requests; client: ${JSON.stringify(client.settings)}`);
    await client.close();
    await installer.close();
  } finally {
    await mock.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
