import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, cookieHeader, startHarness, tempDir, type Harness } from '../../test/support/harness.js';

/** A small tmpfs (root only): a disk that fills up or turns read-only on demand. */
async function smallDisk(): Promise<string | undefined> {
  const mount = await tempDir('sidecar-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mount], { stdio: 'ignore' });
    return mount;
  } catch {
    return undefined;
  }
}
const canMount = (await (async () => {
  const probe = await smallDisk();
  if (probe) execFileSync('umount', [probe]);
  return probe !== undefined;
})());

describe.skipIf(!canMount)('the sidecar when its session directory fails', () => {
  const mounts: string[] = [];
  const harnesses: Harness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
    for (const mount of mounts.splice(0)) execFileSync('umount', ['-l', mount]);
  });
  const harness = async (sessionDir: string, env: Record<string, string> = {}) => {
    const h = await startHarness({ users: [ADMIN], env: { SESSION_DIR: sessionDir, ...env } });
    harnesses.push(h);
    return h;
  };
  const disk = async () => {
    const mount = (await smallDisk())!;
    mounts.push(mount);
    return mount;
  };
  const login = (h: Harness) => request(h.app).post('/api/login').send({ username: ADMIN.username, password: ADMIN.password });

  it('answers a login 507 SESSION_STORE_UNAVAILABLE with Retry-After and no cookie when the disk is full', async () => {
    const mount = await disk();
    const h = await harness(path.join(mount, 'sessions'));
    await fs.writeFile(path.join(mount, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined);
    const res = await login(h);
    expect(res.status).toBe(507);
    expect(res.body).toMatchObject({ success: false, error: 'SESSION_STORE_UNAVAILABLE' });
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers a login 503 with Retry-After and no cookie on a read-only disk, and keeps serving the sessions it has', async () => {
    const mount = await disk();
    const h = await harness(path.join(mount, 'sessions'));
    const cookie = cookieHeader((await login(h).expect(200)).headers['set-cookie']);
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    const res = await login(h);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ success: false, error: 'SESSION_STORE_UNAVAILABLE' });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(200);
    expect((await request(h.app).get('/ready')).status).toBe(503);
    execFileSync('mount', ['-o', 'remount,rw', mount]);
    expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(200);
  });

  it('answers 503 while a deleted session directory cannot be made again, and logs in once it can', async () => {
    const mount = await disk();
    const h = await harness(path.join(mount, 'sessions'));
    await fs.rm(h.config.session.dir, { recursive: true });
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    expect((await login(h)).status).toBe(503);
    execFileSync('mount', ['-o', 'remount,rw', mount]);
    expect((await login(h)).status).toBe(200);
    expect((await fs.stat(h.config.session.dir)).mode & 0o777).toBe(0o700);
  });

  it('is not ready while the session directory is a regular file', async () => {
    const h = await harness(path.join(await tempDir(), 'sessions'));
    expect((await request(h.app).get('/ready')).status).toBe(200);
    await fs.rm(h.config.session.dir, { recursive: true });
    await fs.writeFile(h.config.session.dir, '');
    const ready = await request(h.app).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.sessionStore).toMatchObject({ ok: false, error: 'ENOTDIR' });
  });

  it('logs a session save that fails after the response started as one JSON line, and the answer is whole', async () => {
    const mount = await disk();
    const h = await harness(path.join(mount, 'sessions'), { SESSION_TOUCH_INTERVAL: '0' });
    const cookie = cookieHeader((await login(h).expect(200)).headers['set-cookie']);
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    const before = h.logs.lines.length;
    const res = await request(h.app).get('/api/user').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(ADMIN.username);
    await new Promise((r) => setTimeout(r, 50));
    const errors = h.logs.lines.slice(before).filter((l) => (l.level as number) >= 50);
    expect(errors.map((l) => l.msg)).toEqual(['file session store error']);
  });
});
