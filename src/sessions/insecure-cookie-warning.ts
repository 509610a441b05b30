import type { Request, Response } from 'express';

const INTERVAL_MS = 60_000;

/**
 * With COOKIE_SECURE=true, express-session silently sets no cookie on a request that is not HTTPS
 * (to Express: neither TLS here nor `X-Forwarded-Proto: https` from a trusted proxy), so a login
 * succeeds and does not stick. This logs that, at most once a minute, with the fixes.
 */
export function insecureCookieWarning(cookieName: string, now: () => number = Date.now): (req: Request, res: Response) => void {
  let lastWarned = -Infinity;
  const cookiePrefix = `${cookieName}=`;
  return function watch(req, res) {
    if (req.secure) return;
    res.once('finish', () => {
      const session = req.session as (typeof req.session & Record<string, unknown>) | undefined;
      if (!session || res.statusCode >= 500 || !Object.keys(session).some((key) => key !== 'cookie')) return;
      if (req.headers.cookie?.includes(cookiePrefix)) return;
      if ([res.getHeader('Set-Cookie') ?? []].flat().some((c) => String(c).startsWith(cookiePrefix))) return;
      if (now() - lastWarned < INTERVAL_MS) return;
      lastWarned = now();
      req.log.warn(
        { protocol: req.protocol, forwardedProto: req.headers['x-forwarded-proto'], path: req.originalUrl.split('?')[0] },
        'COOKIE_SECURE=true but this request came over plain HTTP, so no session cookie was set (the session will not stick). ' +
          'Behind a TLS proxy: set TRUST_PROXY to its address and have it send X-Forwarded-Proto: https; or set COOKIE_SECURE=auto (logged at most once a minute)',
      );
    });
  };
}
