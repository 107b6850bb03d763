'use strict';
// Smoke test of the installed npm packages (scripts/dist.py check), run from a project that
// installed `partly` from a registry: CommonJS, a typed call, an error class, partly/testing.
const assert = require('node:assert/strict');
const path = require('node:path');
const partly = require('partly');
const { MockServer, DEMO } = require('partly/testing');

// From the project's node_modules; or, for a checkout linked with `npm install <dir>`
// (scripts/dist.py check checkout), from that directory.
const where = require.resolve('partly');
const expected = process.env.PARTLY_SMOKE_PACKAGE_DIR;
if (expected) assert.ok(where.startsWith(expected + path.sep), `partly came from ${where}, not ${expected}`);
else assert.ok(where.includes(`${path.sep}node_modules${path.sep}`), `partly came from ${where}, not node_modules`);

(async () => {
  const mock = await MockServer.start();
  try {
    const client = mock.client();
    const job = await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
    assert.equal(job.id, DEMO.DEMO_JOB_ID);
    assert.equal(job.status.type, 'draft');
    await assert.rejects(client.jobs.get({ external: 'no-such-job' }), (error) => {
      assert.ok(error instanceof partly.NotFoundError, String(error));
      assert.equal(error.status, 404);
      return true;
    });
    await client.close();
  } finally {
    await mock.stop();
  }
  console.log(`smoke: partly ${partly.VERSION} on node ${process.versions.node} (CommonJS): ok`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
