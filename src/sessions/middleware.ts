import session from 'express-session';
import type { RequestHandler } from 'express';
import type { Config } from '../config/config.js';
import type { SessionStore } from './session-store.js';

/** express-session on the sidecar's own cookie, rolling, never saving anonymous sessions. */
export function sessionMiddleware(config: Config, store: SessionStore, secrets: string[]): RequestHandler {
  return session({
    name: config.cookie.name,
    secret: secrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: config.session.rolling,
    unset: 'destroy',
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: config.cookie.sameSite,
      secure: config.cookie.secure,
      maxAge: config.session.ttlSeconds * 1000,
    },
  });
}
