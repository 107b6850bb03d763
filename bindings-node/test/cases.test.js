'use strict';
// The behaviour shared by the Rust, Python and Node suites: every case of
// core/tests/fixtures/cases.json and core/tests/fixtures/faults.json (read their "about").
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const util = require('node:util');

const partly = require('partly');
const { Client } = partly;
const { startMock, requestsFor, DEMO } = require('./support');

const FIXTURES = path.join(__dirname, '..', '..', 'core', 'tests', 'fixtures');
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000001';

function load(file) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')).cases;
}

/** A URL of 127.0.0.1 where nothing listens. */
async function deadUrl() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

let bigJob;
function bigJob10mb() {
  if (!bigJob) {
    bigJob = JSON.stringify({
      id: DEMO.DEMO_JOB_ID,
      site_id: DEMO.DEMO_SITE_ID,
      status: { type: 'draft' },
      images: [],
      external_id: DEMO.DEMO_JOB_EXTERNAL_ID,
      padding: 'x'.repeat(10 * 1024 * 1024),
    });
  }
  return bigJob;
}

function placeholder(name, env) {
  const pad = /^PAD\((\d+)\)$/.exec(name);
  if (pad) return 'x'.repeat(Number(pad[1]));
  switch (name) {
    case 'DEMO_SITE_ID':
      return DEMO.DEMO_SITE_ID;
    case 'DEMO_JOB_ID':
      return DEMO.DEMO_JOB_ID;
    case 'DEMO_CLIENT_ID':
      return DEMO.DEMO_CLIENT_ID;
    case 'DEMO_CLIENT_SECRET':
      return DEMO.DEMO_CLIENT_SECRET;
    case 'DEMO_API_KEY':
      return DEMO.DEMO_API_KEY;
    case 'DEMO_API_KEY_JSON_ESCAPED':
      return [...DEMO.DEMO_API_KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    case 'MINTED_CODE':
      return env.minted;
    case 'UNKNOWN_UUID':
      return UNKNOWN_UUID;
    case 'DEAD_URL':
      return env.deadUrl;
    case 'BIG_JOB_10MB':
      return bigJob10mb();
    case 'HTTP_DATE_IN_2S':
      return new Date(Date.now() + 2000).toUTCString();
    default:
      throw new Error(`unknown placeholder $${name}`);
  }
}

/** Replaces every $NAME and $PAD(n) inside strings (faults.json's "about"). */
function substitute(value, env) {
  if (typeof value === 'string') {
    return value.replace(/\$(PAD\(\d+\)|[A-Z0-9_]+)/g, (_, name) => placeholder(name, env));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env)]));
  }
  return value;
}

/** Whether `text` shows any 16-character window of `secret` (all of it when shorter). */
function shows(text, secret) {
  if (secret.length <= 16) return text.includes(secret);
  for (let i = 0; i + 16 <= secret.length; i++) if (text.includes(secret.slice(i, i + 16))) return true;
  return false;
}

/** The strings (keys and values) of parsed JSON. */
function jsonStrings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => jsonStrings(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      jsonStrings(v, out);
    }
  }
  return out;
}

/** A decimal number's canonical form [sign, digits, exponent], to compare numbers as decimals. */
function decimalKey(text) {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  let digits = (m[2] + (m[3] || '')).replace(/^0+/, '');
  let exp = BigInt(m[4] || 0) - BigInt((m[3] || '').length);
  if (digits === '') return '0';
  const trail = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trail);
  exp += BigInt(trail);
  return `${m[1]}${digits}e${exp}`;
}

function identifiers(spec) {
  if (spec && !Array.isArray(spec) && spec.repeat !== undefined) {
    return Array.from({ length: spec.count }, (_, i) => `${spec.repeat}${i}`);
  }
  return spec;
}

/** The case's call, through the public API. */
function call(client, spec, opts) {
  const a = spec.args;
  switch (spec.method) {
    case 'jobs.get':
      return client.jobs.get(a.id !== undefined ? { id: a.id } : { external: a.external }, opts);
    case 'jobs.insert': {
      const identity = a.id !== undefined ? { id: a.id } : { external: a.external };
      return client.jobs.insert({ ...identity, data: a.data, ifExists: a.if_exists }, opts);
    }
    case 'tier1.prepare':
      return client.tier1.prepare(identifiers(a.identifiers), opts);
    case 'integrations.insert':
      return client.integrations.insert(
        { accessCode: a.access_code, clientId: a.client_id, clientSecret: a.client_secret },
        opts,
      );
    case 'call':
      return client.call(a.method, a.body, opts);
    case 'oauth.authorize_url':
      return partly.authorizeUrl({ clientId: a.client_id, redirectUrl: a.redirect_url, scopes: a.scopes });
    case 'oauth.verify_state':
      return partly.verifyState(a.expected, a.received);
    default:
      throw new Error(`unknown call ${spec.method}`);
  }
}

/** `want` is a subset of `got`. */
function assertSubset(want, got, at) {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    assert.ok(got && typeof got === 'object', `${at}: expected an object, got ${util.inspect(got)}`);
    for (const [k, v] of Object.entries(want)) {
      assert.ok(k in got, `${at}.${k} missing in ${util.inspect(got)}`);
      assertSubset(v, got[k], `${at}.${k}`);
    }
  } else {
    assert.deepEqual(got, want, at);
  }
}

function makeClient(mock, spec) {
  const c = spec || {};
  const base = { baseUrl: c.base_url || mock.url };
  switch (c.credentials || 'demo') {
    case 'none':
      return new Client(base);
    case 'bad_key':
      return new Client({ ...base, apiKey: 'pk_wrong_key_0000000000', integrationId: DEMO.DEMO_INTEGRATION_ID });
    case 'demo':
      return new Client({ ...base, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
    default:
      throw new Error(`unknown credentials ${c.credentials}`);
  }
}

// With PARTLY_MATRIX_OUT=<file>, appends what was observed as one JSON line (the table of
// docs/reliability.md is made from the lines of the three languages).
function observe(name, outcome, mock, elapsed) {
  const out = process.env.PARTLY_MATRIX_OUT;
  if (!out) return;
  const e = outcome.error;
  const observed = e
    ? {
        outcome: e.name,
        status: e.status ?? null,
        code: e.errorType ?? null,
        attempts: e.attempts ?? null,
        retry_after: e.retryAfter ?? null,
      }
    : { outcome: 'ok' };
  const line = { language: 'node', case: name, observed, requests: mock.requests().length, elapsed_ms: elapsed };
  require('node:fs').appendFileSync(out, JSON.stringify(line) + '\n');
}

async function runCase(mock, raw) {
  const name = raw.name;
  mock.reset();
  const env = { minted: mock.mintAccessCode().accessCode, deadUrl: await deadUrl() };
  const kase = substitute(raw, env);
  if (kase.fault) mock.injectFault(kase.fault);
  const client = makeClient(mock, kase.client);
  const opts = {};
  if (kase.options && kase.options.timeout_ms !== undefined) opts.timeoutMs = kase.options.timeout_ms;
  if (kase.options && kase.options.max_retries !== undefined) opts.maxRetries = kase.options.max_retries;
  if (kase.options && kase.options.auth !== undefined) opts.auth = kase.options.auth;
  const expect = kase.expect;

  let outcome;
  let elapsed = 0;
  for (let i = 0; i < (kase.calls || 1); i++) {
    const started = Date.now();
    try {
      outcome = { value: await call(client, kase.call, opts) };
    } catch (error) {
      outcome = { error };
    }
    elapsed = Date.now() - started;
  }
  await client.close();
  observe(name, outcome, mock, elapsed);

  if (expect.min_elapsed_ms !== undefined) {
    assert.ok(
      elapsed >= expect.min_elapsed_ms,
      `${name}: returned after ${elapsed} ms, before ${expect.min_elapsed_ms} ms`,
    );
  }
  if (expect.max_elapsed_ms !== undefined) {
    assert.ok(elapsed <= expect.max_elapsed_ms, `${name}: took ${elapsed} ms, over ${expect.max_elapsed_ms} ms`);
  }

  if (expect.error !== undefined) {
    assert.ok(outcome.error, `${name}: expected ${expect.error}, got ${util.inspect(outcome.value)}`);
    const e = outcome.error;
    const cls = partly[expect.error];
    assert.equal(typeof cls, 'function', `${name}: the package exports ${expect.error}`);
    assert.ok(e instanceof cls, `${name}: expected ${expect.error}, got ${util.inspect(e)}`);
    assert.equal(e.name, expect.error, `${name}: name`);
    assert.ok(e instanceof partly.PartlyError, `${name}: a PartlyError`);
    if ('status' in expect) assert.equal(e.status ?? null, expect.status, `${name}: status`);
    if ('code' in expect) assert.equal(e.errorType ?? null, expect.code, `${name}: errorType`);
    if ('attempts' in expect) assert.equal(e.attempts, expect.attempts, `${name}: attempts`);
    if ('retry_after' in expect) assert.equal(e.retryAfter ?? null, expect.retry_after, `${name}: retryAfter`);
    // Node names options in camelCase: message_contains_node, when given, is what Node shows.
    const contains = expect.message_contains_node ?? expect.message_contains;
    if (contains !== undefined) {
      assert.ok(e.message.includes(contains), `${name}: message ${JSON.stringify(e.message)} lacks ${contains}`);
    }
    if (expect.message_once !== undefined) {
      assert.equal(
        e.message.split(expect.message_once).length - 1,
        1,
        `${name}: ${expect.message_once} once in ${e.message}`,
      );
    }
    if ('retryable' in expect) assert.equal(e.retryable, expect.retryable, `${name}: retryable`);
    if ('detail' in expect) assert.equal(e.detail, expect.detail, `${name}: detail`);
    if (expect.body_contains !== undefined) {
      assert.ok(
        (e.body || '').includes(expect.body_contains),
        `${name}: body ${JSON.stringify(e.body)} lacks ${expect.body_contains}`,
      );
    }
    if (expect.trace_id_matches_request) {
      const last = mock.requests().at(-1);
      assert.equal(last.headers.traceparent.split('-')[1], e.traceId, `${name}: trace id`);
    }
    for (const secret of expect.secret_absent || []) {
      const texts = [e.message, String(e), util.inspect(e), util.inspect(e, { showHidden: true }), JSON.stringify(e)];
      for (const field of ['errorType', 'body', 'method', 'requestId', 'traceId']) if (e[field]) texts.push(e[field]);
      try {
        texts.push(...jsonStrings(JSON.parse(e.body || '')));
      } catch {
        // not JSON
      }
      for (const text of texts) assert.ok(!shows(text, secret), `${name}: a secret shows in ${text}`);
    }
  } else {
    assert.ok(!outcome.error, `${name}: expected success, got ${outcome.error && util.inspect(outcome.error)}`);
    const v = outcome.value;
    if (expect.result !== undefined) assertSubset(expect.result, v, name);
    if ('result_equals' in expect) assert.deepEqual(v, expect.result_equals, `${name}: result`);
    for (const [k, n] of Object.entries(expect.result_string_len || {})) {
      assert.equal(typeof v[k] === 'string' ? v[k].length : null, n, `${name}: length of ${k}`);
    }
    for (const k of expect.result_keys || []) assert.ok(k in v, `${name}: ${k} missing in ${util.inspect(v)}`);
    for (const [pointer, text] of Object.entries(expect.result_numbers || {})) {
      const got = pointer
        .split('/')
        .slice(1)
        .reduce((o, k) => o[k], v);
      // Exact: a number where a double holds it, else a LosslessNumber keeping the text.
      assert.ok(
        typeof got === 'number' || got instanceof partly.LosslessNumber,
        `${name}: ${pointer} is ${util.inspect(got)}`,
      );
      assert.equal(
        decimalKey(String(got)),
        decimalKey(text),
        `${name}: ${pointer} is ${util.inspect(got)}, not ${text}`,
      );
    }
  }

  if (expect.requests !== undefined) {
    const method = expect.requests_method || kase.call.method;
    assert.equal(
      requestsFor(mock, method).length,
      expect.requests,
      `${name}: requests of ${method} received by the mock`,
    );
  }
}

for (const file of ['cases.json', 'faults.json']) {
  test(`shared cases: ${file}`, async (t) => {
    const cases = load(file);
    assert.ok(cases.length >= 10, `${file} has ${cases.length} cases`);
    const mock = await startMock(t);
    for (const kase of cases) {
      await t.test(kase.name, () => runCase(mock, kase));
    }
  });
}
