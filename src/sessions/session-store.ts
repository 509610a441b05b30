import type { Store, SessionData } from 'express-session';

/** What the sidecar stores about a login, beside passport's user reference. */
export interface StoredSession extends SessionData {
  __lastAccess?: number;
  passport?: { user?: SessionPrincipal };
}

export interface SessionPrincipal {
  id: string;
  /** Changes when the user's password changes, which ends the user's other sessions. */
  stamp: string;
  createdAt: number;
  ip?: string;
  userAgent?: string;
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
  close(): Promise<void>;
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
