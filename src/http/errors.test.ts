import fs from 'node:fs/promises';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, type Harness } from '../../test/support/harness.js';
import { PACKAGE_VERSION } from '../../test/support/processes.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('errors', () => {
  it('answers an unknown /api path with 404 JSON', async () => {
    h = await startHarness();
    const res = await request(h.app).get('/api/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ success: false, error: 'NOT_FOUND', message: 'No route for GET /api/does-not-exist' });
  });

  it('answers an unexpected failure with a plain 500 that carries no stack or path, and logs it', async () => {
    h = await startHarness({ users: [ADMIN] });
    h.deps.users.findByUsername = async () => {
      throw new Error(`ECONNRESET reading ${h!.config.users.file}`);
    };
    const res = await request(h.app).post('/api/login').send(ADMIN);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ success: false, error: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(res.text).not.toContain(h.dir);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect(h.logs.lines.some((l) => l.msg === 'unhandled error')).toBe(true);
  });
});

describe('GET /health', () => {
  it("reports healthy with the session store kind and package.json's version", async () => {
    h = await startHarness();
    const res = await request(h.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'healthy', service: 'auth-upload-sidecar', version: PACKAGE_VERSION, sessionStore: 'file', timestamp: expect.any(String) });
  });

  it('answers 503 while draining', async () => {
    h = await startHarness();
    h.state.draining = true;
    const res = await request(h.app).get('/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('draining');
  });
});

describe('GET /ready', () => {
  it('reports ready when the session store, the users and the admin data all answer', async () => {
    h = await startHarness();
    const res = await request(h.app).get('/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(Object.keys(res.body.checks).sort()).toEqual(['adminData', 'sessionStore', 'users']);
    expect(Object.values(res.body.checks).every((c) => (c as { ok: boolean }).ok)).toBe(true);
  });

  it('answers 503 naming the failing check when the session directory cannot be used', async () => {
    h = await startHarness();
    await fs.rm(h.config.session.dir, { recursive: true, force: true });
    const res = await request(h.app).get('/ready');
    expect(res.status).toBe(503);
    expect(res.body.checks.sessionStore).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(res.text).not.toContain(h.dir);
    expect(res.body.checks.users.ok).toBe(true);
  });

  it('answers 503 while draining even when every check passes', async () => {
    h = await startHarness();
    h.state.draining = true;
    const res = await request(h.app).get('/ready');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('draining');
  });
});
