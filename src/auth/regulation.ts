import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { HttpError } from '../http/http-error.js';
import { storeUnavailable } from '../sessions/session-store.js';

export interface RegulationSettings {
  /** Failed logins for one username from one client IP before that pair is banned. */
  maxFailuresPerUser: number;
  /** Failed logins from one client IP, any usernames, before that IP is banned. */
  maxFailuresPerIp: number;
  /** Seconds over which failures are counted. */
  windowSeconds: number;
  /** Seconds a ban lasts. */
  banSeconds: number;
}

/**
 * Brute-force regulation after Authelia's: failures are counted per (client IP, username) and per
 * client IP; past a threshold the pair or the IP is banned and answered 429 before any password
 * work. A success clears that pair's count. The counts live in Redis when a client is given, so
 * every process sees the same ones; otherwise in this process.
 */
export class LoginRegulation {
  private readonly perUser: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;

  constructor(
    private readonly settings: RegulationSettings,
    redis?: unknown,
    keyPrefix = 'sidecar:',
  ) {
    const make = (name: string, points: number) => {
      const options = { keyPrefix: `${keyPrefix}login-fail-${name}`, points, duration: settings.windowSeconds };
      return redis ? new RateLimiterRedis({ ...options, storeClient: redis, useRedisPackage: true }) : new RateLimiterMemory(options);
    };
    this.perUser = make('user', settings.maxFailuresPerUser);
    this.perIp = make('ip', settings.maxFailuresPerIp);
  }

  /** Throws a 429 with Retry-After when the pair or the IP is banned. */
  async check(ip: string, username: string): Promise<void> {
    const [user, addr] = await this.guard(Promise.all([this.perUser.get(pairKey(ip, username)), this.perIp.get(ip)]));
    const waits = [
      user && user.consumedPoints >= this.perUser.points ? user.msBeforeNext : 0,
      addr && addr.consumedPoints >= this.perIp.points ? addr.msBeforeNext : 0,
    ];
    const waitMs = Math.max(...waits);
    if (waitMs > 0) throw tooManyAttempts(waitMs);
  }

  /** Counts a failure; the failure that reaches a threshold starts the ban. */
  async failed(ip: string, username: string): Promise<void> {
    await this.guard(Promise.all([this.count(this.perUser, pairKey(ip, username)), this.count(this.perIp, ip)]));
  }

  async succeeded(ip: string, username: string): Promise<void> {
    await this.guard(this.perUser.delete(pairKey(ip, username)));
  }

  private async count(limiter: RateLimiterAbstract, key: string): Promise<void> {
    let consumed: number;
    try {
      consumed = (await limiter.consume(key)).consumedPoints;
    } catch (error) {
      // A consumption past the limit rejects with a RateLimiterRes: a count, not a failure.
      if (!(error instanceof RateLimiterRes)) throw error;
      consumed = error.consumedPoints;
    }
    if (consumed === limiter.points) await limiter.block(key, this.settings.banSeconds);
  }

  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw storeUnavailable(error);
    }
  }
}



function pairKey(ip: string, username: string): string {
  return `${ip}|${username.toLowerCase()}`;
}

function tooManyAttempts(waitMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(429, 'TOO_MANY_ATTEMPTS', `Too many failed logins; try again in ${seconds} seconds`, { headers: { 'Retry-After': String(seconds) }, details: { retryAfter: seconds } });
}
