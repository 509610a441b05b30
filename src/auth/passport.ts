import { createHash } from 'node:crypto';
import { Passport } from 'passport';
import type { Request } from 'express';
import { publicUser, type PublicUser, type User, type UserDirectory } from '../users/user.js';
import type { SessionPrincipal } from '../sessions/session-store.js';

/** A short fingerprint of the password hash: a changed password invalidates older sessions. */
export function passwordStamp(user: User): string {
  return createHash('sha256').update(user.passwordHash).digest('base64url').slice(0, 16);
}

/** The current user behind a session's principal: undefined when removed, disabled or re-passworded. */
export async function resolvePrincipal(users: UserDirectory, principal: unknown): Promise<PublicUser | undefined> {
  const p = principal as Partial<SessionPrincipal> | undefined;
  if (!p || typeof p !== 'object' || typeof p.id !== 'string') return undefined;
  const user = await users.findById(p.id);
  return user && !user.disabled && passwordStamp(user) === p.stamp ? publicUser(user) : undefined;
}

/**
 * A passport instance of the sidecar's own (not the global one), so apps never share state. It
 * keeps the session side (req.logIn, serialize, deserialize); passwords are checked by LoginService.
 */
export function createPassport(users: UserDirectory): InstanceType<typeof Passport> {
  const passport = new Passport();

  passport.serializeUser<SessionPrincipal>((req: Request, user: Express.User, done: (err: unknown, principal?: SessionPrincipal) => void) => {
    const u = user as User;
    done(null, {
      id: u.id,
      stamp: passwordStamp(u),
      createdAt: Date.now(),
      ip: req.ip,
      userAgent: req.get('user-agent')?.slice(0, 256),
    });
  });

  passport.deserializeUser<SessionPrincipal>((principal, done) => {
    resolvePrincipal(users, principal).then((user) => done(null, user ?? false), done);
  });

  return passport;
}
