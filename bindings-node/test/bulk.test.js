'use strict';
// Bulk preload (tier1.prepareAll) from Node: iterables, async iterables and object-mode
// Readables pulled lazily, a bad item deep in the stream, 429 storms, the deadline, and
// resuming from a checkpoint after SIGKILL of a child process.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Readable } = require('node:stream');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { TimeoutError, ValidationError } = require('partly');
const { startMock, requestsFor, rejection } = require('./support');

function* vins(n, counter) {
  for (let i = 0; i < n; i++) {
    if (counter) counter.pulled += 1;
    yield `VIN${String(i).padStart(8, '0')}`;
  }
}

test('a generator is pulled as the run needs it, not all at once', async (t) => {
  const mock = await startMock(t);
  const counter = { pulled: 0 };
  let atFirst;
  const report = await mock.client().tier1.prepareAll(vins(20000, counter), {
    batchSize: 10,
    maxConcurrency: 2,
    onProgress: () => {
      if (atFirst === undefined) atFirst = counter.pulled;
    },
  });
  assert.equal(report.total, 20000);
  assert.equal(report.accepted, 20000);
  assert.ok(atFirst <= 2000, `read ${atFirst} before the first answer`);
  assert.deepEqual(report.failures, []);
  assert.deepEqual(mock.preparedStats(), { identifiers: 20000, distinct: 20000, duplicates: 0 });
});

test('async iterables and object-mode Readables stream; a bad item deep inside is reported', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  async function* items() {
    for (let i = 0; i < 3000; i++) {
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      yield i === 2718 ? undefined : i === 2900 ? 42 : `A${i}`;
    }
  }
  const report = await client.tier1.prepareAll(items(), { batchSize: 50 });
  assert.equal(report.total, 3000);
  assert.equal(report.accepted, 2998);
  assert.deepEqual(
    report.failures.map((f) => [f.index, f.given, f.identifier]),
    [
      [2718, 'undefined', null],
      [2900, '42', null],
    ],
  );
  assert.ok(report.failures[0].error instanceof ValidationError);
  assert.match(report.failures[1].error.message, /identifiers\[2900\]: a vehicle identifier is a chassis number/);

  const readable = Readable.from(vins(1500), { objectMode: true });
  const fromStream = await client.tier1.prepareAll(readable);
  assert.equal(fromStream.accepted, 1500);
  const bytes = Readable.from([Buffer.from('VIN')], { objectMode: false });
  const e = await rejection(client.tier1.prepareAll(bytes));
  assert.ok(e instanceof ValidationError && e.message.includes('object mode'), e.message);
});

test('an iterator that throws rejects prepareAll with its error', async (t) => {
  const mock = await startMock(t);
  function* broken() {
    yield 'A';
    throw new RangeError('broken source');
  }
  const e = await rejection(mock.client().tier1.prepareAll(broken()));
  assert.ok(e instanceof RangeError && e.message === 'broken source', String(e));
});

test('a 429 storm is waited out: no failures, no retries spent', async (t) => {
  const mock = await startMock(t, { rateLimit: 100, rateBurst: 2 });
  const report = await mock.client().tier1.prepareAll(vins(1500), { batchSize: 10, maxRetries: 0 });
  assert.equal(report.accepted, 1500);
  assert.equal(report.failed, 0);
  assert.ok(report.throttled > 0);
  assert.equal(report.throttled, requestsFor(mock, 'tier1.prepare').filter((r) => r.status === 429).length);
  assert.equal(mock.preparedStats().distinct, 1500);
});

test('the deadline ends the run and every identifier is accounted for', async (t) => {
  const mock = await startMock(t, { rateLimit: 20, rateBurst: 1 });
  const report = await mock.client().tier1.prepareAll(vins(10000), { batchSize: 10, deadlineMs: 500 });
  assert.equal(report.deadlineReached, true);
  assert.equal(report.total, 10000);
  assert.equal(report.accepted + report.failed, 10000);
  const last = report.failures.at(-1);
  assert.equal(last.index, 9999);
  assert.ok(last.error instanceof TimeoutError);
  assert.match(last.error.message, /deadline \(500 ms\) passed/);
});

const CHILD = `
const { Client } = require('partly');
const [url, checkpoint, n] = process.argv.slice(1);
function* vins(n) { for (let i = 0; i < n; i++) yield 'VIN' + String(i).padStart(8, '0'); }
const client = new Client({ baseUrl: url, apiKey: '${require('partly/testing').DEMO.DEMO_API_KEY}', integrationId: '${require('partly/testing').DEMO.DEMO_INTEGRATION_ID}' });
client.tier1.prepareAll(vins(Number(n)), { maxRate: 20, checkpoint, onProgress: (p) => console.log('accepted', p.accepted) });
`;

test('resumed after SIGKILL with the same checkpoint, the server gets exactly the input', async (t) => {
  const mock = await startMock(t);
  const n = 30000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partly-resume-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const checkpoint = path.join(dir, 'preload.checkpoint');
  const child = spawn(process.execPath, ['-e', CHILD, mock.url, checkpoint, String(n)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal)));
  for await (const line of readline.createInterface({ input: child.stdout })) {
    if (Number(line.split(' ')[1]) >= 5000) {
      child.kill('SIGKILL');
      break;
    }
  }
  assert.equal(await exited, 'SIGKILL');
  assert.ok(mock.preparedStats().distinct < n, 'killed midway');
  const report = await mock.client().tier1.prepareAll(vins(n), { checkpoint });
  assert.equal(report.ok, true);
  assert.equal(report.skipped + report.accepted, n);
  assert.ok(report.skipped >= 2000, `skipped ${report.skipped}`);
  const stats = mock.preparedStats();
  assert.equal(stats.distinct, n, 'the server has exactly the input');
  assert.ok(stats.duplicates <= report.duplicatesPossible, `${stats.duplicates} > ${report.duplicatesPossible}`);
});

test('the README bulk section runs as pasted', async () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.split('## Bulk preload: a whole fleet')[1].split('\n## ')[0];
  const code = section.split('```js\n')[1].split('```')[0];
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code_ = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code_, 0, out);
  assert.match(out, /accepted 20000, failed 0/);
});
