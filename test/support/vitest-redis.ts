import { afterAll, beforeAll } from 'vitest';
import { requireProgram } from './programs.js';
import { startRedis, type ThrowawayRedis } from './redis.js';

/** redis-server; undefined on a laptop without it (the suite is skipped with the reason; under CI it fails). */
export const REDIS_BIN = requireProgram('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);

/**
 * A throwaway Redis for the suite that calls this: started before its tests, removed after them.
 * The answer stands for that Redis (its url, stop, resume...) from the first test on.
 */
export function redisForSuite(): ThrowawayRedis {
  let redis: ThrowawayRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis(REDIS_BIN!);
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  return new Proxy({} as ThrowawayRedis, {
    get(_, key) {
      if (!redis) throw new Error('the suite Redis is used before its tests start');
      const value = Reflect.get(redis, key, redis) as unknown;
      return typeof value === 'function' ? value.bind(redis) : value;
    },
  });
}
