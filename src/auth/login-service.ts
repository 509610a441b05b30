import { TooManyAttemptsError } from '../errors/domain-errors.js';
import type { PasswordVerifier } from '../users/password.js';
import type { User, UserDirectory } from '../users/user.js';
import { claimMatches, type DeviceClaim } from './device-cookie.js';
import type { DeviceRegulation } from './device-regulation.js';
import type { Lane, PasswordQueue } from './password-queue.js';
import type { LoginRegulation, Reservation } from './regulation.js';

/** What a login request says, already checked for shape. */
export interface LoginAttempt {
  /** The client address, as express reports it. */
  ip: string;
  /** What the client gave to say who it is: a username or an email address. */
  by: 'username' | 'email';
  name: string;
  password: string;
  /** The claim of a valid (signed, unexpired) device cookie the client sent, whoever it names. */
  device?: DeviceClaim;
}

export type LoginResult =
  /** `deviceId`: the device the login came through when it was trusted, so its cookie keeps the id. */
  | { outcome: 'succeeded'; user: User; deviceId?: string }
  | { outcome: 'failed' }
  | { outcome: 'regulated'; error: TooManyAttemptsError };

export interface LoginServiceDeps {
  users: UserDirectory;
  verifier: PasswordVerifier;
  passwordQueue: PasswordQueue;
  regulation: LoginRegulation;
  /** Device trust; without it every login is untrusted. */
  devices?: DeviceRegulation;
}

/**
 * One login step in one straight line (after Authelia's first-factor handler): refuse at once when
 * the password queue is too busy, look the user up,
 * reserve the attempt with regulation, check the password in the queue, then count the outcome
 * with regulation. Errors it throws (a store down, the queue full) are domain errors (errors/domain-errors.ts); an attempt whose
 * password was never checked is given back. A login through a device cookie of the user it names
 * is trusted while its device has attempts left: it is counted against the device instead of the
 * IP and the (IP, user) pair, so their bans do not stop it, and its check takes the trusted lane.
 */
export class LoginService {
  constructor(private readonly deps: LoginServiceDeps) {}

  async authenticate(attempt: LoginAttempt): Promise<LoginResult> {
    const { users, verifier, passwordQueue } = this.deps;
    // A busy answer is decided first, so the overflow of a flood costs no lookup and no count.
    passwordQueue.assertAdmissible(attempt.device ? 'trusted' : 'untrusted');
    const user = await (attempt.by === 'email' ? users.findByEmail(attempt.name) : users.findByUsername(attempt.name));
    const claim = await this.reserve(attempt, user);
    if (claim instanceof TooManyAttemptsError) return { outcome: 'regulated', error: claim };
    let matched: boolean;
    try {
      matched = await passwordQueue.run(() => verifier.verify(attempt.password, user?.passwordHash), claim.lane);
    } catch (error) {
      await claim.release();
      throw error;
    }
    if (matched && user && !user.disabled) {
      await claim.succeeded();
      return { outcome: 'succeeded', user, deviceId: claim.deviceId };
    }
    await claim.failed();
    return { outcome: 'failed' };
  }

  /** The attempt's claim: on its device when the device cookie names this user and has attempts left, else with regulation. */
  private async reserve(attempt: LoginAttempt, user: User | undefined): Promise<Claim | TooManyAttemptsError> {
    const { regulation, devices } = this.deps;
    const device = devices && claimMatches(attempt.device, user) ? attempt.device!.deviceId : undefined;
    if (device && (await devices!.reserve(device))) {
      return { lane: 'trusted', deviceId: device, release: () => devices!.release(device), succeeded: () => devices!.succeeded(device), failed: async () => undefined };
    }
    // Counted under the user's own name when there is one, so logging in by email shares its count.
    const reservation = await reserve(regulation, attempt.ip, user?.username ?? attempt.name);
    if (reservation instanceof TooManyAttemptsError) return reservation;
    return {
      lane: 'untrusted',
      release: () => regulation.release(reservation),
      succeeded: () => regulation.succeeded(reservation),
      failed: () => regulation.failed(reservation),
    };
  }
}

/** One attempt's count, on its device or with regulation, and what to do with it after the check. */
interface Claim {
  lane: Lane;
  deviceId?: string;
  release(): Promise<void>;
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

async function reserve(regulation: LoginRegulation, ip: string, name: string): Promise<Reservation | TooManyAttemptsError> {
  try {
    return await regulation.reserve(ip, name);
  } catch (error) {
    if (error instanceof TooManyAttemptsError) return error;
    throw error;
  }
}
