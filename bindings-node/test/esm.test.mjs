// The package as an ES module: named and default imports, the same objects as require().
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import partlyDefault, { Client, NotFoundError, PartlyError, AbortError, VERSION, authorizeUrl } from 'partly';
import { MockServer, DEMO } from 'partly/testing';

const require = createRequire(import.meta.url);

test('import and require give the same classes', () => {
  const cjs = require('partly');
  assert.equal(Client, cjs.Client);
  assert.equal(NotFoundError, cjs.NotFoundError);
  assert.equal(partlyDefault, cjs);
  assert.equal(MockServer, require('partly/testing').MockServer);
  assert.equal(typeof VERSION, 'string');
  assert.equal(typeof authorizeUrl, 'function');
  assert.ok(new AbortError() instanceof PartlyError);
});

test('an ES module script uses the client and the mock', async () => {
  const mock = await MockServer.start();
  try {
    const client = mock.client();
    const job = await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
    assert.equal(job.id, DEMO.DEMO_JOB_ID);
    await assert.rejects(
      client.jobs.get({ external: 'missing' }),
      (e) => e instanceof NotFoundError && e instanceof require('partly').ApiError,
    );
  } finally {
    await mock.stop();
  }
});
