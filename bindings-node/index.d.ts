// Type declarations of the `partly` package: the client of Partly's Integrations API.
//
// Options and methods are camelCase; data objects (jobs, job data, vehicle identifiers, the
// install answer) keep the wire's snake_case names, as Partly's API reference shows them, and
// results keep every field the server sent, unknown ones included.

/// <reference types="node" />

// ---------------------------------------------------------------------------------------------
// Settings and options

/**
 * Settings of a {@link Client}. Each one left out comes from the environment
 * (`PARTLY_API_KEY`, `PARTLY_INTEGRATION_ID`, `PARTLY_BASE_URL`) or else the default.
 */
export interface ClientOptions {
  /** The API key `integrations.insert` returned. A secret: it never appears in a message or `util.inspect`. */
  apiKey?: string;
  /** The integration id (a UUID) `integrations.insert` returned. */
  integrationId?: string;
  /**
   * The API's base URL. Default `https://api.partly.com`. A path is kept
   * (`https://proxy.example/partly` calls `https://proxy.example/partly/api/2026-01/<method>`).
   */
  baseUrl?: string;
  /** Timeout of each attempt (connect, headers and whole body), in milliseconds. Default 30000. */
  timeoutMs?: number;
  /** Retries after the first attempt, only where resending is safe. Default 2; 0 disables retries. */
  maxRetries?: number;
  /** Allow plain `http://` to hosts other than this machine (off: the key would travel in clear text). */
  allowInsecureHttp?: boolean;
  /**
   * A proxy for every call (`http://user:password@proxy.example:3128`; credentials are never
   * shown), or `false` for none. Default: the environment's (`HTTPS_PROXY`, `HTTP_PROXY`,
   * `ALL_PROXY`, `NO_PROXY`, either case). Loopback base URLs are never proxied.
   */
  proxy?: string | false;
  /**
   * A PEM file of CA certificates trusted in addition to the system's (and those of
   * `NODE_EXTRA_CA_CERTS`). A missing file, or one with no certificate, is a {@link ValidationError}.
   */
  caBundle?: string;
  /**
   * Where the SDK's log records go: an object with `debug`, `info`, `warn` and `error` methods
   * (`console`, pino, winston). The records, levels and scrubbing are those of the Python
   * package's `logging` logger `partly`: one `debug` line per attempt, `info` per retry, `warn`
   * for a call that finally fails after retries or could not reach the server (a single error
   * answer, such as a 404, stays at `debug`). No record holds a secret. Silent by default.
   */
  logger?: Logger;
  /**
   * The level records reach the `logger` at: `'debug'`, `'info'`, `'warn'`, `'error'` or
   * `'off'`. Default: `PARTLY_LOG` from the environment, else `'warn'` when a `logger` is given,
   * else `'off'`. A level without a `logger` logs to `console`.
   */
  logLevel?: LogLevel;
}

/** The levels of {@link ClientOptions.logLevel}. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** What {@link ClientOptions.logger} must have (as openai-node's and many other SDKs' loggers). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of {@link diagnostics}. */
export type DiagnosticsOptions = Pick<
  ClientOptions,
  'baseUrl' | 'proxy' | 'caBundle' | 'timeoutMs' | 'allowInsecureHttp'
>;

/** What {@link diagnostics} found (the same fields, snake_case, as in Python and Rust). */
export interface Diagnostics {
  sdk_version: string;
  user_agent: string;
  base_url: string;
  proxy: {
    /** The proxy URL with credentials redacted (`http://***@proxy:3128`); null: direct. */
    url: string | null;
    source: 'option' | 'environment' | 'none';
    /** The environment variable it came from (`HTTPS_PROXY`). */
    variable: string | null;
    /** Why a configured proxy is not used (`loopback is never proxied`, `NO_PROXY matches the host`). */
    bypassed: string | null;
  };
  /** Where trusted roots come from: `system`, `ca_bundle`, `NODE_EXTRA_CA_CERTS`. */
  trusted_roots: Array<{ source: string; path: string | null; certificates: number | null; warning: string | null }>;
  http2_offered: boolean;
  resolved_addresses: string[];
  connected_to: string | null;
  tls_version: string | null;
  http_version: string | null;
  /** The status of the answer: any status means the API was reached. */
  status: number | null;
  server_date: string | null;
  /** The server's clock minus this machine's (±1000 ms: `Date` has a one-second resolution). */
  clock_offset_ms: number | null;
  /** Milliseconds per step (null: not done or not reached). */
  timings: {
    dns_ms: number | null;
    tcp_ms: number | null;
    proxy_connect_ms: number | null;
    tls_ms: number | null;
    first_byte_ms: number | null;
    total_ms: number;
  };
  /** Where the probe failed, if it did. */
  error: { stage: 'dns' | 'tcp' | 'proxy' | 'tls' | 'request' | 'timeout'; message: string } | null;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborting it rejects the call with {@link AbortError} at once and drops its HTTP request; an aborted call is never retried. */
  signal?: AbortSignal;
  /** This call's attempt timeout in milliseconds (default: the client's). */
  timeoutMs?: number;
  /** This call's retries after the first attempt (default: the client's). */
  maxRetries?: number;
}

/** Options of {@link Client.call}. */
export interface GenericCallOptions extends CallOptions {
  /**
   * For a method the SDK does not know: declare it safe to resend (a read, or idempotent), so
   * timeouts and 5xx answers are retried too. Ignored for the methods the SDK knows.
   */
  idempotent?: boolean;
  /**
   * For a method the SDK does not know: `false` sends it without credentials (a method that
   * needs none, called by a client that has none). Default `true`. Ignored for known methods.
   */
  auth?: boolean;
}

/** The client's settings in force, without secrets. */
export interface ClientSettings {
  /** The base URL. */
  baseUrl: string;
  /** The integration id, or null when none is set. */
  integrationId: string | null;
  /** Whether an API key is set (the key itself is never shown). */
  hasApiKey: boolean;
  /** Attempt timeout in milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The `user-agent` sent: `partly-node/<version> (node <version>; <os> <arch>)`. */
  userAgent: string;
  /** The proxy calls go through (credentials redacted), or null when they go direct. */
  proxy: string | null;
}

// ---------------------------------------------------------------------------------------------
// Data (wire names)

/** Which job: Partly's `id` (a UUID) or your own `external` reference; exactly one. */
export type JobIdentity = { id: string; external?: undefined } | { external: string; id?: undefined };

/** A job's status: an object tagged by `type` (`draft`, and others Partly may add). */
export interface JobStatus {
  /** The status type, e.g. `"draft"`. */
  type: string;
  /** Any other fields of the status. */
  [field: string]: unknown;
}

/** A repair job, as the server sent it (unknown fields included). */
export interface Job {
  /** Partly's id of the job. */
  id: string;
  /** The repairer site the job belongs to. */
  site_id: string;
  /** The job's status. */
  status: JobStatus;
  /** Image URLs. */
  images: string[];
  /** The insurer's claim number. */
  claim_number: string | null;
  /** The repairer's job number. */
  job_number: string | null;
  /** Your own reference. */
  external_id: string | null;
  /** The work provider (insurer). */
  work_provider_id: string | null;
  /** The vehicle, as the server sent it (its shape is not published). */
  vehicle: Record<string, unknown> | null;
  /** Fields this SDK version does not know. */
  [field: string]: unknown;
}

/** The data of a `jobs.insert` (`ExternalInsert` on the wire). */
export interface JobData {
  /** The repairer site the job belongs to. Required. */
  repairer_site_id: string;
  /** The insurer's claim number. */
  claim_number?: string | null;
  /** The repairer's job number. */
  job_number?: string | null;
  /** The vehicle, passed through as JSON. */
  vehicle?: Record<string, unknown> | null;
  /** The work provider (insurer). */
  work_provider_id?: string | null;
  /** More fields, sent as they are (for fields newer than this SDK). */
  [field: string]: unknown;
}

/** What `jobs.insert` does when the job exists: `update` merges the fields given (default), `replace` overwrites the job. */
export type IfExists = 'update' | 'replace';

/** The request of {@link Jobs.insert}. */
export type JobInsertRequest = JobIdentity & {
  /** The job's data. */
  data: JobData;
  /** What to do when a job with this identity exists. Default `"update"`. */
  ifExists?: IfExists;
};

/**
 * A vehicle to prepare: a chassis number or VIN (a string, or `{ chassis_number }`), a
 * registration plate (`{ plate, region? }`, recommended by Partly: it resolves trims and colours
 * better), or any other JSON object the API accepts, sent as it is.
 */
export type VehicleIdentifier =
  string | { chassis_number: string } | { plate: string; region?: string } | Record<string, unknown>;

/** The answer of `tier1.prepare` (`{}` today; anything the server adds is kept). */
export type PrepareResponse = Record<string, unknown>;

/** Progress of {@link Tier1.prepareAll}, reported after every request settles. */
export interface PrepareProgress {
  /** Identifiers in the whole input, when known in advance (an array); `null` for a stream. */
  total: number | null;
  /** Identifiers read from the input so far. */
  read: number;
  /** Identifiers settled: accepted + failed + skipped. */
  done: number;
  /** Identifiers accepted by the server. */
  accepted: number;
  /** Identifiers that failed (bad input, a failed request, the deadline). */
  failed: number;
  /** Identifiers skipped: the checkpoint records them as accepted by an earlier run. */
  skipped: number;
  /** Requests in flight now. */
  inFlight: number;
  /** The adaptive limiter's current concurrency limit. */
  concurrency: number;
  /** The limiter's current request rate (requests/s), once it has one; `null` before. */
  rate: number | null;
  /** Answers 429/503 seen so far. */
  throttled: number;
  /** Requests sent so far (retries and requeues included). */
  requests: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

/** Options of {@link Tier1.prepareAll}. */
export interface PrepareAllOptions extends CallOptions {
  /** Identifiers per request, 1 to 100. Default 100. */
  batchSize?: number;
  /** The most requests in flight at once, at least 1. Default 32; the limiter starts lower and adapts. */
  maxConcurrency?: number;
  /** The most requests per second. Default: no limit but the server's. */
  maxRate?: number;
  /** The whole run's time limit in ms: then everything not accepted is reported failed. */
  deadlineMs?: number;
  /** A checkpoint file: a run over the same input with the same file sends only what was not yet accepted. */
  checkpoint?: string;
  /** `false`: exactly `maxConcurrency` in flight, no adaptation. Default `true`. */
  adaptive?: boolean;
  /**
   * Called on the JavaScript thread after every request settles. If it throws (or returns a
   * Promise that rejects), the run goes on and the first such error is reported once with
   * `process.emitWarning` (code `PARTLY_PROGRESS_CALLBACK_ERROR`).
   */
  onProgress?: (progress: PrepareProgress) => void | Promise<void>;
  /** Called on the JavaScript thread after every request settles, with its identifiers (like `onProgress`). */
  onBatch?: (batch: PrepareBatch) => void | Promise<void>;
}

/** One settled request of a {@link Tier1.prepareAll} run (for `onBatch`). */
export interface PrepareBatch {
  /** The input index of each identifier. */
  indices: number[];
  /** The identifiers the request carried, as sent (wire form). */
  identifiers: Array<Record<string, unknown>>;
  /** `null` when the server accepted them; the request's error otherwise. */
  error: PartlyError | null;
  /** Times it was answered 429 and queued again. */
  throttled: number;
}

/** An identifier {@link Tier1.prepareAll} could not get accepted. */
export interface PrepareFailure {
  /** Its index in the input. */
  index: number;
  /** The identifier (wire form), when the item was one. */
  identifier: Record<string, unknown> | null;
  /** How the item looked, when it was not an identifier. */
  given: string | null;
  /** Why: the request's error, a ValidationError for a bad item, a TimeoutError for the deadline. */
  error: PartlyError;
}

/**
 * The outcome of a {@link Tier1.prepareAll}: totals for every identifier read and each failed
 * one. Accepted identifiers are counted, not kept.
 */
export interface PrepareReport {
  /** Whether every identifier read was accepted (now or, per the checkpoint, earlier). */
  ok: boolean;
  /** Identifiers read: accepted + failed + skipped. */
  total: number;
  /** Identifiers accepted. */
  accepted: number;
  /** Identifiers not accepted (each is in `failures`). */
  failed: number;
  /** Identifiers skipped: accepted by an earlier run, per the checkpoint. */
  skipped: number;
  /** Identifiers sent again after an attempt with an unknown outcome (harmless duplicates). */
  duplicatesPossible: number;
  /** Answers 429/503 seen (each waited out). */
  throttled: number;
  /** Requests sent. */
  requests: number;
  /** Milliseconds the run took. */
  elapsedMs: number;
  /** Whether `deadlineMs` ended the run. */
  deadlineReached: boolean;
  /** The limiter's concurrency limit at the end. */
  concurrency: number;
  /** Every identifier not accepted. */
  failures: PrepareFailure[];
}

/** What {@link Tier1.prepareAll} takes: an array, any iterable, an async iterable or an object-mode Readable. */
export type IdentifierSource = Iterable<unknown> | AsyncIterable<unknown>;

/** The request of {@link Integrations.insert}. */
export interface InstallRequest {
  /** The `code` of the OAuth redirect: single use, valid for 15 minutes. A secret. */
  accessCode: string;
  /** The integration's client id, issued by Partly. */
  clientId: string;
  /** The client secret issued with the client id. A secret. */
  clientSecret: string;
}

/** The answer of `integrations.insert`. Store both values; the client sends them on every call. */
export interface InstallResponse {
  /** The integration's long-lived API key. A secret: never print or log it. */
  api_key: string;
  /** The integration id, sent as `partly-integration-id`. */
  integration_id: string;
  /** Fields this SDK version does not know. */
  [field: string]: unknown;
}

/**
 * What `integrations.insert` resolves with: the {@link InstallResponse} fields as properties.
 * `console.log` and `util.inspect` show it with `api_key: '***'` (as Python's `repr` and Rust's
 * `Debug` do); `JSON.stringify` gives every field, the key included, for storing it.
 */
export declare class InstallResult implements InstallResponse {
  private constructor();
  api_key: string;
  integration_id: string;
  [field: string]: unknown;
}

/**
 * A JSON number that no JavaScript number holds exactly (`1e400`, `9007199254740993`,
 * `3.14159265358979323846`), as results carry it: it keeps the text the server wrote. It
 * converts like a number (`+n`, `n * 2`: the nearest double), prints as its text
 * (`String(n)`), and is sent back exactly when given to the SDK. `JSON.stringify` writes it as
 * the number where `JSON.rawJSON` exists (Node 21 and later), else as its text in a string.
 */
export declare class LosslessNumber {
  /** @param text the text of a JSON number; anything else throws a {@link ValidationError}. */
  constructor(text: string);
  /** The exact text. */
  readonly value: string;
  /** The nearest double. */
  valueOf(): number;
  /** The exact text. */
  toString(): string;
  /** The integer exactly; throws a RangeError when the number is not an integer. */
  toBigInt(): bigint;
  toJSON(): unknown;
}

// ---------------------------------------------------------------------------------------------
// The client

/** `jobs.*` methods: `client.jobs`. */
export interface Jobs {
  /**
   * Fetches one repair job by Partly's id or by your own reference.
   * Rejects with {@link NotFoundError} when there is no such job.
   */
  get(identity: JobIdentity, options?: CallOptions): Promise<Job>;
  /**
   * Creates a repair job, or updates (default) or replaces the one with this identity.
   * Safe to retry: the same upsert twice gives the same job.
   */
  insert(request: JobInsertRequest, options?: CallOptions): Promise<Job>;
}

/** `tier1.*` methods: `client.tier1`. */
export interface Tier1 {
  /** Queues 1 to 100 vehicles for Partly to fetch and cache ahead of use. */
  prepare(identifiers: Iterable<VehicleIdentifier>, options?: CallOptions): Promise<PrepareResponse>;
  /**
   * Queues any number of vehicles, pulled from `identifiers` as the run needs them (an array,
   * an iterable, an async iterable or an object-mode Readable). Concurrency adapts to the
   * server (429/503/latency) within `maxConcurrency` and `maxRate`; a 429 is waited out and its
   * batch queued again. A bad item or a request that still fails is recorded in the report's
   * `failures` and the run goes on; the Promise rejects only for bad options (before anything
   * is sent), when the input's iterator throws, or when aborted.
   */
  prepareAll(identifiers: IdentifierSource, options?: PrepareAllOptions): Promise<PrepareReport>;
}

/** `integrations.*` methods: `client.integrations`. */
export interface Integrations {
  /**
   * Finishes an OAuth install: trades the access code for the integration's API key and id.
   * Needs no credentials. Never resent once the request may have reached the server (the code
   * is single use).
   */
  insert(request: InstallRequest, options?: CallOptions): Promise<InstallResult>;
}

/**
 * The Partly API client. Create one and share it: calls through one client share its
 * connection pool. Every method returns a Promise and takes `{ signal, timeoutMs, maxRetries }`.
 *
 * @example
 * const client = new Client({ apiKey, integrationId });
 * const job = await client.jobs.get({ external: 'CCC-2026-04817' });
 */
export declare class Client {
  /**
   * @throws {ValidationError} when a setting is invalid (naming it), before anything is sent.
   */
  constructor(options?: ClientOptions);
  /** `jobs.get`, `jobs.insert`. */
  readonly jobs: Jobs;
  /** `tier1.prepare` and the bulk `prepareAll`. */
  readonly tier1: Tier1;
  /** `integrations.insert`. */
  readonly integrations: Integrations;
  /**
   * The same methods, each resolving with `{ value, info }`: the result and the call's
   * {@link ResponseInfo} (status, request id, trace id, attempts, elapsed time).
   */
  readonly withResponseInfo: WithResponseInfo;
  /**
   * Calls any API method by its wire name (e.g. `"businesses.list"`) with a JSON object body,
   * with the same auth, retries, timeouts and errors as the typed methods; resolves with the
   * raw JSON answer. A method the SDK does not know is resent only when the connection was
   * never made, unless `idempotent` is set.
   */
  call<T = unknown>(method: string, body?: Record<string, unknown> | null, options?: GenericCallOptions): Promise<T>;
  /**
   * Makes later calls reject with {@link ValidationError} ("the client is closed") and lets
   * calls in flight finish, as in the Python package; resolves once they have settled. With
   * `{ abort: true }` it stops them instead (they reject with {@link AbortError}, their HTTP
   * requests are dropped). Idempotent.
   */
  close(options?: { abort?: boolean }): Promise<void>;
  /** {@link diagnostics} with this client's settings. */
  diagnostics(options?: { signal?: AbortSignal }): Promise<Diagnostics>;
  /** Whether {@link close} was called. */
  readonly closed: boolean;
  /** The settings in force, without secrets. */
  readonly settings: ClientSettings;
  /** The settings and `closed`, without secrets. */
  toJSON(): ClientSettings & { closed: boolean };
}

// ---------------------------------------------------------------------------------------------
// OAuth install helpers (the browser part of the flow)

/** What a successful call's answer says about it: `client.withResponseInfo` (Python's `with_response_info`, Rust's `*_with_info`). */
export interface ResponseInfo {
  /** The HTTP status of the answer. */
  status: number;
  /** The server's `x-request-id`, when it sent one. */
  requestId: string | null;
  /** The W3C trace id sent in `traceparent` on every attempt. */
  traceId: string;
  /** How many attempts the call took (1 when the first succeeded). */
  attempts: number;
  /** The whole call, retries and waits included, in milliseconds. */
  elapsedMs: number;
}

/** A result with the {@link ResponseInfo} of the call that produced it. */
export interface Response<T> {
  /** The result, as the method resolves without `withResponseInfo`. */
  value: T;
  /** What the answer said about the call. */
  info: ResponseInfo;
}

/** `client.withResponseInfo`: the client's methods, each resolving with a {@link Response}. */
export interface WithResponseInfo {
  readonly jobs: {
    get(identity: JobIdentity, options?: CallOptions): Promise<Response<Job>>;
    insert(request: JobInsertRequest, options?: CallOptions): Promise<Response<Job>>;
  };
  readonly tier1: {
    prepare(identifiers: Iterable<VehicleIdentifier>, options?: CallOptions): Promise<Response<PrepareResponse>>;
  };
  readonly integrations: {
    insert(request: InstallRequest, options?: CallOptions): Promise<Response<InstallResult>>;
  };
  call<T = unknown>(
    method: string,
    body?: Record<string, unknown> | null,
    options?: GenericCallOptions,
  ): Promise<Response<T>>;
}

/** Parameters of {@link authorizeUrl}. */
export interface AuthorizeUrlParams {
  /** The integration's client id. */
  clientId: string;
  /** Where Partly sends the browser back, exactly as registered with Partly. */
  redirectUrl: string;
  /** What the integration asks for: today `["repairer"]` or `["supplier"]`. Required (no default). */
  scopes: string[];
  /**
   * Another authorize page (staging, tests). Default `https://app.partly.com/auth/integration/authorize`.
   * A URL with no path, such as a `MockServer`'s `url`, gets Partly's path `/auth/integration/authorize`.
   */
  endpoint?: string;
}

/** An authorize URL and the `state` it carries. */
export interface AuthorizeUrl {
  /** Where to send the user's browser. */
  url: string;
  /** The random `state` in the URL: keep it in the user's session and check it with {@link verifyState}. */
  state: string;
}

/**
 * The URL that starts an install on Partly's authorize page, with a fresh random `state`.
 * @throws {ValidationError} naming a bad parameter.
 */
export declare function authorizeUrl(params: AuthorizeUrlParams): AuthorizeUrl;

/**
 * Whether the `state` that came back with the redirect equals the one sent, compared in
 * constant time. An empty expected state, or a received value that is not a string, never
 * matches (as in Python and Rust).
 * @throws {ValidationError} when `expected` is not a string.
 */
export declare function verifyState(expected: string, received: unknown): boolean;

/** A fresh random OAuth `state`: 32 bytes from the operating system, as 64 hex characters. */
export declare function generateState(): string;

/**
 * For a support ticket: SDK version, base URL, effective proxy (credentials redacted), where
 * trusted roots come from, and the DNS, TCP, TLS and first-byte timings of one unauthenticated
 * request to the base URL, with the server's clock offset. Rejects only for invalid options.
 */
export declare function diagnostics(options?: DiagnosticsOptions): Promise<Diagnostics>;
/** The redirect's `error` when the user clicked Deny: `"access_denied"`. */
export declare const ERROR_ACCESS_DENIED: string;

/** What the redirect back from the authorize page said, once its `state` matched. */
export declare class Callback {
  private constructor();
  /** The single-use access code (a secret, valid 15 minutes); null when `error` is set. Never printed. */
  readonly code: string | null;
  /** Why no code was issued: `"access_denied"` when the user clicked Deny, or another OAuth error code. */
  readonly error: string | null;
  /** A sentence about `error` for a person, when the page gave one. */
  readonly errorDescription: string | null;
  /** Whether the user declined the install (clicked Deny). */
  readonly denied: boolean;
  /** The fields, with the code as `'***'`. */
  toJSON(): { code: string | null; error: string | null; errorDescription: string | null };
}

/**
 * Reads the redirect Partly sent the browser back with, after checking in constant time that its
 * `state` is `expectedState` (the one this attempt sent). `urlOrQuery` is what the callback request
 * asked for: `req.url` (node:http) or `req.originalUrl` (Express), a whole URL, or the query.
 * @throws {ValidationError} when the state is missing or does not match (a forged or stale
 * redirect: reject it and trade nothing), `expectedState` is empty, or the redirect has neither a
 * code nor an error.
 */
export declare function parseCallback(urlOrQuery: string, expectedState: string): Callback;

/** The package version. */
export declare const VERSION: string;

// ---------------------------------------------------------------------------------------------
// Errors: one taxonomy, the same class names in Rust, Python and Node

/** Fields of an SDK error (all optional when constructing one yourself). */
export interface ErrorFields {
  /** Stable code; defaults to the class's. */
  code?: string;
  /** The server's own message (defaults to the message). */
  detail?: string;
  /** HTTP status. */
  status?: number;
  /** The error `type` the server sent (`"not_found"`). */
  errorType?: string;
  /** The raw response body (truncated to 8 KiB). */
  body?: string;
  /** The wire name of the method called. */
  method?: string;
  /** Attempts made. */
  attempts?: number;
  /** The W3C trace id sent with every attempt. */
  traceId?: string;
  /** The server's `x-request-id`. */
  requestId?: string;
  /** The server's `Retry-After`, in seconds. */
  retryAfter?: number;
  /** Whether a retry may cure this kind of failure. */
  retryable?: boolean;
  /** The underlying cause. */
  cause?: unknown;
}

/**
 * Base of every error the SDK raises. Its message says what happened, on which method, after
 * how many attempts, and never contains the API key, the client secret or an access code.
 */
export declare class PartlyError extends Error {
  constructor(message: string, fields?: ErrorFields);
  /** Stable machine-readable code, e.g. `"PARTLY_NOT_FOUND"` (`"ABORT_ERR"` for {@link AbortError}). */
  readonly code: string;
  /**
   * What went wrong without the context `message` adds: the server's own message when it sent
   * one (`message` is the whole line: `jobs.get: HTTP 404 not_found: ...`). The same field as
   * Python's `err.detail` and Rust's `err.detail()`.
   */
  readonly detail: string;
  /** HTTP status, for answers from the server (and {@link DecodeError}). */
  readonly status?: number;
  /** The error `type` the server sent (`"not_found"`), when it sent one. */
  readonly errorType?: string;
  /** The raw response body (truncated to 8 KiB), when there was one. */
  readonly body?: string;
  /** The wire name of the method called (`"jobs.get"`). */
  readonly method?: string;
  /** How many attempts were made (0 when nothing was sent). */
  readonly attempts: number;
  /** The W3C trace id sent in `traceparent` on every attempt. */
  readonly traceId?: string;
  /** The server's `x-request-id`, when it sent one. */
  readonly requestId?: string;
  /** The server's `Retry-After` in seconds, when it sent one. */
  readonly retryAfter?: number;
  /** Whether this kind of failure may be cured by a retry (connect errors, timeouts, 408, 429, 5xx). */
  readonly retryable: boolean;
}

/** Bad input, found before any request was sent. The message names the argument. `code`: `PARTLY_VALIDATION`. */
export declare class ValidationError extends PartlyError {}
/** Could not connect, or the connection dropped. `code`: `PARTLY_CONNECTION`. */
export declare class ConnectionError extends PartlyError {}
/** An attempt exceeded its timeout. `code`: `PARTLY_TIMEOUT`. */
export declare class TimeoutError extends ConnectionError {}
/** A 2xx answer whose body is not the documented shape; `body` keeps the raw text. `code`: `PARTLY_DECODE`. */
export declare class DecodeError extends PartlyError {}
/** The server answered 4xx/5xx (any status without a class of its own). `code`: `PARTLY_API`. */
export declare class ApiError extends PartlyError {
  readonly status: number;
}
/** HTTP 400. `code`: `PARTLY_BAD_REQUEST`. */
export declare class BadRequestError extends ApiError {}
/** HTTP 401: bad API key or integration id. `code`: `PARTLY_AUTHENTICATION`. */
export declare class AuthenticationError extends ApiError {}
/** HTTP 403: valid key, wrong scope. `code`: `PARTLY_PERMISSION_DENIED`. */
export declare class PermissionDeniedError extends ApiError {}
/** HTTP 404. `code`: `PARTLY_NOT_FOUND`. */
export declare class NotFoundError extends ApiError {}
/** HTTP 409. `code`: `PARTLY_CONFLICT`. */
export declare class ConflictError extends ApiError {}
/** HTTP 429; `retryAfter` says how long to wait, when the server said. `code`: `PARTLY_RATE_LIMIT`. */
export declare class RateLimitError extends ApiError {}
/** HTTP 5xx. `code`: `PARTLY_SERVER`. */
export declare class ServerError extends ApiError {}
/**
 * The call was aborted by its `signal` (the signal's reason is the `cause`) or by
 * {@link Client.close} while in flight. `name`: `"AbortError"`, `code`: `"ABORT_ERR"`. Never retried.
 */
export declare class AbortError extends PartlyError {
  constructor(message?: string, fields?: ErrorFields);
}
