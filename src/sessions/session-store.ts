import { StoreUnavailableError } from '../errors/domain-errors.js';
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
  /**
   * Writes a session as it is (its last access kept) to expire at `expiresAt` (ms), unless a live
   * session with this id exists; answers whether it wrote. For moving sessions between stores.
   */
  insert?(sid: string, session: StoredSession, expiresAt: number): Promise<boolean>;
  /** Resolves when the store can serve requests; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export interface UserSession {
  sid: string;
  session: StoredSession;
}

export type Callback<T = void> = (err?: unknown, value?: T) => void;

/** express-session's callback style over a promise. */
export function settle<T>(work: Promise<T>, callback: Callback<T> | undefined): Promise<void> {
  return work.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}

/** Raised by a store that cannot be reached or write (`cause` once, never wrapped twice). */
export function storeUnavailable(cause: unknown): StoreUnavailableError {
  return cause instanceof StoreUnavailableError ? cause : new StoreUnavailableError(cause);
}

/** When a session was last used; a time ahead of `now` (the clock stepped back) counts as now. */
export function lastAccessOf(sess: StoredSession, now: number): number {
  return Math.min(sess.__lastAccess ?? 0, now);
}

/** Whether a session has outlived its cookie's max age (or `ttlMs`) since it was last used. */
export function isExpired(sess: StoredSession, ttlMs: number, now: number): boolean {
  return lastAccessOf(sess, now) + (sess.cookie?.originalMaxAge ?? ttlMs) < now;
}

/** Whether touch() should write again: at most once per `intervalMs`, and at once to correct a time ahead of now. */
export function touchIsDue(sess: StoredSession, intervalMs: number, now: number): boolean {
  const last = sess.__lastAccess ?? 0;
  return last > now || now - last >= intervalMs;
}

/** A stored session's text as a session, or null when it is unreadable (treated like a missing session). */
export function parseSession(text: string): StoredSession | null {
  try {
    return asSession(JSON.parse(text));
  } catch {
    return null;
  }
}

/** A decoded value as a session, or null when it is not one (a store that decodes JSON itself). */
export function asSession(value: unknown): StoredSession | null {
  return value && typeof value === 'object' && !Array.isArray(value) && 'cookie' in value ? (value as StoredSession) : null;
}
