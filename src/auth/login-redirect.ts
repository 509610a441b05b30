import { Router } from 'express';
import { serve, type Route } from '../http/route.js';
import { isLocalPath, type Config } from '../config/config.js';

/**
 * The login page's address for a logged-out browser that asked for `target` (path and query):
 * the target URL-encoded as one parameter, and only ever a local path (anything else becomes "/"),
 * so the login page can never be made to send the user to another site afterwards.
 */
export function loginRedirectLocation(loginPage: Config['loginPage'], target: string | undefined): string {
  const next = target !== undefined && isLocalPath(target) ? target : '/';
  const separator = loginPage.url.includes('?') ? '&' : '?';
  return `${loginPage.url}${separator}${loginPage.param}=${encodeURIComponent(next)}`;
}

export const LOGIN_REDIRECT_ROUTE = { method: 'get', path: '/api/auth/login-redirect', session: false, audience: 'nginx' } as const satisfies Route;

/**
 * GET /api/auth/login-redirect for nginx's admin-pages.conf (nginx cannot URL-encode): a 302 to the
 * login page for the original request URI nginx sends in X-Original-URI.
 */
export function loginRedirectRoute(loginPage: Config['loginPage']): Router {
  const router = Router();
  serve(router, LOGIN_REDIRECT_ROUTE, function loginRedirect(req, res) {
    res.set('Cache-Control', 'no-store').redirect(302, loginRedirectLocation(loginPage, req.get('x-original-uri')));
  });
  return router;
}
