import express, { Router, type Request, type Response, type NextFunction } from 'express';
import type { Passport } from 'passport';
import type { Logger } from 'pino';
import type { LoginStats } from '../admin/login-stats.js';
import type { Config } from '../config/config.js';
import { HttpError, validationError } from '../http/http-error.js';
import { publicUser, type PublicUser, type User } from '../users/user.js';
import { requireLogin } from './require-role.js';

const MAX_USERNAME_LENGTH = 128;
const MAX_PASSWORD_LENGTH = 1024;

export function authRoutes(config: Config, passport: InstanceType<typeof Passport>, logins: LoginStats, logger: Logger): Router {
  const router = Router();
  const parseBody = [
    express.json({ limit: '16kb' }),
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
  ];

  router.post('/login', parseBody, checkCredentialsShape, (req: Request, res: Response, next: NextFunction) => {
    passport.authenticate('local', { session: false }, (error: unknown, user: User | false) => {
      if (error) return next(error);
      if (!user) {
        logins.record('failed');
        logger.info({ audit: 'login', outcome: 'failed', username: String(req.body.username).slice(0, 128), ip: req.ip }, 'login failed');
        res.status(401).json({ success: false, message: 'Invalid username or password' });
        return;
      }
      // passport regenerates the session id here, so a planted id never becomes a logged-in one.
      req.logIn(user, (loginError) => {
        if (loginError) return next(loginError);
        logins.record('succeeded');
        logger.info({ audit: 'login', outcome: 'succeeded', username: user.username, ip: req.ip }, 'login succeeded');
        res.json({ success: true, user: publicUser(user) });
      });
    })(req, res, next);
  });

  router.post('/logout', (req, res, next) => {
    const done = () => {
      res.clearCookie(config.cookie.name, cookieAttributes(config, req));
      res.json({ success: true, message: 'Logged out successfully' });
    };
    if (!req.session) return done();
    req.session.destroy((error) => (error ? next(error) : done()));
  });

  router.get('/user', requireLogin, (req, res) => {
    const user = req.user as PublicUser;
    res.json({ id: user.id, username: user.username, role: user.role });
  });

  return router;
}

function checkCredentialsShape(req: Request, _res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  const { username, password } = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const missing = [
    typeof username === 'string' && username !== '' ? undefined : 'username',
    typeof password === 'string' && password !== '' ? undefined : 'password',
  ].filter(Boolean);
  if (missing.length > 0) {
    return next(validationError(`Missing ${missing.join(' and ')}`, { fields: missing }));
  }
  if ((username as string).length > MAX_USERNAME_LENGTH || (password as string).length > MAX_PASSWORD_LENGTH) {
    return next(new HttpError(400, 'VALIDATION_ERROR', 'Username or password is too long'));
  }
  next();
}

function cookieAttributes(config: Config, req: Request) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: config.cookie.sameSite,
    secure: config.cookie.secure === 'auto' ? req.secure : config.cookie.secure,
  } as const;
}
