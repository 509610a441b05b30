import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness } from './support/harness.js';
import { runNode } from './support/processes.js';
import { REDIS_BIN, redisForSuite } from './support/vitest-redis.js';

describe.skipIf(!REDIS_BIN)('the sidecar on SESSION_STORE=redis', () => {
  const redis = redisForSuite();
  const harnesses: Harness[] = [];
  afterEach(async () => {
    redis.resume();
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
    await redis.start().catch(() => undefined);
  });
  const harness = async (env: Record<string, string> = {}) => {
    const h = await startHarness({ users: [ADMIN, B2B], env: { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '300', ...env } });
    harnesses.push(h);
    return h;
  };
  const login = (h: Harness) => request(h.app).post('/api/login').send({ username: ADMIN.username, password: ADMIN.password });

  it('logs in, keeps the session in Redis and logs out', async () => {
    const h = await harness();
    const res = await login(h);
    expect(res.status).toBe(200);
    const cookie = cookieHeader(res.headers['set-cookie']);
    expect(await h.deps.sessionStore.count!()).toBeGreaterThanOrEqual(1);
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).body.username).toBe('alice');
    expect((await request(h.app).post('/api/logout').set('Cookie', cookie)).status).toBe(200);
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(401);
  });

  it('answers 503 JSON while Redis is down (a login LOGIN_REGULATION_UNAVAILABLE, its counts being there too), never a login, and recovers without a restart', async () => {
    const h = await harness();
    const cookie = cookieHeader((await login(h)).headers['set-cookie']);
    await redis.kill();

    const user = await request(h.app).get('/api/user').set('Cookie', cookie);
    expect(user.status).toBe(503);
    expect(user.body).toMatchObject({ success: false, error: 'SESSION_STORE_UNAVAILABLE' });
    expect(user.headers['retry-after']).toBe('5');
    const again = await login(h);
    expect(again.status).toBe(503);
    expect(again.body).toMatchObject({ success: false, error: 'LOGIN_REGULATION_UNAVAILABLE' });
    expect(again.headers['retry-after']).toBe('5');
    const ready = await request(h.app).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.sessionStore).toMatchObject({ ok: false });

    // Nothing survives a Redis restart without persistence: the old session is gone, a new login works.
    await redis.start();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i += 1) {
      ok = (await request(h.app).get('/ready')).status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok).toBe(true);
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(401);
    // express-session may name a fresh id in the failed login's reply; it was never stored.
    const failedCookie = again.headers['set-cookie'];
    if (failedCookie) expect((await request(h.app).get('/api/user').set('Cookie', cookieHeader(failedCookie))).status).toBe(401);
    const fresh = await login(h);
    expect(fresh.status).toBe(200);
    expect((await request(h.app).get('/api/user').set('Cookie', cookieHeader(fresh.headers['set-cookie']))).status).toBe(200);
  });

  it('shares failed-login counts between processes, so a ban on one holds on the other', async () => {
    const env = { LOGIN_MAX_FAILURES: '3', REDIS_PREFIX: `shared-${Date.now()}:sess:` };
    const [a, b] = [await harness(env), await harness(env)];
    const attempt = (h: Harness, password: string) =>
      request(h.app).post('/api/login').set('X-Forwarded-For', '203.0.113.50').send({ username: ADMIN.username, password });
    expect((await attempt(a, 'wrong-1')).status).toBe(401);
    expect((await attempt(b, 'wrong-2')).status).toBe(401);
    expect((await attempt(a, 'wrong-3')).status).toBe(401);
    const banned = await attempt(b, ADMIN.password);
    expect(banned.status).toBe(429);
    expect(Number(banned.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('reserves attempts in Redis, so a parallel burst over two processes runs at most LOGIN_MAX_FAILURES password checks', async () => {
    const env = { LOGIN_MAX_FAILURES: '5', PASSWORD_QUEUE: '100', REDIS_PREFIX: `burst-${Date.now()}:sess:` };
    const both = [await harness(env), await harness(env)];
    let checks = 0;
    for (const h of both) {
      const verify = h.deps.verifier.verify.bind(h.deps.verifier);
      h.deps.verifier.verify = (password, hash) => ((checks += 1), verify(password, hash));
    }
    const replies = await Promise.all(Array.from({ length: 18 }, (_, i) =>
      request(both[i % 2]!.app).post('/api/login').set('X-Forwarded-For', '203.0.113.51').send({ username: ADMIN.username, password: `wrong-${i}` })));
    expect(checks).toBe(5);
    expect(replies.filter((r) => r.status === 401)).toHaveLength(5);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(13);
    for (const r of refused) expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('revokes sessions through the admin endpoint and through the users command', async () => {
    const h = await harness({ REDIS_PREFIX: `revoke-${Date.now()}:sess:` });
    const login = async (user: typeof ADMIN) =>
      cookieHeader((await request(h.app).post('/api/login').send({ username: user.username, password: user.password }).expect(200)).headers['set-cookie']);
    const admin = await login(ADMIN);
    const bob = [await login(B2B), await login(B2B)];
    const list = await request(h.app).get('/api/admin/sessions?username=bob').set('Cookie', admin);
    expect(list.body.sessions).toHaveLength(2);
    const one = await request(h.app).delete(`/api/admin/sessions/${list.body.sessions[0].id}?username=bob`).set('Cookie', admin);
    expect(one.body).toEqual({ success: true, revoked: 1 });
    expect((await Promise.all(bob.map(async (c) => (await request(h.app).get('/api/user').set('Cookie', c)).status))).sort()).toEqual([200, 401]);

    const result = await runNode('cli/users.js', ['disable', 'bob'], { cwd: h.dir, env: { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: h.config.session.redisPrefix } });
    expect(result.stdout).toContain('Ended 1 session of "bob".');
    const bobId = (await h.deps.users.findByUsername('bob'))!.id;
    expect(await h.deps.sessionStore.sessionsOf(bobId)).toEqual([]);
  });

  describe('while Redis hangs (SIGSTOP) with its connections open', () => {
    const TIMEOUT_MS = 300;
    const timed = async <T>(work: () => Promise<T>): Promise<{ res: T; ms: number }> => {
      const started = performance.now();
      const res = await work();
      return { res, ms: performance.now() - started };
    };

    it('answers a logged-in request 503 SESSION_STORE_UNAVAILABLE with Retry-After within the timeout, and the user is still logged in afterwards', async () => {
      const h = await harness();
      const cookie = cookieHeader((await login(h)).headers['set-cookie']);
      redis.pause();
      const { res, ms } = await timed(() => request(h.app).get('/api/user').set('Cookie', cookie));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ success: false, error: 'SESSION_STORE_UNAVAILABLE' });
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeLessThan(1.5 * TIMEOUT_MS);
      redis.resume();
      // What the stalled connection had queued has run by the time a new command answers.
      await h.deps.sessionStore.ping();
      const after = await request(h.app).get('/api/user').set('Cookie', cookie);
      expect(after.status).toBe(200);
      expect(after.body.username).toBe('alice');
    });

    it('answers a login 503 within the timeout, rate limiter included, and sets no cookie', async () => {
      const h = await harness();
      redis.pause();
      const { res, ms } = await timed(() => login(h));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ success: false, error: 'LOGIN_REGULATION_UNAVAILABLE' });
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(ms).toBeLessThan(1.5 * TIMEOUT_MS);
    });

    it('answers /metrics within the timeout with the active-sessions count it holds in memory', async () => {
      const h = await harness();
      await login(h);
      const counted = /^sidecar_active_sessions \d+$/m.exec((await request(h.app).get('/metrics')).text)?.[0];
      expect(counted).toBeDefined();
      redis.pause();
      const { res, ms } = await timed(() => request(h.app).get('/metrics'));
      expect(res.status).toBe(200);
      expect(res.text).toContain(`\n${counted}\n`);
      expect(ms).toBeLessThan(1.5 * TIMEOUT_MS);
    });

    it('answers /metrics within the timeout, without the active-sessions gauge, when the count is due again', async () => {
      const h = await harness({ SESSION_COUNT_INTERVAL: '0' });
      await login(h);
      expect((await request(h.app).get('/metrics')).text).toMatch(/^sidecar_active_sessions \d+$/m);
      redis.pause();
      const { res, ms } = await timed(() => request(h.app).get('/metrics'));
      expect(res.status).toBe(200);
      expect(res.text).toContain('sidecar_http_request_duration_seconds');
      expect(res.text).not.toMatch(/^sidecar_active_sessions \d+$/m);
      expect(ms).toBeLessThan(1.5 * TIMEOUT_MS);
    });
  });
});
