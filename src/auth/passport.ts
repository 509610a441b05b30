import { createHash } from 'node:crypto';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { Request } from 'express';
import type { PasswordVerifier } from '../users/password.js';
import type { PasswordQueue } from './password-queue.js';
import { publicUser, type PublicUser, type User, type UserDirectory } from '../users/user.js';
import { principalOf, type LoginFacts, type StoredSession } from '../sessions/session-store.js';

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

/** A passport instance of the sidecar's own (not the global one), so apps never share state. */
export function createPassport(users: UserDirectory, verifier: PasswordVerifier, queue: PasswordQueue, acceptUnstamped = false): InstanceType<typeof Passport> {
  const passport = new Passport();

  passport.use(
    new LocalStrategy({ usernameField: 'username', passwordField: 'password' }, (username, password, done) => {
      users
        .findByUsername(username)
        .then(async (user) => {
          const matched = await queue.run(() => verifier.verify(password, user?.passwordHash));
          done(null, matched && user && !user.disabled ? user : false);
        })
        .catch(done);
    }),
  );

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
