import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness, type TestUser } from './support/harness.js';
import { REDIS_BIN, redisForSuite } from './support/vitest-redis.js';

describe.skipIf(!REDIS_BIN)('device cookies on SESSION_STORE=redis', () => {
  const redis = redisForSuite();
  const harnesses: Harness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });
  const env = () => ({ SESSION_STORE: 'redis', REDIS_URL: redis.url, LOGIN_MAX_FAILURES_PER_IP: '2', LOGIN_MAX_FAILURES: '100', DEVICE_MAX_FAILURES: '2' });
  const login = (h: Harness, user: TestUser, cookie?: string, password = user.password) => {
    const req = request(h.app).post('/api/login');
    if (cookie) req.set('Cookie', cookie);
    return req.send({ username: user.username, password });
  };

  it('counts a device\'s failures in every process: two failures through two processes take its trust in both', async () => {
    const a = await startHarness({ users: [ADMIN, B2B], env: env() });
    harnesses.push(a);
    // The same users (same ids) in a second process.
    const b = await startHarness({ dir: a.dir, env: env() });
    harnesses.push(b);
    const device = cookieHeader((await login(a, ADMIN)).headers['set-cookie'], 'sidecar.device');
    for (let i = 0; i < 2; i += 1) expect((await login(b, B2B, undefined, 'wrong-password')).status).toBe(401);
    expect((await login(a, ADMIN)).status).toBe(429);
    expect((await login(a, ADMIN, device, 'wrong-password')).status).toBe(401);
    expect((await login(b, ADMIN, device, 'wrong-password')).status).toBe(401);
    expect((await login(a, ADMIN, device)).status).toBe(429);
    expect((await login(b, ADMIN, device)).status).toBe(429);
  });
});
