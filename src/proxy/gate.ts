import { loginRedirectLocation } from '../auth/login-redirect.js';
import type { Role } from '../users/roles.js';
import { forbidden, HttpError, unauthorized } from '../http/http-error.js';
import type { PublicUser } from '../users/user.js';

export interface GatePolicy {
  /** Whether /admin pages need an admin login; the /api/admin API always does. */
  protectAdminPages: boolean;
  loginPage: { url: string; param: string };
}

/** Decides on a main-app request: undefined lets it through, an HttpError refuses it. */
export type Gate = (canonical: string, target: string, user: PublicUser | undefined) => HttpError | undefined;

const ADMIN_ROLES: readonly Role[] = ['super_admin', 'admin'];

const isUnder = (canonical: string, root: string) => canonical === root || canonical.startsWith(`${root}/`);

/**
 * The gate of nginx/sidecar.conf for the built-in proxy, on canonical paths (see canonicalPath):
 * the admin API answers 401/403 JSON to anyone but admins; with `protectAdminPages`, /admin pages
 * send anonymous browsers to the login page (302) and answer 403 to users without the role.
 */
export function createGate(policy: GatePolicy): Gate {
  const { protectAdminPages, loginPage } = policy;
  return function gate(canonical, target, user) {
    const api = isUnder(canonical, '/api/admin');
    if (!api && !(protectAdminPages && isUnder(canonical, '/admin'))) return undefined;
    if (!user) return api ? unauthorized() : loginRequired(loginPage, target);
    return ADMIN_ROLES.includes(user.role) ? undefined : forbidden();
  };
}

/** A redirect to the login page carrying the original target, which is only ever a path on this site. */
function loginRequired(loginPage: GatePolicy['loginPage'], target: string): HttpError {
  return new HttpError(302, 'LOGIN_REQUIRED', 'Log in to open this page', { headers: { Location: loginRedirectLocation(loginPage, target) } });
}
