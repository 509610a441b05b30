import { DependencyUnavailableError, LoginBusyError, TooManyAttemptsError, type Dependency } from '../errors/domain-errors.js';
import { HttpError } from './http-error.js';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
}

const UNAVAILABLE: Record<Dependency, { code: string; message: string; full?: string }> = {
  session_store: { code: 'SESSION_STORE_UNAVAILABLE', message: 'The session store is unavailable; try again shortly', full: 'The session store is out of space; try again later' },
  login_regulation: { code: 'LOGIN_REGULATION_UNAVAILABLE', message: 'Failed logins cannot be counted right now, so no login is checked; try again shortly' },
  user_directory: { code: 'USER_DIRECTORY_UNAVAILABLE', message: 'Users cannot be looked up right now; try again shortly.' },
  admin_data: { code: 'DATA_SOURCE_UNAVAILABLE', message: 'The admin figures cannot be read right now; try again shortly.' },
};

/** Seconds a client should wait before retrying after a dependency failed, or after it ran out of space. */
const RETRY_AFTER_UNAVAILABLE = 5;
const RETRY_AFTER_FULL = 30;

/**
 * The one mapping of failures to HTTP answers: HttpErrors as they are, the domain errors of the
 * stores, the login regulation and the password queue, and the errors of body parsers and other
 * http-errors-style middleware. Undefined for anything else (a bug: a logged 500).
 */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof DependencyUnavailableError) {
    const { code, message, full } = UNAVAILABLE[error.dependency];
    if (error.full) return withRetryAfter(507, code, full ?? message, RETRY_AFTER_FULL, error);
    return withRetryAfter(503, code, message, RETRY_AFTER_UNAVAILABLE, error);
  }
  if (error instanceof TooManyAttemptsError) {
    const seconds = error.retryAfterSeconds;
    return new HttpError(429, 'TOO_MANY_ATTEMPTS', `Too many failed logins; try again in ${seconds} seconds`, { headers: { 'Retry-After': String(seconds) }, details: { retryAfter: seconds }, cause: error });
  }
  if (error instanceof LoginBusyError) {
    return withRetryAfter(503, 'LOGIN_BUSY', 'Too many logins are being checked right now; try again in a moment', error.retryAfterSeconds, error);
  }
  return error instanceof Error ? fromKnownError(error as BodyParserError) : undefined;
}

function withRetryAfter(status: number, code: string, message: string, seconds: number, cause: unknown): HttpError {
  return new HttpError(status, code, message, { headers: { 'Retry-After': String(seconds) }, cause });
}

/** Errors thrown by body parsers and other http-errors-style middleware. */
function fromKnownError(error: BodyParserError): HttpError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'INVALID_JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'UNSUPPORTED_ENCODING', 'The request body encoding is not supported');
    case 'request.aborted':
      return new HttpError(400, 'REQUEST_ABORTED', 'The request was aborted');
  }
  // Express's router could not percent-decode a path parameter (e.g. /sessions/%E0%A4%A); it marks
  // that URIError with status 400, other URIErrors are bugs and stay 500s.
  if (error instanceof URIError && error.status === 400) {
    return new HttpError(400, 'VALIDATION_ERROR', 'A path parameter is not valid percent-encoding');
  }
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 500 && error.expose) {
    return new HttpError(error.status, 'BAD_REQUEST', error.message);
  }
  return undefined;
}
