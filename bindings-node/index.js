'use strict';
// The `partly` package: a thin layer over the native module (./src, built by `npm install`).
// It checks JavaScript types, serialises data objects with JSON.stringify, wires AbortSignals
// to native cancellation and turns native error objects into the classes of ./errors.js.
// Everything else (validation, defaults, retries, timeouts, HTTP) is the Rust core's.

const util = require('node:util');
const native = require('./native');
const errors = require('./errors');

const { ValidationError, fromNative, abortError } = errors;

/** The package version (also in the user agent: `partly-node/<version>`). */
const VERSION = native.version();
const ENV_VARS = native.envVarNames();
const RUNTIME = `node ${process.versions.node}`;

// ---------------------------------------------------------------------------------------------
// Argument checks: JavaScript types only (the core validates the values), each naming the
// argument, thrown as ValidationError.

function typeName(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `value` as an options object (undefined/null: empty) with only `known` keys. */
function options(value, name, known) {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    throw new ValidationError(`${name} must be an object such as { ${known.join(', ')} }, got ${typeName(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ValidationError(`${name}: unknown option ${JSON.stringify(key)}; the options are ${known.join(', ')}`);
    }
  }
  return value;
}

function optional(value, type, name) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new ValidationError(`${name} must be a ${type}, got ${typeName(value)}`);
  return value;
}

function isSignal(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.aborted === 'boolean' &&
    typeof value.addEventListener === 'function' &&
    typeof value.removeEventListener === 'function'
  );
}

// ---------------------------------------------------------------------------------------------
// Lossless numbers. Results cross from the native module as JSON text for `JSON.parse`, whose
// numbers are doubles. The core marks each number no double holds (1e400, 9007199254740993,
// 3.14159265358979323846: `partly::numbers::mark_inexact`): such text starts with MARK, and the
// number is a string `MARK n:<number>` (a string that itself starts with MARK is `MARK s:<it>`).
// Those numbers become LosslessNumber objects, which keep the exact text, and are written back
// the same way when sent (the core's `numbers::unmark` reads them).

const MARK = '\u0001';
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
/** `JSON.rawJSON` (Node 21 and later; not in the es2022 lib's declarations). */
const rawJSON = /** @type {{ rawJSON?: (text: string) => unknown }} */ (/** @type {unknown} */ (JSON)).rawJSON;
const RAW_JSON = typeof rawJSON === 'function';
let losslessMade = 0;

/**
 * A JSON number no JavaScript number holds exactly, kept as the text the server wrote. It
 * converts like a number (`+n`, `n * 2`: the nearest double), prints as its text (`String(n)`),
 * gives its integer exactly with `toBigInt()`, and is written back exactly when sent to the
 * SDK. `JSON.stringify` writes it as the number (with `JSON.rawJSON`, Node 21 and later) or as
 * its text in a string (Node 18 and 20).
 */
class LosslessNumber {
  /** @param {string} text a JSON number */
  constructor(text) {
    if (typeof text !== 'string' || !NUMBER_TEXT.test(text)) {
      const got = typeof text === 'string' ? JSON.stringify(text) : typeName(text);
      throw new ValidationError(`LosslessNumber takes the text of a JSON number such as "1e400", got ${got}`);
    }
    /** The exact text of the number. @type {string} */
    this.value;
    Object.defineProperty(this, 'value', { value: text, enumerable: true });
    losslessMade += 1;
    Object.freeze(this);
  }

  /** The nearest double (what arithmetic and comparisons use). */
  valueOf() {
    return Number(this.value);
  }

  /** The exact text. */
  toString() {
    return this.value;
  }

  [Symbol.toPrimitive](hint) {
    return hint === 'string' ? this.value : Number(this.value);
  }

  /** The integer exactly, as a BigInt; a RangeError when the number is not an integer. */
  toBigInt() {
    const [mantissa, exp = '0'] = this.value.toLowerCase().split('e');
    const [int, frac = ''] = mantissa.split('.');
    const shift = BigInt(exp) - BigInt(frac.length);
    const digits = BigInt(int + frac);
    if (shift >= 0n) return digits * 10n ** shift;
    const scale = 10n ** -shift;
    if (digits % scale === 0n) return digits / scale;
    throw new RangeError(`${this.value} is not an integer`);
  }

  toJSON() {
    return RAW_JSON && rawJSON ? rawJSON(this.value) : this.value;
  }

  [util.inspect.custom]() {
    return `LosslessNumber(${this.value})`;
  }
}

function revive(key, value) {
  if (typeof value === 'string' && value.charCodeAt(0) === 1) {
    if (value.startsWith(`${MARK}n:`)) return new LosslessNumber(value.slice(3));
    if (value.startsWith(`${MARK}s:`)) return value.slice(3);
  }
  return value;
}

/** A result's JSON text as JavaScript values, marked numbers as LosslessNumber. */
function parseResult(text) {
  return text.charCodeAt(0) === 1 ? JSON.parse(text.slice(1), revive) : JSON.parse(text);
}

/** JSON text of a value to send; LosslessNumbers in it are marked so they arrive exactly. */
function stringify(value) {
  if (losslessMade === 0) return JSON.stringify(value); // none exists: nothing to mark
  let marked = false;
  const text = JSON.stringify(value, function replacer(key, v) {
    const original = this[key]; // before its toJSON ran
    if (original instanceof LosslessNumber) {
      marked = true;
      return `${MARK}n:${original.value}`;
    }
    if (typeof v === 'string' && v.charCodeAt(0) === 1) {
      marked = true;
      return `${MARK}s:${v}`;
    }
    return v;
  });
  return marked && text !== undefined ? MARK + text : text;
}

/** JSON text of a data object (JSON's rules: undefined members left out, toJSON honoured). */
function json(value, name) {
  if (value === undefined) return undefined;
  let text;
  try {
    text = stringify(value);
  } catch (error) {
    throw new ValidationError(`${name} cannot be sent as JSON: ${error.message}`, { cause: error });
  }
  if (text === undefined) throw new ValidationError(`${name} cannot be sent as JSON (got ${typeName(value)})`);
  return text;
}

function identifierList(identifiers) {
  if (identifiers !== null && typeof identifiers === 'object' && !Array.isArray(identifiers)) {
    if (typeof identifiers[Symbol.iterator] === 'function') return Array.from(identifiers);
  }
  return identifiers;
}

const CALL_OPTIONS = ['signal', 'timeoutMs', 'maxRetries'];

/** Splits per-call options into the signal and the native `{ timeoutMs, maxRetries, ... }`. */
function callOptions(opts, known = CALL_OPTIONS) {
  const o = options(opts, 'options', known);
  const signal = o.signal === null ? undefined : o.signal;
  if (signal !== undefined && !isSignal(signal)) {
    throw new ValidationError(`options.signal must be an AbortSignal, got ${typeName(signal)}`);
  }
  return {
    signal,
    native: {
      timeoutMs: optional(o.timeoutMs, 'number', 'timeoutMs'),
      maxRetries: optional(o.maxRetries, 'number', 'maxRetries'),
      idempotent: optional(o.idempotent, 'boolean', 'idempotent'),
      auth: optional(o.auth, 'boolean', 'auth'),
    },
  };
}

function unwrap(outcome) {
  if (outcome.error) throw fromNative(outcome.error);
  if (outcome.json !== undefined && outcome.json !== null) return parseResult(outcome.json);
  return outcome.value === undefined ? null : outcome.value;
}

// ---------------------------------------------------------------------------------------------
// Calls: one native call per method call, cancellable by id. A native call returns at once; its
// outcome comes back through this environment's completion channel, which calls `dispatch`
// on this thread (many completions per wake-up) with the call's id and its result as JSON text,
// or else a native outcome object.

/** id -> the call waiting for its outcome (ids are unique in this environment). */
const waiting = new Map();
let nextId = 0;

function dispatch(id, jsonText, outcome, logs) {
  const call = waiting.get(id);
  if (call === undefined) return; // aborted: already rejected
  waiting.delete(id);
  if (logs !== undefined && logs !== null) call.log(logs);
  call.settle(jsonText, outcome);
}

const completions = native.createCompletions(dispatch);

/** @internal One call waiting for its native outcome. */
class Call {
  constructor(finish, logger) {
    this.finish = finish;
    this.logger = logger;
    this.settled = false;
    this.resolve = undefined;
    this.reject = undefined;
    this.signal = undefined;
    this.onAbort = undefined;
  }

  /**
   * Hands the call's log records (`[method, message]` pairs, the core's records at the client's
   * level) to the client's logger, in order, before the call settles. A logger that throws is
   * ignored: logging never fails a call.
   */
  log(logs) {
    const logger = this.logger;
    if (logger === undefined) return;
    for (const [level, message] of logs) {
      try {
        logger[level](message);
      } catch {
        // the application's logger failed: the call goes on
      }
    }
  }

  /** Called by `dispatch`, which must never throw (it runs in a native callback). */
  settle(jsonText, outcome) {
    if (this.settled) return;
    this.settled = true;
    try {
      if (this.signal !== undefined) this.signal.removeEventListener('abort', this.onAbort);
      if (typeof jsonText === 'string') {
        this.resolve(this.finish === unwrap ? parseResult(jsonText) : this.finish({ json: jsonText }));
      } else if (outcome === undefined || outcome === null) {
        throw new errors.PartlyError('internal error in the partly native module: a call ended without an outcome', {
          code: 'PARTLY_INTERNAL',
        });
      } else {
        this.resolve(this.finish(outcome));
      }
    } catch (error) {
      this.reject(error);
    }
  }
}

/** @internal Runs native calls for one client. Holds no secret. */
class Caller {
  #native;
  /** Promises of this client's calls in flight (for a graceful `close()`). */
  #pending = new Set();
  #logger;

  constructor(nativeClient, logger) {
    this.#native = nativeClient;
    this.#logger = logger;
  }

  /**
   * Starts `start(id, nativeOptions, isSettled, fail)` (which spawns the native call) and
   * settles with `finish(outcome)`, or rejects with `fail(error)` (cancelling the call). An aborted signal rejects at once with AbortError and cancels the
   * native call, which drops its HTTP request.
   */
  run(opts, start, finish = unwrap, known = CALL_OPTIONS) {
    let call;
    let id;
    let signal;
    let promise;
    try {
      const parsed = callOptions(opts, known);
      signal = parsed.signal;
      if (signal && signal.aborted) return Promise.reject(abortError(signal));
      nextId = (nextId + 1) >>> 0;
      id = nextId;
      call = new Call(finish, this.#logger);
      promise = new Promise((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
      });
      const fail = (error) => {
        if (call.settled) return;
        call.settled = true;
        waiting.delete(id);
        this.#native.cancel(id);
        call.reject(error);
      };
      start(id, parsed.native, () => call.settled, fail);
    } catch (error) {
      return Promise.reject(error);
    }
    waiting.set(id, call);
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    if (signal) {
      const onAbort = () => {
        if (call.settled) return;
        call.settled = true;
        waiting.delete(id);
        this.#native.cancel(id);
        call.reject(abortError(signal));
      };
      call.signal = signal;
      call.onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
    return promise;
  }

  get native() {
    return this.#native;
  }

  /** Resolves (never rejects) once every call in flight has settled. */
  settledAll() {
    return Promise.allSettled([...this.#pending]).then(() => undefined);
  }
}

/** Wraps `onProgress` so that it never throws into the native module (see README). */
function progressCallback(onProgress, isSettled, name = 'onProgress') {
  if (onProgress === undefined || onProgress === null) return undefined;
  if (typeof onProgress !== 'function') {
    throw new ValidationError(`${name} must be a function, got ${typeName(onProgress)}`);
  }
  let warned = false;
  const report = (error) => {
    if (warned) return;
    warned = true;
    let what;
    try {
      what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } catch {
      what = 'a value that cannot be shown';
    }
    process.emitWarning(`the ${name} callback of tier1.prepareAll threw (${what}); the run goes on`, {
      code: 'PARTLY_PROGRESS_CALLBACK_ERROR',
    });
  };
  return (progress) => {
    if (isSettled()) return;
    try {
      const returned = onProgress(progress);
      if (returned && typeof returned.then === 'function') returned.then(undefined, report);
    } catch (error) {
      report(error);
    }
  };
}

/** Wraps `onBatch` like `onProgress`: it never throws into the native module. */
function batchCallback(onBatch, isSettled) {
  if (onBatch === undefined || onBatch === null) return undefined;
  if (typeof onBatch !== 'function') {
    throw new ValidationError(`onBatch must be a function, got ${typeName(onBatch)}`);
  }
  const wrapped = progressCallback(onBatch, isSettled, 'onBatch');
  // The core's fields (partly::shapes::PREPARE_BATCH), the error made a PartlyError.
  return (batch) => wrapped({ ...batch, error: batch.error ? fromNative(batch.error) : null });
}

/** The report of `prepareAll`: the core's fields (partly::shapes::PREPARE_REPORT), each failure's error index made the PartlyError of its request. */
function report(outcome) {
  if (outcome.error) throw fromNative(outcome.error);
  const { errors, ...r } = outcome.report;
  const errorObjects = errors.map(fromNative);
  r.failures = r.failures.map((f) => ({ ...f, error: errorObjects[f.error] }));
  return r;
}

/** How a value that JSON cannot carry looks, for a failure's `given`. */
function describeItem(item) {
  try {
    return util.inspect(item, { depth: 2, breakLength: Infinity }).slice(0, 200);
  } catch {
    return typeName(item);
  }
}

/** One input item as [JSON text, given]: text `null` when JSON cannot carry it. */
function encodeItem(item) {
  let text;
  try {
    text = stringify(item);
  } catch {
    text = undefined;
  }
  return text === undefined ? [null, describeItem(item)] : [text, null];
}

/**
 * The input of `prepareAll` as chunks pulled on demand: an array, any iterable, an async
 * iterable, or an object-mode `Readable` (an async iterable). Never read ahead of the core.
 */
function inputSource(identifiers) {
  const isObject = identifiers !== null && typeof identifiers === 'object';
  if (isObject && typeof identifiers.readableObjectMode === 'boolean' && !identifiers.readableObjectMode) {
    throw new ValidationError(
      'identifiers: a Readable stream must be in object mode (one identifier per chunk); got a byte stream',
    );
  }
  const asyncIt = isObject && typeof identifiers[Symbol.asyncIterator] === 'function';
  const syncIt = isObject && typeof identifiers[Symbol.iterator] === 'function';
  if (!asyncIt && !syncIt) {
    const hint = typeof identifiers === 'string' ? ' (for one vehicle, give an array of one)' : '';
    throw new ValidationError(
      `identifiers must be an array, an iterable, an async iterable or an object-mode Readable of vehicle identifiers (chassis-number strings or objects such as { plate: 'ABC123', region: 'NZ' }), got ${typeName(identifiers)}${hint}`,
    );
  }
  const it = asyncIt ? identifiers[Symbol.asyncIterator]() : identifiers[Symbol.iterator]();
  return {
    total: Array.isArray(identifiers) ? identifiers.length : undefined,
    /** Up to `n` items: { texts, givens, done }. */
    async next(n) {
      const texts = [];
      const givens = [];
      let done = false;
      while (texts.length < n) {
        const step = asyncIt ? await it.next() : it.next();
        if (step.done) {
          done = true;
          break;
        }
        const [text, given] = encodeItem(step.value);
        texts.push(text);
        givens.push(given);
      }
      return { texts, givens, done };
    },
    close() {
      try {
        const r = typeof it.return === 'function' ? it.return() : undefined;
        if (r && typeof r.then === 'function') r.then(undefined, () => {});
      } catch {
        // The iterator's own cleanup failed: nothing more to do.
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Namespaces, as on the wire.

/** The native options of a call, with `withInfo` for `client.withResponseInfo`. */
function nativeOptions(o, withInfo) {
  return withInfo ? { ...o, withInfo: true } : o;
}

/** `{ value, info }` of a `withResponseInfo` call, the value made by `make`. */
function withInfo(make) {
  return (outcome) => {
    const r = unwrap(outcome);
    return { value: make(r.value), info: r.info };
  };
}

class Jobs {
  #caller;
  #info;
  /** @internal */
  constructor(caller, info = false) {
    this.#caller = caller;
    this.#info = info;
  }

  /** `jobs.get`: one job by Partly's `id` or your own `external` reference. */
  get(identity, opts) {
    return this.#caller.run(opts, (id, o) => {
      if (identity === undefined || identity === null) {
        throw new ValidationError(
          "identity is missing: give { id } (Partly's job id) or { external } (your own reference)",
        );
      }
      const i = options(identity, 'identity', ['id', 'external']);
      return this.#caller.native.jobsGet(
        id,
        optional(i.id, 'string', 'id'),
        optional(i.external, 'string', 'external'),
        nativeOptions(o, this.#info),
      );
    });
  }

  /** `jobs.insert`: create a job, or update/replace the one with this identity. */
  insert(request, opts) {
    return this.#caller.run(opts, (id, o) => {
      if (request === undefined || request === null) {
        throw new ValidationError('request is missing: give { external (or id), data, ifExists }');
      }
      const r = options(request, 'request', ['id', 'external', 'data', 'ifExists']);
      return this.#caller.native.jobsInsert(
        id,
        optional(r.id, 'string', 'id'),
        optional(r.external, 'string', 'external'),
        json(r.data, 'data'),
        optional(r.ifExists, 'string', 'ifExists'),
        nativeOptions(o, this.#info),
      );
    });
  }

  [util.inspect.custom]() {
    return 'Jobs { get, insert }';
  }
}

/** `tier1.prepare` with the response info (`client.withResponseInfo.tier1`). */
class Tier1WithInfo {
  #caller;
  /** @internal */
  constructor(caller) {
    this.#caller = caller;
  }

  /** `tier1.prepare`, resolving with `{ value, info }`. */
  prepare(identifiers, opts) {
    return this.#caller.run(opts, (id, o) =>
      this.#caller.native.tier1Prepare(id, json(identifierList(identifiers), 'identifiers'), nativeOptions(o, true)),
    );
  }

  [util.inspect.custom]() {
    return 'Tier1 { prepare }';
  }
}

class Tier1 {
  #caller;
  /** @internal */
  constructor(caller) {
    this.#caller = caller;
  }

  /** `tier1.prepare`: queue 1 to 100 vehicles. */
  prepare(identifiers, opts) {
    return this.#caller.run(opts, (id, o) =>
      this.#caller.native.tier1Prepare(id, json(identifierList(identifiers), 'identifiers'), o),
    );
  }

  /**
   * Queue any number of vehicles: an array, an iterable, an async iterable or an object-mode
   * Readable, pulled as the run needs more (never all at once). Concurrency adapts to what the
   * server allows within `maxConcurrency` / `maxRate`; resolves with a report of totals and
   * every failed identifier.
   */
  prepareAll(identifiers, opts) {
    const known = [
      ...CALL_OPTIONS,
      'onProgress',
      'onBatch',
      'batchSize',
      'maxConcurrency',
      'maxRate',
      'deadlineMs',
      'checkpoint',
      'adaptive',
    ];
    return this.#caller.run(
      opts,
      (id, o, isSettled, fail) => {
        const all = options(opts, 'options', known);
        const input = {
          batchSize: optional(all.batchSize, 'number', 'batchSize'),
          maxConcurrency: optional(all.maxConcurrency, 'number', 'maxConcurrency'),
          maxRate: optional(all.maxRate, 'number', 'maxRate'),
          deadlineMs: optional(all.deadlineMs, 'number', 'deadlineMs'),
          checkpoint: optional(all.checkpoint, 'string', 'checkpoint'),
          adaptive: optional(all.adaptive, 'boolean', 'adaptive'),
        };
        const source = inputSource(identifiers);
        // `pull` runs on a later turn of the event loop (queued by the native module), when
        // `feeder` is set.
        const pull = () => {
          if (isSettled()) return;
          source.next(feeder.chunk).then(
            ({ texts, givens, done }) => {
              if (isSettled()) return;
              feeder.push(texts, givens);
              if (done) feeder.end();
            },
            (error) => {
              // The caller's iterator threw: the run stops and prepareAll rejects with it.
              fail(error);
              feeder.end();
            },
          );
        };
        const feeder = this.#caller.native.tier1PrepareAll(
          id,
          pull,
          source.total,
          input,
          progressCallback(all.onProgress, isSettled),
          batchCallback(all.onBatch, isSettled),
          o,
        );
      },
      report,
      known,
    );
  }

  [util.inspect.custom]() {
    return 'Tier1 { prepare, prepareAll }';
  }
}

/**
 * The answer of `integrations.insert`: `api_key` (a secret) and `integration_id`, with any
 * field the server added. `console.log` and `util.inspect` show it without the key (as Python's
 * `repr` and Rust's `Debug` do); `JSON.stringify` gives every field, the key included, for
 * storing it.
 */
class InstallResult {
  constructor(fields) {
    Object.assign(this, fields);
  }

  [util.inspect.custom](depth, opts, inspect) {
    const shown = { ...this };
    if ('api_key' in shown) shown.api_key = '***';
    return `InstallResult ${(inspect || util.inspect)(shown, opts)}`;
  }
}

function installResult(outcome) {
  return new InstallResult(unwrap(outcome));
}

class Integrations {
  #caller;
  #info;
  /** @internal */
  constructor(caller, info = false) {
    this.#caller = caller;
    this.#info = info;
  }

  /** `integrations.insert`: finish an OAuth install (needs no credentials). */
  insert(request, opts) {
    return this.#caller.run(
      opts,
      (id, o) => {
        if (request === undefined || request === null) {
          throw new ValidationError('request is missing: give { accessCode, clientId, clientSecret }');
        }
        const r = options(request, 'request', ['accessCode', 'clientId', 'clientSecret']);
        return this.#caller.native.integrationsInsert(
          id,
          optional(r.accessCode, 'string', 'accessCode'),
          optional(r.clientId, 'string', 'clientId'),
          optional(r.clientSecret, 'string', 'clientSecret'),
          nativeOptions(o, this.#info),
        );
      },
      this.#info ? withInfo((v) => new InstallResult(v)) : installResult,
    );
  }

  [util.inspect.custom]() {
    return 'Integrations { insert }';
  }
}

const CLIENT_OPTIONS = [
  'apiKey',
  'integrationId',
  'baseUrl',
  'timeoutMs',
  'maxRetries',
  'allowInsecureHttp',
  'proxy',
  'caBundle',
  'logger',
  'logLevel',
];

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'];

/** `logger`: an object with debug, info, warn and error methods (`console`, pino, winston). */
function loggerOption(value) {
  if (value === undefined || value === null) return undefined;
  const ok =
    (typeof value === 'object' || typeof value === 'function') &&
    LOGGER_METHODS.every((m) => typeof value[m] === 'function');
  if (!ok) {
    throw new ValidationError(
      `logger must be an object with ${LOGGER_METHODS.join(', ')} methods (such as console), got ${typeName(value)}`,
    );
  }
  return value;
}

/** `proxy`: a URL string, `false` for none, or unset for the environment's. */
function proxyOption(value) {
  if (value === undefined || value === null) return {};
  if (value === false) return { noProxy: true };
  if (typeof value === 'string') return { proxy: value };
  throw new ValidationError(
    `proxy must be a URL string such as "http://proxy.example:3128", or false for none; got ${typeName(value)}`,
  );
}

/** `client.withResponseInfo`: each method resolves with `{ value, info }`. */
class WithResponseInfo {
  #caller;
  /** @internal */
  constructor(caller) {
    this.#caller = caller;
    const readOnly = (value) => ({ value, enumerable: true, writable: false, configurable: false });
    Object.defineProperties(this, {
      jobs: readOnly(new Jobs(caller, true)),
      tier1: readOnly(new Tier1WithInfo(caller)),
      integrations: readOnly(new Integrations(caller, true)),
    });
  }

  /** `client.call`, resolving with `{ value, info }`. */
  call(method, body, opts) {
    return this.#caller.run(
      opts,
      (id, o) => {
        if (typeof method !== 'string')
          throw new ValidationError(`method must be a string such as "businesses.list", got ${typeName(method)}`);
        return this.#caller.native.call(id, method, json(body, 'body'), nativeOptions(o, true));
      },
      unwrap,
      [...CALL_OPTIONS, 'idempotent', 'auth'],
    );
  }

  [util.inspect.custom]() {
    return 'WithResponseInfo { jobs, tier1, integrations, call }';
  }
}

class Client {
  #caller;

  /**
   * @param {object} [options_] apiKey, integrationId, baseUrl, timeoutMs, maxRetries,
   *   allowInsecureHttp, proxy, caBundle, logger, logLevel. Unset ones come from PARTLY_API_KEY,
   *   PARTLY_INTEGRATION_ID and PARTLY_BASE_URL (proxies from HTTPS_PROXY, HTTP_PROXY,
   *   ALL_PROXY and NO_PROXY; extra roots from NODE_EXTRA_CA_CERTS), then the core's defaults.
   */
  constructor(options_ = {}) {
    const o = options(options_, 'options', CLIENT_OPTIONS);
    const logger = loggerOption(o.logger);
    /** @type {Record<string, string>} */
    const env = {};
    for (const name of ENV_VARS) {
      const value = process.env[name];
      if (typeof value === 'string') env[name] = value;
    }
    const made = native.createClient(
      {
        apiKey: optional(o.apiKey, 'string', 'apiKey'),
        integrationId: optional(o.integrationId, 'string', 'integrationId'),
        baseUrl: optional(o.baseUrl, 'string', 'baseUrl'),
        timeoutMs: optional(o.timeoutMs, 'number', 'timeoutMs'),
        maxRetries: optional(o.maxRetries, 'number', 'maxRetries'),
        allowInsecureHttp: optional(o.allowInsecureHttp, 'boolean', 'allowInsecureHttp'),
        ...proxyOption(o.proxy),
        caBundle: optional(o.caBundle, 'string', 'caBundle'),
        env,
        runtime: RUNTIME,
        logLevel: optional(o.logLevel, 'string', 'logLevel'),
        hasLogger: logger !== undefined,
      },
      completions,
    );
    if (!(made instanceof native.NativeClient)) throw fromNative(made);
    // Records go to the logger given, or to the console when only a level was asked for (the
    // core decides the level: logLevel, else PARTLY_LOG, else warn with a logger, else off).
    this.#caller = new Caller(made, logger === undefined ? console : logger);
    // The namespaces, read-only: `jobs` (get, insert), `tier1` (prepare, prepareAll),
    // `integrations` (insert).
    const readOnly = (value) => ({ value, enumerable: true, writable: false, configurable: false });
    Object.defineProperties(this, {
      jobs: readOnly(new Jobs(this.#caller)),
      tier1: readOnly(new Tier1(this.#caller)),
      integrations: readOnly(new Integrations(this.#caller)),
      // The same methods resolving with `{ value, info }`: the result and the call's response
      // info (status, requestId, traceId, attempts, elapsedMs), as Python's `with_response_info`.
      withResponseInfo: readOnly(new WithResponseInfo(this.#caller)),
    });
  }

  /**
   * Calls any API method by its wire name with a JSON body, with the same auth, retries,
   * timeouts and errors as the typed methods; resolves with the raw JSON answer.
   */
  call(method, body, opts) {
    return this.#caller.run(
      opts,
      (id, o) => {
        if (typeof method !== 'string')
          throw new ValidationError(`method must be a string such as "businesses.list", got ${typeName(method)}`);
        return this.#caller.native.call(id, method, json(body, 'body'), o);
      },
      unwrap,
      [...CALL_OPTIONS, 'idempotent', 'auth'],
    );
  }

  /**
   * For a support ticket: the network path to the API with this client's settings (see
   * {@link diagnostics}). Never rejects for a network failure: `error` says where and why.
   */
  diagnostics(opts) {
    return this.#caller.run(opts, (id) => this.#caller.native.diagnostics(id), unwrap, ['signal']);
  }

  /**
   * Refuses new calls (they reject with ValidationError) and lets calls in flight finish, as
   * in Python; resolves once they have settled. `close({ abort: true })` stops them instead
   * (they reject with AbortError), as aborting each call's signal would. Idempotent.
   */
  close(opts) {
    let abort;
    try {
      abort = optional(options(opts, 'close options', ['abort']).abort, 'boolean', 'abort') === true;
    } catch (error) {
      return Promise.reject(error);
    }
    this.#caller.native.close(abort);
    return this.#caller.settledAll();
  }

  /** Whether `close()` was called. */
  get closed() {
    return this.#caller.native.describe().closed;
  }

  /** The settings in force, without secrets: baseUrl, integrationId, hasApiKey, timeoutMs, maxRetries, userAgent, proxy (redacted). */
  get settings() {
    const d = this.#caller.native.describe();
    const out = {
      baseUrl: d.baseUrl,
      integrationId: d.integrationId === undefined ? null : d.integrationId,
      hasApiKey: d.hasApiKey,
      timeoutMs: d.timeoutMs,
      maxRetries: d.maxRetries,
      userAgent: d.userAgent,
      proxy: d.proxy === undefined ? null : d.proxy,
    };
    return out;
  }

  /** @internal Calls in flight (diagnostics and tests). */
  get inFlight() {
    return this.#caller.native.inFlight();
  }

  toJSON() {
    return { ...this.settings, closed: this.closed };
  }

  [util.inspect.custom](depth, opts, inspect) {
    const shown = { ...this.settings, closed: this.closed };
    return `Client ${(inspect || util.inspect)(shown, opts)}`;
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Client.prototype, Symbol.asyncDispose, {
    value: function asyncDispose() {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// OAuth helpers (partly-api.md §5).

/**
 * The URL that starts an install, with a fresh random `state` to keep in the user's session.
 * @returns {{ url: string, state: string }}
 */
function authorizeUrl(params) {
  if (params === undefined || params === null) {
    throw new ValidationError('authorizeUrl needs { clientId, redirectUrl, scopes }');
  }
  const p = options(params, 'authorizeUrl', ['clientId', 'redirectUrl', 'scopes', 'endpoint']);
  let scopes = p.scopes;
  if (scopes !== undefined && scopes !== null) {
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
      throw new ValidationError(`scopes must be an array of strings such as ["repairer"], got ${typeName(scopes)}`);
    }
  } else {
    scopes = undefined;
  }
  return unwrap(
    native.authorizeUrl(
      optional(p.clientId, 'string', 'clientId'),
      optional(p.redirectUrl, 'string', 'redirectUrl'),
      scopes,
      optional(p.endpoint, 'string', 'endpoint'),
    ),
  );
}

/** Whether the `state` Partly sent back equals the one you sent (constant-time). */
function verifyState(expected, received) {
  // A value that is not a string goes in as undefined: the core decides (expected: a
  // ValidationError; received: false).
  const text = (v) => (typeof v === 'string' ? v : undefined);
  return unwrap(native.verifyState(text(expected), text(received)));
}

/** A fresh random OAuth `state` (64 hex characters). */
function generateState() {
  return unwrap(native.generateState());
}

/**
 * For a support ticket: the SDK version, base URL, effective proxy (credentials redacted), where
 * trusted roots come from, and the DNS, TCP, TLS and first-byte timings of one unauthenticated
 * request to the base URL, with the server's clock offset from its Date header. `options` are
 * the client's (baseUrl, proxy, caBundle, timeoutMs, allowInsecureHttp; the rest from the
 * environment). Rejects only for invalid options: a network failure is in `error`.
 */
async function diagnostics(options_ = {}) {
  const o = options(options_, 'options', ['baseUrl', 'proxy', 'caBundle', 'timeoutMs', 'allowInsecureHttp']);
  const client = new Client(o);
  try {
    return await client.diagnostics();
  } finally {
    await client.close();
  }
}

const ERROR_ACCESS_DENIED = native.errorAccessDenied();

/** What the redirect back from the authorize page said (see `parseCallback`). */
class Callback {
  #code;
  /** @internal */
  constructor(v) {
    this.#code = v.code === null || v.code === undefined ? null : v.code;
    this.error = v.error === undefined ? null : v.error;
    this.errorDescription = v.errorDescription === undefined ? null : v.errorDescription;
    Object.freeze(this);
  }

  /** The single-use access code (a secret), or null when `error` is set. */
  get code() {
    return this.#code;
  }

  /** Whether the user declined the install (clicked Deny). */
  get denied() {
    return this.error === ERROR_ACCESS_DENIED;
  }

  toJSON() {
    return { code: this.#code === null ? null : '***', error: this.error, errorDescription: this.errorDescription };
  }

  [util.inspect.custom]() {
    const code = this.#code === null ? 'null' : "'***'";
    return `Callback { code: ${code}, error: ${util.inspect(this.error)}, errorDescription: ${util.inspect(this.errorDescription)} }`;
  }
}

/**
 * Reads the redirect back from the authorize page after checking, in constant time, that its
 * `state` is `expectedState`. `urlOrQuery`: `req.url` / `req.originalUrl`, a whole URL or the query.
 * @throws {ValidationError} when the state is missing or wrong (trade nothing), or the redirect has
 * neither a code nor an error.
 */
function parseCallback(urlOrQuery, expectedState) {
  if (typeof urlOrQuery !== 'string') {
    throw new ValidationError(`urlOrQuery must be a string such as req.url, got ${typeName(urlOrQuery)}`);
  }
  if (typeof expectedState !== 'string') {
    throw new ValidationError(
      `expectedState must be the string kept from authorizeUrl (e.g. in the session), got ${typeName(expectedState)}`,
    );
  }
  return new Callback(unwrap(native.parseCallback(urlOrQuery, expectedState)));
}

module.exports = {
  Client,
  diagnostics,
  authorizeUrl,
  verifyState,
  generateState,
  parseCallback,
  Callback,
  ERROR_ACCESS_DENIED,
  VERSION,
  LosslessNumber,
  InstallResult,
  PartlyError: errors.PartlyError,
  ValidationError: errors.ValidationError,
  ConnectionError: errors.ConnectionError,
  TimeoutError: errors.TimeoutError,
  DecodeError: errors.DecodeError,
  ApiError: errors.ApiError,
  BadRequestError: errors.BadRequestError,
  AuthenticationError: errors.AuthenticationError,
  PermissionDeniedError: errors.PermissionDeniedError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  RateLimitError: errors.RateLimitError,
  ServerError: errors.ServerError,
  AbortError: errors.AbortError,
};
