import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { createLogger } from '../observability/logger.js';
import { LogCapture } from '../../test/support/harness.js';
import { REDIS_BIN, redisForSuite } from '../../test/support/vitest-redis.js';
import { sessionFor, sessionStoreContract } from '../../test/support/session-store-contract.js';
import { RedisSessionStore, type RedisSessionStoreOptions } from './redis-store.js';
import { principalOf, type StoredSession } from './session-store.js';
import { httpAnswerOf } from '../../test/support/http-answer.js';

describe.skipIf(!REDIS_BIN)('Redis session store', () => {
  const redis = redisForSuite();
  const stores: RedisSessionStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  const open = async (overrides: Partial<RedisSessionStoreOptions> = {}) => {
    const store = await new RedisSessionStore({
      url: redis.url,
      prefix: 'test:sess:',
      ttlSeconds: 3600,
      touchIntervalSeconds: 360,
      timeoutMs: 500,
      logger: createLogger('silent'),
      ...overrides,
    }).open();
    stores.push(store);
    return store;
  };
  const get = (s: RedisSessionStore, sid: string) =>
    new Promise<StoredSession | null | undefined>((resolve, reject) => s.get(sid, (e, v) => (e ? reject(e) : resolve(v))));
  const set = (s: RedisSessionStore, sid: string, sess: StoredSession) =>
    new Promise<void>((resolve, reject) => s.set(sid, sess, (e) => (e ? reject(e) : resolve())));
  const touch = (s: RedisSessionStore, sid: string, sess: StoredSession) =>
    new Promise<void>((resolve, reject) => s.touch(sid, sess, (e) => (e ? reject(e) : resolve())));
  const raw = async <T>(work: (c: ReturnType<typeof createClient>) => Promise<T>): Promise<T> => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      client.destroy();
    }
  };

  sessionStoreContract('redis', () => open({ countIntervalSeconds: 0 }), {
    inject: async () => redis.pause(),
    recover: async () => redis.resume(),
  });

  it('keeps sessions under the configured prefix with an expiry of the cookie max age', async () => {
    const store = await open({ prefix: 'myapp:s:' });
    await set(store, 'sid-prefix-1', sessionFor('u1'));
    const ttl = await raw((c) => c.pTTL('myapp:s:sid-prefix-1'));
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('pushes the expiry back on touch once the interval has passed, without reviving a destroyed session', async () => {
    let now = Date.now();
    const store = await open({ touchIntervalSeconds: 60, now: () => now });
    const sess = sessionFor('u1');
    await set(store, 'sid-touch-r1', sess);
    await raw((c) => c.pExpire('test:sess:sid-touch-r1', 10_000));
    await touch(store, 'sid-touch-r1', (await get(store, 'sid-touch-r1'))!);
    expect(await raw((c) => c.pTTL('test:sess:sid-touch-r1'))).toBeLessThanOrEqual(10_000);
    now += 61_000;
    await touch(store, 'sid-touch-r1', (await get(store, 'sid-touch-r1'))!);
    expect(await raw((c) => c.pTTL('test:sess:sid-touch-r1'))).toBeGreaterThan(3_590_000);
    await raw((c) => c.del('test:sess:sid-touch-r1'));
    now += 61_000;
    await touch(store, 'sid-touch-r1', sess);
    expect(await raw((c) => c.exists('test:sess:sid-touch-r1'))).toBe(0);
  });

  it("files each session in its user's set on set and takes it out on destroy", async () => {
    const store = await open({ prefix: 'idx1:' });
    await set(store, 'sid-index-1', sessionFor('u-index'));
    await set(store, 'sid-index-2', sessionFor('u-index'));
    expect((await raw((c) => c.sMembers('idx1:user:u-index'))).sort()).toEqual(['sid-index-1', 'sid-index-2']);
    expect(await raw((c) => c.pTTL('idx1:user:u-index'))).toBeGreaterThan(3_590_000);
    await new Promise<void>((resolve, reject) => store.destroy('sid-index-1', (e) => (e ? reject(e) : resolve())));
    expect(await raw((c) => c.sMembers('idx1:user:u-index'))).toEqual(['sid-index-2']);
  });

  it("lists a user's sessions from the user's set without scanning the keys, and drops ids whose session expired", async () => {
    const store = await open({ prefix: 'idx2:', countIntervalSeconds: 0 });
    await store.indexReady();
    await set(store, 'sid-own-1', sessionFor('u-own'));
    await set(store, 'sid-own-2', sessionFor('u-own'));
    await set(store, 'sid-other-1', sessionFor('u-other'));
    await raw((c) => c.del('idx2:sid-own-2')); // expired in Redis
    await raw((c) => c.configResetStat());
    expect((await store.sessionsOf('u-own')).map((s) => s.sid)).toEqual(['sid-own-1']);
    const stats = await raw((c) => c.info('commandstats'));
    expect(stats).not.toMatch(/cmdstat_scan:/);
    expect(await raw((c) => c.sMembers('idx2:user:u-own'))).toEqual(['sid-own-1']);
    expect(await store.count()).toBe(2);
  });

  it('files the sessions written before the per-user sets existed once, in the background, and finds them after a restart', async () => {
    const old = sessionFor('u-before');
    await raw(async (c) => {
      await c.set('idx3:sid-before-1', JSON.stringify(old), { expiration: { type: 'PX', value: 3_600_000 } });
      await c.set('idx3:sid-before-2', JSON.stringify(old), { expiration: { type: 'PX', value: 3_600_000 } });
    });
    const first = await open({ prefix: 'idx3:' });
    expect((await first.sessionsOf('u-before')).map((s) => s.sid).sort()).toEqual(['sid-before-1', 'sid-before-2']);
    await first.indexReady();
    expect((await raw((c) => c.sMembers('idx3:user:u-before'))).sort()).toEqual(['sid-before-1', 'sid-before-2']);
    expect(await raw((c) => c.exists('idx3:index:users'))).toBe(1);
    await first.close();
    const restarted = await open({ prefix: 'idx3:' });
    await raw((c) => c.configResetStat());
    expect((await restarted.sessionsOf('u-before')).map((s) => s.sid).sort()).toEqual(['sid-before-1', 'sid-before-2']);
    expect(await raw((c) => c.info('commandstats'))).not.toMatch(/cmdstat_scan:/);
  });

  it('answers an unreadable stored session as anonymous and removes it', async () => {
    const logs = new LogCapture();
    const store = await open({ logger: createLogger('debug', logs) });
    await raw((c) => c.set('test:sess:sid-corrupt-1', '{"cookie": {trunc'));
    expect(await get(store, 'sid-corrupt-1')).toBeNull();
    expect(await raw((c) => c.exists('test:sess:sid-corrupt-1'))).toBe(0);
    expect(logs.lines.map((l) => l.msg)).toContain('removed an unreadable session from Redis; the request is anonymous');
  });

  it('fails fast with a 503 error while Redis is down and serves again once it is back, without a restart', async () => {
    const store = await open();
    await set(store, 'sid-outage-1', sessionFor('u1'));
    await redis.kill();
    const started = Date.now();
    await expect(httpAnswerOf(get(store, 'sid-outage-1'))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
    await expect(httpAnswerOf(store.ping())).resolves.toMatchObject({ status: 503 });
    await expect(httpAnswerOf(store.sessionsOf('u1'))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
    await expect(httpAnswerOf(store.count())).resolves.toMatchObject({ status: 503 });
    expect(Date.now() - started).toBeLessThan(1500);
    await redis.start();
    const deadline = Date.now() + 5000;
    while (!store.redis.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await expect(store.ping()).resolves.toBeUndefined();
    await set(store, 'sid-outage-2', sessionFor('u2'));
    expect(principalOf(await get(store, 'sid-outage-2'))?.id).toBe('u2');
  });

  it('warns at start when Redis may evict session keys (maxmemory-policy other than noeviction)', async () => {
    await raw((c) => c.configSet('maxmemory-policy', 'allkeys-lru'));
    try {
      const logs = new LogCapture();
      await open({ logger: createLogger('debug', logs) });
      expect(logs.lines.find((l) => l.msg?.toString().includes('maxmemory-policy noeviction'))).toMatchObject({ level: 40, maxmemoryPolicy: 'allkeys-lru' });
    } finally {
      await raw((c) => c.configSet('maxmemory-policy', 'noeviction'));
    }
    const quiet = new LogCapture();
    await open({ logger: createLogger('debug', quiet) });
    expect(quiet.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('fails a session read of a hanging Redis (SIGSTOP) with 503 within the timeout, and still has the session once it answers again', async () => {
    const store = await open();
    await set(store, 'sid-stall-1', sessionFor('u1'));
    redis.pause();
    try {
      const started = performance.now();
      await expect(httpAnswerOf(get(store, 'sid-stall-1'))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
      await expect(httpAnswerOf(store.count())).resolves.toMatchObject({ status: 503 });
      expect(performance.now() - started).toBeLessThan(2 * 1.5 * 500);
    } finally {
      redis.resume();
    }
    expect(principalOf(await get(store, 'sid-stall-1'))?.id).toBe('u1');
  });
});
