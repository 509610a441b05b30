import { HttpError } from '../http/http-error.js';
import type { Store, SessionData } from 'express-session';

/**
 * A login as express-session + passport store it: `passport.user` is the user's id, exactly as an
 * app's own passport writes it, so the main app can read a session the sidecar wrote. The sidecar's
 * bookkeeping sits beside it under `sidecar`, which such an app ignores. (Sessions written before
 * this form carried the bookkeeping in `passport.user` itself; they are still read.)
 */
export interface StoredSession extends SessionData {
  __lastAccess?: number;
  passport?: { user?: string | LegacyPrincipal };
  sidecar?: LoginFacts;
}

/** What the sidecar records about a login. */
export interface LoginFacts {
  /** Changes when the user's password changes, which ends the user's other sessions. */
  stamp: string;
  createdAt: number;
  ip?: string;
  userAgent?: string;
}

interface LegacyPrincipal extends LoginFacts {
  id: string;
}

/** The logged-in user's id and what the sidecar knows of the login; undefined for no login. */
export interface SessionPrincipal extends Partial<LoginFacts> {
  id: string;
}

export function principalOf(sess: StoredSession | null | undefined): SessionPrincipal | undefined {
  const user = sess?.passport?.user;
  if (typeof user === 'string' && user !== '') return { ...sess!.sidecar, id: user };
  if (user && typeof user === 'object' && typeof user.id === 'string') return user;
  return undefined;
}

/**
 * An express-session store the sidecar can run on. Required: express-session's get/set/destroy
 * and touch. Optional capabilities are checked before use.
 */
export interface SessionStore extends Store {
  readonly kind: string;
  touch(sid: string, session: StoredSession, callback?: (err?: unknown) => void): void;
  /** Removes expired sessions now; stores that expire on their own need not. */
  reap?(): Promise<{ scanned: number; removed: number }>;
  /** Counts live sessions. */
  count?(): Promise<number>;
  /** The live sessions of one user, for listing and revoking them. */
  sessionsOf(userId: string): Promise<UserSession[]>;
  /** Resolves when the store can serve requests; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export interface UserSession {
  sid: string;
  session: StoredSession;
}

/** Raised by a store that cannot be reached; the JSON error handler answers 503. */
export function storeUnavailable(cause: unknown): HttpError {
  return new HttpError(503, 'SESSION_STORE_UNAVAILABLE', 'The session store is unavailable; try again shortly', { headers: { 'Retry-After': '5' }, cause });
}

/** A stored session's text as a session, or null when it is unreadable (treated like a missing session). */
export function parseSession(text: string): StoredSession | null {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value) && 'cookie' in value) return value as StoredSession;
  } catch {
    // unreadable
  }
  return null;
}
