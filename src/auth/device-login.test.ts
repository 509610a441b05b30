import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, TEST_SECRET, cookieHeader, startHarness, type Harness, type TestUser } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { DeviceCookies } from './device-cookie.js';

const harnesses = closedAfterEach<Harness>();
const DEVICE = 'sidecar.device';

/** Alice and Bob on one client IP that is banned after two failures; a device loses trust after two. */
async function harness(): Promise<Harness> {
  const h = await startHarness({
    users: [{ ...ADMIN, email: 'alice@example.com' }, B2B],
    env: { LOGIN_MAX_FAILURES_PER_IP: '2', LOGIN_MAX_FAILURES: '100', DEVICE_MAX_FAILURES: '2' },
  });
  harnesses.push(h);
  return h;
}

function login(h: Harness, user: TestUser, cookie?: string, password = user.password) {
  const req = request(h.app).post('/api/login');
  if (cookie) req.set('Cookie', cookie);
  return req.send({ username: user.username, password });
}

/** Logs the user in and answers the device cookie it was given (as a Cookie header). */
async function deviceOf(h: Harness, user: TestUser): Promise<string> {
  const res = await login(h, user);
  expect(res.status).toBe(200);
  return cookieHeader(res.headers['set-cookie'], DEVICE);
}

/** Two wrong passwords from the test client's IP: the IP is banned. */
async function banTheIp(h: Harness): Promise<void> {
  for (let i = 0; i < 2; i += 1) expect((await login(h, B2B, undefined, 'wrong-password')).status).toBe(401);
  const banned = await login(h, ADMIN);
  expect(banned.status).toBe(429);
  expect(Number(banned.headers['retry-after'])).toBeGreaterThan(0);
}

describe('device cookies', () => {
  it('sets a long-lived HttpOnly device cookie with the session cookie attributes after the session cookie on a successful login, and none after a failed one', async () => {
    const h = await harness();
    const res = await login(h, ADMIN);
    expect(res.headers['set-cookie']![0]).toMatch(/^sidecar\.sid=/);
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith(`${DEVICE}=`));
    expect(cookie).toMatch(/; Max-Age=15552000;/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/; Secure/);
    expect((await login(h, B2B, undefined, 'wrong-password')).headers['set-cookie']).toBeUndefined();
  });

  it('lets a login with the device cookie of its user past a ban of its IP that stops the same login without it, by username and by email, and logs it as a trusted device', async () => {
    const h = await harness();
    const device = await deviceOf(h, ADMIN);
    await banTheIp(h);
    const trusted = await login(h, ADMIN, device);
    expect(trusted.status).toBe(200);
    expect(trusted.body.username).toBe('alice');
    const byEmail = await request(h.app).post('/api/login').set('Cookie', device).send({ email: 'alice@example.com', password: ADMIN.password });
    expect(byEmail.status).toBe(200);
    expect((await login(h, ADMIN)).status).toBe(429);
    const successes = h.logs.lines.filter((l) => l.audit === 'login' && l.outcome === 'succeeded').map((l) => l.trustedDevice);
    expect(successes).toEqual([false, true, true]);
  });

  it('answers a wrong password through a trusted device 401 (counted on the device, not refused by the IP ban)', async () => {
    const h = await harness();
    const device = await deviceOf(h, ADMIN);
    await banTheIp(h);
    const res = await login(h, ADMIN, device, 'wrong-password');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ success: false, error: 'INVALID_CREDENTIALS', message: 'Invalid username or password' });
  });

  it('treats a forged, an expired and another user\'s device cookie as no device: the IP ban refuses them', async () => {
    const h = await harness();
    const bobDevice = await deviceOf(h, B2B);
    const aliceDevice = await deviceOf(h, ADMIN);
    const alice = (await h.deps.users.findByUsername('alice'))!;
    const [payload, mac] = aliceDevice.slice(DEVICE.length + 1).split('.');
    const forgedMac = `${DEVICE}=${payload}.${mac!.slice(0, -2)}${mac!.endsWith('AA') ? 'BB' : 'AA'}`;
    const otherSecret = `${DEVICE}=${new DeviceCookies({ secrets: ['another-secret-0123456789-abcdefghijklmnop'], maxAgeSeconds: 3600 }).issue(alice)}`;
    const expired = `${DEVICE}=${new DeviceCookies({ secrets: [TEST_SECRET], maxAgeSeconds: 60, now: () => Date.now() - 3_600_000 }).issue(alice)}`;
    await banTheIp(h);
    for (const cookie of [forgedMac, otherSecret, expired, bobDevice]) {
      const res = await login(h, ADMIN, cookie);
      expect(res.status, cookie).toBe(429);
      expect(res.body.error).toBe('TOO_MANY_ATTEMPTS');
    }
    expect((await login(h, ADMIN, aliceDevice)).status).toBe(200);
  });

  it('takes the trust from a device after DEVICE_MAX_FAILURES wrong passwords through it', async () => {
    const h = await harness();
    const device = await deviceOf(h, ADMIN);
    await banTheIp(h);
    for (let i = 0; i < 2; i += 1) expect((await login(h, ADMIN, device, 'wrong-password')).status).toBe(401);
    const res = await login(h, ADMIN, device);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('gives a trusted device a new cookie with the same device id, and sets none when DEVICE_COOKIES=false', async () => {
    const h = await harness();
    const cookies = new DeviceCookies({ secrets: [TEST_SECRET], maxAgeSeconds: 60 });
    const device = await deviceOf(h, ADMIN);
    const again = cookieHeader((await login(h, ADMIN, device)).headers['set-cookie'], DEVICE);
    expect(cookies.read(again.slice(DEVICE.length + 1))!.deviceId).toBe(cookies.read(device.slice(DEVICE.length + 1))!.deviceId);
    const off = await startHarness({ users: [ADMIN], env: { DEVICE_COOKIES: 'false' } });
    harnesses.push(off);
    const res = await login(off, ADMIN);
    expect(res.status).toBe(200);
    expect((res.headers['set-cookie'] as unknown as string[]).some((c) => c.startsWith(`${DEVICE}=`))).toBe(false);
  });
});
