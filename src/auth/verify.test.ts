import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, sessionIdOf, startHarness, type Harness } from '../testing/harness.js';
import { closedAfterEach } from '../testing/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

async function setup() {
  const h = await startHarness({ users: [ADMIN, B2B] });
  harnesses.push(h);
  const login = async (user = ADMIN) => (await request(h.app).post('/api/login').send(user)).headers['set-cookie'];
  return { h, login };
}

describe('GET /api/auth/verify', () => {
  it('answers 204 with the identity headers for a logged-in user', async () => {
    const { h, login } = await setup();
    const res = await request(h.app).get('/api/auth/verify').set('cookie', cookieHeader(await login()));
    expect(res.status).toBe(204);
    expect(res.headers['x-auth-user']).toBe('alice');
    expect(res.headers['x-auth-role']).toBe('super_admin');
    expect(res.headers['x-auth-user-id']).toMatch(/[\w-]+/);
  });

  it('answers 401 to an anonymous request, a forged cookie and a logged-out session', async () => {
    const { h, login } = await setup();
    expect((await request(h.app).get('/api/auth/verify')).status).toBe(401);
    expect((await request(h.app).get('/api/auth/verify').set('cookie', 'sidecar.sid=s%3Aforged.sig')).status).toBe(401);
    const cookie = cookieHeader(await login());
    await request(h.app).post('/api/logout').set('cookie', cookie);
    expect((await request(h.app).get('/api/auth/verify').set('cookie', cookie)).status).toBe(401);
  });

  it('answers 403 when the role asked by query or header is not met, and fails closed on unknown roles', async () => {
    const { h, login } = await setup();
    const b2b = cookieHeader(await login(B2B));
    expect((await request(h.app).get('/api/auth/verify?role=admin,super_admin').set('cookie', b2b)).status).toBe(403);
    expect((await request(h.app).get('/api/auth/verify').set('x-required-role', 'admin').set('cookie', b2b)).status).toBe(403);
    expect((await request(h.app).get('/api/auth/verify?role=b2b_user').set('cookie', b2b)).status).toBe(204);
    const admin = cookieHeader(await login());
    expect((await request(h.app).get('/api/auth/verify?role=superadmin').set('cookie', admin)).status).toBe(403);
  });

  it('writes nothing: no cookie is set and the session file is untouched', async () => {
    const { h, login } = await setup();
    const setCookie = await login();
    const file = path.join(h.config.session.dir, `${sessionIdOf(setCookie)}.json`);
    const before = await fs.stat(file);
    const res = await request(h.app).get('/api/auth/verify').set('cookie', cookieHeader(setCookie));
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await fs.stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('answers 401, never 500, when the session store fails', async () => {
    const { h, login } = await setup();
    const cookie = cookieHeader(await login());
    h.deps.sessionStore.get = (_sid, callback) => callback(new Error('store down'));
    expect((await request(h.app).get('/api/auth/verify').set('cookie', cookie)).status).toBe(401);
  });
});
