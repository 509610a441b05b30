import type { RequestHandler } from 'express';
import type { Role } from '../users/roles.js';
import { forbidden, unauthorized } from '../http/http-error.js';
import type { PublicUser } from '../users/user.js';

/** 401 for anonymous requests, 403 for users whose role is not among `roles`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return function requireRoleGuard(req, _res, next) {
    const user = req.user as PublicUser | undefined;
    if (!user) return next(unauthorized());
    if (roles.length > 0 && !roles.includes(user.role)) return next(forbidden());
    next();
  };
}

export const requireLogin = requireRole();
