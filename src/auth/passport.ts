import { createHash } from 'node:crypto';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { Request } from 'express';
import { publicUser, type PublicUser, type User, type UserDirectory } from '../users/user.js';
import { principalOf, type LoginFacts, type StoredSession } from '../sessions/session-store.js';
import { cookieValue, type DeviceCookies } from './device-cookie.js';
import type { LoginResult, LoginService } from './login-service.js';

/** A short fingerprint of the password hash: a changed password invalidates older sessions. */
export function passwordStamp(user: User): string {
  return createHash('sha256').update(user.passwordHash).digest('base64url').slice(0, 16);
}

/**
 * The current user behind a stored login: undefined when removed, disabled or re-passworded. A
 * login without the sidecar's stamp (one the main app wrote itself) counts only where sessions are
 * shared with the app (`acceptUnstamped`).
 */
export async function resolveLogin(users: UserDirectory, sess: StoredSession | null | undefined, acceptUnstamped: boolean): Promise<PublicUser | undefined> {
  const principal = principalOf(sess);
  if (!principal) return undefined;
  const user = await users.findById(principal.id);
  if (!user || user.disabled) return undefined;
  const stampOk = principal.stamp === undefined ? acceptUnstamped : passwordStamp(user) === principal.stamp;
  return stampOk ? publicUser(user) : undefined;
}

/** The passport-local strategies: `local` reads `username` and `password`, `local-email` reads `email` instead. */
export const STRATEGIES = { username: 'local', email: 'local-email' } as const;

/**
 * A passport instance of the sidecar's own (not the global one), so apps never share state.
 * passport-local reads the credentials and hands them to the LoginService, which checks them;
 * passport keeps the session side (req.logIn, serialize, deserialize). A strategy's `info` is the
 * service's outcome (with the trusted device of a success). The device cookie the request carries, if valid,
 * goes to the service with the credentials.
 */
export function createPassport(
  users: UserDirectory,
  loginService: LoginService,
  acceptUnstamped = false,
  devices?: { cookies: DeviceCookies; name: string },
): InstanceType<typeof Passport> {
  const passport = new Passport();
  for (const by of ['username', 'email'] as const) {
    passport.use(
      STRATEGIES[by],
      new LocalStrategy({ usernameField: by, passwordField: 'password', passReqToCallback: true }, (req, name, password, done) => {
        const device = devices?.cookies.read(cookieValue(req.get('cookie'), devices.name));
        loginService.authenticate({ ip: req.ip ?? 'unknown', by, name, password, device }).then(
          (result: LoginResult) => done(null, result.outcome === 'succeeded' ? result.user : false, result as unknown as { message: string }),
          done,
        );
      }),
    );
  }

  // passport.user is the plain id, as the main app's own passport stores it; the sidecar's facts
  // about the login go beside it, in the same session save.
  passport.serializeUser<string>((req: Request, user: Express.User, done: (err: unknown, id?: string) => void) => {
    const u = user as User;
    const facts: LoginFacts = { stamp: passwordStamp(u), createdAt: Date.now(), ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 256) };
    const sess = req.session as unknown as StoredSession & { csrfToken?: string };
    sess.sidecar = facts;
    // The CSRF token of the session this login replaced (kept only where sessions are shared).
    const carried: unknown = req.res?.locals.csrfToken;
    if (acceptUnstamped && typeof carried === 'string') sess.csrfToken = carried;
    done(null, u.id);
  });

  passport.deserializeUser<string>((req: Request, _id: string, done: (err: unknown, user?: PublicUser | false) => void) => {
    resolveLogin(users, req.session as unknown as StoredSession, acceptUnstamped).then((user) => done(null, user ?? false), done);
  });

  return passport;
}
