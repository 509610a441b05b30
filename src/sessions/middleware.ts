import session from 'express-session';
import type { RequestHandler, Response } from 'express';
import type { Config } from '../config/config.js';
import { DependencyUnavailableError } from '../errors/domain-errors.js';
import { insecureCookieWarning } from './insecure-cookie-warning.js';
import type { SessionStore } from './session-store.js';

/**
 * express-session on the sidecar's own cookie, rolling, never saving anonymous sessions. A store
 * that fails never ends a session: `unset: 'keep'` (logout destroys explicitly), no cookie for a
 * session a failed request may not have stored, and a save that fails after the response has
 * started is logged rather than handed to an error handler that can no longer answer.
 */
export function sessionMiddleware(config: Config, store: SessionStore, secrets: string[]): RequestHandler {
  const handle = session({
    name: config.cookie.name,
    secret: secrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: config.session.rolling,
    unset: 'keep',
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: config.cookie.sameSite,
      secure: config.cookie.secure,
      maxAge: config.session.ttlSeconds * 1000,
    },
  });
  const cookiePrefix = `${config.cookie.name}=`;
  const warnInsecure = config.cookie.secure === true ? insecureCookieWarning(config.cookie.name) : undefined;
  return function sessionWithStoreFailures(req, res, next) {
    warnInsecure?.(req, res);
    // Wrapped before express-session wraps it, so this runs after express-session set its cookie.
    noSessionCookieOnServerError(res, cookiePrefix);
    handle(req, res, (error?: unknown) => {
      if (error === undefined || !res.headersSent) return next(error);
      // A store error was logged by the store; anything else is unexpected.
      if (!(error instanceof DependencyUnavailableError)) req.log.error({ err: error }, 'saving the session failed after the response started');
    });
  };
}

function noSessionCookieOnServerError(res: Response, cookiePrefix: string): void {
  const writeHead = res.writeHead;
  res.writeHead = function writeHeadWithoutFailedSession(this: Response, ...args: Parameters<typeof writeHead>) {
    const status = typeof args[0] === 'number' ? args[0] : this.statusCode;
    const cookies = this.getHeader('Set-Cookie');
    if (status >= 500 && cookies !== undefined) {
      const kept = [cookies].flat().map(String).filter((c) => !c.startsWith(cookiePrefix));
      if (kept.length > 0) this.setHeader('Set-Cookie', kept);
      else this.removeHeader('Set-Cookie');
    }
    return writeHead.apply(this, args);
  } as typeof writeHead;
}
