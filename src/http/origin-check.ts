import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests that a browser marks as coming from another site, unless that
 * site's origin is allowed. Requests without Origin or Sec-Fetch-Site (curl, servers) are not
 * browser cross-site requests and pass; the SameSite cookie covers old browsers.
 */
export function crossSiteCheck(allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return function crossSiteGuard(req, _res, next) {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.get('origin');
    const fetchSite = req.get('sec-fetch-site');
    // req.protocol and req.host follow X-Forwarded-Proto/-Host only from proxies TRUST_PROXY trusts.
    const ownOrigin = `${req.protocol}://${req.host}`;
    if (origin !== undefined) {
      if (origin === ownOrigin || allowed.has(origin)) return next();
      return next(refused(origin));
    }
    if (fetchSite === undefined || fetchSite === 'same-origin' || fetchSite === 'none') return next();
    next(refused(fetchSite));
  };
}

function refused(what: string): HttpError {
  return new HttpError(403, 'CROSS_SITE_REQUEST', `Cross-site request refused (${what.slice(0, 100)}); add the origin to ALLOWED_ORIGINS if it is yours.`);
}
