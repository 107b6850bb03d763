// Type declarations of `partly/testing`: the partly-mock server in-process, for tests.

import { Client, ClientOptions } from './index';

/** Options of {@link MockServer.start}. */
export interface MockServerOptions {
  /** Delay added to every API answer, in milliseconds. Default 0. */
  latencyMs?: number;
  /** Most requests kept in the log. Default 100000; 0 disables the log. */
  logCapacity?: number;
  /**
   * Share of API calls (0 to 1) that get a random retryable fault (503, 500 or 429 with
   * `retry-after: 0`, an HTML 502, a dropped connection, a truncated body, a connection closed
   * after the answer). For soak tests. Default 0.
   */
  chaosRate?: number;
  /** Serve HTTPS with a certificate from a CA generated at start (its file: {@link MockServer.caPath}). */
  tls?: boolean;
  /** With `tls`: offer only HTTP/1.1 (by default HTTP/2 is offered too). */
  http1Only?: boolean;
  /**
   * Redirect URLs registered for the demo client: the OAuth authorize page sends the browser back
   * only to one of these, exactly as written ({@link MockServer.registerRedirectUrl} adds more).
   */
  redirectUrls?: string[];
  /**
   * The gateway's rate limit in requests/s (a token bucket over every API method): above it,
   * 429 with `Retry-After: 1` and `{ type: 'rate_limited' }`. Default: none.
   */
  rateLimit?: number;
  /** With `rateLimit`: the bucket's burst. Default: a tenth of a second's worth, at least 1. */
  rateBurst?: number;
}

/** An access code minted by the mock, with the client credentials that trade it. */
export interface MintedAccessCode {
  /** The single-use access code (what the OAuth redirect's `code` would carry). */
  accessCode: string;
  /** The client id `integrations.insert` accepts. */
  clientId: string;
  /** The client secret `integrations.insert` accepts. */
  clientSecret: string;
  /** Seconds until the code expires. */
  expiresInSecs: number;
}

/**
 * A fault for the next `times` calls of `method`, in the mock's JSON form (see the partly-mock
 * README); `delayMs`, `trickleIntervalMs` and `trickleChunkBytes` may be written in camelCase.
 */
export interface Fault {
  /** Dotted method name (`"jobs.get"`), or `"*"` for every API method. */
  method: string;
  /** How many calls it applies to. Default 1. */
  times?: number;
  /**
   * `respond` (default: answer with `status`/`body`/`headers`, or normally after the delay),
   * `drop` (close without answering), `truncate` (send half the body), `trickle` (send the body
   * slowly), `close_after` (answer, then close the connection).
   */
  action?: 'respond' | 'drop' | 'truncate' | 'trickle' | 'close_after';
  /** Status to answer with. */
  status?: number;
  /** Body to answer with. */
  body?: string;
  /** Headers to answer with. */
  headers?: Record<string, string>;
  /** Wait before acting, in milliseconds. */
  delay_ms?: number;
  /** Same as `delay_ms`. */
  delayMs?: number;
  /** `trickle`: pause before each chunk, in milliseconds. */
  trickle_interval_ms?: number;
  /** Same as `trickle_interval_ms`. */
  trickleIntervalMs?: number;
  /** `trickle`: bytes per chunk. */
  trickle_chunk_bytes?: number;
  /** Same as `trickle_chunk_bytes`. */
  trickleChunkBytes?: number;
}

/** One request the mock received. */
export interface RecordedRequest {
  /** Arrival order: 0 for the first request since the server started. */
  seq: number;
  /** The dotted method name from the path (`""` outside the API). */
  method: string;
  /** The request path (`/api/2026-01/jobs.get`). */
  path: string;
  /** `POST`, `GET`, ... */
  httpMethod: string;
  /** Every header, lower-case name to value. */
  headers: Record<string, string>;
  /** The raw body. */
  body: string;
  /**
   * The status answered; null while the answer is pending (a delay fault, latency) and when the
   * connection was dropped or the client went away first (requests are logged on arrival).
   */
  status: number | null;
  /** Whether an injected fault shaped the answer. */
  fault: boolean;
  /** `HTTP/1.1` or `HTTP/2` (negotiated over TLS). */
  httpVersion: string;
}

/** The mock's seeded demo values. */
export declare const DEMO: {
  /** The seeded API key (of `DEMO_INTEGRATION_ID`). */
  readonly DEMO_API_KEY: string;
  /** The integration the demo key belongs to. */
  readonly DEMO_INTEGRATION_ID: string;
  /** The client id `integrations.insert` accepts. */
  readonly DEMO_CLIENT_ID: string;
  /** The client secret `integrations.insert` accepts. */
  readonly DEMO_CLIENT_SECRET: string;
  /** The seeded repairer site. */
  readonly DEMO_SITE_ID: string;
  /** The seeded job. */
  readonly DEMO_JOB_ID: string;
  /** The seeded job's external id (`"CCC-2026-04817"`). */
  readonly DEMO_JOB_EXTERNAL_ID: string;
  /** The seeded job's claim number. */
  readonly DEMO_CLAIM_NUMBER: string;
  /** The seeded job's job number. */
  readonly DEMO_JOB_NUMBER: string;
  /** The seeded business (`businesses.list`). */
  readonly DEMO_BUSINESS_ID: string;
  /** The seeded business's name. */
  readonly DEMO_BUSINESS_NAME: string;
  /** The demo integration's name, shown on the authorize page. */
  readonly DEMO_INTEGRATION_NAME: string;
};

/**
 * A local Partly API (`partly-mock`) running in this process on a free port of 127.0.0.1, with
 * seeded demo data, fault injection and a request log. It runs on the native module's threads:
 * a running mock never keeps the process from exiting.
 *
 * @example
 * const mock = await MockServer.start();
 * const client = mock.client();
 * await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
 * await mock.stop();
 */
export declare class MockServer {
  private constructor();
  /** Starts a mock server. */
  static start(options?: MockServerOptions): Promise<MockServer>;
  /** `http://127.0.0.1:PORT` (`https://` with TLS). */
  readonly url: string;
  /** With `tls: true`: the PEM file of the CA that signed the mock's certificate; else null. */
  readonly caPath: string | null;
  /** Whether {@link stop} was called. */
  readonly stopped: boolean;
  /** The OAuth authorize page, `http://127.0.0.1:PORT/auth/integration/authorize`. */
  readonly authorizeEndpoint: string;
  /** Registers a redirect URL for the demo client. @throws {ValidationError} when it is not an absolute http(s) URL. */
  registerRedirectUrl(url: string): void;
  /** The redirect URLs registered for the demo client. */
  redirectUrls(): string[];
  /** A {@link Client} for this mock holding its demo credentials (trusting its CA with TLS); `options` override them. */
  client(options?: ClientOptions): Client;
  /** A fresh single-use access code (`expiresInSecs: 0` gives an expired one). */
  mintAccessCode(options?: { expiresInSecs?: number }): MintedAccessCode;
  /** Makes the next `times` calls of a method misbehave. @throws {ValidationError} for an invalid fault. */
  injectFault(fault: Fault): void;
  /** Removes every queued fault. */
  clearFaults(): void;
  /** The requests received, oldest first. */
  requests(): RecordedRequest[];
  /** How many vehicle identifiers `tier1.prepare` has queued since the last reset. */
  preparedIdentifiers(): number;
  /** Identifiers `tier1.prepare` accepted since the last reset, distinct ones, and repeats. */
  preparedStats(): { identifiers: number; distinct: number; duplicates: number };
  /** Sets the rate limit (requests/s, optional burst) or, with `null`, lifts it. */
  setRateLimit(rateLimit: number | null, rateBurst?: number): void;
  /** Clears faults and the request log and restores the seeded data. */
  reset(): void;
  /** Stops the server and closes its connections. Stopping twice is harmless. */
  stop(): Promise<void>;
}
