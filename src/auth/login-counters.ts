import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * The failure counts of logins and where they live: one counter per kind, keyed
 * `<prefix>login-fail-<kind>:<key>` (in Redis when a client is given, else in this process). The
 * server's regulation and the users command's `bans`/`unban` both build them here, so they agree
 * on the key layout.
 */
export type CounterKind = 'user' | 'ip' | 'device';

/** The counts share the first part of the session keys' prefix: "sidecar:sess:" -> "sidecar:". */
export function countsPrefix(sessionPrefix: string): string {
  return sessionPrefix.replace(/[^:]*:?$/, '');
}

export function createCounter(kind: CounterKind, points: number, windowSeconds: number, redis?: unknown, prefix = 'sidecar:'): RateLimiterAbstract {
  const options = { keyPrefix: `${prefix}login-fail-${kind}`, points, duration: windowSeconds };
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, useRedisPackage: true }) : new RateLimiterMemory(options);
}

/** The (IP, username) pair's key: "<ip>|<lower-case username>" (an address never holds "|"). */
export function pairKey(ip: string, username: string): string {
  return `${ip}|${username.toLowerCase()}`;
}

export function splitPairKey(key: string): { ip: string; username: string } {
  const bar = key.indexOf('|');
  return { ip: key.slice(0, bar), username: key.slice(bar + 1) };
}
