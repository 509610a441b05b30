import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, startHarness, type Harness, type TestUser } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { HttpError } from '../http/http-error.js';
import { LoginRegulation } from './regulation.js';
import type { PasswordQueue } from './password-queue.js';
import { httpAnswerOf } from '../../test/support/http-answer.js';

const harnesses = closedAfterEach<Harness>();

async function harness(env: Record<string, string> = {}) {
  const h = await startHarness({ users: [ADMIN, B2B], env: { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '100', ...env } });
  harnesses.push(h);
  // Counts password checks, to show a regulated attempt costs none.
  const verify = h.deps.verifier.verify.bind(h.deps.verifier);
  let checks = 0;
  h.deps.verifier.verify = (password, hash) => {
    checks += 1;
    return verify(password, hash);
  };
  return { h, checks: () => checks };
}

const login = (h: Harness, user: TestUser, ip = '203.0.113.7', password = user.password) =>
  request(h.app).post('/api/login').set('X-Forwarded-For', ip).send({ username: user.username, password });

describe('brute-force regulation of POST /api/login', () => {
  it('answers 429 with Retry-After once a username has failed the threshold from one IP, without checking the password', async () => {
    const { h, checks } = await harness({ LOGIN_BAN_TIME: '120' });
    for (let i = 0; i < 3; i += 1) expect((await login(h, ADMIN, undefined, 'wrong-password')).status).toBe(401);
    const before = checks();
    const res = await login(h, ADMIN);
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ success: false, error: 'TOO_MANY_ATTEMPTS', retryAfter: expect.any(Number) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(100);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(120);
    expect(checks()).toBe(before);
    expect(h.logs.lines).toContainEqual(expect.objectContaining({ audit: 'login', outcome: 'regulated', username: 'alice', ip: '203.0.113.7' }));
  });

  it('runs at most LOGIN_MAX_FAILURES password checks for a parallel burst against one user from one IP, answering the rest 429', async () => {
    const { h, checks } = await harness({ LOGIN_MAX_FAILURES: '5', PASSWORD_QUEUE: '100' });
    const burst = await Promise.all(Array.from({ length: 17 }, (_, i) => login(h, ADMIN, undefined, `wrong-password-${i}`)));
    const last = await login(h, ADMIN);
    const statuses = [...burst, last].map((r) => r.status);
    expect(checks()).toBe(5);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(13);
    expect(last.status).toBe(429);
    for (const refused of [...burst, last].filter((r) => r.status === 429)) expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('gives the attempt back when no password was checked, so a full queue never bans the real user', async () => {
    const { h } = await harness({ LOGIN_MAX_FAILURES: '1' });
    h.deps.passwordQueue.run = () => Promise.reject(new HttpError(503, 'LOGIN_BUSY', 'busy'));
    for (let i = 0; i < 3; i += 1) expect((await login(h, ADMIN)).status).toBe(503);
    delete (h.deps.passwordQueue as Partial<PasswordQueue>).run;
    expect((await login(h, ADMIN)).status).toBe(200);
  });

  it('still lets the real user log in from another IP while one IP is banned for that username', async () => {
    const { h } = await harness();
    for (let i = 0; i < 4; i += 1) await login(h, ADMIN, '203.0.113.7', 'wrong-password');
    expect((await login(h, ADMIN, '203.0.113.7')).status).toBe(429);
    expect((await login(h, ADMIN, '198.51.100.20')).status).toBe(200);
    expect((await login(h, B2B, '203.0.113.7')).status).toBe(200);
  });

  it('clears the count on a successful login', async () => {
    const { h } = await harness();
    for (let i = 0; i < 2; i += 1) await login(h, ADMIN, undefined, 'wrong-password');
    expect((await login(h, ADMIN)).status).toBe(200);
    for (let i = 0; i < 2; i += 1) expect((await login(h, ADMIN, undefined, 'wrong-password')).status).toBe(401);
    expect((await login(h, ADMIN)).status).toBe(200);
  });

  it('bans an IP that fails across many usernames', async () => {
    const { h } = await harness({ LOGIN_MAX_FAILURES_PER_IP: '4' });
    for (let i = 0; i < 4; i += 1) expect((await login(h, { ...ADMIN, username: `guess-${i}` }, '192.0.2.9')).status).toBe(401);
    expect((await login(h, B2B, '192.0.2.9')).status).toBe(429);
    expect((await login(h, B2B, '192.0.2.10')).status).toBe(200);
  });

  it('counts every spelling of one client address under one counter', async () => {
    const { h } = await harness();
    for (const ip of ['2001:db8::1', '2001:DB8::1', '[2001:db8::1]']) expect((await login(h, ADMIN, ip, 'wrong-password')).status).toBe(401);
    expect((await login(h, ADMIN, '2001:0db8::0001')).status).toBe(429);
    for (const ip of ['::ffff:192.0.2.44', '192.0.2.44', '::ffff:192.0.2.44']) expect((await login(h, B2B, ip, 'wrong-password')).status).toBe(401);
    expect((await login(h, B2B, '192.0.2.44')).status).toBe(429);
  });

  it('counts an IPv6 client by its /64, for the pair and for the IP', async () => {
    const { h } = await harness({ LOGIN_MAX_FAILURES_PER_IP: '5' });
    for (let i = 1; i <= 3; i += 1) expect((await login(h, ADMIN, `2001:db8:0:7::${i}`, 'wrong-password')).status).toBe(401);
    expect((await login(h, ADMIN, '2001:db8:0:7:ffff::9')).status).toBe(429);
    expect((await login(h, ADMIN, '2001:db8:0:8::1')).status).toBe(200);
    for (let i = 1; i <= 2; i += 1) expect((await login(h, { ...ADMIN, username: `guess-${i}` }, `2001:db8:0:7::${10 + i}`)).status).toBe(401);
    expect((await login(h, B2B, '2001:db8:0:7::99')).status).toBe(429);
    expect((await login(h, B2B, '2001:db8:0:8::99')).status).toBe(200);
  });

  it('lifts the ban when its time is over', async () => {
    const { h } = await harness({ LOGIN_BAN_TIME: '1' });
    for (let i = 0; i < 3; i += 1) await login(h, ADMIN, undefined, 'wrong-password');
    expect((await login(h, ADMIN)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await login(h, ADMIN)).status).toBe(200);
  });

  it('takes the client IP from X-Forwarded-For only when TRUST_PROXY allows it', async () => {
    const { h } = await harness({ TRUST_PROXY: 'false' });
    for (let i = 0; i < 3; i += 1) await login(h, ADMIN, `203.0.113.${i}`, 'wrong-password');
    // Every attempt came from the socket address, whatever the header claimed.
    expect((await login(h, ADMIN, '198.51.100.20')).status).toBe(429);
  });
});

describe('a failure of the regulation store', () => {
  it('answers a login 503 LOGIN_REGULATION_UNAVAILABLE with Retry-After, not SESSION_STORE_UNAVAILABLE, and checks no password', async () => {
    const { h, checks } = await harness();
    const limiter = (h.deps.regulation as unknown as { perUser: { consume: () => Promise<unknown> } }).perUser;
    limiter.consume = () => Promise.reject(Object.assign(new Error('connection lost'), { code: 'ECONNRESET' }));
    const res = await login(h, ADMIN);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ success: false, error: 'LOGIN_REGULATION_UNAVAILABLE', message: expect.any(String) });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(checks()).toBe(0);
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.text).toMatch(/sidecar_dependency_errors_total\{dependency="login_regulation"\} 1/);
    expect(metrics.text).toMatch(/sidecar_dependency_errors_total\{dependency="session_store"\} 0/);
  });
});

describe('bounded password work', () => {
  it('answers 503 LOGIN_BUSY with Retry-After when the password queue is full', async () => {
    const { h } = await harness({ PASSWORD_CONCURRENCY: '1', PASSWORD_QUEUE: '1' });
    const check = h.deps.verifier.check.bind(h.deps.verifier);
    h.deps.verifier.check = async (password, hash) => (await new Promise((r) => setTimeout(r, 50)), check(password, hash));
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => login(h, { ...ADMIN, username: `nobody-${i}` }, `203.0.113.${i}`)));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    const busy = replies.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]!.body).toMatchObject({ success: false, error: 'LOGIN_BUSY' });
    expect(busy[0]!.headers['retry-after']).toBe('1');
  });
});

const SETTINGS = { maxFailuresPerUser: 2, maxFailuresPerIp: 100, windowSeconds: 60, banSeconds: 60 };

describe('LoginRegulation', () => {
  it('keeps a ban that starts while refused attempts are still in flight', async () => {
    const regulation = new LoginRegulation(SETTINGS);
    await regulation.reserve('203.0.113.1', 'carol');
    const second = await regulation.reserve('203.0.113.1', 'carol');
    const refusals = Array.from({ length: 3 }, () => regulation.reserve('203.0.113.1', 'carol'));
    const banned = regulation.failed(second);
    for (const refusal of refusals) await expect(httpAnswerOf(refusal)).resolves.toMatchObject({ status: 429 });
    await banned;
    for (let i = 0; i < 3; i += 1) await expect(httpAnswerOf(regulation.reserve('203.0.113.1', 'carol'))).resolves.toMatchObject({ status: 429 });
  });

  it('gives back the IP count of an attempt refused for its pair, so other users from that IP are not held against it', async () => {
    const regulation = new LoginRegulation({ ...SETTINGS, maxFailuresPerIp: 3 });
    const first = await regulation.reserve('203.0.113.1', 'carol');
    const second = await regulation.reserve('203.0.113.1', 'carol');
    await Promise.all([regulation.failed(first), regulation.failed(second)]);
    for (let i = 0; i < 5; i += 1) await expect(httpAnswerOf(regulation.reserve('203.0.113.1', 'carol'))).resolves.toMatchObject({ status: 429 });
    await expect(regulation.reserve('203.0.113.1', 'dave')).resolves.toMatchObject({ ipCount: 3 });
  });
});
