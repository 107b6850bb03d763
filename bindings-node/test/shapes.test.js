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
  for (const n of ['Job', 'JobStatus', 'InstallResult', 'PartlyError']) assert.ok(names.includes(n), n);
  assert.equal(new Set(names).size, names.length);
});

test('every model shape is declared in index.d.ts with the core fields and types', () => {
  for (const shape of SHAPES) {
    if (shape.name === 'PartlyError') continue;
    const members = declared(shape.name);
    const want = shape.fields.map((f) => f.name);
    assert.deepEqual([...members.keys()].sort(), [...want].sort(), `${shape.name}: fields`);
    for (const f of shape.fields) {
      assert.equal(members.get(f.name).type, f.ty, `${shape.name}.${f.name}: type`);
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
