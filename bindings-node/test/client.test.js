'use strict';
// Every method of the client, its options and its argument checks.
const test = require('node:test');
const assert = require('node:assert/strict');

const {
  Client,
  ValidationError,
  NotFoundError,
  TimeoutError,
  ServerError,
  VERSION,
  authorizeUrl,
  verifyState,
  generateState,
  LosslessNumber,
} = require('partly');
const { startMock, requestsFor, rejection, DEMO } = require('./support');

const EXT = DEMO.DEMO_JOB_EXTERNAL_ID;

test('the package loads with require and reports its version', () => {
  assert.equal(VERSION, require('../package.json').version);
  assert.equal(typeof Client, 'function');
});

test('jobs.get by external reference and by id returns the job with snake_case fields', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const byRef = await client.jobs.get({ external: EXT });
  assert.equal(byRef.id, DEMO.DEMO_JOB_ID);
  assert.equal(byRef.site_id, DEMO.DEMO_SITE_ID);
  assert.equal(byRef.external_id, EXT);
  assert.equal(byRef.claim_number, DEMO.DEMO_CLAIM_NUMBER);
  assert.equal(byRef.job_number, DEMO.DEMO_JOB_NUMBER);
  assert.deepEqual(byRef.status, { type: 'draft' });
  assert.ok(Array.isArray(byRef.images));
  const byId = await client.jobs.get({ id: DEMO.DEMO_JOB_ID });
  assert.deepEqual(byId, byRef);
  const sent = requestsFor(mock, 'jobs.get').map((r) => JSON.parse(r.body));
  assert.deepEqual(sent, [{ identity: { external: EXT } }, { identity: { id: DEMO.DEMO_JOB_ID } }]);
});

test('results keep every field the server sent, unknown ones included', async (t) => {
  const mock = await startMock(t);
  const answer = {
    id: DEMO.DEMO_JOB_ID,
    site_id: DEMO.DEMO_SITE_ID,
    status: { type: 'awaiting_parts', eta: '2026-12-01' },
    images: [],
    claim_number: null,
    brand_new_field: { x: [1, 2.5, 'three'], big: 12345678901 },
  };
  mock.injectFault({
    method: 'jobs.get',
    status: 200,
    body: JSON.stringify(answer),
    headers: { 'content-type': 'application/json' },
  });
  const job = await mock.client().jobs.get({ external: EXT });
  assert.deepEqual(job.status, { type: 'awaiting_parts', eta: '2026-12-01' });
  assert.deepEqual(job.brand_new_field, { x: [1, 2.5, 'three'], big: 12345678901 });
  assert.equal(job.claim_number, null);
  assert.equal(job.job_number, null, 'a missing optional field reads as null');
});

test('numbers no double holds come back as LosslessNumber and are sent back exactly', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const body =
    `{"id":"${DEMO.DEMO_JOB_ID}","site_id":"${DEMO.DEMO_SITE_ID}","status":{"type":"draft"},"images":[],` +
    '"huge":1e400,"big":123456789012345678901234567890,"pi":3.14159265358979323846264338327950288,' +
    '"unsafe":9007199254740993,"safe":9007199254740992,"small":0.1,"odd":"\\u0001n:5"}';
  mock.injectFault({ method: 'jobs.get', status: 200, body, headers: { 'content-type': 'application/json' } });
  const job = await client.jobs.get({ external: EXT });
  for (const [field, text] of [
    ['huge', '1e+400'],
    ['big', '123456789012345678901234567890'],
    ['pi', '3.14159265358979323846264338327950288'],
    ['unsafe', '9007199254740993'],
  ]) {
    assert.ok(job[field] instanceof LosslessNumber, `${field}: ${job[field]}`);
    assert.equal(String(job[field]), text);
  }
  assert.equal(job.big.toBigInt(), 123456789012345678901234567890n);
  assert.equal(job.unsafe.toBigInt(), 9007199254740993n);
  assert.equal(+job.pi, Math.PI, 'arithmetic uses the nearest double');
  assert.equal(job.safe, 9007199254740992, 'a number a double holds stays a number');
  assert.equal(job.small, 0.1);
  assert.equal(job.odd, '\u0001n:5', 'a string that looks like a mark stays that string');
  // Sent back inside a vehicle, they arrive exactly (the mock keeps JSON numbers as written).
  const vehicle = { odometer: job.big, ratio: job.pi, limit: job.huge, make: 'Toyota', odd: job.odd };
  const back = await client.jobs.insert({ external: 'NUM-1', data: { repairer_site_id: DEMO.DEMO_SITE_ID, vehicle } });
  const [sent] = requestsFor(mock, 'jobs.insert');
  assert.ok(sent.body.includes('"odometer":123456789012345678901234567890'), sent.body);
  assert.ok(sent.body.includes('"ratio":3.14159265358979323846264338327950288'), sent.body);
  assert.ok(sent.body.includes('"odd":"\\u0001n:5"'), sent.body);
  assert.equal(String(back.vehicle.odometer), '123456789012345678901234567890');
  assert.equal(String(back.vehicle.limit), '1e+400');
  assert.equal(back.vehicle.odd, '\u0001n:5');
  assert.throws(() => new LosslessNumber('NaN'), ValidationError);
  assert.throws(() => new LosslessNumber(5), ValidationError);
});

test('jobs.insert creates, updates (merging) and replaces', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const created = await client.jobs.insert({
    external: 'NODE-1',
    data: { repairer_site_id: DEMO.DEMO_SITE_ID, claim_number: 'C-1', vehicle: { make: 'Toyota' } },
  });
  assert.equal(created.external_id, 'NODE-1');
  assert.equal(created.claim_number, 'C-1');
  assert.deepEqual(created.vehicle, { make: 'Toyota' });
  assert.equal(created.status.type, 'draft');

  const updated = await client.jobs.insert({
    external: 'NODE-1',
    data: { repairer_site_id: DEMO.DEMO_SITE_ID, job_number: 'J-1', claim_number: undefined },
    ifExists: 'update',
  });
  assert.equal(updated.id, created.id);
  assert.equal(updated.claim_number, 'C-1', 'update merges');
  assert.equal(updated.job_number, 'J-1');

  const replaced = await client.jobs.insert({
    id: created.id,
    data: { repairer_site_id: DEMO.DEMO_SITE_ID, job_number: 'J-2' },
    ifExists: 'replace',
  });
  assert.equal(replaced.id, created.id);
  assert.equal(replaced.claim_number, null, 'replace overwrites');
  assert.equal(replaced.job_number, 'J-2');

  const bodies = requestsFor(mock, 'jobs.insert').map((r) => JSON.parse(r.body));
  assert.deepEqual(bodies[0], {
    data: { repairer_site_id: DEMO.DEMO_SITE_ID, claim_number: 'C-1', vehicle: { make: 'Toyota' } },
    identity: { external: 'NODE-1' },
    if_: { exists: 'update' },
  });
  assert.deepEqual(
    bodies[1].data,
    { repairer_site_id: DEMO.DEMO_SITE_ID, job_number: 'J-1' },
    'undefined members are not sent',
  );
  assert.deepEqual(bodies[2].if_, { exists: 'replace' });
  assert.deepEqual(bodies[2].identity, { id: created.id });
});

test('jobs.insert sends fields newer than the SDK as they are', async (t) => {
  const mock = await startMock(t);
  await mock
    .client()
    .jobs.insert({ external: 'NODE-2', data: { repairer_site_id: DEMO.DEMO_SITE_ID, future_field: [1, { a: true }] } });
  const body = JSON.parse(requestsFor(mock, 'jobs.insert')[0].body);
  assert.deepEqual(body.data.future_field, [1, { a: true }]);
});

test('tier1.prepare sends chassis numbers, plates and raw identifiers', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const answer = await client.tier1.prepare([
    'JH4KA7561PC008269',
    { plate: 'ABC123', region: 'NZ' },
    { chassis_number: 'KE20-1' },
  ]);
  assert.deepEqual(answer, {});
  await client.tier1.prepare(new Set(['  SHORT1  ']));
  assert.equal(mock.preparedIdentifiers(), 4);
  const bodies = requestsFor(mock, 'tier1.prepare').map((r) => JSON.parse(r.body));
  assert.deepEqual(bodies[0], {
    identifiers: [
      { chassis_number: 'JH4KA7561PC008269' },
      { plate: 'ABC123', region: 'NZ' },
      { chassis_number: 'KE20-1' },
    ],
  });
  assert.deepEqual(bodies[1], { identifiers: [{ chassis_number: 'SHORT1' }] }, 'a Set works; whitespace is trimmed');
});

test('tier1.prepare validates before sending', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  for (const [ids, words] of [
    [[], '1 to 100'],
    [Array.from({ length: 101 }, (_, i) => `V${i}`), 'got 101'],
    [['OK', '  '], 'identifiers[1]'],
    [['OK', 5], 'identifiers[1]'],
    ['JH4KA7561PC008269', 'array'],
    [undefined, 'identifiers'],
  ]) {
    const e = await rejection(client.tier1.prepare(ids));
    assert.ok(e instanceof ValidationError, `${JSON.stringify(ids)}: ${e}`);
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
    assert.equal(e.attempts, 0);
  }
  assert.equal(requestsFor(mock, 'tier1.prepare').length, 0);
});

test('tier1.prepareAll batches, reports progress on the JS thread and accounts for every identifier', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const vins = Array.from({ length: 250 }, (_, i) => `VIN${i}`);
  const progress = [];
  const batches = [];
  const report = await client.tier1.prepareAll(vins, {
    maxConcurrency: 2,
    onProgress: (p) => progress.push({ ...p }),
    onBatch: (b) => batches.push(b),
  });
  assert.equal(report.ok, true);
  assert.equal(report.total, 250);
  assert.equal(report.accepted, 250);
  assert.equal(report.failed, 0);
  assert.equal(report.requests, 3);
  assert.deepEqual(report.failures, [], 'accepted identifiers are counted, not kept');
  assert.deepEqual(
    batches.map((b) => [b.indices[0], b.identifiers.length, b.error]).sort((x, y) => x[0] - y[0]),
    [
      [0, 100, null],
      [100, 100, null],
      [200, 50, null],
    ],
  );
  assert.equal(progress.length, 4, 'every progress call is delivered before the Promise settles');
  const last = progress.at(-1);
  assert.equal(last.total, 250);
  assert.equal(last.done, 250);
  assert.equal(last.requests, 3);
  for (let i = 1; i < progress.length; i++)
    assert.ok(progress[i].done >= progress[i - 1].done, 'progress never goes back');
  assert.equal(mock.preparedIdentifiers(), 250);
});

test('tier1.prepareAll records a failed batch with its error and goes on', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({
    method: 'tier1.prepare',
    status: 400,
    body: '{"type":"bad_identifier","message":"nope"}',
    headers: { 'content-type': 'application/json' },
  });
  const report = await client.tier1.prepareAll(['A', 'B', 'C', 'D', 'E'], { batchSize: 2, maxConcurrency: 1 });
  assert.equal(report.ok, false);
  assert.equal(report.total, 5);
  assert.equal(report.failed, 2);
  assert.equal(report.accepted, 3);
  assert.deepEqual(
    report.failures.map((f) => [f.index, f.identifier]),
    [
      [0, { chassis_number: 'A' }],
      [1, { chassis_number: 'B' }],
    ],
  );
  assert.ok(report.failures[0].error instanceof require('partly').BadRequestError);
  assert.equal(report.failures[0].error.errorType, 'bad_identifier');
  assert.equal(report.failures[0].error, report.failures[1].error, 'one error per failed request');
});

test('tier1.prepareAll validates its options before sending, naming them as written', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const cases = [
    [{ batchSize: 0 }, 'batchSize must be 1 to 100'],
    [{ batchSize: 101 }, 'batchSize must be 1 to 100'],
    [{ batchSize: 1.5 }, 'batchSize'],
    [{ maxConcurrency: 0 }, 'maxConcurrency must be at least 1'],
    [{ maxConcurrency: 'many' }, 'maxConcurrency'],
    [{ maxRate: -1 }, 'maxRate must be a positive number'],
    [{ deadlineMs: 0 }, 'deadlineMs'],
    [{ onProgress: 'log' }, 'onProgress'],
    [{ onBatch: 3 }, 'onBatch'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ batchsize: 10 }, 'unknown option "batchsize"'],
  ];
  for (const [opts, words] of cases) {
    const e = await rejection(client.tier1.prepareAll(['A'], opts));
    assert.ok(e instanceof ValidationError, `${JSON.stringify(opts)}: ${e}`);
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
  }
  for (const [input, words] of [
    [5, 'identifiers must be an array, an iterable'],
    ['JH4KA7561PC008269', 'give an array of one'],
  ]) {
    const e = await rejection(client.tier1.prepareAll(input));
    assert.ok(e instanceof ValidationError && e.message.includes(words), e.message);
  }
  assert.equal(requestsFor(mock, 'tier1.prepare').length, 0);
  const report = await client.tier1.prepareAll(['A', ' '], {});
  assert.equal(report.accepted, 1);
  assert.equal(report.failures[0].index, 1);
  assert.ok(report.failures[0].error.message.includes('identifiers[1]'), report.failures[0].error.message);
});

test('integrations.insert trades a minted code for working credentials, without sending any', async (t) => {
  const mock = await startMock(t);
  const installer = new Client({ baseUrl: mock.url });
  const code = mock.mintAccessCode();
  const request = { accessCode: code.accessCode, clientId: code.clientId, clientSecret: code.clientSecret };
  const installed = await installer.integrations.insert(request);
  assert.match(installed.api_key, /\S{8,}/);
  assert.match(installed.integration_id, /^[0-9a-f-]{36}$/);
  const sent = requestsFor(mock, 'integrations.insert')[0];
  assert.equal(sent.headers.authorization, undefined);
  assert.equal(sent.headers['partly-integration-id'], undefined);
  assert.deepEqual(JSON.parse(sent.body), {
    access_code: code.accessCode,
    client_id: code.clientId,
    client_secret: code.clientSecret,
  });
  const client = new Client({ baseUrl: mock.url, apiKey: installed.api_key, integrationId: installed.integration_id });
  assert.equal((await client.jobs.get({ external: EXT })).external_id, EXT);
  const again = await rejection(installer.integrations.insert(request));
  assert.equal(again.name, 'BadRequestError', 'the code is single use');
});

test('integrations.insert validates its request', async (t) => {
  const mock = await startMock(t);
  const installer = new Client({ baseUrl: mock.url });
  for (const [req, words] of [
    [{ clientId: 'c', clientSecret: 's' }, 'accessCode is empty'],
    [{ accessCode: 'a', clientSecret: 's' }, 'clientId is empty'],
    [{ accessCode: 'a', clientId: 'c', clientSecret: ' ' }, 'clientSecret is empty'],
    [{ accessCode: 1, clientId: 'c', clientSecret: 's' }, 'accessCode must be a string'],
    [{ access_code: 'a' }, 'unknown option "access_code"'],
    [undefined, 'request is missing'],
  ]) {
    const e = await rejection(installer.integrations.insert(req));
    assert.ok(e instanceof ValidationError, String(e));
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
  }
  assert.equal(requestsFor(mock, 'integrations.insert').length, 0);
});

test('call() reaches any method with the same auth, and checks its arguments', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const list = await client.call('businesses.list', {});
  assert.equal(list.items[0].id, DEMO.DEMO_BUSINESS_ID);
  assert.equal(list.items[0].name, DEMO.DEMO_BUSINESS_NAME);
  const again = await client.call('businesses.list', undefined, { idempotent: true, maxRetries: 0 });
  assert.deepEqual(again, list);
  const job = await client.call('jobs.get', { identity: { external: EXT } });
  assert.equal(job.external_id, EXT);
  const sent = requestsFor(mock, 'businesses.list');
  assert.equal(sent[0].headers.authorization, `Bearer ${DEMO.DEMO_API_KEY}`);
  assert.equal(sent[1].body, '{}', 'an absent body is sent as {}');
  const missing = await rejection(client.call('nothing.here', {}));
  assert.ok(missing instanceof NotFoundError);
  for (const [method, body, words] of [
    ['not a method', {}, 'not a method name'],
    [42, {}, 'method must be a string'],
    ['businesses.list', [1, 2], 'must be a JSON object'],
    ['businesses.list', 'text', 'must be a JSON object'],
    ['businesses.list', { n: 10n }, 'body cannot be sent as JSON'],
  ]) {
    const e = await rejection(client.call(method, body));
    assert.ok(e instanceof ValidationError, String(e));
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
  }
});

test('per-call timeoutMs and maxRetries override the client', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({ method: 'jobs.get', delayMs: 2000 });
  const started = Date.now();
  const timeout = await rejection(client.jobs.get({ external: EXT }, { timeoutMs: 150, maxRetries: 0 }));
  assert.ok(timeout instanceof TimeoutError, String(timeout));
  assert.ok(Date.now() - started < 1500);
  assert.ok(timeout.message.includes('150 ms'), timeout.message);

  mock.reset();
  mock.injectFault({ method: 'jobs.get', times: 5, status: 503, headers: { 'retry-after': '0' } });
  const once = await rejection(client.jobs.get({ external: EXT }, { maxRetries: 0 }));
  assert.ok(once instanceof ServerError);
  assert.equal(once.attempts, 1);
  const twice = await rejection(client.jobs.get({ external: EXT }, { maxRetries: 1 }));
  assert.equal(twice.attempts, 2);
});

test('call options are checked and name the option', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  for (const [opts, words] of [
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: -5 }, 'timeoutMs'],
    [{ timeoutMs: NaN }, 'timeoutMs'],
    [{ timeoutMs: Infinity }, 'timeoutMs'],
    [{ timeoutMs: 10 * 86_400_000 }, 'timeoutMs'],
    [{ timeoutMs: '100' }, 'timeoutMs must be a number'],
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ maxRetries: 1.5 }, 'maxRetries'],
    [{ signal: 'stop' }, 'options.signal must be an AbortSignal'],
    [{ timeout: 100 }, 'unknown option "timeout"'],
    [{ idempotent: true }, 'unknown option "idempotent"'],
    ['fast', 'options must be an object'],
  ]) {
    const e = await rejection(client.jobs.get({ external: EXT }, opts));
    assert.ok(e instanceof ValidationError, `${JSON.stringify(opts)}: ${e}`);
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
  }
  assert.equal(requestsFor(mock, 'jobs.get').length, 0);
});

test('jobs arguments are checked before anything is sent', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  for (const [call, words] of [
    [() => client.jobs.get({}), 'give id'],
    [() => client.jobs.get({ id: DEMO.DEMO_JOB_ID, external: EXT }), 'not both'],
    [() => client.jobs.get({ id: 'not-a-uuid' }), 'not a UUID'],
    [() => client.jobs.get({ external: '  ' }), 'external is empty'],
    [() => client.jobs.get({ external: 7 }), 'external must be a string'],
    [() => client.jobs.get(EXT), 'identity must be an object'],
    [() => client.jobs.get(), 'identity is missing'],
    [() => client.jobs.get({ ref: EXT }), 'unknown option "ref"'],
    [() => client.jobs.insert({ external: 'X', data: {} }), 'repairer_site_id is required'],
    [() => client.jobs.insert({ external: 'X' }), 'job data must be an object'],
    [() => client.jobs.insert({ external: 'X', data: 'text' }), 'job data must be an object'],
    [() => client.jobs.insert({ external: 'X', data: { repairer_site_id: 'nope' } }), 'job data'],
    [
      () => client.jobs.insert({ external: 'X', data: { repairer_site_id: DEMO.DEMO_SITE_ID }, ifExists: 'merge' }),
      'ifExists "merge" is not one of',
    ],
    [
      () => client.jobs.insert({ external: 'X', data: { repairer_site_id: DEMO.DEMO_SITE_ID, vehicle: 'car' } }),
      'vehicle',
    ],
    [() => client.jobs.insert(), 'request is missing'],
  ]) {
    const e = await rejection(call());
    assert.ok(e instanceof ValidationError, `${words}: ${e}`);
    assert.ok(e.message.includes(words), `${e.message} lacks ${words}`);
    assert.equal(e.attempts, 0);
  }
  assert.equal(mock.requests().length, 0);
});

test('methods never throw synchronously: bad input rejects the Promise', () => {
  const client = new Client({ baseUrl: 'http://127.0.0.1:9' });
  const p = client.jobs.get('nope', 'bad options');
  assert.ok(p instanceof Promise);
  return rejection(p).then((e) => assert.ok(e instanceof ValidationError));
});

test('the client sends its credentials, a user agent naming Node and a traceparent', async (t) => {
  const mock = await startMock(t);
  await mock.client().jobs.get({ external: EXT });
  const h = requestsFor(mock, 'jobs.get')[0].headers;
  assert.equal(h.authorization, `Bearer ${DEMO.DEMO_API_KEY}`);
  assert.equal(h['partly-integration-id'], DEMO.DEMO_INTEGRATION_ID);
  assert.equal(h['content-type'], 'application/json');
  assert.ok(h['user-agent'].startsWith(`partly-node/${VERSION} (node ${process.versions.node}; `), h['user-agent']);
  assert.match(h.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test('client settings: options, environment and defaults, checked and naming the setting', async (t) => {
  const defaults = new Client({ baseUrl: 'http://127.0.0.1:9' }).settings;
  assert.deepEqual(
    { ...defaults, userAgent: undefined, proxy: null },
    {
      baseUrl: 'http://127.0.0.1:9',
      integrationId: null,
      hasApiKey: false,
      timeoutMs: 30000,
      maxRetries: 2,
      userAgent: undefined,
      proxy: null,
    },
  );
  const c = new Client({
    baseUrl: 'https://proxy.example/partly/',
    apiKey: 'k',
    integrationId: DEMO.DEMO_INTEGRATION_ID,
    timeoutMs: 1500,
    maxRetries: 0,
  });
  assert.deepEqual(
    { ...c.settings, userAgent: undefined, proxy: null },
    {
      baseUrl: 'https://proxy.example/partly',
      integrationId: DEMO.DEMO_INTEGRATION_ID,
      hasApiKey: true,
      timeoutMs: 1500,
      maxRetries: 0,
      userAgent: undefined,
      proxy: null,
    },
  );
  for (const [opts, words] of [
    [{ baseUrl: 'ftp://x' }, 'only http and https'],
    [{ baseUrl: 'http://api.partly.example' }, 'clear text'],
    [{ baseUrl: 'not a url' }, 'not a valid URL'],
    [{ integrationId: 'nope' }, 'not a UUID'],
    [{ apiKey: '' }, 'apiKey is empty'],
    [{ apiKey: 'has space' }, 'apiKey contains whitespace'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ apiKey: 42 }, 'apiKey must be a string'],
    [{ allowInsecureHttp: 'yes' }, 'allowInsecureHttp must be a boolean'],
    [{ api_key: 'k' }, 'unknown option "api_key"'],
    ['https://api.partly.com', 'options must be an object'],
  ]) {
    assert.throws(
      () => new Client(opts),
      (e) => e instanceof ValidationError && e.message.includes(words),
      `${JSON.stringify(opts)} -> ${words}`,
    );
  }
  assert.equal(
    new Client({ baseUrl: 'http://api.partly.example', allowInsecureHttp: true }).settings.baseUrl,
    'http://api.partly.example',
  );
});

test('settings come from PARTLY_* variables of process.env when not given', async (t) => {
  const mock = await startMock(t);
  const saved = { ...process.env };
  t.after(() => {
    for (const k of ['PARTLY_API_KEY', 'PARTLY_INTEGRATION_ID', 'PARTLY_BASE_URL']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  process.env.PARTLY_API_KEY = DEMO.DEMO_API_KEY;
  process.env.PARTLY_INTEGRATION_ID = ` ${DEMO.DEMO_INTEGRATION_ID} `;
  process.env.PARTLY_BASE_URL = mock.url;
  const fromEnv = new Client();
  assert.equal(fromEnv.settings.baseUrl, mock.url);
  assert.equal(fromEnv.settings.hasApiKey, true);
  assert.equal((await fromEnv.jobs.get({ external: EXT })).external_id, EXT);
  const explicit = new Client({ baseUrl: 'http://127.0.0.1:9', integrationId: '497f6eca-6276-4993-bfeb-53cbbbba6f08' });
  assert.equal(explicit.settings.baseUrl, 'http://127.0.0.1:9', 'options win over the environment');
  assert.equal(explicit.settings.integrationId, '497f6eca-6276-4993-bfeb-53cbbbba6f08');
  process.env.PARTLY_BASE_URL = 'ftp://nope';
  assert.throws(
    () => new Client(),
    (e) => e instanceof ValidationError && e.message.includes('PARTLY_BASE_URL'),
  );
  process.env.PARTLY_BASE_URL = '';
  process.env.PARTLY_API_KEY = '';
  const empty = new Client();
  assert.equal(empty.settings.baseUrl, 'https://api.partly.com', 'an empty variable counts as unset');
  assert.equal(empty.settings.hasApiKey, false);
});

test('a client without credentials says what is missing before sending', async (t) => {
  const mock = await startMock(t);
  const e = await rejection(new Client({ baseUrl: mock.url }).jobs.get({ external: EXT }));
  assert.ok(e instanceof ValidationError);
  assert.ok(e.message.includes('PARTLY_API_KEY'), e.message);
  assert.equal(mock.requests().length, 0);
});

test('OAuth helpers: authorize URL with a fresh state, constant-time state check', () => {
  const a = authorizeUrl({
    clientId: DEMO.DEMO_CLIENT_ID,
    redirectUrl: 'https://shop.example/cb?x=1',
    scopes: ['repairer'],
  });
  const u = new URL(a.url);
  assert.equal(u.origin + u.pathname, 'https://app.partly.com/auth/integration/authorize');
  assert.equal(u.searchParams.get('client_id'), DEMO.DEMO_CLIENT_ID);
  assert.equal(u.searchParams.get('state'), a.state);
  assert.equal(u.searchParams.get('scopes'), '["repairer"]');
  assert.equal(u.searchParams.get('redirect_url'), 'https://shop.example/cb?x=1');
  assert.match(a.state, /^[0-9a-f]{64}$/);
  const b = authorizeUrl({
    clientId: 'c',
    redirectUrl: 'https://shop.example/cb',
    scopes: ['supplier'],
    endpoint: 'https://staging.example/authorize',
  });
  assert.ok(b.url.startsWith('https://staging.example/authorize?'));
  assert.notEqual(a.state, b.state);
  assert.equal(verifyState(a.state, a.state), true);
  assert.equal(verifyState(a.state, b.state), false);
  assert.equal(verifyState(a.state, a.state.slice(1)), false);
  assert.equal(verifyState('', ''), false);
  assert.equal(verifyState(a.state, undefined), false);
  assert.match(generateState(), /^[0-9a-f]{64}$/);
  assert.notEqual(generateState(), generateState());
  for (const [params, words] of [
    [{ clientId: '', redirectUrl: 'https://x/cb', scopes: ['repairer'] }, 'clientId is empty'],
    [{ clientId: 'c', redirectUrl: '/cb', scopes: ['repairer'] }, 'redirectUrl "/cb" is not'],
    [{ clientId: 'c', redirectUrl: 'https://x/cb', scopes: [] }, 'scopes'],
    [{ clientId: 'c', redirectUrl: 'https://x/cb' }, 'scopes is missing or empty; there is no default'],
    [{ clientId: 'c', redirectUrl: 'https://x/cb', scopes: 'repairer' }, 'scopes must be an array'],
    [{ clientId: 'c', redirectUrl: 'https://x/cb', scopes: ['repairer'], endpoint: 'nope' }, 'endpoint'],
    [{ client_id: 'c' }, 'unknown option'],
    [undefined, 'authorizeUrl needs'],
  ]) {
    assert.throws(
      () => authorizeUrl(params),
      (e) => e instanceof ValidationError && e.message.includes(words),
      words,
    );
  }
  assert.throws(() => verifyState(undefined, 'x'), ValidationError);
});

test('MockServer: control surface', async (t) => {
  const mock = await startMock(t, { latencyMs: 20 });
  assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const started = Date.now();
  await mock.client().jobs.get({ external: EXT });
  assert.ok(Date.now() - started >= 15, 'latencyMs delays answers');
  assert.equal(mock.requests().length, 1);
  const r = mock.requests()[0];
  assert.deepEqual(
    { method: r.method, path: r.path, httpMethod: r.httpMethod, status: r.status, fault: r.fault },
    { method: 'jobs.get', path: '/api/2026-01/jobs.get', httpMethod: 'POST', status: 200, fault: false },
  );
  mock.injectFault({ method: 'jobs.get', status: 418 });
  mock.clearFaults();
  await mock.client().jobs.get({ external: EXT });
  mock.reset();
  assert.equal(mock.requests().length, 0);
  const code = mock.mintAccessCode({ expiresInSecs: 0 });
  assert.equal(code.expiresInSecs, 0);
  const { accessCode, clientId, clientSecret } = code;
  const expired = await rejection(
    new Client({ baseUrl: mock.url }).integrations.insert({ accessCode, clientId, clientSecret }),
  );
  assert.equal(expired.name, 'BadRequestError');
  assert.throws(() => mock.injectFault({ method: 'jobs.get', action: 'explode' }), ValidationError);
  assert.throws(() => mock.injectFault({ metod: 'jobs.get' }), ValidationError);
  await assert.rejects(require('partly/testing').MockServer.start({ latencyMs: -1 }), ValidationError);
  await assert.rejects(require('partly/testing').MockServer.start({ latency: 1 }), ValidationError);
  await mock.stop();
  assert.equal(mock.stopped, true);
  await mock.stop();
  assert.throws(() => mock.requests(), /stopped/);
  const e = await rejection(
    new Client({ baseUrl: mock.url, apiKey: 'k', integrationId: DEMO.DEMO_INTEGRATION_ID }).jobs.get(
      { external: EXT },
      { maxRetries: 0 },
    ),
  );
  assert.equal(e.name, 'ConnectionError', 'a stopped mock refuses connections');
});
