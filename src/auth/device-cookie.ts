import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { User } from '../users/user.js';
import { passwordStamp } from './passport.js';

/** What a device cookie says, once its signature and expiry are checked. */
export interface DeviceClaim {
  /** The user it was given to, and that user's password stamp then. */
  userId: string;
  stamp: string;
  /** A random id of the browser it was given to. */
  deviceId: string;
  /** Milliseconds since the epoch after which it is not trusted. */
  expires: number;
}

export interface DeviceCookieOptions {
  /** The session secrets: the first signs, every one verifies (so a rotation keeps devices). */
  secrets: string[];
  maxAgeSeconds: number;
  now?: () => number;
}

/** A separate key per purpose, so a device cookie's MAC is never valid as anything else signed with the secret. */
const PURPOSE = 'sidecar device cookie v1';

/**
 * Device cookies (OWASP's "slow down online guessing attacks with device cookies"): after a
 * successful login the browser gets a signed claim naming the user, a random device id and an
 * expiry. A later login presenting it for the same user is trusted: it bypasses the IP bans and is
 * limited per device instead. The value is `base64url(json).base64url(hmac)`; the user's password
 * stamp is signed in, so a password change drops every device of that user.
 */
export class DeviceCookies {
  private readonly keys: Buffer[];
  private readonly now: () => number;
  readonly maxAgeSeconds: number;

  constructor({ secrets, maxAgeSeconds, now = Date.now }: DeviceCookieOptions) {
    this.keys = secrets.map((secret) => createHmac('sha256', secret).update(PURPOSE).digest());
    this.maxAgeSeconds = maxAgeSeconds;
    this.now = now;
  }

  /** A new cookie value for the user; `deviceId` keeps the id of a device that is already known. */
  issue(user: User, deviceId = randomBytes(16).toString('base64url')): string {
    const claim: DeviceClaim = { userId: user.id, stamp: passwordStamp(user), deviceId, expires: this.now() + this.maxAgeSeconds * 1000 };
    const payload = Buffer.from(JSON.stringify(claim)).toString('base64url');
    return `${payload}.${mac(this.keys[0]!, payload).toString('base64url')}`;
  }

  /** The claim of a cookie value signed with one of the secrets and not expired; undefined for anything else. */
  read(value: string | undefined): DeviceClaim | undefined {
    if (!value) return undefined;
    const [payload, signature, extra] = value.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    const given = Buffer.from(signature, 'base64url');
    if (!this.keys.some((key) => sameBytes(mac(key, payload), given))) return undefined;
    let claim: Partial<DeviceClaim>;
    try {
      claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<DeviceClaim>;
    } catch {
      return undefined;
    }
    const { userId, stamp, deviceId, expires } = claim;
    if (typeof userId !== 'string' || typeof stamp !== 'string' || typeof deviceId !== 'string' || typeof expires !== 'number') return undefined;
    return expires > this.now() ? { userId, stamp, deviceId, expires } : undefined;
  }
}

/** Whether a claim names this user as the user is now (same id, same password). */
export function claimMatches(claim: DeviceClaim | undefined, user: User | undefined): claim is DeviceClaim {
  return !!claim && !!user && !user.disabled && claim.userId === user.id && claim.stamp === passwordStamp(user);
}

/** The value of one cookie in a Cookie header (the first of that name), undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
