import { Router } from 'express';
import type { Logger } from 'pino';
import type { Identify } from './identity.js';

/**
 * GET /api/auth/verify for nginx auth_request: 204 with X-Auth-* headers, 401 anonymous, 403 when
 * the role required by ?role= or X-Required-Role (comma-separated) is not met. Never any other
 * status: nginx would turn it into a 500 for the user.
 */
export function verifyRoute(identify: Identify, logger: Logger): Router {
  const router = Router();
  router.get('/auth/verify', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    let user;
    try {
      user = await identify(req);
    } catch (error) {
      logger.error({ err: error }, 'forward auth could not read the session; answering 401');
    }
    if (!user) {
      res.status(401).end();
      return;
    }
    const required = requiredRoles(req.query.role, req.get('x-required-role'));
    if (required.length > 0 && !required.includes(user.role)) {
      res.status(403).end();
      return;
    }
    res.set({ 'X-Auth-User': user.username, 'X-Auth-User-Id': user.id, 'X-Auth-Role': user.role }).status(204).end();
  });
  return router;
}

/** The roles asked for; an unknown name matches no one, so a typo fails closed. */
function requiredRoles(query: unknown, header: string | undefined): string[] {
  const raw = [typeof query === 'string' ? query : '', header ?? ''].join(',');
  return raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
}
