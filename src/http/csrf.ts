import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './http-error.js';
import type { Route } from './route.js';

export const CSRF_TOKEN_ROUTE = { method: 'get', path: '/api/csrf-token', session: true, audience: 'client' } as const satisfies Route;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * Never checked, as in the main app: a client fetches its token once per page load, so after an
 * in-page login its token is bound to the anonymous visitor and logging out must still work. Both
 * stay guarded against cross-site requests by the Origin / Sec-Fetch-Site check.
 */
const UNCHECKED_PATHS = new Set(['/api/login', '/api/logout']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Stateless CSRF tokens: a random nonce and an HMAC of it bound to the caller's session (or to
 * "anonymous" before login), under a key derived from the session secrets. Nothing is stored, so
 * issuing tokens to anonymous visitors creates no sessions. A token minted before login stops
 * working after it, as the session id changes: fetch a new one then.
 */
export class CsrfTokens {
  private readonly keys: Buffer[];

  constructor(secrets: string[]) {
    this.keys = secrets.map((s) => createHmac('sha256', s).update('sidecar csrf token key').digest());
  }

  issue(req: Request): string {
    const nonce = randomBytes(18).toString('base64url');
    return `${nonce}.${this.sign(this.keys[0]!, nonce, bindingOf(req))}`;
  }

  verify(req: Request, token: string): boolean {
    const [nonce, mac, ...rest] = token.split('.');
    if (!nonce || !mac || rest.length > 0 || token.length > 200) return false;
    const given = Buffer.from(mac);
    return this.keys.some((key) => {
      const expected = Buffer.from(this.sign(key, nonce, bindingOf(req)));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }

  /** GET /api/csrf-token */
  route(): RequestHandler {
    return (req, res) => {
      res.set('Cache-Control', 'no-store').json({ csrfToken: this.issue(req) });
    };
  }

  /**
   * Refuses a state-changing request whose X-CSRF-Token is present but not valid for its session;
   * login and logout are never refused for a token.
   */
  check(): RequestHandler {
    return (req, _res, next) => {
      const token = req.get(CSRF_HEADER);
      if (SAFE_METHODS.has(req.method) || token === undefined || UNCHECKED_PATHS.has(req.originalUrl.split('?')[0]!.toLowerCase().replace(/\/+$/, ''))) return next();
      if (this.verify(req, token)) return next();
      next(new HttpError(403, 'CSRF_TOKEN_INVALID', 'The CSRF token is not valid for this session; fetch a new one from /api/csrf-token'));
    };
  }

  private sign(key: Buffer, nonce: string, binding: string): string {
    return createHmac('sha256', key).update(`${nonce}|${binding}`).digest('base64url');
  }
}

function bindingOf(req: Request): string {
  return req.isAuthenticated?.() ? `session:${req.sessionID}` : 'anonymous';
}

/**
 * GET /api/csrf-token with shared sessions, answered as the main app answers it: the token is kept in
 * the session as `csrfToken`, where the app's own check compares it with X-CSRF-Token. The token a
 * session already has is given again, so every tab of a page keeps a valid one. The sidecar itself
 * refuses no token in this mode (its routes are guarded by the cross-site check), and a login keeps
 * the token of the session it replaces.
 */
export function sessionCsrfRoute(): RequestHandler {
  return (req, res) => {
    const session = req.session as typeof req.session & { csrfToken?: string };
    session.csrfToken ??= randomBytes(32).toString('hex');
    res.set('Cache-Control', 'no-store').json({ csrfToken: session.csrfToken });
  };
}

/**
 * With shared sessions: remembers the CSRF token of the session a login is about to replace (in
 * res.locals.csrfToken), so the new session keeps it (see the passport serializer): the page that
 * fetched it before the login goes on working with the main app's own check.
 */
export function rememberCsrfTokenForLogin(): RequestHandler {
  return (req, res, next) => {
    const token = (req.session as (typeof req.session & { csrfToken?: unknown }) | undefined)?.csrfToken;
    if (typeof token === 'string') res.locals.csrfToken = token;
    next();
  };
}
