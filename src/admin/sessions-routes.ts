import { Router, type Request, type Response } from 'express';
import { requireRole } from '../auth/require-role.js';
import { HttpError, validationError } from '../http/http-error.js';
import { serve, type Route } from '../http/route.js';
import { revokeSessions, sessionHandle, viewOf } from '../sessions/revoke.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { PublicUser, UserDirectory } from '../users/user.js';

export const SESSIONS_ADMIN_ROUTES = {
  list: { method: 'get', path: '/api/admin/sessions', session: true, audience: 'client' },
  endAll: { method: 'delete', path: '/api/admin/sessions', session: true, audience: 'client' },
  endOne: { method: 'delete', path: '/api/admin/sessions/:id', session: true, audience: 'client' },
} as const satisfies Record<string, Route>;

/**
 * Session revocation for super admins: list a user's sessions (?userId= or ?username=), end one
 * (DELETE /admin/sessions/<id>) or all of them (DELETE /admin/sessions).
 */
export function sessionsAdminRoutes(deps: { sessionStore: SessionStore; users: UserDirectory }): Router {
  const router = Router();
  const superAdmins = requireRole('super_admin');

  const target = async (req: Request) => {
    const { userId, username } = req.query;
    if (typeof userId !== 'string' && typeof username !== 'string') throw validationError('Name the user with ?userId= or ?username=', { fields: ['userId', 'username'] });
    const user =
      typeof userId === 'string' && userId !== ''
        ? await deps.users.findById(userId)
        : typeof username === 'string' && username !== ''
          ? await deps.users.findByUsername(username)
          : undefined;
    // A removed user's sessions can still be listed and ended by id.
    if (!user && typeof userId === 'string' && userId !== '') return { id: userId, username: null };
    if (!user) throw new HttpError(404, 'USER_NOT_FOUND', 'No such user');
    return { id: user.id, username: user.username };
  };

  serve(router, SESSIONS_ADMIN_ROUTES.list, superAdmins, async (req, res) => {
    const user = await target(req);
    const own = req.sessionID ? sessionHandle(req.sessionID) : undefined;
    const sessions = (await deps.sessionStore.sessionsOf(user.id)).map(viewOf).map((v) => ({ ...v, current: v.id === own }));
    sessions.sort((a, b) => String(b.lastSeenAt).localeCompare(String(a.lastSeenAt)));
    res.set('Cache-Control', 'no-store').json({ success: true, user, sessions });
  });

  const end = async (req: Request, res: Response) => {
    const user = await target(req);
    const handle = typeof req.params.id === 'string' ? req.params.id : undefined;
    const revoked = await revokeSessions(deps.sessionStore, user.id, handle);
    if (handle !== undefined && revoked === 0) throw new HttpError(404, 'SESSION_NOT_FOUND', 'No such session for this user');
    const by = req.user as PublicUser;
    req.log.info({ audit: 'revoke', userId: user.id, username: user.username, sessions: revoked, by: by.username, ip: req.ip }, 'sessions revoked');
    res.json({ success: true, revoked });
  };
  serve(router, SESSIONS_ADMIN_ROUTES.endAll, superAdmins, end);
  serve(router, SESSIONS_ADMIN_ROUTES.endOne, superAdmins, end);

  return router;
}
