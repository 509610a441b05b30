import type { IncomingMessage } from 'node:http';
import { parse as parseCookies } from 'cookie';
import signature from 'cookie-signature';
import type { SessionStore, StoredSession } from '../sessions/session-store.js';
import type { PublicUser, UserDirectory } from '../users/user.js';
import { resolveLogin } from './passport.js';

export type Identify = (req: IncomingMessage) => Promise<PublicUser | undefined>;

/**
 * Who sent a request, read straight from the session cookie and store, without express-session:
 * nothing is written, no cookie is set. For forward auth and for proxied requests.
 */
export function createIdentify(options: { cookieName: string; secrets: string[]; store: SessionStore; users: UserDirectory; acceptUnstamped: boolean }): Identify {
  const { cookieName, secrets, store, users, acceptUnstamped } = options;
  return async function identify(req) {
    const header = req.headers.cookie;
    if (!header) return undefined;
    const raw = parseCookies(header)[cookieName];
    if (!raw?.startsWith('s:')) return undefined;
    let sid: string | false = false;
    for (const secret of secrets) {
      sid = signature.unsign(raw.slice(2), secret);
      if (sid) break;
    }
    if (!sid) return undefined;
    const sess = await new Promise<StoredSession | null | undefined>((resolve, reject) => {
      store.get(sid as string, (error, value) => (error ? reject(error) : resolve(value as StoredSession | null)));
    });
    return resolveLogin(users, sess, acceptUnstamped);
  };
}
