'use strict';
// Secrets (API key, client secret, access code) never show in a message, util.inspect or JSON.
const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');

const partly = require('partly');

const { Client } = partly;
const { startMock, rejection, DEMO } = require('./support');

const KEY = 'pk_live_s3cr3t_0123456789abcdef';

function everyView(value) {
  const views = [
    util.inspect(value),
    util.inspect(value, { showHidden: true, depth: Infinity, getters: true }),
    String(value),
    JSON.stringify(value) || '',
  ];
  if (value instanceof Error) views.push(value.message, value.stack, value.body || '');
  return views;
}

function assertAbsent(value, secrets, what) {
  for (const text of everyView(value)) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what}: a secret shows in ${text}`);
  }
}

test('util.inspect, JSON and String of a client never show the API key', () => {
  const client = new Client({ apiKey: KEY, integrationId: DEMO.DEMO_INTEGRATION_ID, baseUrl: 'http://127.0.0.1:9' });
  assertAbsent(client, [KEY], 'client');
  assertAbsent(client.jobs, [KEY], 'client.jobs');
  assertAbsent(client.settings, [KEY], 'client.settings');
  const shown = util.inspect(client);
  assert.ok(shown.includes('hasApiKey: true'), shown);
  assert.ok(shown.includes(DEMO.DEMO_INTEGRATION_ID), shown);
});

test('an invalid key is refused without being echoed', () => {
  for (const [bad, part] of [
    ['pk live Zq81xw', 'Zq81xw'],
    ['pk_\u00e9t\u00e9_Yk72vu', 'Yk72vu'],
    ['pk_tab\tXj63ts', 'Xj63ts'],
  ]) {
    const error = (() => {
      try {
        new Client({ apiKey: bad });
      } catch (e) {
        return e;
      }
      return assert.fail('accepted');
    })();
    assert.equal(error.name, 'ValidationError');
    assertAbsent(error, [bad, part], 'validation error');
  }
});

test('a rejected key is not in the AuthenticationError', async (t) => {
  const mock = await startMock(t);
  const client = new Client({ baseUrl: mock.url, apiKey: KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
  const e = await rejection(client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }));
  assert.equal(e.name, 'AuthenticationError');
  assertAbsent(e, [KEY], '401');
});

test('a server that echoes the key, the access code or the client secret has them scrubbed', async (t) => {
  const mock = await startMock(t);
  const client = new Client({ baseUrl: mock.url, apiKey: KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
  mock.injectFault({
    method: 'jobs.get',
    status: 400,
    body: JSON.stringify({ type: 'bad', message: `key ${KEY} is bad` }),
    headers: { 'content-type': 'application/json' },
  });
  const echoed = await rejection(client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }));
  assert.equal(echoed.name, 'BadRequestError');
  assertAbsent(echoed, [KEY], 'echoed key');

  const installer = new Client({ baseUrl: mock.url });
  const code = mock.mintAccessCode();
  mock.injectFault({
    method: 'integrations.insert',
    status: 400,
    body: JSON.stringify({ type: 'bad', message: `code ${code.accessCode} with secret ${code.clientSecret}` }),
    headers: { 'content-type': 'application/json' },
  });
  const e = await rejection(
    installer.integrations.insert({
      accessCode: code.accessCode,
      clientId: code.clientId,
      clientSecret: code.clientSecret,
    }),
  );
  assertAbsent(e, [code.accessCode, code.clientSecret], 'echoed install secrets');

  const unknown = await rejection(
    installer.integrations.insert({
      accessCode: 'ac_not_a_real_code_42',
      clientId: DEMO.DEMO_CLIENT_ID,
      clientSecret: DEMO.DEMO_CLIENT_SECRET,
    }),
  );
  assert.equal(unknown.name, 'BadRequestError');
  assertAbsent(unknown, ['ac_not_a_real_code_42', DEMO.DEMO_CLIENT_SECRET], 'unknown code');
});

test('the install request does not keep secrets on the error of a failed connection', async (t) => {
  const mock = await startMock(t);
  mock.injectFault({ method: 'integrations.insert', action: 'drop' });
  const e = await rejection(
    new Client({ baseUrl: mock.url }).integrations.insert({
      accessCode: 'ac_secret_777',
      clientId: 'c',
      clientSecret: 'cs_secret_888',
    }),
  );
  assert.equal(e.name, 'ConnectionError');
  assertAbsent(e, ['ac_secret_777', 'cs_secret_888'], 'dropped install');
});

test('console.log and util.inspect of an install result hide api_key, as Python repr and Rust Debug do', async (t) => {
  const mock = await startMock(t);
  const code = mock.mintAccessCode();
  const installed = await new Client({ baseUrl: mock.url }).integrations.insert({
    accessCode: code.accessCode,
    clientId: code.clientId,
    clientSecret: code.clientSecret,
  });
  assert.ok(installed instanceof partly.InstallResult);
  assert.match(installed.api_key, /^pk_/);
  for (const shown of [
    util.inspect(installed),
    util.inspect(installed, { showHidden: true, depth: Infinity, getters: true }),
    util.inspect({ nested: [installed] }, { depth: Infinity }),
    util.format('%o %O %s', installed, installed, installed),
    String(installed),
  ]) {
    assert.ok(!shown.includes(installed.api_key), `the key shows in ${shown}`);
  }
  // What console.log prints (it formats with util.inspect), captured.
  const printed = [];
  const original = console.log;
  console.log = (...args) => printed.push(util.format(...args));
  try {
    console.log(installed);
    console.log('installed: %o', installed);
  } finally {
    console.log = original;
  }
  assert.ok(
    printed.every((line) => !line.includes(installed.api_key) && line.includes(installed.integration_id)),
    printed,
  );
  assert.ok(printed[0].includes("api_key: '***'"), printed[0]);
  // The values are there to store: as properties and in JSON.stringify.
  assert.deepEqual(Object.keys(installed).sort(), ['api_key', 'integration_id']);
  assert.deepEqual(JSON.parse(JSON.stringify(installed)), {
    api_key: installed.api_key,
    integration_id: installed.integration_id,
  });
});
