// Smoke test of the installed npm packages as ES modules (scripts/dist.py check).
import assert from 'node:assert/strict';
import { Client, NotFoundError, VERSION } from 'partly';
import { MockServer, DEMO } from 'partly/testing';

const mock = await MockServer.start();
try {
  const client = new Client({ baseUrl: mock.url, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
  const job = await client.jobs.get({ id: DEMO.DEMO_JOB_ID });
  assert.equal(job.external_id, DEMO.DEMO_JOB_EXTERNAL_ID);
  await assert.rejects(client.jobs.get({ external: 'no-such-job' }), NotFoundError);
  await client.close();
} finally {
  await mock.stop();
}
console.log(`smoke: partly ${VERSION} on node ${process.versions.node} (ES module): ok`);
