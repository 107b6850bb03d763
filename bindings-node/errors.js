'use strict';
// The error classes of the SDK (design.md §4), the same names as in Python and Rust.
//
// The native module never throws these: it settles every call with a plain object carrying a
// stable `code` (the core's `ErrorKind::code()`, e.g. `PARTLY_NOT_FOUND`) and the error's fields.
// `fromNative` picks the class that code names and copies the fields, camelCase.

/**
 * Fields every PartlyError may carry, in the order they are shown: the core's
 * `partly::shapes::ERROR`, camelCase (`code` is `errorType`: `code` is the class code here).
 * test/shapes.test.js fails when this list and the core's drift apart.
 */
const FIELDS = [
  'detail',
  'method',
  'status',
  'errorType',
  'body',
  'attempts',
  'traceId',
  'requestId',
  'retryAfter',
  'retryable',
];

class PartlyError extends Error {
  /**
   * @param {string} message
   * @param {object} [fields] code, detail, status, errorType, body, method, attempts, traceId,
   *   requestId, retryAfter, retryable, cause
   */
  constructor(message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    const classCode = /** @type {{ code?: string }} */ (/** @type {unknown} */ (new.target)).code;
    this.code = fields.code === undefined || fields.code === null ? classCode : fields.code;
    for (const key of FIELDS) {
      const value = fields[key];
      if (value !== undefined && value !== null) this[key] = value;
    }
    if (this.attempts === undefined) this.attempts = 0;
    if (this.detail === undefined) this.detail = message;
    if (this.retryable === undefined) this.retryable = false;
  }
}

class ValidationError extends PartlyError {}
class ConnectionError extends PartlyError {}
class TimeoutError extends ConnectionError {}
class DecodeError extends PartlyError {}
class ApiError extends PartlyError {}
class BadRequestError extends ApiError {}
class AuthenticationError extends ApiError {}
class PermissionDeniedError extends ApiError {}
class NotFoundError extends ApiError {}
class ConflictError extends ApiError {}
class RateLimitError extends ApiError {}
class ServerError extends ApiError {}

/** A call stopped by its AbortSignal or by `client.close()`; never retried. */
class AbortError extends PartlyError {
  constructor(message = 'the call was aborted', fields = {}) {
    super(message, { ...fields, code: ABORT_CODE });
  }
}

const ABORT_CODE = 'ABORT_ERR';

/** code -> class, for every class the native module can name. */
const BY_CODE = new Map();
const CLASSES = {
  PartlyError: [PartlyError, 'PARTLY_ERROR'],
  ValidationError: [ValidationError, 'PARTLY_VALIDATION'],
  ConnectionError: [ConnectionError, 'PARTLY_CONNECTION'],
  TimeoutError: [TimeoutError, 'PARTLY_TIMEOUT'],
  DecodeError: [DecodeError, 'PARTLY_DECODE'],
  ApiError: [ApiError, 'PARTLY_API'],
  BadRequestError: [BadRequestError, 'PARTLY_BAD_REQUEST'],
  AuthenticationError: [AuthenticationError, 'PARTLY_AUTHENTICATION'],
  PermissionDeniedError: [PermissionDeniedError, 'PARTLY_PERMISSION_DENIED'],
  NotFoundError: [NotFoundError, 'PARTLY_NOT_FOUND'],
  ConflictError: [ConflictError, 'PARTLY_CONFLICT'],
  RateLimitError: [RateLimitError, 'PARTLY_RATE_LIMIT'],
  ServerError: [ServerError, 'PARTLY_SERVER'],
  AbortError: [AbortError, ABORT_CODE],
};
for (const [name, entry] of Object.entries(CLASSES)) {
  const [cls, code] = /** @type {[typeof PartlyError, string]} */ (/** @type {unknown} */ (entry));
  // `name` on the prototype (as Node's own errors do): `err.name`, stack headers and
  // util.inspect say `NotFoundError`, without an own enumerable property on every instance.
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(cls, 'code', { value: code, enumerable: false });
  BY_CODE.set(code, cls);
}

/**
 * The Error for a native error object `{ code, name, message, ...fields }`. An unknown code (a
 * newer native module) still gives a PartlyError with that code.
 */
function fromNative(info) {
  const cls = BY_CODE.get(info.code) || PartlyError;
  return new cls(info.message, info);
}

/** The AbortError for an aborted signal, with the signal's reason as its cause. */
function abortError(signal) {
  const reason = signal && signal.reason;
  return new AbortError('the call was aborted', reason === undefined ? {} : { cause: reason });
}

module.exports = {
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
  fromNative,
  abortError,
  CLASSES,
  FIELDS,
};
