import { describe, expect, it } from 'vitest';
import { DataSourceUnavailableError, LoginBusyError, RegulationUnavailableError, StoreUnavailableError, TooManyAttemptsError, UserDirectoryUnavailableError } from '../errors/domain-errors.js';
import { toHttpError } from './error-mapping.js';
import { errorBody, HttpError } from './http-error.js';

const lost = Object.assign(new Error('connection lost'), { code: 'ECONNRESET' });
const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

describe('the mapping of domain errors to HTTP answers', () => {
  it.each([
    ['the session store', new StoreUnavailableError(lost), 503, 'SESSION_STORE_UNAVAILABLE', '5'],
    ['the session store when its disk is full', new StoreUnavailableError(full), 507, 'SESSION_STORE_UNAVAILABLE', '30'],
    ['the login regulation', new RegulationUnavailableError(lost), 503, 'LOGIN_REGULATION_UNAVAILABLE', '5'],
    ['the user directory', new UserDirectoryUnavailableError(lost), 503, 'USER_DIRECTORY_UNAVAILABLE', '5'],
    ['the admin figures', new DataSourceUnavailableError(lost), 503, 'DATA_SOURCE_UNAVAILABLE', '5'],
    ['too many failed logins', new TooManyAttemptsError(42), 429, 'TOO_MANY_ATTEMPTS', '42'],
    ['a full password queue', new LoginBusyError(3), 503, 'LOGIN_BUSY', '3'],
  ])('answers a failure of %s with its own status, code and Retry-After', (_what, error, status, code, retryAfter) => {
    expect(toHttpError(error)).toMatchObject({ status, code, headers: { 'Retry-After': retryAfter } });
  });

  it('never reports a failure of the regulation store as a session store failure', () => {
    expect(toHttpError(new RegulationUnavailableError(lost))!.code).not.toBe('SESSION_STORE_UNAVAILABLE');
  });

  it('keeps an HttpError as it is, and leaves an unknown error to the 500 of the handler', () => {
    const refused = new HttpError(403, 'FORBIDDEN', 'Forbidden');
    expect(toHttpError(refused)).toBe(refused);
    expect(toHttpError(new Error('a bug'))).toBeUndefined();
    expect(toHttpError('a string')).toBeUndefined();
  });

  it("builds every error body the same way, with the details beside the code and the message, and never the cause's text", () => {
    expect(errorBody(toHttpError(new TooManyAttemptsError(7))!)).toEqual({ success: false, error: 'TOO_MANY_ATTEMPTS', message: 'Too many failed logins; try again in 7 seconds', retryAfter: 7 });
    expect(JSON.stringify(errorBody(toHttpError(new StoreUnavailableError(lost))!))).not.toContain('connection lost');
  });
});
