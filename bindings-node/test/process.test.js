'use strict';
// The process: it exits by itself when its work is done, a Rust panic never kills it, a
// throwing progress callback does not crash it, loading the package starts no thread, and the
// production model (node:cluster workers forked after the primary made a call) works.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');

const { startMock, DEMO } = require('./support');

const ROOT = path.join(__dirname, '..');

/** Runs `node -e script` in the package directory; resolves with its exit code and output. */
function runNode(script, deadlineMs = 20000, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const started = Date.now();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the child did not exit within ${deadlineMs} ms (it hangs)\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, deadlineMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, took: Date.now() - started });
    });
  });
}

const PRELUDE = `
const { Client, NotFoundError } = require('partly');
const { MockServer, DEMO } = require('partly/testing');
`;

test('a script that made its calls exits by itself (mock stopped, client not closed)', async () => {
  const r = await runNode(`${PRELUDE}
(async () => {
  const mock = await MockServer.start();
  const client = mock.client();
  await Promise.all(Array.from({ length: 20 }, () => client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID })));
  await client.tier1.prepareAll(['A', 'B', 'C'], { batchSize: 1, onProgress: () => {} });
  await client.jobs.get({ external: 'missing' }).catch((e) => console.log(e.name));
  await mock.stop();
  console.log('done');
})();`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'NotFoundError\ndone\n');
});

test('nothing keeps the event loop alive: a running mock and idle pooled connections', async () => {
  const r = await runNode(`${PRELUDE}
(async () => {
  const mock = await MockServer.start();
  const client = mock.client();
  await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  console.log('done');
})();`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'done\n');
});

test('an aborted call and a closed client leave nothing behind either', async (t) => {
  const mock = await startMock(t);
  mock.injectFault({ method: 'jobs.get', times: 2, delayMs: 30000 });
  const r = await runNode(
    `${PRELUDE}
(async () => {
  const client = new Client({ baseUrl: process.env.MOCK_URL, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
  const aborted = client.jobs.get({ external: 'x' }, { signal: AbortSignal.timeout(50) }).catch((e) => e.name);
  const closed = new Client({ baseUrl: process.env.MOCK_URL, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
  const cut = closed.jobs.get({ external: 'x' }).catch((e) => e.name);
  setTimeout(() => closed.close({ abort: true }), 50);
  console.log(await aborted, await cut);
})();`,
    20000,
    { MOCK_URL: mock.url },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'AbortError AbortError\n');
  assert.ok(r.took < 10000, `exited after ${r.took} ms, though the server would answer after 30 s`);
});

test('a call in flight keeps the process alive until it settles', async (t) => {
  const mock = await startMock(t);
  mock.injectFault({ method: 'jobs.get', delayMs: 300 });
  const r = await runNode(
    `${PRELUDE}
const client = new Client({ baseUrl: process.env.MOCK_URL, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }).then((j) => console.log(j.external_id));
`,
    20000,
    { MOCK_URL: mock.url },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${DEMO.DEMO_JOB_EXTERNAL_ID}\n`);
});

test('a Rust panic becomes an error, never a crash', async () => {
  const r = await runNode(
    `
const native = require('./native');
const errors = require('./errors');
(async () => {
  const outcome = await native.__panicForTesting('async');
  const e = errors.fromNative(outcome.error);
  console.log(e instanceof errors.PartlyError, e.code, /deliberate panic/.test(e.message));
  try { native.__panicForTesting('sync'); } catch (error) { console.log('sync:', /deliberate panic/.test(error.message)); }
  const { MockServer } = require('partly/testing');
  const mock = await MockServer.start();
  console.log((await mock.client().jobs.get({ external: 'CCC-2026-04817' })).external_id);
  await mock.stop();
})();`,
    20000,
    { RUST_BACKTRACE: '0' },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'true PARTLY_INTERNAL true\nsync: true\nCCC-2026-04817\n');
});

test('a throwing onProgress does not crash the process: the run goes on and one warning is emitted', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  let calls = 0;
  const report = await client.tier1.prepareAll(['A', 'B', 'C', 'D'], {
    batchSize: 1,
    onProgress: () => {
      calls += 1;
      throw new Error(`callback bug ${calls}`);
    },
  });
  assert.equal(report.accepted, 4);
  assert.equal(calls, 5, 'the callback is still called after it threw (each request, then the end)');
  await new Promise((resolve) => setImmediate(resolve));
  const ours = warnings.filter((w) => w.code === 'PARTLY_PROGRESS_CALLBACK_ERROR');
  assert.equal(ours.length, 1, 'reported once per run');
  assert.ok(ours[0].message.includes('callback bug 1'), ours[0].message);

  const asyncReport = await client.tier1.prepareAll(['A', 'B'], {
    batchSize: 1,
    onProgress: async () => {
      throw new Error('async callback bug');
    },
  });
  assert.equal(asyncReport.accepted, 2);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(
    warnings.some((w) => w.message.includes('async callback bug')),
    'a rejecting async callback is reported too',
  );
});

test('a throwing onProgress in a plain script: exit code 0, a warning on stderr', async () => {
  const r = await runNode(`${PRELUDE}
(async () => {
  const mock = await MockServer.start();
  const report = await mock.client().tier1.prepareAll(['A', 'B'], { batchSize: 1, onProgress: () => { throw new TypeError('oops'); } });
  console.log(report.accepted);
  await mock.stop();
})();`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '2\n');
  assert.match(r.stderr, /PARTLY_PROGRESS_CALLBACK_ERROR.*TypeError: oops/);
});

test('examples/quickstart.js runs the whole flow against an in-process mock and exits', async () => {
  const env = { ...process.env };
  delete env.PARTLY_BASE_URL;
  const r = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'quickstart.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quickstart did not exit\n${stdout}\n${stderr}`));
    }, 30000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /accepted 250 of 250, failed 0/);
  assert.match(r.stdout, /expected error: jobs\.get: HTTP 404 not_found/);
  assert.match(r.stdout, /7\. cancelled: the call was aborted/);
  assert.doesNotMatch(r.stdout, new RegExp(DEMO.DEMO_CLIENT_SECRET), 'the example prints no secret');
});

test('require("partly") and building clients start no thread (the runtime starts at the first call)', async () => {
  const r = await runNode(`
const fs = require('node:fs');
const threads = () => fs.readdirSync('/proc/self/task').length;
const before = threads();
const partly = require('partly');
require('partly/testing');
const afterRequire = threads();
const options = { apiKey: 'pk_x_0000', integrationId: '6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60', baseUrl: 'http://127.0.0.1:9' };
const clients = [new partly.Client(options), new partly.Client(options)];
console.log(JSON.stringify({ before, afterRequire, afterClients: threads() }));
`);
  assert.equal(r.code, 0, r.stderr);
  const { before, afterRequire, afterClients } = JSON.parse(r.stdout);
  assert.equal(afterRequire, before, `require('partly') started ${afterRequire - before} thread(s)`);
  assert.equal(afterClients, before, `building two clients started ${afterClients - before} thread(s)`);
});

test('node:cluster: workers forked after the primary made a call each call, and serve HTTP that calls', async () => {
  const WORKERS = 3;
  const REQUESTS = 24;
  const app = path.join(__dirname, 'fixtures', 'cluster-app.js');
  const r = await runNode(`require(${JSON.stringify(app)})`, 60000, {
    CLUSTER_APP: app,
    CLUSTER_WORKERS: String(WORKERS),
    CLUSTER_REQUESTS: String(REQUESTS),
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const primary = lines.filter((l) => l.startsWith('primary '));
  const workers = lines.filter((l) => l.startsWith('worker ')).map((l) => Number(l.split(' ')[1]));
  assert.equal(primary.length, 1, r.stdout);
  assert.ok(primary[0].endsWith(`called: ${DEMO.DEMO_JOB_EXTERNAL_ID}`), r.stdout);
  assert.equal(new Set(workers).size, WORKERS, `every worker called: ${r.stdout}`);
  assert.ok(!workers.includes(Number(primary[0].split(' ')[1])), 'workers are other processes');
  const answers = JSON.parse(lines.find((l) => l.startsWith('answers ')).slice('answers '.length));
  assert.equal(answers.length, REQUESTS);
  assert.ok(
    answers.every((a) => a.external_id === DEMO.DEMO_JOB_EXTERNAL_ID && workers.includes(a.pid)),
    r.stdout,
  );
  assert.ok(lines.includes(`jobs.get received ${1 + WORKERS + REQUESTS}`), r.stdout);
});
