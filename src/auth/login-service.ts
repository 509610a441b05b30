import { HttpError } from '../http/http-error.js';
import type { PasswordVerifier } from '../users/password.js';
import type { User, UserDirectory } from '../users/user.js';
import type { PasswordQueue } from './password-queue.js';
import type { LoginRegulation, Reservation } from './regulation.js';

/** What a login request says, already checked for shape. */
export interface LoginAttempt {
  /** The client address, as express reports it. */
  ip: string;
  /** What the client gave to say who it is: a username or an email address. */
  by: 'username' | 'email';
  name: string;
  password: string;
}

export type LoginResult =
  | { outcome: 'succeeded'; user: User }
  | { outcome: 'failed' }
  | { outcome: 'regulated'; error: HttpError };

export interface LoginServiceDeps {
  users: UserDirectory;
  verifier: PasswordVerifier;
  passwordQueue: PasswordQueue;
  regulation: LoginRegulation;
}

/**
 * One login step in one straight line (after Authelia's first-factor handler): refuse at once when
 * the password queue is too busy, look the user up,
 * reserve the attempt with regulation, check the password in the queue, then count the outcome
 * with regulation. Errors it throws (a store down, the queue full) are HttpErrors; an attempt whose
 * password was never checked is given back.
 */
export class LoginService {
  constructor(private readonly deps: LoginServiceDeps) {}

  async authenticate(attempt: LoginAttempt): Promise<LoginResult> {
    const { users, verifier, passwordQueue, regulation } = this.deps;
    // A busy answer is decided first, so the overflow of a flood costs no lookup and no count.
    passwordQueue.assertAdmissible();
    const user = await (attempt.by === 'email' ? users.findByEmail(attempt.name) : users.findByUsername(attempt.name));
    // Counted under the user's own name when there is one, so logging in by email shares its count.
    const reservation = await reserve(regulation, attempt.ip, user?.username ?? attempt.name);
    if (reservation instanceof HttpError) return { outcome: 'regulated', error: reservation };
    let matched: boolean;
    try {
      matched = await passwordQueue.run(() => verifier.verify(attempt.password, user?.passwordHash));
    } catch (error) {
      await regulation.release(reservation);
      throw error;
    }
    if (matched && user && !user.disabled) {
      await regulation.succeeded(reservation);
      return { outcome: 'succeeded', user };
    }
    await regulation.failed(reservation);
    return { outcome: 'failed' };
  }
}

async function reserve(regulation: LoginRegulation, ip: string, name: string): Promise<Reservation | HttpError> {
  try {
    return await regulation.reserve(ip, name);
  } catch (error) {
    if (error instanceof HttpError && error.status === 429) return error;
    throw error;
  }
}
