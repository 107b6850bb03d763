'use strict';
// Many calls at once through one client, and the package in worker_threads.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const { startMock, requestsFor, DEMO } = require('./support');

const EXT = DEMO.DEMO_JOB_EXTERNAL_ID;

test('1,000 concurrent calls through one client', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const started = Date.now();
  const jobs = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      i % 2 ? client.jobs.get({ external: EXT }) : client.jobs.get({ id: DEMO.DEMO_JOB_ID }),
    ),
  );
  const took = Date.now() - started;
  assert.equal(jobs.length, 1000);
  assert.ok(jobs.every((j) => j.id === DEMO.DEMO_JOB_ID));
  assert.equal(requestsFor(mock, 'jobs.get').length, 1000);
  assert.equal(client.inFlight, 0);
  t.diagnostic(`1000 calls in ${took} ms`);
});

test('1,000 concurrent calls of every kind, some failing, settle each with its own result', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const calls = Array.from({ length: 1000 }, (_, i) => {
    switch (i % 4) {
      case 0:
        return client.jobs.get({ external: EXT }).then((j) => j.external_id);
      case 1:
        return client.jobs.get({ external: `missing-${i}` }).catch((e) => e.name);
      case 2:
        return client.tier1.prepare([`VIN${i}`]).then(() => 'prepared');
      default:
        return client.call('businesses.list', {}).then((r) => r.items.length);
    }
  });
  const results = await Promise.all(calls);
  results.forEach((r, i) => {
    assert.deepEqual(r, [EXT, 'NotFoundError', 'prepared', 1][i % 4], `call ${i}`);
  });
});

function runWorker(workerData) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'fixtures', 'worker.js'), { workerData });
    let message;
    worker.on('message', (m) => {
      message = m;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`worker exited with ${code}`))));
  });
}

test('several worker_threads at once, each with its own mock and client, exit by themselves', async () => {
  const results = await Promise.all([0, 1, 2, 3].map((n) => runWorker({ n, calls: 50 })));
  for (const [n, r] of results.entries()) {
    assert.equal(r.n, n);
    assert.equal(r.ok, 50);
    assert.equal(r.notFound, 'NotFoundError');
    assert.equal(r.instanceOk, true, 'instanceof works inside a worker');
    assert.equal(r.logged, 51);
  }
});

test('workers share a mock of the main thread, with their own process.env', async (t) => {
  const mock = await startMock(t);
  const results = await Promise.all([0, 1, 2].map((n) => runWorker({ n, calls: 20, url: mock.url, env: true })));
  assert.ok(results.every((r) => r.ok === 20));
  assert.equal(requestsFor(mock, 'jobs.get').length, 3 * 21);
});

test('terminating a worker with calls in flight does not disturb the process', async (t) => {
  const mock = await startMock(t);
  mock.injectFault({ method: 'jobs.get', times: 10, delayMs: 3000 });
  const worker = new Worker(path.join(__dirname, 'fixtures', 'worker.js'), {
    workerData: { n: 9, calls: 10, url: mock.url, hang: true },
  });
  await new Promise((resolve) => worker.once('message', resolve));
  const code = await worker.terminate();
  assert.equal(code, 1);
  const job = await mock.client().jobs.get({ external: EXT });
  assert.equal(job.external_id, EXT, 'the module still works on the main thread');
});
