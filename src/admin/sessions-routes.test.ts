import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness, type TestUser } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

const ADMIN2: TestUser = { username: 'erin', password: 'erin-password-1', role: 'admin' };

async function setup() {
  const h = await startHarness({ users: [ADMIN, ADMIN2, B2B] });
  harnesses.push(h);
  const login = async (user: TestUser, agent = 'test-agent/1.0') =>
    cookieHeader((await request(h.app).post('/api/login').set('User-Agent', agent).set('X-Forwarded-For', '198.51.100.7').send(user).expect(200)).headers['set-cookie']);
  const bobId = (await h.deps.users.findByUsername(B2B.username))!.id;
  return { h, login, bobId };
}

describe('session revocation at /api/admin/sessions', () => {
  it("lists a user's sessions with creation time, last activity, IP and user agent, never the session id", async () => {
    const { h, login, bobId } = await setup();
    const admin = await login(ADMIN);
    const bob = await login(B2B, 'Firefox/130');
    await login(B2B, 'Chrome/129');
    const res = await request(h.app).get(`/api/admin/sessions?username=${B2B.username}`).set('Cookie', admin);
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: bobId, username: 'bob' });
    expect(res.body.sessions).toHaveLength(2);
    expect(res.body.sessions.map((s: { userAgent: string }) => s.userAgent).sort()).toEqual(['Chrome/129', 'Firefox/130']);
    for (const s of res.body.sessions) {
      expect(s).toEqual({ id: expect.stringMatching(/^[\w-]{22}$/), createdAt: expect.any(String), lastSeenAt: expect.any(String), ip: '198.51.100.7', userAgent: expect.any(String), current: false });
    }
    const sid = decodeURIComponent(bob.split('=')[1]!).slice(2).split('.')[0]!;
    expect(res.text).not.toContain(sid);
  });

  it('ends one session by its id and leaves the others working', async () => {
    const { h, login, bobId } = await setup();
    const admin = await login(ADMIN);
    const firefox = await login(B2B, 'Firefox/130');
    const chrome = await login(B2B, 'Chrome/129');
    const list = await request(h.app).get(`/api/admin/sessions?userId=${bobId}`).set('Cookie', admin);
    const target = list.body.sessions.find((s: { userAgent: string }) => s.userAgent === 'Firefox/130');
    const res = await request(h.app).delete(`/api/admin/sessions/${target.id}?userId=${bobId}`).set('Cookie', admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, revoked: 1 });
    expect((await request(h.app).get('/api/user').set('Cookie', firefox)).status).toBe(401);
    expect((await request(h.app).get('/api/user').set('Cookie', chrome)).status).toBe(200);
    expect(h.logs.lines).toContainEqual(expect.objectContaining({ audit: 'revoke', userId: bobId, sessions: 1, by: 'alice' }));
    const again = await request(h.app).delete(`/api/admin/sessions/${target.id}?userId=${bobId}`).set('Cookie', admin);
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('SESSION_NOT_FOUND');
  });

  it("ends all of a user's sessions", async () => {
    const { h, login } = await setup();
    const admin = await login(ADMIN);
    const bobs = [await login(B2B), await login(B2B)];
    const res = await request(h.app).delete(`/api/admin/sessions?username=bob`).set('Cookie', admin);
    expect(res.body).toEqual({ success: true, revoked: 2 });
    for (const cookie of bobs) expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(401);
    expect((await request(h.app).get('/api/user').set('Cookie', admin)).status).toBe(200);
  });

  it('marks the caller\'s own session as current', async () => {
    const { h, login } = await setup();
    const admin = await login(ADMIN);
    const res = await request(h.app).get('/api/admin/sessions?username=alice').set('Cookie', admin);
    expect(res.body.sessions).toHaveLength(1);
    expect(res.body.sessions[0].current).toBe(true);
  });

  it('is for super admins only: 401 anonymous, 403 for admin and b2b users', async () => {
    const { h, login } = await setup();
    expect((await request(h.app).get('/api/admin/sessions?username=bob')).status).toBe(401);
    expect((await request(h.app).get('/api/admin/sessions?username=bob').set('Cookie', await login(ADMIN2))).status).toBe(403);
    expect((await request(h.app).delete('/api/admin/sessions?username=bob').set('Cookie', await login(B2B))).status).toBe(403);
  });

  it('answers 400 without a user and 404 for an unknown username', async () => {
    const { h, login } = await setup();
    const admin = await login(ADMIN);
    const none = await request(h.app).get('/api/admin/sessions').set('Cookie', admin);
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ error: 'VALIDATION_ERROR', fields: ['userId', 'username'] });
    const unknown = await request(h.app).get('/api/admin/sessions?username=nobody').set('Cookie', admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('USER_NOT_FOUND');
  });

  it('answers a malformed percent-encoding in the session id with 400 VALIDATION_ERROR, logging no error', async () => {
    const { h, login } = await setup();
    const admin = await login(ADMIN);
    for (const method of ['get', 'delete'] as const) {
      const res = await request(h.app)[method]('/api/admin/sessions/%E0%A4%A?username=bob').set('Cookie', admin);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ success: false, error: 'VALIDATION_ERROR', message: 'A path parameter is not valid percent-encoding' });
    }
    expect(h.logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('refuses a cross-site revocation', async () => {
    const { h, login } = await setup();
    const admin = await login(ADMIN);
    const res = await request(h.app).delete('/api/admin/sessions?username=bob').set('Cookie', admin).set('Origin', 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('CROSS_SITE_REQUEST');
  });
});
