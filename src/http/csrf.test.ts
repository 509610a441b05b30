import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, TEST_SECRET, type Harness } from '../../test/support/harness.js';
import { png } from '../../test/support/images.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();
async function harness(env: Record<string, string> = {}) {
  const h = await startHarness({ users: [ADMIN, B2B], env });
  harnesses.push(h);
  return h;
}
const tokenFor = async (h: Harness, cookie?: string) => {
  const res = await request(h.app).get('/api/csrf-token').set(cookie ? { Cookie: cookie } : {});
  expect(res.status).toBe(200);
  return res.body.csrfToken as string;
};
const upload = (h: Harness, cookie: string, token: string) =>
  request(h.app).post('/api/admin/upload-image').set('Cookie', cookie).set('X-CSRF-Token', token).attach('image', png(2, 2), 'a.png');
const login = async (h: Harness, user = ADMIN) => cookieHeader((await request(h.app).post('/api/login').send(user).expect(200)).headers['set-cookie']);

describe('CSRF tokens', () => {
  it('issues a token without creating a session for an anonymous visitor', async () => {
    const h = await harness();
    const res = await request(h.app).get('/api/csrf-token');
    expect(res.status).toBe(200);
    expect(res.body.csrfToken).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await h.deps.sessionStore.count!()).toBe(0);
  });

  it('accepts a valid token on login and on a logged-in state change', async () => {
    const h = await harness();
    const anonymous = await tokenFor(h);
    const res = await request(h.app).post('/api/login').set('X-CSRF-Token', anonymous).send(ADMIN);
    expect(res.status).toBe(200);
    const cookie = cookieHeader(res.headers['set-cookie']);
    const token = await tokenFor(h, cookie);
    expect((await upload(h, cookie, token)).status).toBe(200);
  });

  it('refuses a forged token with 403 and changes nothing', async () => {
    const h = await harness();
    const cookie = await login(h);
    const token = await tokenFor(h, cookie);
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    for (const bad of [forged, 'not-a-token', `${token}.extra`, '']) {
      const res = await upload(h, cookie, bad);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'CSRF_TOKEN_INVALID' });
    }
    expect(await fs.readdir(path.join(h.config.uploads.dir, 'products'))).toEqual([]);
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(200);
  });

  it("refuses another session's token, and a token from before login once logged in", async () => {
    const h = await harness();
    const before = await tokenFor(h);
    const alice = await login(h);
    const bob = await login(h, B2B);
    const alicesToken = await tokenFor(h, alice);
    const bobsToken = await tokenFor(h, bob);
    expect((await upload(h, alice, bobsToken)).status).toBe(403);
    expect((await upload(h, alice, before)).status).toBe(403);
    expect((await upload(h, alice, alicesToken)).status).toBe(200);
  });

  it('never refuses a logout for its token, so a logout right after an in-page login works', async () => {
    const h = await harness();
    const pageLoadToken = await tokenFor(h);
    const cookie = cookieHeader((await request(h.app).post('/api/login').set('X-CSRF-Token', pageLoadToken).send(ADMIN).expect(200)).headers['set-cookie']);
    const res = await request(h.app).post('/api/logout').set('Cookie', cookie).set('X-CSRF-Token', pageLoadToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'Logged out successfully' });
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(401);
    expect((await request(h.app).post('/api/logout').set('Cookie', cookie).set('X-CSRF-Token', 'garbage')).status).toBe(200);
  });

  it('lets requests without the header through, as the existing frontend sends none', async () => {
    const h = await harness();
    const cookie = await login(h);
    expect((await request(h.app).post('/api/logout').set('Cookie', cookie)).status).toBe(200);
  });

  it('keeps accepting tokens signed with a previous secret during rotation', async () => {
    const old = await harness();
    const token = await tokenFor(old);
    const rotated = await harness({ SESSION_SECRET: `new-secret-abcdefghijklmnopqrstuvwxyz-0123,${TEST_SECRET}` });
    // Anonymous: a token that passes reaches the route's own 401; one that does not is a 403.
    expect((await request(rotated.app).post('/api/admin/upload-image').set('X-CSRF-Token', token)).status).toBe(401);
    const other = await harness({ SESSION_SECRET: 'new-secret-abcdefghijklmnopqrstuvwxyz-0123' });
    expect((await request(other.app).post('/api/admin/upload-image').set('X-CSRF-Token', token)).status).toBe(403);
  });
});

describe('CORS on the sidecar routes', () => {
  it('is closed by default: no Access-Control-Allow-Origin for any origin', async () => {
    const h = await harness();
    const preflight = await request(h.app).options('/api/login').set('Origin', 'https://shop.example.com').set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await request(h.app).get('/api/user').set('Origin', 'https://shop.example.com');
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows credentialed requests from listed origins only, never with a wildcard', async () => {
    const h = await harness({ ALLOWED_ORIGINS: 'https://admin.example.com' });
    const preflight = await request(h.app).options('/api/admin/upload-image').set('Origin', 'https://admin.example.com').set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'x-csrf-token');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.headers['access-control-allow-headers']).toContain('X-CSRF-Token');
    expect(preflight.headers.vary).toContain('Origin');
    const cookie = await login(h);
    const get = await request(h.app).get('/api/user').set('Cookie', cookie).set('Origin', 'https://admin.example.com');
    expect(get.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    const other = await request(h.app).options('/api/login').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
