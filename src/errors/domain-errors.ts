/**
 * The failures the domain modules (stores, the login regulation, the password queue, the user
 * directory, the admin figures) throw. They say what happened, never how to answer it: the one
 * mapping to HTTP status, code and Retry-After is src/http/error-mapping.ts.
 */

/** The outside dependencies a request can find unavailable (also the `dependency` label of the metric). */
export type Dependency = 'session_store' | 'login_regulation' | 'user_directory' | 'admin_data';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A dependency did not answer, failed, or (`full`) has no room left to write; one subclass a dependency. */
export abstract class DependencyUnavailableError extends Error {
  abstract readonly dependency: Dependency;
  readonly full: boolean;

  constructor(cause?: unknown) {
    super(cause instanceof Error ? cause.message : 'unavailable', { cause });
    this.name = new.target.name;
    this.full = FULL.has((cause as NodeJS.ErrnoException | undefined)?.code ?? '');
  }
}

/** The session store (files, Redis, PostgreSQL) failed; a full disk is `full`. */
export class StoreUnavailableError extends DependencyUnavailableError { readonly dependency = 'session_store'; }
/** The failure counts of the login regulation (memory or Redis) could not be read or written. */
export class RegulationUnavailableError extends DependencyUnavailableError { readonly dependency = 'login_regulation'; }
/** The users could not be looked up (the main app's database). */
export class UserDirectoryUnavailableError extends DependencyUnavailableError { readonly dependency = 'user_directory'; }
/** The admin figures could not be read, or read as something other than figures. */
export class DataSourceUnavailableError extends DependencyUnavailableError { readonly dependency = 'admin_data'; }

/** A login refused for the failures before it, until `retryAfterSeconds` have passed. */
export class TooManyAttemptsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed logins; retry in ${retryAfterSeconds} s`);
    this.name = 'TooManyAttemptsError';
  }
}

/** A login refused because too many password checks are queued already; a check would start in about `retryAfterSeconds`. */
export class LoginBusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many password checks queued; retry in ${retryAfterSeconds} s`);
    this.name = 'LoginBusyError';
  }
}
