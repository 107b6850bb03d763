'use strict';
// Shared helpers of the test suite (not a test file: node.mk runs test/*.test.{js,mjs}).
const { MockServer, DEMO } = require('partly/testing');

/** A fresh mock (port 0) for this test, stopped when the test ends. */
async function startMock(t, options) {
  const mock = await MockServer.start(options);
  t.after(() => mock.stop());
  return mock;
}

/** The requests the mock logged for one method. */
function requestsFor(mock, method) {
  return mock.requests().filter((r) => r.method === method);
}

/** Waits until `predicate()` is truthy, polling, failing after `timeoutMs`. */
async function waitFor(predicate, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the rejection of `promise` (fails if it resolves). */
async function rejection(promise) {
  try {
    const value = await promise;
    throw Object.assign(new Error(`expected a rejection, got ${JSON.stringify(value)}`), { unexpected: true });
  } catch (error) {
    if (error && error.unexpected) throw error;
    return error;
  }
}

module.exports = { startMock, requestsFor, waitFor, rejection, DEMO, MockServer };
