'use strict';
// `partly/testing`: the partly-mock server in-process, for your tests and ours.
//
//   const { MockServer } = require('partly/testing');
//   const mock = await MockServer.start();
//   const client = mock.client();          // holds the mock's demo credentials
//   ...
//   await mock.stop();
//
// The server runs on the native module's threads (not on Node's event loop), bound to a free
// port on 127.0.0.1; a forgotten mock never keeps a process from exiting.

const util = require('node:util');
const native = require('./native');
const { Client, ValidationError } = require('./index.js');
const { fromNative } = require('./errors.js');

/** The mock's seeded demo values (credentials, ids). */
const DEMO = Object.freeze(native.mockConstants());

// The fault's JSON form is the mock's own (snake_case, as in core/tests/fixtures/cases.json);
// these camelCase spellings are accepted too.
const FAULT_ALIASES = {
  delayMs: 'delay_ms',
  trickleIntervalMs: 'trickle_interval_ms',
  trickleChunkBytes: 'trickle_chunk_bytes',
};

const START_OPTIONS = [
  'latencyMs',
  'logCapacity',
  'chaosRate',
  'tls',
  'http1Only',
  'redirectUrls',
  'rateLimit',
  'rateBurst',
];

function value(outcome) {
  if (outcome.error) throw fromNative(outcome.error);
  return outcome.value === undefined ? null : outcome.value;
}

function optionalNumber(v, name) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new ValidationError(`${name} must be a number, got ${typeof v}`);
  return v;
}

class MockServer {
  #native;

  /** @internal Use `MockServer.start()`. */
  constructor(nativeServer) {
    if (!(nativeServer instanceof native.NativeMockServer)) {
      throw new TypeError('use `await MockServer.start()` to start a mock server');
    }
    this.#native = nativeServer;
  }

  /**
   * Starts a mock on a free port of 127.0.0.1. `tls: true` serves HTTPS with a certificate from
   * a CA generated at start, written to `caPath` (its `client()` trusts it through `caBundle`);
   * HTTP/2 is offered over TLS unless `http1Only: true`. `redirectUrls` are registered for the
   * demo client's OAuth authorize page.
   * `rateLimit` (requests/s; a token bucket with a burst of `rateBurst`, by default a tenth of a
   * second's worth) answers calls above it with 429, `Retry-After: 1` and a typed body, as the
   * API's gateway does: to rehearse a throttled `prepareAll` (`setRateLimit` changes it).
   * @param {{ latencyMs?: number, logCapacity?: number, chaosRate?: number, tls?: boolean, http1Only?: boolean, redirectUrls?: string[], rateLimit?: number, rateBurst?: number }} [options]
   */
  static async start(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValidationError('options must be an object such as { latencyMs }');
    }
    for (const key of Object.keys(options)) {
      if (!START_OPTIONS.includes(key)) {
        throw new ValidationError(
          `options: unknown option ${JSON.stringify(key)}; the options are ${START_OPTIONS.join(', ')}`,
        );
      }
    }
    for (const key of ['tls', 'http1Only']) {
      if (options[key] !== undefined && typeof options[key] !== 'boolean') {
        throw new ValidationError(`${key} must be a boolean, got ${typeof options[key]}`);
      }
    }
    const redirectUrls =
      options.redirectUrls === undefined || options.redirectUrls === null ? undefined : options.redirectUrls;
    if (
      redirectUrls !== undefined &&
      (!Array.isArray(redirectUrls) || !redirectUrls.every((u) => typeof u === 'string'))
    ) {
      throw new ValidationError(
        'redirectUrls must be an array of strings such as ["http://127.0.0.1:3000/partly/callback"]',
      );
    }
    const started = await native.startMockServer(
      optionalNumber(options.latencyMs, 'latencyMs'),
      optionalNumber(options.logCapacity, 'logCapacity'),
      optionalNumber(options.chaosRate, 'chaosRate'),
      options.tls,
      options.http1Only,
      redirectUrls,
      optionalNumber(options.rateLimit, 'rateLimit'),
      optionalNumber(options.rateBurst, 'rateBurst'),
    );
    if (!(started instanceof native.NativeMockServer)) throw fromNative(started);
    return new MockServer(started);
  }

  /** `http://127.0.0.1:PORT` (`https://` with TLS). */
  get url() {
    return this.#native.url;
  }

  /** With `tls: true`: the PEM file of the CA that signed the mock's certificate; else null. */
  get caPath() {
    const p = this.#native.caPath;
    return p === undefined ? null : p;
  }

  /**
   * The OAuth authorize page, `http://127.0.0.1:PORT/auth/integration/authorize`: pass it (or
   * `url`) as `authorizeUrl({ ..., endpoint })`.
   */
  get authorizeEndpoint() {
    return this.#native.authorizeEndpoint;
  }

  /** Registers a redirect URL for the demo client (exact match; twice is harmless). */
  registerRedirectUrl(url) {
    if (typeof url !== 'string') throw new ValidationError(`url must be a string, got ${typeof url}`);
    value(this.#native.registerRedirectUrl(url));
  }

  /** The redirect URLs registered for the demo client. */
  redirectUrls() {
    return value(this.#native.redirectUrls());
  }

  /** Whether `stop()` was called. */
  get stopped() {
    return this.#native.stopped;
  }

  /** A Client for this mock with its demo credentials; `options` override them. */
  client(options = {}) {
    return new Client({
      apiKey: DEMO.DEMO_API_KEY,
      integrationId: DEMO.DEMO_INTEGRATION_ID,
      baseUrl: this.url,
      ...(this.caPath === null ? {} : { caBundle: this.caPath }),
      ...options,
    });
  }

  /**
   * A fresh single-use access code with the client id and secret that trade it.
   * @param {{ expiresInSecs?: number }} [options] 0 gives an already expired code.
   * @returns {{ accessCode: string, clientId: string, clientSecret: string, expiresInSecs: number }}
   */
  mintAccessCode(options = {}) {
    const o = options === null || options === undefined ? {} : options;
    return value(this.#native.mintAccessCode(optionalNumber(o.expiresInSecs, 'expiresInSecs')));
  }

  /**
   * Makes the next `times` calls of `method` misbehave, e.g.
   * `{ method: 'jobs.get', status: 503, headers: { 'retry-after': '0' } }` or
   * `{ method: 'jobs.get', delayMs: 3000 }` or `{ method: 'tier1.prepare', action: 'drop' }`.
   */
  injectFault(fault) {
    if (fault === null || typeof fault !== 'object' || Array.isArray(fault)) {
      throw new ValidationError('fault must be an object such as { method: "jobs.get", status: 503 }');
    }
    const wire = {};
    for (const [key, v] of Object.entries(fault)) {
      if (v !== undefined) wire[FAULT_ALIASES[key] || key] = v;
    }
    value(this.#native.injectFault(wire));
  }

  /** Removes every queued fault. */
  clearFaults() {
    value(this.#native.clearFaults());
  }

  /** The requests received, oldest first: { method, path, httpMethod, httpVersion, headers, body, status, fault }. */
  requests() {
    return value(this.#native.requests());
  }

  /** How many vehicle identifiers tier1.prepare has queued since the last reset. */
  preparedIdentifiers() {
    return value(this.#native.preparedIdentifiers());
  }

  /** `{ identifiers, distinct, duplicates }` that tier1.prepare has accepted since the last reset. */
  preparedStats() {
    return value(this.#native.preparedStats());
  }

  /** Sets the rate limit (requests/s, optional burst) or, with `null`, lifts it. */
  setRateLimit(rateLimit, rateBurst) {
    value(this.#native.setRateLimit(optionalNumber(rateLimit, 'rateLimit'), optionalNumber(rateBurst, 'rateBurst')));
  }

  /** Clears faults and the request log and restores the seeded data. */
  reset() {
    value(this.#native.reset());
  }

  /** Stops the server and closes its connections. Stopping twice is harmless. */
  async stop() {
    value(await this.#native.stop());
  }

  [util.inspect.custom]() {
    return `MockServer { url: '${this.url}'${this.stopped ? ', stopped' : ''} }`;
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(MockServer.prototype, Symbol.asyncDispose, {
    value: function asyncDispose() {
      return this.stop();
    },
    configurable: true,
    writable: true,
  });
}

module.exports = { MockServer, DEMO };
