import express, { Router, type Request, type Response } from 'express';
import type { Passport } from 'passport';
import type { LoginStats } from './login-stats.js';
import type { DeviceCookies } from './device-cookie.js';
import type { PendingDeviceCookie } from './device-cookie-writer.js';
import type { Config } from '../config/config.js';
import { HttpError, validationError } from '../http/http-error.js';
import { serve, type Route } from '../http/route.js';
import { publicUser, type PublicUser, type User } from '../users/user.js';
import type { LoginAttempt, LoginResult } from './login-service.js';
import { STRATEGIES } from './passport.js';
import { requireLogin } from './require-role.js';

export const AUTH_ROUTES = {
  login: { method: 'post', path: '/api/login', session: true, audience: 'client' },
  logout: { method: 'post', path: '/api/logout', session: true, audience: 'client' },
  user: { method: 'get', path: '/api/user', session: true, audience: 'client' },
} as const satisfies Record<string, Route>;

const MAX_NAME_LENGTH = { username: 128, email: 254 };
const MAX_PASSWORD_LENGTH = 1024;

export function authRoutes(
  config: Config,
  passport: InstanceType<typeof Passport>,
  { logins, deviceCookies }: { logins: LoginStats; deviceCookies?: DeviceCookies },
): Router {
  const router = Router();
  const parseBody = [
    express.json({ limit: '16kb' }),
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
  ];

  serve(router, AUTH_ROUTES.login, parseBody, async (req: Request, res: Response) => {
    const credentials = readCredentials(req.body);
    const ip = req.ip ?? 'unknown';
    const audit = { audit: 'login', [credentials.by]: credentials.name.slice(0, 128), ip };
    const result = await new Promise<LoginResult>((resolve, reject) => {
      const strategy = passport.authenticate(STRATEGIES[credentials.by], { session: false }, (error: unknown, user: User | false, info: LoginResult) =>
        error ? reject(error) : resolve(user ? { ...info, outcome: 'succeeded', user } : info),
      );
      strategy(req, res, reject);
    });
    if (result.outcome !== 'succeeded') logins.record(result.outcome);
    switch (result.outcome) {
      case 'regulated':
        req.log.warn({ ...audit, outcome: 'regulated' }, 'login refused: too many failures');
        throw result.error;
      case 'failed':
        req.log.info({ ...audit, outcome: 'failed' }, 'login failed');
        throw new HttpError(401, 'INVALID_CREDENTIALS', 'Invalid username or password');
      case 'succeeded': {
        const { user } = result;
        // passport regenerates the session id here, so a planted id never becomes a logged-in one.
        await new Promise<void>((resolve, reject) => req.logIn(user, (error) => (error ? reject(error) : resolve())));
        // The browser is now a known device of the user (a trusted one keeps its id, with a new expiry).
        if (deviceCookies) {
          const { maxAgeSeconds } = deviceCookies;
          const pending: PendingDeviceCookie = [config.login.device.cookieName, deviceCookies.issue(user, result.deviceId), { ...cookieAttributes(config, req), maxAge: maxAgeSeconds * 1000 }];
          res.locals.deviceCookie = pending;
        }
        logins.record('succeeded');
        req.log.info({ ...audit, username: user.username, userId: user.id, outcome: 'succeeded', trustedDevice: result.deviceId !== undefined }, 'login succeeded');
        // The main app's client reads data.role and data.tenantId at the top level; the seed's reads data.user.
        const shown = publicUser(user);
        res.json({ success: true, ...shown, user: shown });
      }
    }
  });

  serve(router, AUTH_ROUTES.logout, (req, res, next) => {
    const done = () => {
      res.clearCookie(config.cookie.name, cookieAttributes(config, req));
      res.json({ success: true, message: 'Logged out successfully' });
    };
    const user = req.user as PublicUser | undefined;
    if (!req.session) return done();
    req.session.destroy((error) => {
      if (error) return next(error);
      if (user) req.log.info({ audit: 'logout', username: user.username, userId: user.id, ip: req.ip }, 'logged out');
      done();
    });
  });

  // The same public fields as the login answer (profile fields included), never a hash.
  serve(router, AUTH_ROUTES.user, requireLogin, (req, res) => {
    res.json(req.user as PublicUser);
  });

  return router;
}

/** The credentials of a login body (`username` or else `email`, and `password`), or a 400 naming what is missing or wrong. */
function readCredentials(body: unknown): Pick<LoginAttempt, 'by' | 'name' | 'password'> {
  const { username, email, password } = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const given = (value: unknown): value is string => typeof value === 'string' && value !== '';
  const by = given(username) || !given(email) ? 'username' : 'email';
  const name = by === 'username' ? username : email;
  const missing = [given(name) ? undefined : 'username', given(password) ? undefined : 'password'].filter(Boolean);
  if (missing.length > 0) {
    throw validationError(`Missing ${given(name) ? 'password' : `username or email${given(password) ? '' : ' and password'}`}`, { fields: missing });
  }
  if ((name as string).length > MAX_NAME_LENGTH[by] || (password as string).length > MAX_PASSWORD_LENGTH) {
    throw new HttpError(400, 'VALIDATION_ERROR', `${by === 'username' ? 'Username' : 'Email'} or password is too long`);
  }
  return { by, name: name as string, password: password as string };
}

function cookieAttributes(config: Config, req: Request) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: config.cookie.sameSite,
    secure: config.cookie.secure === 'auto' ? req.secure : config.cookie.secure,
  } as const;
}
