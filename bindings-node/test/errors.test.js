'use strict';
// Every error class: the hierarchy, the stable codes, and the fields of each as a user meets it.
const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');

const partly = require('partly');
const native = require('../native');
const errors = require('../errors');
const { startMock, rejection, DEMO } = require('./support');

const EXT = DEMO.DEMO_JOB_EXTERNAL_ID;
const {
  PartlyError,
  ValidationError,
  ConnectionError,
  TimeoutError,
  DecodeError,
  ApiError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  RateLimitError,
  ServerError,
  AbortError,
} = partly;

const PARENT = {
  PartlyError: Error,
  ValidationError: PartlyError,
  ConnectionError: PartlyError,
  TimeoutError: ConnectionError,
  DecodeError: PartlyError,
  ApiError: PartlyError,
  BadRequestError: ApiError,
  AuthenticationError: ApiError,
  PermissionDeniedError: ApiError,
  NotFoundError: ApiError,
  ConflictError: ApiError,
  RateLimitError: ApiError,
  ServerError: ApiError,
  AbortError: PartlyError,
};

test('the hierarchy of design.md §4, exported by the package', () => {
  for (const [name, parent] of Object.entries(PARENT)) {
    const cls = partly[name];
    assert.equal(typeof cls, 'function', name);
    assert.equal(Object.getPrototypeOf(cls), parent, `${name} extends ${parent.name}`);
    const e = new cls('boom');
    assert.ok(e instanceof Error);
    assert.ok(e instanceof PartlyError);
    assert.ok(e instanceof parent);
    assert.equal(e.name, name);
    assert.equal(e.message, 'boom');
    assert.ok(e.stack.startsWith(`${name}: boom`), e.stack);
    assert.equal(typeof e.code, 'string');
  }
  assert.equal(new AbortError().code, 'ABORT_ERR');
  assert.equal(new AbortError().message, 'the call was aborted');
});

test('every error kind of the core has a class of the same name and code', () => {
  const kinds = native.errorKinds();
  assert.equal(kinds.length, 12);
  for (const kind of kinds) {
    const cls = partly[kind.name];
    assert.equal(typeof cls, 'function', `class ${kind.name} is exported`);
    const e = errors.fromNative({ code: kind.code, name: kind.name, message: 'm', attempts: 0 });
    assert.ok(e instanceof cls, kind.name);
    assert.equal(e.constructor, cls, `${kind.code} makes exactly a ${kind.name}`);
    assert.equal(e.code, kind.code);
    assert.equal(new cls('m').code, kind.code, `${kind.name} built by hand has the code too`);
    assert.equal(e instanceof ApiError, kind.isApi, `${kind.name} is an ApiError iff it is an answer from the server`);
  }
});

test('an unknown code still gives a PartlyError carrying it', () => {
  const e = errors.fromNative({ code: 'PARTLY_SOMETHING_NEW', name: 'SomethingNewError', message: 'new', attempts: 2 });
  assert.equal(e.constructor, PartlyError);
  assert.equal(e.code, 'PARTLY_SOMETHING_NEW');
  assert.equal(e.attempts, 2);
});

test('errors built by hand take their fields', () => {
  const cause = new Error('root');
  const e = new RateLimitError('slow down', {
    status: 429,
    errorType: 'rate_limited',
    retryAfter: 2,
    attempts: 1,
    cause,
  });
  assert.equal(e.status, 429);
  assert.equal(e.errorType, 'rate_limited');
  assert.equal(e.retryAfter, 2);
  assert.equal(e.attempts, 1);
  assert.equal(e.cause, cause);
  assert.equal(e.code, 'PARTLY_RATE_LIMIT');
  assert.equal(new ValidationError('x').attempts, 0);
});

/** Injects an error answer for jobs.get and returns what the call rejects with. */
async function answered(mock, fault, opts = { maxRetries: 0 }) {
  mock.reset();
  mock.injectFault({ method: 'jobs.get', headers: { 'content-type': 'application/json' }, ...fault });
  return rejection(mock.client().jobs.get({ external: EXT }, opts));
}

test('each API error class from its status, with status, errorType, body, method, attempts and traceId', async (t) => {
  const mock = await startMock(t);
  for (const [status, cls, retryable] of [
    [400, BadRequestError, false],
    [401, AuthenticationError, false],
    [403, PermissionDeniedError, false],
    [404, NotFoundError, false],
    [409, ConflictError, false],
    [429, RateLimitError, true],
    [500, ServerError, true],
    [503, ServerError, true],
    [418, ApiError, false],
  ]) {
    const body = JSON.stringify({ type: `type_${status}`, message: `message ${status}` });
    const e = await answered(mock, { status, body });
    assert.equal(e.constructor, cls, `${status} -> ${cls.name}, got ${e.name}`);
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, cls.code);
    assert.equal(e.status, status);
    assert.equal(e.errorType, `type_${status}`);
    assert.equal(e.body, body);
    assert.equal(e.method, 'jobs.get');
    assert.equal(e.attempts, 1);
    assert.equal(e.retryable, retryable);
    assert.match(e.traceId, /^[0-9a-f]{32}$/);
    assert.equal(mock.requests()[0].headers.traceparent.split('-')[1], e.traceId);
    assert.equal(e.message, `jobs.get: HTTP ${status} type_${status}: message ${status}`, "the core's message");
  }
});

test('a real 404 carries the server request id', async (t) => {
  const mock = await startMock(t);
  const e = await rejection(mock.client().jobs.get({ external: 'NO-SUCH' }));
  assert.ok(e instanceof NotFoundError);
  assert.equal(e.errorType, 'not_found');
  assert.match(e.requestId, /^\S+$/);
  assert.equal(e.message, 'jobs.get: HTTP 404 not_found: no job with external id "NO-SUCH"');
});

test('RateLimitError carries retryAfter in seconds; retries are counted', async (t) => {
  const mock = await startMock(t);
  const e = await answered(
    mock,
    {
      status: 429,
      body: '{"type":"rate_limited"}',
      headers: { 'retry-after': '120', 'content-type': 'application/json' },
    },
    {},
  );
  assert.ok(e instanceof RateLimitError);
  assert.equal(e.retryAfter, 120);
  assert.equal(e.attempts, 1, 'a Retry-After over the cap is not waited for');
  assert.ok(e.message.includes('retry after 120s'), e.message);
  const gaveUp = await answered(
    mock,
    { status: 503, times: 3, body: '', headers: { 'retry-after': '0' } },
    { maxRetries: 2 },
  );
  assert.ok(gaveUp instanceof ServerError);
  assert.equal(gaveUp.attempts, 3);
  assert.equal(gaveUp.body, undefined, 'no body, no body field');
  assert.ok(gaveUp.message.endsWith('(after 3 attempts)'), gaveUp.message);
});

test('DecodeError keeps the raw body; TimeoutError is a ConnectionError; ConnectionError when nothing listens', async (t) => {
  const mock = await startMock(t);
  const decode = await answered(mock, {
    status: 200,
    body: '<html>maintenance</html>',
    headers: { 'content-type': 'text/html' },
  });
  assert.ok(decode instanceof DecodeError);
  assert.equal(decode.code, 'PARTLY_DECODE');
  assert.equal(decode.status, 200);
  assert.equal(decode.body, '<html>maintenance</html>');
  assert.ok(decode.message.includes('not valid JSON'), decode.message);

  const timeout = await answered(mock, { delayMs: 2000 }, { timeoutMs: 100, maxRetries: 0 });
  assert.ok(timeout instanceof TimeoutError);
  assert.ok(timeout instanceof ConnectionError);
  assert.equal(timeout.code, 'PARTLY_TIMEOUT');
  assert.equal(timeout.status, undefined);
  assert.equal(timeout.retryable, true);

  const dropped = await answered(mock, { action: 'drop' });
  assert.equal(dropped.constructor, ConnectionError);
  assert.equal(dropped.code, 'PARTLY_CONNECTION');
  assert.equal(dropped.attempts, 1);

  const url = mock.url;
  await mock.stop();
  const refused = await rejection(
    new partly.Client({ baseUrl: url, apiKey: 'k', integrationId: DEMO.DEMO_INTEGRATION_ID }).jobs.get(
      { external: EXT },
      { maxRetries: 0 },
    ),
  );
  assert.equal(refused.constructor, ConnectionError);
  assert.ok(refused.message.startsWith('jobs.get: could not connect'), refused.message);
});

test('ValidationError: nothing sent, attempts 0, the argument named', async (t) => {
  const mock = await startMock(t);
  const e = await rejection(mock.client().jobs.get({ id: 'abc' }));
  assert.ok(e instanceof ValidationError);
  assert.equal(e.code, 'PARTLY_VALIDATION');
  assert.equal(e.attempts, 0);
  assert.equal(e.status, undefined);
  assert.ok(e.message.includes('job id "abc" is not a UUID'), e.message);
  assert.equal(mock.requests().length, 0);
});

test('errors show their fields in util.inspect and survive JSON', async (t) => {
  const mock = await startMock(t);
  const e = await rejection(mock.client().jobs.get({ external: 'NO-SUCH' }));
  const shown = util.inspect(e);
  assert.ok(shown.startsWith('NotFoundError: jobs.get: HTTP 404'), shown);
  assert.ok(shown.includes("code: 'PARTLY_NOT_FOUND'"), shown);
  assert.ok(shown.includes('status: 404'), shown);
  const json = JSON.parse(JSON.stringify(e));
  assert.equal(json.code, 'PARTLY_NOT_FOUND');
  assert.equal(json.status, 404);
});
