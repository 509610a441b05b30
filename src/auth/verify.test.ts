import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, sessionIdOf, startHarness, type Harness } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

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

  it('answers 403 when the role asked by the query is not met, and fails closed on unknown roles', async () => {
    const { h, login } = await setup();
    const b2b = cookieHeader(await login(B2B));
    expect((await request(h.app).get('/api/auth/verify?role=admin,super_admin').set('cookie', b2b)).status).toBe(403);
    expect((await request(h.app).get('/api/auth/verify?role=b2b_user').set('cookie', b2b)).status).toBe(204);
    const admin = cookieHeader(await login());
    expect((await request(h.app).get('/api/auth/verify?role=superadmin').set('cookie', admin)).status).toBe(403);
    expect((await request(h.app).get('/api/auth/verify?role=admin,superadmin').set('cookie', admin)).status).toBe(403);
  });

  it('lets no request header change the required roles', async () => {
    const { h, login } = await setup();
    const b2b = cookieHeader(await login(B2B));
    const res = await request(h.app).get('/api/auth/verify?role=super_admin,admin').set('x-required-role', 'b2b_user').set('cookie', b2b);
    expect(res.status).toBe(403);
    expect(res.headers['x-auth-role']).toBeUndefined();
  });

  it('fails closed with 403 when the role parameter is repeated', async () => {
    const { h, login } = await setup();
    const b2b = cookieHeader(await login(B2B));
    expect((await request(h.app).get('/api/auth/verify?role=super_admin&role=admin').set('cookie', b2b)).status).toBe(403);
    const admin = cookieHeader(await login());
    expect((await request(h.app).get('/api/auth/verify?role=super_admin&role=admin').set('cookie', admin)).status).toBe(403);
  });

  it('percent-encodes a user name that cannot go into a header as it is, and marks it', async () => {
    const { h, login } = await setup();
    const cookie = cookieHeader(await login(B2B));
    const findById = h.deps.users.findById.bind(h.deps.users);
    h.deps.users.findById = async (id) => {
      const user = await findById(id);
      return user && { ...user, username: '张伟\r\nX-Auth-Role: super_admin', id: `${user.id} %` };
    };
    const res = await request(h.app).get('/api/auth/verify').set('cookie', cookie);
    expect(res.status).toBe(204);
    expect(decodeURIComponent(res.headers['x-auth-user'])).toBe('张伟\r\nX-Auth-Role: super_admin');
    expect(res.headers['x-auth-user-encoded']).toBe('percent');
    expect(res.headers['x-auth-role']).toBe('b2b_user');
    expect(decodeURIComponent(res.headers['x-auth-user-id'])).toMatch(/ %$/);
    expect(res.headers['x-auth-user-id-encoded']).toBe('percent');
    h.deps.users.findById = findById;
    const plain = await request(h.app).get('/api/auth/verify').set('cookie', cookieHeader(await login()));
    expect(plain.headers['x-auth-user']).toBe('alice');
    expect(plain.headers['x-auth-user-encoded']).toBeUndefined();
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
