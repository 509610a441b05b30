import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RegulationUnavailableError, TooManyAttemptsError } from '../errors/domain-errors.js';
import { regulationAddress } from './client-address.js';
import { createCounter, pairKey } from './login-counters.js';

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

/** One login attempt's claim on the counts, taken before its password is checked. */
export interface Reservation {
  /** The keys counted: the client's address (its /64 for IPv6) and that with the username. */
  readonly ip: string;
  readonly pair: string;
  /** The pair's and the IP's counts including this attempt. */
  readonly pairCount: number;
  readonly ipCount: number;
}

/**
 * Brute-force regulation after Authelia's: attempts are counted per (client IP, username) and per
 * client IP, one counter per address however it is spelled and per /64 for IPv6 (regulationAddress;
 * the pair too, or a host would get fresh pairs by changing address within its /64). Each attempt
 * reserves its count BEFORE its password is checked (check-then-count let a parallel burst run
 * every check), so no more than the limit of checks run per window; an attempt past a limit is
 * answered 429 with Retry-After and costs no password work. A failure keeps its count and, on
 * reaching the limit, bans the pair or the IP; a success clears its pair and gives the IP count
 * back. The counts live in Redis when a client is given, so every process shares them.
 */
export class LoginRegulation {
  /** The (IP, username) pairs' and the IPs' counts; the ban list reads and clears them too. */
  readonly perUser: RateLimiterAbstract;
  readonly perIp: RateLimiterAbstract;

  constructor(
    private readonly settings: RegulationSettings,
    redis?: unknown,
    keyPrefix = 'sidecar:',
  ) {
    this.perUser = createCounter('user', settings.maxFailuresPerUser, settings.windowSeconds, redis, keyPrefix);
    this.perIp = createCounter('ip', settings.maxFailuresPerIp, settings.windowSeconds, redis, keyPrefix);
  }

  /** Claims one attempt for the pair and the IP; throws TooManyAttemptsError, claiming nothing, when either is used up. */
  async reserve(clientIp: string, username: string): Promise<Reservation> {
    const ip = regulationAddress(clientIp);
    const pair = pairKey(ip, username);
    const [user, addr] = await this.guard(Promise.all([consumeOne(this.perUser, pair), consumeOne(this.perIp, ip)]));
    const refused = [user, addr].filter((r) => r.consumedPoints > r.limit);
    if (refused.length > 0) {
      // Only a granted count is given back. A refused one stays (it is past the limit anyway): given
      // back, it would wear down a ban set while it was in flight, which sets the count outright.
      const granted = [[this.perUser, pair, user], [this.perIp, ip, addr]] as const;
      await this.guard(Promise.all(granted.filter(([, , r]) => r.consumedPoints <= r.limit).map(([limiter, key]) => limiter.reward(key))));
      throw tooManyAttempts(Math.max(...refused.map((r) => r.msBeforeNext)));
    }
    return { ip, pair, pairCount: user.consumedPoints, ipCount: addr.consumedPoints };
  }

  /** The password was wrong: the claim stays counted, and the one that reaches a limit starts the ban. */
  async failed(reservation: Reservation): Promise<void> {
    const bans = [
      reservation.pairCount >= this.perUser.points ? this.perUser.block(reservation.pair, this.settings.banSeconds) : undefined,
      reservation.ipCount >= this.perIp.points ? this.perIp.block(reservation.ip, this.settings.banSeconds) : undefined,
    ];
    await this.guard(Promise.all(bans));
  }

  /** The password was right: the pair starts afresh and the IP gets its claim back. */
  async succeeded(reservation: Reservation): Promise<void> {
    await this.guard(Promise.all([this.perUser.delete(reservation.pair), this.perIp.reward(reservation.ip)]));
  }

  /** No password was checked (the queue was full, a store failed): the claim is given back. */
  async release(reservation: Reservation): Promise<void> {
    await this.guard(Promise.all([this.perUser.reward(reservation.pair), this.perIp.reward(reservation.ip)]));
  }

  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw error instanceof RegulationUnavailableError ? error : new RegulationUnavailableError(error);
    }
  }
}

/** Consumes one point; a consumption past the limit rejects with a RateLimiterRes, which is a count, not a failure. */
async function consumeOne(limiter: RateLimiterAbstract, key: string): Promise<{ consumedPoints: number; msBeforeNext: number; limit: number }> {
  let res: RateLimiterRes;
  try {
    res = await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    res = error;
  }
  return { consumedPoints: res.consumedPoints, msBeforeNext: res.msBeforeNext, limit: limiter.points };
}

function tooManyAttempts(waitMs: number): TooManyAttemptsError {
  return new TooManyAttemptsError(Math.max(1, Math.ceil(waitMs / 1000)));
}
