'use strict';
// The declarations (index.d.ts) and the error fields (errors.js) against the core's shapes
// (`partly::shapes`): a field the core declares and Node lacks, or types differently, fails here.
// A shape registered in the core is looked up by its name as an interface or class of
// index.d.ts, so registering a new one (the bulk preload's PrepareProgress, say) is one line in
// the core, and this test then asks for its declaration.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const native = require('../native');
const errors = require('../errors');
const { startMock } = require('./support');

const SHAPES = native.shapes();
const DTS = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');

/** The members `name?: type;` of `export interface <name>` or `export declare class <name>`. */
function declared(name) {
  const start = new RegExp(`^export (?:interface|declare class) ${name}\\b[^{]*\\{`, 'm').exec(DTS);
  assert.ok(start, `index.d.ts declares no interface or class ${name}`);
  const members = new Map();
  let depth = 1;
  let i = start.index + start[0].length;
  let line = '';
  for (; i < DTS.length && depth > 0; i++) {
    const c = DTS[i];
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === '\n') {
      const m = /^\s*(?:readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)(\?)?:\s*(.+);\s*$/.exec(line);
      if (m && depth === 1) members.set(m[1], { optional: m[2] === '?', type: m[3].trim() });
      line = '';
    } else {
      line += c;
    }
  }
  return members;
}

test('the core declares the shapes, each once', () => {
  const names = SHAPES.map((s) => s.name);
  for (const n of ['Job', 'JobStatus', 'InstallResult', 'PartlyError', 'ResponseInfo']) assert.ok(names.includes(n), n);
  for (const n of ['PrepareProgress', 'PrepareBatch', 'PrepareFailure', 'PrepareReport'])
    assert.ok(names.includes(n), n);
  assert.equal(new Set(names).size, names.length);
});

test('every model shape is declared in index.d.ts with the core fields and types', () => {
  for (const shape of SHAPES) {
    if (shape.name === 'PartlyError') continue;
    const members = declared(shape.name);
    const want = shape.fields.map((f) => f.node);
    assert.deepEqual([...members.keys()].sort(), [...want].sort(), `${shape.name}: fields`);
    for (const f of shape.fields) {
      assert.equal(members.get(f.node).type, f.ty, `${shape.name}.${f.node}: type`);
      // A value that may be unknown is always present, null when unknown (`total: number | null`).
      assert.equal(members.get(f.node).optional, false, `${shape.name}.${f.node}: optional (use | null)`);
    }
  }
});

test('errors.js and the PartlyError declaration carry the core error fields', () => {
  const want = SHAPES.find((s) => s.name === 'PartlyError').fields.map((f) => f.node);
  assert.deepEqual(errors.FIELDS, want, 'errors.js FIELDS');
  const members = declared('PartlyError');
  for (const name of want) assert.ok(members.has(name), `index.d.ts: PartlyError.${name}`);
});

test('an error from the core has every field, and a job keeps nothing in unknown fields', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const error = await client.jobs.get({ external: 'NO-SUCH-JOB' }).catch((e) => e);
  for (const name of errors.FIELDS.filter((n) => !['body', 'retryAfter', 'requestId'].includes(n))) {
    assert.ok(name in error, `${name} on ${error}`);
  }
  assert.equal(error.retryable, false);
  assert.equal(typeof error.detail, 'string');
  const job = await client.jobs.get({ external: 'CCC-2026-04817' });
  const known = new Set(SHAPES.find((s) => s.name === 'Job').fields.map((f) => f.name));
  assert.deepEqual(
    Object.keys(job).filter((k) => !known.has(k)),
    [],
    'fields the core does not declare',
  );
});

test('withResponseInfo resolves with the value and the response info the core declares', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const { value, info } = await client.withResponseInfo.jobs.get({ external: 'CCC-2026-04817' });
  assert.equal(value.external_id, 'CCC-2026-04817');
  const want = SHAPES.find((s) => s.name === 'ResponseInfo').fields.map((f) => f.node);
  assert.deepEqual(Object.keys(info).sort(), [...want].sort());
  assert.equal(info.status, 200);
  assert.equal(info.attempts, 1);
  assert.equal(mock.requests().at(-1).headers.traceparent.split('-')[1], info.traceId);
  assert.ok(typeof info.requestId === 'string' && info.requestId.length > 0);
  assert.ok(info.elapsedMs > 0);
  mock.injectFault({ method: 'tier1.prepare', times: 1, status: 503, headers: { 'retry-after': '0' } });
  const prepared = await client.withResponseInfo.tier1.prepare(['JH4KA7561PC008269']);
  assert.equal(prepared.info.attempts, 2);
  const listed = await client.withResponseInfo.call('businesses.list', {});
  assert.ok(Array.isArray(listed.value.items));
  const installer = mock.client({ apiKey: undefined, integrationId: undefined });
  const code = mock.mintAccessCode();
  const installed = await installer.withResponseInfo.integrations.insert({
    accessCode: code.accessCode,
    clientId: code.clientId,
    clientSecret: code.clientSecret,
  });
  assert.ok(installed.value instanceof require('partly').InstallResult);
  assert.equal(installed.info.status, 200);
  // The plain methods are unchanged.
  assert.equal((await client.jobs.get({ external: 'CCC-2026-04817' })).external_id, 'CCC-2026-04817');
});

test('prepareAll gives the core fields of its progress, batches, failures and report', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const node = (name) => SHAPES.find((s) => s.name === name).fields.map((f) => f.node);
  mock.injectFault({ method: 'tier1.prepare', times: 1, status: 400 });
  const progress = [];
  const batches = [];
  async function* source() {
    yield* ['JH4KA7561PC000001', 'JH4KA7561PC000002', 42, 'JH4KA7561PC000003', 'JH4KA7561PC000004'];
  }
  const report = await client.tier1.prepareAll(source(), {
    batchSize: 2,
    maxConcurrency: 1,
    maxRetries: 0,
    onProgress: (p) => progress.push(p),
    onBatch: (b) => batches.push(b),
  });
  const last = progress.at(-1);
  assert.deepEqual(Object.keys(last), node('PrepareProgress'));
  assert.equal(last.total, null, "a stream's total is unknown: null, not absent");
  assert.equal(last.read, 5);
  assert.ok(last.elapsedMs > 0);
  const failed = batches.find((b) => b.error !== null);
  assert.deepEqual(Object.keys(failed), node('PrepareBatch'));
  assert.ok(failed.error instanceof errors.BadRequestError, String(failed.error));
  assert.deepEqual(failed.indices, [0, 1]);
  assert.deepEqual(Object.keys(report), node('PrepareReport'));
  assert.equal(report.ok, false);
  assert.equal(report.failed, 3);
  assert.equal(report.accepted, 2);
  assert.ok(report.elapsedMs > 0);
  for (const f of report.failures) assert.deepEqual(Object.keys(f), node('PrepareFailure'));
  const bad = report.failures.find((f) => f.identifier === null);
  assert.equal(bad.given, '42');
  assert.ok(bad.error instanceof errors.ValidationError);
  const sent = report.failures.filter((f) => f.identifier !== null);
  assert.equal(sent.length, 2);
  assert.equal(sent[0].error, sent[1].error, 'one error object per failed request');
  assert.deepEqual(sent[0].identifier, { chassis_number: 'JH4KA7561PC000001' });
});
