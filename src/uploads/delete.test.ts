import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness, type TestUser } from '../../test/support/harness.js';
import { png } from '../../test/support/images.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const SHOP_ADMIN: TestUser = { username: 'carol', password: 'carol-password-1', role: 'admin' };
const harnesses = closedAfterEach<Harness>();

/** A sidecar with one uploaded image; `cookie` is an admin's session. */
async function withUpload() {
  const h = await startHarness({ users: [ADMIN, SHOP_ADMIN, B2B] });
  harnesses.push(h);
  const loginAs = async (user: TestUser) => cookieHeader((await request(h.app).post('/api/login').send(user)).headers['set-cookie']);
  const cookie = await loginAs(SHOP_ADMIN);
  const uploaded = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('image', png(2, 2), 'photo.png');
  expect(uploaded.status).toBe(200);
  const dir = path.join(h.config.uploads.dir, 'products');
  const filename: string = uploaded.body.filename;
  return { h, dir, cookie, filename, loginAs, remove: (name = filename) => request(h.app).delete(`/api/admin/upload-image/${name}`) };
}

describe('DELETE /api/admin/upload-image/<filename>', () => {
  it('removes the image an upload stored for an admin: 204, the file gone from disk and from /uploads/products', async () => {
    const { h, dir, cookie, filename, remove } = await withUpload();
    const res = await remove().set('cookie', cookie);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await fs.readdir(dir)).toEqual([]);
    expect((await request(h.app).get(`/uploads/products/${filename}`)).status).toBe(404);
  });

  it('lets a super_admin delete too, with a valid CSRF token of the session', async () => {
    const { h, dir, filename, loginAs, remove } = await withUpload();
    const cookie = await loginAs(ADMIN);
    const token = (await request(h.app).get('/api/csrf-token').set('cookie', cookie)).body.csrfToken;
    const res = await remove().set('cookie', cookie).set('x-csrf-token', token);
    expect(res.status).toBe(204);
    expect(await fs.readdir(dir)).not.toContain(filename);
  });

  it('answers 401 JSON to an anonymous request and 403 JSON to a b2b_user, and keeps the file', async () => {
    const { dir, filename, loginAs, remove } = await withUpload();
    const anonymous = await remove();
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ success: false, error: 'UNAUTHORIZED' });
    const b2b = await remove().set('cookie', await loginAs(B2B));
    expect(b2b.status).toBe(403);
    expect(b2b.body).toMatchObject({ success: false, error: 'FORBIDDEN' });
    expect(await fs.readdir(dir)).toEqual([filename]);
  });

  it('refuses a CSRF token of another session and a request from another site with 403, and keeps the file', async () => {
    const { h, dir, cookie, filename, remove } = await withUpload();
    const anonymousToken = (await request(h.app).get('/api/csrf-token')).body.csrfToken;
    const forged = await remove().set('cookie', cookie).set('x-csrf-token', anonymousToken);
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ success: false, error: 'CSRF_TOKEN_INVALID' });
    const crossSite = await remove().set('cookie', cookie).set('origin', 'https://evil.example');
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toMatchObject({ success: false, error: 'CROSS_SITE_REQUEST' });
    expect(await fs.readdir(dir)).toEqual([filename]);
  });

  it('answers 404 JSON for a well-formed name no image has', async () => {
    const { dir, cookie, filename, remove } = await withUpload();
    const res = await remove('0123456789abcdef0123456789abcdef.png').set('cookie', cookie);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
    expect(await fs.readdir(dir)).toEqual([filename]);
  });

  it('refuses with 400 every name the sidecar does not give, and touches no file', async () => {
    const { h, dir, cookie, filename, remove } = await withUpload();
    const hex = filename.slice(0, 32);
    await fs.writeFile(path.join(dir, '.upload-abc.tmp'), 'x');
    await fs.writeFile(path.join(dir, `${hex}.txt`), 'x');
    const before = (await fs.readdir(dir)).sort();
    const bad = [
      '..%2F..%2Fusers.json',
      '..%2fproducts%2f' + filename,
      '%2e%2e',
      '.upload-abc.tmp',
      `${hex}.txt`,
      `${hex}.PNG`,
      `${hex.toUpperCase()}.png`,
      `${hex}0.png`,
      `${hex}.png.tmp`,
      `${hex}.png%00`,
      `${hex}.png%2F`,
      'users.json',
    ];
    for (const name of bad) {
      const res = await remove(name).set('cookie', cookie);
      expect(res.status, name).toBe(400);
      expect(res.body, name).toMatchObject({ success: false, error: 'VALIDATION_ERROR' });
    }
    expect((await fs.readdir(dir)).sort()).toEqual(before);
    await expect(fs.stat(h.config.users.file)).resolves.toBeTruthy();
  });

  it('never reaches outside the upload directory through dot segments in the path', async () => {
    const { h, dir, cookie, filename } = await withUpload();
    const res = await request(h.app).delete('/api/admin/upload-image/../../../users.json').set('cookie', cookie);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
    await expect(fs.stat(h.config.users.file)).resolves.toBeTruthy();
    expect(await fs.readdir(dir)).toEqual([filename]);
  });
});
