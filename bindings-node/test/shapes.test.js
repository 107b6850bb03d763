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
