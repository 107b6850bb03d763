// ES module entry of `partly`: the same objects as `require('partly')` (one instance, so
// `instanceof` works whichever way the package was loaded).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const partly = require('./index.js');

export const {
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
export default partly;
