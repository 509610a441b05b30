import { createHash } from 'node:crypto';
import { principalOf, type SessionStore, type UserSession } from './session-store.js';

/** What an admin sees of a session: never its id, only a handle derived from it. */
export interface SessionView {
  id: string;
  createdAt: string | null;
  lastSeenAt: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** A stable public handle for a session id; the id itself (half of a login cookie) stays private. */
export function sessionHandle(sid: string): string {
  return createHash('sha256').update(sid).digest('base64url').slice(0, 22);
}

export function viewOf({ sid, session }: UserSession): SessionView {
  const principal = principalOf(session);
  const iso = (ms: number | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
  return {
    id: sessionHandle(sid),
    createdAt: iso(principal?.createdAt),
    lastSeenAt: iso(session.__lastAccess),
    ip: principal?.ip ?? null,
    userAgent: principal?.userAgent ?? null,
  };
}

/** Ends the user's sessions (only the one with `handle` when given); answers how many ended. */
export async function revokeSessions(store: SessionStore, userId: string, handle?: string): Promise<number> {
  const targets = (await store.sessionsOf(userId)).filter((s) => handle === undefined || sessionHandle(s.sid) === handle);
  await Promise.all(
    targets.map(
      ({ sid }) => new Promise<void>((resolve, reject) => store.destroy(sid, (error?: unknown) => (error ? reject(error) : resolve()))),
    ),
  );
  return targets.length;
}
