import { Router } from 'express';
import type { Logger } from 'pino';
import { ROLES, type Role } from '../users/roles.js';
import { serve, type Route } from '../http/route.js';
import type { Identify } from './identity.js';
import { identityHeaders } from './identity-headers.js';

export const VERIFY_ROUTE = { method: 'get', path: '/api/auth/verify', session: false, audience: 'client' } as const satisfies Route;

/**
 * GET /api/auth/verify for nginx auth_request: 204 with X-Auth-* headers, 401 anonymous, 403 when
 * the role required by `?role=` (comma-separated, written in nginx's own proxy_pass URL) is not met.
 * No request header changes what is required. Never any other status: nginx would turn it into a
 * 500 for the user.
 */
export function verifyRoute(identify: Identify, logger: Logger): Router {
  const router = Router();
  serve(router, VERIFY_ROUTE, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const user = await identify(req);
      if (!user) {
        res.status(401).end();
        return;
      }
      const required = requiredRoles(req.query.role);
      if (required === 'invalid' || (required.length > 0 && !required.includes(user.role))) {
        res.status(403).end();
        return;
      }
      res.set(identityHeaders(user)).status(204).end();
    } catch (error) {
      logger.error({ err: error }, 'forward auth could not read the session; answering 401');
      if (!res.headersSent) res.status(401).end();
    }
  });
  return router;
}

/**
 * The roles asked for, or 'invalid' when the parameter is not one plain string (repeated, nested)
 * or names a role that does not exist: both fail closed.
 */
function requiredRoles(query: unknown): Role[] | 'invalid' {
  if (query === undefined) return [];
  if (typeof query !== 'string') return 'invalid';
  const names = query
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return names.every((name): name is Role => (ROLES as readonly string[]).includes(name)) ? names : 'invalid';
}
