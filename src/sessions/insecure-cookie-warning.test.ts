import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();
async function harness(secure: string): Promise<Harness> {
  const h = await startHarness({ users: [ADMIN], env: { COOKIE_SECURE: secure } });
  harnesses.push(h);
  return h;
}

const login = (h: Harness, headers: Record<string, string> = {}) =>
  request(h.app).post('/api/login').set(headers).send({ username: ADMIN.username, password: ADMIN.password });
const warnings = (h: Harness) => h.logs.lines.filter((line) => String(line.msg).startsWith('COOKIE_SECURE=true but this request came over plain HTTP'));

describe('COOKIE_SECURE=true over plain HTTP', () => {
  it('logs why a successful login set no cookie, with the fixes, once a minute at most', async () => {
    const h = await harness('true');
    const res = await login(h);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(warnings(h)).toEqual([expect.objectContaining({ level: 40, protocol: 'http', path: '/api/login' })]);
    expect(String(warnings(h)[0]!.msg)).toMatch(/TRUST_PROXY.*X-Forwarded-Proto: https.*COOKIE_SECURE=auto/);
    await login(h);
    expect(warnings(h)).toHaveLength(1);
  });

  it('logs nothing when the login came over HTTPS through a trusted proxy, or with COOKIE_SECURE=auto', async () => {
    const behindProxy = await harness('true');
    expect((await login(behindProxy, { 'x-forwarded-proto': 'https' })).headers['set-cookie']).toBeDefined();
    expect(warnings(behindProxy)).toEqual([]);
    const auto = await harness('auto');
    expect((await login(auto)).headers['set-cookie']).toBeDefined();
    expect(warnings(auto)).toEqual([]);
  });

  it('logs nothing for requests that keep no session', async () => {
    const h = await harness('true');
    await request(h.app).get('/api/user');
    await request(h.app).post('/api/login').send({ username: ADMIN.username, password: 'wrong-password' });
    expect(warnings(h)).toEqual([]);
  });
});
