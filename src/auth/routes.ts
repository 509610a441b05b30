import express, { Router, type Request, type Response, type NextFunction } from 'express';
import type { Passport } from 'passport';
import type { LoginStats } from '../admin/login-stats.js';
import type { Config } from '../config/config.js';
import { HttpError, validationError } from '../http/http-error.js';
import { publicUser, type PublicUser, type User } from '../users/user.js';
import type { LoginRegulation, Reservation } from './regulation.js';
import { requireLogin } from './require-role.js';

const MAX_USERNAME_LENGTH = 128;
const MAX_PASSWORD_LENGTH = 1024;

export function authRoutes(
  config: Config,
  passport: InstanceType<typeof Passport>,
  { logins, regulation }: { logins: LoginStats; regulation: LoginRegulation },
): Router {
  const router = Router();
  const parseBody = [
    express.json({ limit: '16kb' }),
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }),
  ];

  router.post('/login', parseBody, checkCredentialsShape, async (req: Request, res: Response, next: NextFunction) => {
    const username = String(req.body.username);
    const ip = req.ip ?? 'unknown';
    const audit = { audit: 'login', username: username.slice(0, 128), ip };
    let reservation: Reservation;
    try {
      reservation = await regulation.reserve(ip, username);
    } catch (error) {
      if (error instanceof HttpError && error.status === 429) {
        logins.record('regulated');
        req.log.warn({ ...audit, outcome: 'regulated' }, 'login refused: too many failures');
      }
      return next(error);
    }
    passport.authenticate('local', { session: false }, (error: unknown, user: User | false) => {
      // No password was checked (queue full, directory down): the attempt is given back.
      if (error) return void regulation.release(reservation).then(() => next(error), next);
      if (!user) {
        logins.record('failed');
        req.log.info({ ...audit, outcome: 'failed' }, 'login failed');
        regulation.failed(reservation).then(
          () => res.status(401).json({ success: false, message: 'Invalid username or password' }),
          next,
        );
        return;
      }
      regulation.succeeded(reservation).then(() => {
        // passport regenerates the session id here, so a planted id never becomes a logged-in one.
        req.logIn(user, (loginError) => {
          if (loginError) return next(loginError);
          logins.record('succeeded');
          req.log.info({ ...audit, username: user.username, userId: user.id, outcome: 'succeeded' }, 'login succeeded');
          res.json({ success: true, user: publicUser(user) });
        });
      }, next);
    })(req, res, next);
  });

  router.post('/logout', (req, res, next) => {
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
