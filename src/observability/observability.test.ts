import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness } from '../../test/support/harness.js';
import { png } from '../../test/support/images.js';
import { PACKAGE_VERSION } from '../../test/support/processes.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();
async function harness(env: Record<string, string> = {}) {
  const h = await startHarness({ users: [ADMIN, B2B], env });
  harnesses.push(h);
  return h;
}
const requestLines = (h: Harness) => h.logs.lines.filter((l) => 'res' in l);

describe('request logs', () => {
  it('writes one JSON line per request with its id, method, path, status, time and user', async () => {
    const h = await harness();
    const login = await request(h.app).post('/api/login').send(ADMIN);
    const cookie = cookieHeader(login.headers['set-cookie']);
    const res = await request(h.app).get('/api/user?x=secret-query').set('Cookie', cookie);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const line = requestLines(h).find((l) => l.reqId === id)!;
    expect(line).toMatchObject({ level: 30, reqId: id, user: 'alice', req: { method: 'GET', path: '/api/user' }, res: { status: 200 }, responseTime: expect.any(Number), msg: 'GET /api/user 200' });
    expect(JSON.stringify(line)).not.toContain('secret-query');
  });

  it('keeps a well-formed incoming X-Request-Id and replaces a malformed one', async () => {
    const h = await harness();
    expect((await request(h.app).get('/api/user').set('X-Request-Id', 'edge-abc.123')).headers['x-request-id']).toBe('edge-abc.123');
    const replaced = await request(h.app).get('/api/user').set('X-Request-Id', 'bad id <script> with spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives audit lines the request id, user and client IP, and never a password, hash, cookie or token', async () => {
    const h = await harness();
    await request(h.app).post('/api/login').set('X-Forwarded-For', '198.51.100.4').send({ username: 'alice', password: 'wrong-password-x' });
    const login = await request(h.app).post('/api/login').set('X-Request-Id', 'req-login-1').send(ADMIN);
    const cookie = cookieHeader(login.headers['set-cookie']);
    const csrf = (await request(h.app).get('/api/csrf-token').set('Cookie', cookie)).body.csrfToken as string;
    await request(h.app).post('/api/admin/upload-image').set('Cookie', cookie).set('X-CSRF-Token', csrf).attach('image', png(2, 2), 'a.png').expect(200);
    await request(h.app).post('/api/logout').set('Cookie', cookie).set('X-Request-Id', 'req-logout-1').expect(200);

    const audits = h.logs.lines.filter((l) => 'audit' in l);
    expect(audits.map((l) => [l.audit, l.outcome ?? null])).toEqual([['login', 'failed'], ['login', 'succeeded'], ['upload', null], ['logout', null]]);
    expect(audits[0]).toMatchObject({ username: 'alice', ip: '198.51.100.4', reqId: expect.any(String) });
    expect(audits[1]).toMatchObject({ reqId: 'req-login-1', username: 'alice', userId: expect.any(String) });
    expect(audits[2]).toMatchObject({ user: 'alice', ip: '127.0.0.1', size: png(2, 2).length });
    expect(audits[3]).toMatchObject({ reqId: 'req-logout-1', username: 'alice' });

    const text = JSON.stringify(h.logs.lines);
    const hash = (await h.deps.users.findByUsername('alice'))!.passwordHash;
    for (const secret of [ADMIN.password, 'wrong-password-x', hash, cookie.split('=')[1]!, csrf]) expect(text).not.toContain(secret);
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus metrics for requests, logins, sessions, uploads, the password queue, the event loop and dependencies', async () => {
    const h = await harness();
    await request(h.app).post('/api/login').send({ username: 'alice', password: 'wrong-password' });
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    await request(h.app).get('/api/user').set('Cookie', cookie).expect(200);
    await request(h.app).post('/api/images/upload').set('Cookie', cookie).attach('image', png(3, 3), 'b.png').expect(200);
    const res = await request(h.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.text;
    expect(text).toMatch(/sidecar_http_request_duration_seconds_count\{method="GET",route="\/api\/user",status="200"\} 1/);
    expect(text).toMatch(/sidecar_http_request_duration_seconds_count\{method="POST",route="\/api\/images\/upload",status="200"\} 1/);
    expect(text).toContain('sidecar_logins_total{outcome="succeeded"} 1');
    expect(text).toContain('sidecar_logins_total{outcome="failed"} 1');
    expect(text).toContain('sidecar_logins_total{outcome="regulated"} 0');
    expect(text).toContain('sidecar_active_sessions 1');
    expect(text).toContain('sidecar_uploads_total 1');
    expect(text).toContain(`sidecar_upload_bytes_total ${png(3, 3).length}`);
    expect(text).toContain('sidecar_password_queue_depth 0');
    expect(text).toMatch(/sidecar_nodejs_eventloop_lag_p99_seconds \d/);
    expect(text).toContain('sidecar_dependency_errors_total{dependency="session_store"} 0');
  });

  it("has sidecar_build_info 1 labelled with package.json's version and the running Node's", async () => {
    const h = await harness();
    const text = (await request(h.app).get('/metrics')).text;
    expect(text).toContain(`sidecar_build_info{version="${PACKAGE_VERSION}",node="${process.version}"} 1`);
  });

  it('labels unknown paths as unmatched rather than by their raw path', async () => {
    const h = await harness();
    await request(h.app).get('/api/no-such-thing-123').expect(404);
    const text = (await request(h.app).get('/metrics')).text;
    expect(text).toContain('route="unmatched",status="404"');
    expect(text).not.toContain('no-such-thing-123');
  });

  it('keeps the route label to the fixed route patterns however the path is spelled', async () => {
    const h = await harness();
    const admin = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    const spellings = (path: string) => Array.from({ length: 12 }, (_, i) => path.replace(/[a-z]/g, (c, at: number) => ((i >> at % 4) & 1 ? c.toUpperCase() : c)) + (i % 3 === 0 ? '/' : ''));
    for (const path of [...spellings('/api/admin/upload-image'), ...spellings('/api/images/upload')]) await request(h.app).post(path);
    for (const path of spellings('/api/user')) await request(h.app).get(path).set('Cookie', admin);
    for (let i = 0; i < 12; i++) await request(h.app).delete(`/api/admin/sessions/session-${i}?username=bob`).set('Cookie', admin);
    for (let i = 0; i < 12; i++) await request(h.app).get(`/api/nothing-here-${i}`);

    const text = (await request(h.app).get('/metrics')).text;
    const routes = new Set([...text.matchAll(/sidecar_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((m) => m[1]));
    expect([...routes].sort()).toEqual(['/api/admin/sessions/:id', '/api/admin/upload-image', '/api/images/upload', '/api/login', '/api/user', 'unmatched']);
  });

  it('refuses a forwarded request unless it carries the metrics token', async () => {
    const h = await harness({ METRICS_TOKEN: 'metrics-token-0123456789' });
    const forwarded = await request(h.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9');
    expect(forwarded.status).toBe(403);
    expect(forwarded.body).toMatchObject({ success: false, error: 'FORBIDDEN' });
    expect((await request(h.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9').set('Authorization', 'Bearer wrong-token')).status).toBe(403);
    expect((await request(h.app).get('/metrics').set('X-Forwarded-For', '203.0.113.9').set('Authorization', 'Bearer metrics-token-0123456789')).status).toBe(200);
  });
});
