'use strict';
// The `logger` option and `logLevel` / PARTLY_LOG: the same records, levels and scrubbing as the
// Python package's `logging` logger `partly` (bindings-python/tests/test_logging.py).

const test = require('node:test');
const assert = require('node:assert');
const { Client, ServerError, NotFoundError, ValidationError } = require('partly');
const { startMock, DEMO } = require('./support');

/** A logger that keeps `[level, message]` pairs. */
function recorder() {
  const lines = [];
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (message) => lines.push([level, message]);
  return { lines, logger };
}

function client(mock, extra) {
  return new Client({
    baseUrl: mock.url,
    apiKey: DEMO.DEMO_API_KEY,
    integrationId: DEMO.DEMO_INTEGRATION_ID,
    ...extra,
  });
}

test('one debug line per attempt, retries at info, the final failure at warn, in order', async (t) => {
  const mock = await startMock(t);
  const { lines, logger } = recorder();
  mock.injectFault({ method: 'jobs.get', times: 3, status: 503, headers: { 'retry-after': '0' } });
  const c = client(mock, { logger, logLevel: 'debug' });
  await assert.rejects(c.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }), ServerError);
  assert.deepEqual(
    lines.map(([level]) => level),
    ['debug', 'info', 'debug', 'info', 'debug', 'warn'],
    JSON.stringify(lines),
  );
  const attempts = lines.filter(([level]) => level === 'debug').map(([, m]) => m);
  attempts.forEach((m, i) => assert.ok(m.includes('jobs.get') && m.includes(`attempt=${i + 1}`), m));
  assert.ok(lines[1][1].includes('retrying') && lines[1][1].includes('503'), lines[1][1]);
  // Every record was handed over before the call settled.
  const before = lines.length;
  await c.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.equal(lines.length, before + 1);
});

test('a single 404 logs at debug only; the default level with a logger is warn', async (t) => {
  const mock = await startMock(t);
  const debug = recorder();
  await assert.rejects(
    client(mock, { logger: debug.logger, logLevel: 'debug' }).jobs.get({ external: 'NOPE' }),
    NotFoundError,
  );
  assert.deepEqual(
    debug.lines.map(([level]) => level),
    ['debug', 'debug'],
    JSON.stringify(debug.lines),
  );
  const quiet = recorder();
  await assert.rejects(client(mock, { logger: quiet.logger }).jobs.get({ external: 'NOPE' }), NotFoundError);
  assert.deepEqual(quiet.lines, [], 'nothing at warn for a single answered error');
});

test('logLevel filters; PARTLY_LOG is the default level; silent without either', async (t) => {
  const mock = await startMock(t);
  mock.injectFault({ method: 'jobs.get', times: 1, status: 503, headers: { 'retry-after': '0' } });
  const info = recorder();
  await client(mock, { logger: info.logger, logLevel: 'info' }).jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.deepEqual(
    info.lines.map(([level]) => level),
    ['info'],
  );

  const saved = process.env.PARTLY_LOG;
  t.after(() => {
    if (saved === undefined) delete process.env.PARTLY_LOG;
    else process.env.PARTLY_LOG = saved;
  });
  process.env.PARTLY_LOG = 'debug';
  const fromEnv = recorder();
  await client(mock, { logger: fromEnv.logger }).jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.deepEqual(
    fromEnv.lines.map(([level]) => level),
    ['debug'],
  );
  delete process.env.PARTLY_LOG;
  const silent = recorder();
  const c = client(mock);
  await c.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.deepEqual(silent.lines, []);
});

test('no record holds a secret, and a logger that throws never fails a call', async (t) => {
  const mock = await startMock(t);
  const { lines, logger } = recorder();
  const bad = 'pk_wrong_key_0000000000';
  const c = new Client({
    baseUrl: mock.url,
    apiKey: bad,
    integrationId: DEMO.DEMO_INTEGRATION_ID,
    logger,
    logLevel: 'debug',
  });
  await assert.rejects(c.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }));
  const code = mock.mintAccessCode();
  mock.injectFault({
    method: 'integrations.insert',
    times: 1,
    status: 500,
    body: JSON.stringify({ echo: code.clientSecret }),
  });
  const anon = new Client({ baseUrl: mock.url, logger, logLevel: 'debug' });
  await assert.rejects(
    anon.integrations.insert({ accessCode: code.accessCode, clientId: code.clientId, clientSecret: code.clientSecret }),
  );
  assert.ok(lines.length >= 2, JSON.stringify(lines));
  for (const [, message] of lines) {
    for (const secret of [bad, code.accessCode, code.clientSecret]) assert.ok(!message.includes(secret), message);
  }
  const throwing = {
    debug: () => {
      throw new Error('logger down');
    },
    info() {},
    warn() {},
    error() {},
  };
  const job = await client(mock, { logger: throwing, logLevel: 'debug' }).jobs.get({
    external: DEMO.DEMO_JOB_EXTERNAL_ID,
  });
  assert.equal(job.external_id, DEMO.DEMO_JOB_EXTERNAL_ID);
});

test('a bad logger or logLevel is a ValidationError naming the option as written', () => {
  assert.throws(
    () => new Client({ logger: {} }),
    (e) => e instanceof ValidationError && /logger must be an object with debug/.test(e.message),
  );
  assert.throws(
    () => new Client({ logLevel: 'loud' }),
    (e) =>
      e instanceof ValidationError &&
      /logLevel "loud" is not a log level; give one of off, error, warn, info, debug/.test(e.message),
  );
  const saved = process.env.PARTLY_LOG;
  process.env.PARTLY_LOG = 'chatty';
  try {
    assert.throws(
      () => new Client(),
      (e) => e instanceof ValidationError && /PARTLY_LOG "chatty"/.test(e.message),
    );
  } finally {
    if (saved === undefined) delete process.env.PARTLY_LOG;
    else process.env.PARTLY_LOG = saved;
  }
});
