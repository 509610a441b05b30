import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { regulationAddress } from './client-address.js';
import { pairKey, splitPairKey } from './login-counters.js';

/** One failure count: what it counts, how many, the limit, and the seconds until it expires (-1: never). */
export interface CountEntry {
  kind: 'ip' | 'pair' | 'device';
  ip?: string;
  username?: string;
  device?: string;
  /** Attempts counted in the window: the failures, plus one that marks a ban, plus those refused while banned. */
  attempts: number;
  limit: number;
  secondsLeft: number;
  /** At or past its limit: the next attempt it counts is refused (a device loses its trust). */
  banned: boolean;
}

/** What the users command asks of the bans, whether it reads Redis itself or asks the server. */
export interface Bans {
  /** The counts at or past their limit. */
  list(): Promise<CountEntry[]>;
  /** Deletes every count of an IP (its /64 for IPv6), a username or a device id; returns what it deleted. */
  lift(term: string): Promise<CountEntry[]>;
}

/** The keys a counter holds, without its prefix. */
export type KeyLister = (counter: RateLimiterAbstract) => Promise<string[]>;

/** The keys of an in-process counter (a RateLimiterMemory), from its public dump(). */
export const memoryKeys: KeyLister = async (counter) => (counter instanceof RateLimiterMemory ? counter.dump().storage.map((item) => String(item.key)) : []);

interface ScanningRedis {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

/** The keys of a counter in Redis, found by SCAN (never KEYS, which blocks the server). */
export function redisKeys(redis: ScanningRedis): KeyLister {
  return async (counter) => {
    const keys: string[] = [];
    const match = `${counter.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 500 })) keys.push(...batch.map((key) => counter.parseKey(key)));
    return keys;
  };
}

/**
 * The login bans (LoginRegulation's (IP, username) pairs and IPs) and the devices that lost their
 * trust (DeviceRegulation), read from the counters the server uses.
 */
export class BanList implements Bans {
  constructor(
    private readonly counters: { pair: RateLimiterAbstract; ip: RateLimiterAbstract; device?: RateLimiterAbstract },
    private readonly listKeys: KeyLister,
  ) {}

  async list(): Promise<CountEntry[]> {
    return (await this.entries()).filter((entry) => entry.banned);
  }

  async lift(term: string): Promise<CountEntry[]> {
    const address = regulationAddress(term);
    const name = term.toLowerCase();
    const matching = (await this.entries()).filter((e) => e.ip === address || e.username === name || e.device === term);
    await Promise.all(matching.map((entry) => this.counter(entry).delete(keyOf(entry))));
    return matching;
  }

  private async entries(): Promise<CountEntry[]> {
    const { pair, ip, device } = this.counters;
    const all = await Promise.all([this.read('pair', pair), this.read('ip', ip), device ? this.read('device', device) : []]);
    return all.flat();
  }

  private async read(kind: CountEntry['kind'], counter: RateLimiterAbstract): Promise<CountEntry[]> {
    const keys = await this.listKeys(counter);
    const entries = await Promise.all(
      keys.map(async (key): Promise<CountEntry | undefined> => {
        const res = await counter.get(key);
        // A success gives an IP its claim back, which can leave a count of 0 or less: nothing to show.
        if (!res || res.consumedPoints <= 0) return undefined;
        const secondsLeft = res.msBeforeNext < 0 ? -1 : Math.ceil(res.msBeforeNext / 1000);
        return { kind, ...describeKey(kind, key), attempts: res.consumedPoints, limit: counter.points, secondsLeft, banned: res.consumedPoints >= counter.points };
      }),
    );
    return entries.filter((e): e is CountEntry => e !== undefined);
  }

  private counter(entry: CountEntry): RateLimiterAbstract {
    return entry.kind === 'device' ? this.counters.device! : this.counters[entry.kind];
  }
}

function describeKey(kind: CountEntry['kind'], key: string): Pick<CountEntry, 'ip' | 'username' | 'device'> {
  if (kind === 'ip') return { ip: key };
  if (kind === 'device') return { device: key };
  return splitPairKey(key);
}

function keyOf(entry: CountEntry): string {
  if (entry.kind === 'pair') return pairKey(entry.ip!, entry.username!);
  return (entry.kind === 'ip' ? entry.ip : entry.device)!;
}
