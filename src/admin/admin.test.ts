import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, eventually, startHarness, tempDir, type Harness } from '../../test/support/harness.js';
import { png } from '../../test/support/images.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

const DATA = {
  products: [
    { id: 'office-365', name: 'Office 365', licenseKeys: { available: 12, assigned: 30 } },
    { id: 7, name: 'Antivirus', licenseKeys: { available: 0, assigned: 5 } },
  ],
  totalUsers: 42,
  totalSales: 1234.5,
};

async function setup(data: unknown = DATA) {
  const dir = await tempDir();
  await fs.writeFile(path.join(dir, 'admin-data.json'), JSON.stringify(data));
  const h = await startHarness({ dir, users: [ADMIN, B2B] });
  harnesses.push(h);
  const login = async (user = ADMIN) => cookieHeader((await request(h.app).post('/api/login').send(user)).headers['set-cookie']);
  return { h, login };
}

describe('GET /api/admin/license-counts from the data file', () => {
  it('answers the available keys per product, the shape the panel reads', async () => {
    const { h, login } = await setup();
    const res = await request(h.app).get('/api/admin/license-counts').set('cookie', await login());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: { 'office-365': 12, '7': 0 } });
  });

  it('offers a detailed form on ?detail=1', async () => {
    const { h, login } = await setup();
    const res = await request(h.app).get('/api/admin/license-counts?detail=1').set('cookie', await login());
    expect(res.body.data['office-365']).toEqual({ name: 'Office 365', available: 12, assigned: 30, total: 42 });
  });

  it('answers 401 anonymous and 403 to a b2b_user', async () => {
    const { h, login } = await setup();
    expect((await request(h.app).get('/api/admin/license-counts')).status).toBe(401);
    expect((await request(h.app).get('/api/admin/license-counts').set('cookie', await login(B2B))).status).toBe(403);
    expect((await request(h.app).get('/api/admin/dashboard').set('cookie', await login(B2B))).status).toBe(403);
  });

  it('answers zeros and empty lists with no data file yet', async () => {
    const h = await startHarness({ users: [ADMIN] });
    harnesses.push(h);
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    expect((await request(h.app).get('/api/admin/license-counts').set('cookie', cookie)).body).toEqual({ success: true, data: {} });
    expect(h.logs.lines.some((l) => String(l.msg).startsWith('admin data file not found'))).toBe(true);
  });

  it('picks up a changed file, and keeps the last good figures when it breaks, naming the bad entry', async () => {
    const { h, login } = await setup();
    const cookie = await login();
    await fs.writeFile(h.config.adminData.file, JSON.stringify({ ...DATA, products: [{ id: 'x', name: 'X', licenseKeys: { available: 3, assigned: 0 } }] }));
    await eventually(async () => (await request(h.app).get('/api/admin/license-counts').set('cookie', cookie)).body.data.x === 3);
    await fs.writeFile(h.config.adminData.file, JSON.stringify({ ...DATA, products: [{ id: 'x', name: 'X', licenseKeys: { available: 'lots', assigned: 0 } }] }));
    await eventually(async () => h.logs.lines.some((l) => String(l.reason).includes('"products.0.licenseKeys.available"')));
    expect((await request(h.app).get('/api/admin/license-counts').set('cookie', cookie)).body.data).toEqual({ x: 3 });
  });

  it('keeps the last good figures, logs the error and stays up when the data file is replaced by a directory', async () => {
    const { h, login } = await setup();
    const cookie = await login();
    await fs.rm(h.config.adminData.file);
    await fs.mkdir(h.config.adminData.file);
    await eventually(async () => h.logs.lines.some((l) => l.msg === 'admin data file cannot be read; keeping the last good version' && l.code === 'EISDIR'));
    const res = await request(h.app).get('/api/admin/license-counts').set('cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ 'office-365': 12, '7': 0 });
  });
});

describe('GET /api/admin/dashboard', () => {
  it('answers the panel fields from the data and the sidecar figures from itself', async () => {
    const { h, login } = await setup();
    const cookie = await login();
    await request(h.app).post('/api/login').send({ ...ADMIN, password: 'wrong' });
    await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('image', png(2, 2), 'a.png').expect(200);
    const res = await request(h.app).get('/api/admin/dashboard').set('cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      totalUsers: 42,
      totalSales: '€1,234.50',
      totalSalesAmount: 1234.5,
      activeKeys: 12,
      totalProducts: 2,
      activeSessions: 1,
      uploadsCount: 1,
      uploadsBytes: png(2, 2).length,
      loginsSucceeded24h: 1,
      loginsFailed24h: 1,
      loginsRegulated24h: 0,
    });
  });

  it('shows total sales in the configured currency and locale', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'admin-data.json'), JSON.stringify(DATA));
    const h = await startHarness({ dir, users: [ADMIN], env: { ADMIN_CURRENCY: 'BAM', ADMIN_LOCALE: 'de-DE' } });
    harnesses.push(h);
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    const res = await request(h.app).get('/api/admin/dashboard').set('cookie', cookie);
    expect(res.body.totalSales).toBe(new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'BAM' }).format(1234.5));
    expect(res.body.totalSales).toMatch(/^1\.234,50\sBAM$/);
    expect(res.body.totalSalesAmount).toBe(1234.5);
  });

  it('answers 503 DATA_SOURCE_UNAVAILABLE when the source fails, and the rest keeps working', async () => {
    const { h, login } = await setup();
    const cookie = await login();
    h.deps.adminData.figures = async () => {
      throw new Error('connection refused');
    };
    const res = await request(h.app).get('/api/admin/dashboard').set('cookie', cookie);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'DATA_SOURCE_UNAVAILABLE' });
    expect(res.headers['retry-after']).toBe('5');
    expect((await request(h.app).get('/api/user').set('cookie', cookie)).status).toBe(200);
  });
});
