'use strict';
// Cancellation: AbortSignal before and during a call, close(), and what the server sees.
const test = require('node:test');
const assert = require('node:assert/strict');

const { AbortError, PartlyError, ValidationError } = require('partly');
const { startMock, requestsFor, waitFor, rejection, DEMO } = require('./support');

const EXT = DEMO.DEMO_JOB_EXTERNAL_ID;

test('a signal aborted before the call rejects at once and sends nothing', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const controller = new AbortController();
  const reason = new Error('user went away');
  controller.abort(reason);
  for (const call of [
    () => client.jobs.get({ external: EXT }, { signal: controller.signal }),
    () =>
      client.jobs.insert(
        { external: 'X', data: { repairer_site_id: DEMO.DEMO_SITE_ID } },
        { signal: controller.signal },
      ),
    () => client.tier1.prepare(['A'], { signal: controller.signal }),
    () => client.tier1.prepareAll(['A'], { signal: controller.signal }),
    () =>
      client.integrations.insert({ accessCode: 'a', clientId: 'b', clientSecret: 'c' }, { signal: controller.signal }),
    () => client.call('businesses.list', {}, { signal: controller.signal }),
  ]) {
    const e = await rejection(call());
    assert.ok(e instanceof AbortError, String(e));
    assert.ok(e instanceof PartlyError);
    assert.equal(e.name, 'AbortError');
    assert.equal(e.code, 'ABORT_ERR');
    assert.equal(e.cause, reason, "the signal's reason is the cause");
  }
  assert.equal(mock.requests().length, 0);
  assert.equal(client.inFlight, 0);
});

test('aborting during a call rejects within 100 ms, closes the connection and is never retried', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  // Two slow answers: the first call is aborted; the second, sent later, is the control.
  mock.injectFault({ method: 'jobs.get', times: 2, delayMs: 400 });
  const controller = new AbortController();
  const pending = client.jobs.get({ external: EXT }, { signal: controller.signal });
  await waitFor(() => requestsFor(mock, 'jobs.get').length === 1, 'the mock to log the request');
  assert.equal(client.inFlight, 1);
  const abortedAt = Date.now();
  controller.abort();
  const e = await rejection(pending);
  const took = Date.now() - abortedAt;
  assert.ok(e instanceof AbortError, String(e));
  assert.ok(took < 100, `rejected ${took} ms after the abort`);
  await waitFor(() => client.inFlight === 0, 'the native call to be dropped');

  // The control call arrives after the aborted one and has the same delay: once it is answered,
  // the aborted request's delay is over too. Had its connection stayed open, the mock would
  // have answered it (status 200); it logged it with no answer, because the client went away.
  const control = await client.jobs.get({ external: EXT });
  assert.equal(control.external_id, EXT);
  const log = requestsFor(mock, 'jobs.get');
  assert.equal(log.length, 2, 'the aborted call was not retried');
  assert.equal(log[0].status, null, 'the aborted request was never answered: its connection was closed');
  assert.equal(log[1].status, 200);
});

test('abort after the answer changes nothing; listeners are removed', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  const controller = new AbortController();
  const job = await client.jobs.get({ external: EXT }, { signal: controller.signal });
  controller.abort();
  assert.equal(job.external_id, EXT);
  const { getEventListeners } = require('node:events');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('AbortSignal.timeout works as a deadline for the whole call, retries included', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({ method: 'jobs.get', times: 10, status: 503, headers: { 'retry-after': '1' } });
  const started = Date.now();
  const e = await rejection(client.jobs.get({ external: EXT }, { signal: AbortSignal.timeout(300) }));
  assert.ok(e instanceof AbortError, String(e));
  assert.equal(e.cause.name, 'TimeoutError', "the cause is the signal's DOMException");
  assert.ok(Date.now() - started < 1000);
  await waitFor(() => client.inFlight === 0, 'the native call to be dropped');
  assert.equal(requestsFor(mock, 'jobs.get').length, 1, 'no retry after the abort');
});

test('aborting one call leaves the others running', async (t) => {
  const mock = await startMock(t, { latencyMs: 50 });
  const client = mock.client();
  const controller = new AbortController();
  const calls = Array.from({ length: 10 }, (_, i) =>
    client.jobs.get({ external: EXT }, i === 3 ? { signal: controller.signal } : undefined),
  );
  controller.abort();
  const results = await Promise.allSettled(calls);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
  assert.ok(results[3].reason instanceof AbortError);
});

test('prepareAll can be aborted; no progress is delivered after the abort', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({ method: 'tier1.prepare', times: 100, delayMs: 100 });
  const controller = new AbortController();
  const seen = [];
  const pending = client.tier1.prepareAll(
    Array.from({ length: 1000 }, (_, i) => `V${i}`),
    {
      batchSize: 10,
      maxConcurrency: 2,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.done);
        if (seen.length === 2) controller.abort();
      },
    },
  );
  const e = await rejection(pending);
  assert.ok(e instanceof AbortError);
  const count = seen.length;
  await waitFor(() => client.inFlight === 0, 'the native run to be dropped');
  assert.equal(seen.length, count, 'no progress after the abort');
  assert.ok(requestsFor(mock, 'tier1.prepare').length < 100, 'the run stopped');
});

test('close() refuses new calls at once and lets calls in flight finish, resolving once they have', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({ method: 'jobs.get', times: 3, delayMs: 300 });
  const calls = Array.from({ length: 3 }, () => client.jobs.get({ external: EXT }));
  await waitFor(() => requestsFor(mock, 'jobs.get').length === 3, 'the mock to log all three');
  const closing = client.close();
  assert.equal(client.closed, true);
  const later = await rejection(client.jobs.get({ external: EXT }));
  assert.ok(later instanceof ValidationError, String(later));
  assert.ok(later.message.includes('client is closed'), later.message);
  assert.equal(client.inFlight, 3, 'the three calls are still running');
  await closing;
  assert.equal(client.inFlight, 0, 'close() resolved after the calls settled');
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    assert.equal(r.status, 'fulfilled', String(r.reason));
    assert.equal(r.value.external_id, EXT);
  }
  assert.equal(requestsFor(mock, 'jobs.get').length, 3, 'nothing sent after close');
  const bad = await rejection(client.close({ abort: 'yes' }));
  assert.ok(bad instanceof ValidationError && bad.message.includes('abort must be a boolean'), String(bad));
});

test('close({ abort: true }) cancels every call in flight (AbortError) and refuses later ones (ValidationError)', async (t) => {
  const mock = await startMock(t);
  const client = mock.client();
  mock.injectFault({ method: 'jobs.get', times: 5, delayMs: 5000 });
  const calls = Array.from({ length: 5 }, () => client.jobs.get({ external: EXT }));
  await waitFor(() => requestsFor(mock, 'jobs.get').length === 5, 'the mock to log all five');
  assert.equal(client.inFlight, 5);
  const closedAt = Date.now();
  await client.close({ abort: true });
  const results = await Promise.allSettled(calls);
  assert.ok(Date.now() - closedAt < 200, 'in-flight calls settle at once');
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof AbortError, String(r.reason));
    assert.ok(r.reason.message.includes('client was closed'), r.reason.message);
  }
  assert.equal(client.inFlight, 0);
  assert.equal(client.closed, true);
  const later = await rejection(client.jobs.get({ external: EXT }));
  assert.ok(later instanceof ValidationError, String(later));
  assert.ok(later.message.includes('client is closed'), later.message);
  assert.equal(later.attempts, 0);
  const laterAll = await rejection(client.tier1.prepareAll(['A']));
  assert.ok(laterAll instanceof ValidationError);
  await client.close(); // idempotent
  assert.equal(requestsFor(mock, 'jobs.get').length, 5, 'nothing sent after close');
  // Other clients are unaffected.
  assert.equal((await mock.client().jobs.get({ external: EXT })).external_id, EXT);
});
