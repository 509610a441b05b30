import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { match } from 'path-to-regexp';
import { SIDECAR_ROUTES } from '../src/app.js';
import { ADMIN, B2B, listen, startHarness, type Harness } from './support/harness.js';
import { png } from './support/images.js';
import { freePort } from './support/ports.js';
import { call, startNginx, type Reply, type RunningNginx } from './support/nginx.js';
import { parseLocations, pathsOf, selectLocation, type NginxLocation } from './support/nginx-locations.js';
import { requireProgram } from './support/programs.js';
import { startStubMainApp, type StubMainApp } from './support/stub-main-app.js';

const nginxBin = requireProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
const UNAUTHORIZED = { success: false, error: 'UNAUTHORIZED', message: 'Unauthorized' };
const FORBIDDEN = { success: false, error: 'FORBIDDEN', message: 'Forbidden' };
/** Spellings Express routes to the main app's /api/admin handlers, or nginx reads as /api/admin. */
const ADMIN_API_SPELLINGS = ['/api/admin/users', '/API/admin/users', '/api/Admin/users', '/API/ADMIN/USERS', '/api/admin', '/api/admin/', '/API/Admin', '/api//admin/users', '//api/admin/users', '/api/%61dmin/users', '/api/%41DMIN/users', '/api/admin%2Fusers'];
/** Raw paths Express routes under /api/admin while nginx, resolving them first, would see another path. */
const MISREAD_PATHS = ['/api/admin/../products', '/api/admin/%2e%2e/products', '/api/admin/.%2E/products', '/api/admin/..%2Fproducts', '/api/admin/./users', '/api/admin/..', '/api\\admin/users#x'];

describe.skipIf(!nginxBin)('the shipped nginx config in a real nginx', () => {
  let h: Harness;
  let main: StubMainApp;
  let nginx: RunningNginx;
  /** The same site with the opt-in admin-pages.conf included. */
  let pages: RunningNginx;
  let sidecar: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    main = await startStubMainApp();
    h = await startHarness({ users: [ADMIN, B2B], env: { LOGIN_URL: '/auth', LOGIN_REDIRECT_PARAM: 'redirect' } });
    sidecar = await listen(h);
    const options = { sidecarPort: sidecar.port, mainAppPort: main.port, uploadsDir: path.join(h.config.uploads.dir, 'products') };
    nginx = await startNginx(nginxBin!, options);
    pages = await startNginx(nginxBin!, { ...options, adminPages: true });
  }, 30_000);
  afterAll(async () => {
    await pages?.stop();
    await nginx?.stop();
    await sidecar?.close();
    await h?.close();
    await main?.close();
  });

  const login = async (base: string, user = ADMIN) => {
    const res = await call(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    expect(res.status).toBe(200);
    return { cookie: (res.headers['set-cookie']![0] as string).split(';')[0]!, setCookie: res.headers['set-cookie']![0] as string };
  };
  const mainSaw = (url: string) => main.seen.filter((r) => r.url === url);
  /** The request's reply, and whether the main app received anything while it ran. */
  const tracked = async (url: string, options: Parameters<typeof call>[1] = {}): Promise<Reply & { reachedMain: boolean }> => {
    const before = main.seen.length;
    const reply = await call(url, options);
    return Object.assign(reply, { reachedMain: main.seen.length > before });
  };

  it('sends every owned path to the sidecar and none of them to the main app', async () => {
    const { cookie } = await login(nginx.httpUrl);
    expect((await call(`${nginx.httpUrl}/api/user`, { headers: { cookie } })).json()).toMatchObject({ username: 'alice' });
    expect((await call(`${nginx.httpUrl}/api/user`)).json()).toMatchObject({ message: 'Unauthorized' });
    expect((await call(`${nginx.httpUrl}/api/auth/verify`, { headers: { cookie } })).status).toBe(204);
    const logout = await call(`${nginx.httpUrl}/api/logout`, { method: 'POST', headers: { cookie } });
    expect(logout.json()).toEqual({ success: true, message: 'Logged out successfully' });
    for (const p of ['/api/login', '/api/user', '/api/logout', '/api/auth/verify']) expect(mainSaw(p)).toEqual([]);
  });

  it('sends other paths to the main app unchanged: methods, bodies, headers, status codes, redirects, streams', async () => {
    const put = await call(`${nginx.httpUrl}/api/products/3?q=a%20b`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-custom': 'kept' }, body: '{"price":12}' });
    expect(put.json()).toMatchObject({ method: 'PUT', url: '/api/products/3?q=a%20b', body: '{"price":12}' });
    expect(mainSaw('/api/products/3?q=a%20b')[0]!.headers['x-custom']).toBe('kept');
    const post = await call(`${nginx.httpUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });
    expect(post.json()).toMatchObject({ method: 'POST', body: 'a=1&b=2' });
    expect((await call(`${nginx.httpUrl}/status/418`)).status).toBe(418);
    const redirect = await call(`${nginx.httpUrl}/redirect`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toMatch(/\/landing$/);
    expect(redirect.headers['set-cookie']).toEqual(['connect.sid=main-app-session; Path=/; HttpOnly']);
    expect((await call(`${nginx.httpUrl}/stream`)).text).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });

  it('overwrites X-Forwarded-For and -Proto instead of trusting what the client sent', async () => {
    await call(`${nginx.httpUrl}/whoami`, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } });
    const seen = mainSaw('/whoami')[0]!;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
  });

  it('sets a Secure cookie for a login over TLS, and a plain one over HTTP', async () => {
    expect((await login(nginx.httpsUrl)).setCookie).toMatch(/; Secure/);
    expect((await login(nginx.httpUrl)).setCookie).not.toMatch(/; Secure/);
  });

  it('keeps a TLS login working on later requests', async () => {
    const { cookie } = await login(nginx.httpsUrl);
    expect((await call(`${nginx.httpsUrl}/api/user`, { headers: { cookie } })).status).toBe(200);
  });

  it('sends an anonymous browser from /admin to the login page when admin-pages.conf is included, and answers the admin API with 401 JSON', async () => {
    const page = await call(`${pages.httpUrl}/admin/orders`);
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/auth?redirect=%2Fadmin%2Forders');
    const api = await call(`${nginx.httpUrl}/api/admin/orders`);
    expect(api.status).toBe(401);
    expect(api.json()).toEqual(UNAUTHORIZED);
    expect(mainSaw('/admin/orders')).toEqual([]);
    expect(mainSaw('/api/admin/orders')).toEqual([]);
  });

  it('lets an admin reach the main app admin API with X-Auth-User, replacing a forged one', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const res = await call(`${nginx.httpUrl}/api/admin/orders?page=2`, { headers: { cookie, 'x-auth-user': 'mallory', 'x-auth-role': 'super_admin' } });
    expect(res.status).toBe(200);
    expect(mainSaw('/api/admin/orders?page=2')[0]!.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-role': 'super_admin' });
  });

  it('answers 403 JSON, never an HTML page, to a b2b_user on the admin API and the admin pages', async () => {
    const { cookie } = await login(nginx.httpUrl, B2B);
    for (const url of [`${nginx.httpUrl}/api/admin/orders`, `${pages.httpUrl}/api/admin/orders`, `${pages.httpUrl}/admin`, `${pages.httpUrl}/Admin/settings`]) {
      const res = await tracked(url, { headers: { cookie } });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual(FORBIDDEN);
      expect(res.reachedMain).toBe(false);
    }
  });

  it('refuses a b2b_user who names his own role in X-Required-Role, on admin pages and the admin API alike', async () => {
    const { cookie } = await login(nginx.httpUrl, B2B);
    const headers = { cookie, 'x-required-role': 'b2b_user' };
    const before = main.seen.length;
    expect((await call(`${pages.httpUrl}/admin`, { headers })).status).toBe(403);
    expect((await call(`${nginx.httpUrl}/api/admin/users`, { headers })).status).toBe(403);
    expect((await call(`${nginx.httpUrl}/api/admin/users/7`, { method: 'DELETE', headers })).status).toBe(403);
    expect(main.seen.slice(before)).toEqual([]);
  });

  it('passes the client cookie and none of its other headers to the forward-auth request', async () => {
    const recorder = await startStubMainApp();
    const gate = await startNginx(nginxBin!, { sidecarPort: recorder.port, mainAppPort: main.port, uploadsDir: path.join(h.config.uploads.dir, 'products') });
    try {
      await call(`${gate.httpUrl}/api/admin/users`, { headers: { cookie: 'sidecar.sid=abc', 'x-required-role': 'b2b_user', 'x-forwarded-proto': 'https', 'x-request-id': 'forged', 'x-auth-user': 'mallory' } });
      const verify = recorder.seen.find((r) => r.url.startsWith('/api/auth/verify'))!;
      expect(verify.url).toBe('/api/auth/verify?role=super_admin,admin');
      expect(verify.headers.cookie).toBe('sidecar.sid=abc');
      expect(verify.headers['x-forwarded-proto']).toBe('http');
      for (const name of ['x-required-role', 'x-request-id', 'x-auth-user']) expect(verify.headers[name]).toBeUndefined();
    } finally {
      await gate.stop();
      await recorder.close();
    }
  });

  it('keeps its connections to the sidecar in step after a POST with a body to the admin API', async () => {
    for (let i = 0; i < 3; i++) {
      const post = await call(`${nginx.httpUrl}/api/admin/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"mallory"}' });
      expect(post.json()).toEqual(UNAUTHORIZED);
      const user = await call(`${nginx.httpUrl}/api/user`);
      expect(user.status).toBe(401);
      expect(user.json()).toEqual(UNAUTHORIZED);
    }
  });

  it('never lets a client-forged X-Auth-User reach the main app', async () => {
    await call(`${nginx.httpUrl}/profile`, { headers: { 'x-auth-user': 'mallory', 'x-auth-user-id': '1', 'x-auth-role': 'super_admin' } });
    const seen = mainSaw('/profile')[0]!;
    expect(seen.headers['x-auth-user']).toBeUndefined();
    expect(seen.headers['x-auth-role']).toBeUndefined();
  });

  it('takes an upload through nginx and serves the stored image from disk with nosniff', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const boundary = '----WebKitFormBoundaryNginxTest';
    const image = png(2, 2);
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const res = await call(`${nginx.httpUrl}/api/admin/upload-image`, { method: 'POST', headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    expect(res.status).toBe(200);
    const served = await call(`${nginx.httpUrl}${res.json<{ imageUrl: string }>().imageUrl}`);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.body).toEqual(image);
    await fs.writeFile(path.join(h.config.uploads.dir, 'products', '.upload-x.tmp'), 'partial');
    for (const url of ['/uploads/products/.upload-x.tmp', '/uploads/products/', '/uploads/products/missing.png']) {
      const missing = await call(`${nginx.httpUrl}${url}`);
      expect(missing.status, url).toBe(404);
      expect(missing.headers['content-type'], url).toBe('application/json');
      expect(missing.json(), url).toEqual({ success: false, error: 'NOT_FOUND', message: 'Not found' });
    }
  });

  it('answers the sidecar paths and the gated admin API with 503 JSON and Retry-After, never an HTML page, while the sidecar is down', async () => {
    const down = await startNginx(nginxBin!, { sidecarPort: await freePort(), mainAppPort: main.port, uploadsDir: path.join(h.config.uploads.dir, 'products') });
    try {
      for (const [method, url] of [['GET', '/api/user'], ['POST', '/api/login'], ['GET', '/API/Admin/Sessions'], ['POST', '/api/images/upload'], ['GET', '/api/admin/users'], ['DELETE', '/api/admin/upload-image/0123456789abcdef0123456789abcdef.png']] as const) {
        const res = await call(`${down.httpUrl}${url}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
        expect(res.status, url).toBe(503);
        expect(res.headers['retry-after'], url).toBe('5');
        expect(res.json<{ error: string }>().error, url).toBe('SIDECAR_UNAVAILABLE');
      }
    } finally {
      await down.stop();
    }
  });

  it('deletes an uploaded image through nginx on any spelling of its path: 204, then nginx serves it no more', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const stored = async () => {
      const res = await request(h.app).post('/api/admin/upload-image').set('cookie', cookie).attach('image', png(1, 1), 'a.png');
      return res.body.filename as string;
    };
    for (const spelling of ['/api/admin/upload-image/', '/API/Admin/Upload-Image/']) {
      const filename = await stored();
      const res = await tracked(`${nginx.httpUrl}${spelling}${filename}`, { method: 'DELETE', headers: { cookie } });
      expect({ spelling, status: res.status, reachedMain: res.reachedMain }).toEqual({ spelling, status: 204, reachedMain: false });
      expect((await call(`${nginx.httpUrl}/uploads/products/${filename}`)).status).toBe(404);
      await expect(fs.stat(path.join(h.config.uploads.dir, 'products', filename))).rejects.toThrow(/ENOENT/);
    }
    // nginx passes the path as sent; the sidecar, like Express, has no route for a doubled slash: its 404.
    const kept = await stored();
    const doubled = await tracked(`${nginx.httpUrl}/api//admin/upload-image/${kept}`, { method: 'DELETE', headers: { cookie } });
    expect({ status: doubled.status, error: doubled.json<{ error: string }>().error, reachedMain: doubled.reachedMain }).toEqual({ status: 404, error: 'NOT_FOUND', reachedMain: false });
  });

  it('refuses an upload over the body limit in nginx itself', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const res = await call(`${nginx.httpUrl}/api/images/upload`, { method: 'POST', headers: { cookie, 'content-type': 'multipart/form-data; boundary=x' }, body: Buffer.alloc(12 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json<{ error: string }>().error).toBe('FILE_TOO_LARGE');
  });

  describe('admin API spellings (Express routes case-insensitively, nginx normalises the path)', () => {
    it.each(ADMIN_API_SPELLINGS)('answers an anonymous GET %s with 401 JSON and never reaches the main app', async (spelling) => {
      const res = await tracked(`${nginx.httpUrl}${spelling}`);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual(UNAUTHORIZED);
      expect(res.reachedMain).toBe(false);
    });

    it('lets an admin through on another spelling, with the identity headers', async () => {
      const { cookie } = await login(nginx.httpUrl);
      const res = await tracked(`${nginx.httpUrl}/API/Admin/users?x=1`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(mainSaw('/API/Admin/users?x=1')[0]!.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-role': 'super_admin' });
    });

    it.each(MISREAD_PATHS)('refuses %s, which nginx and the main app would read differently, with 400 JSON', async (raw) => {
      const res = await tracked(`${nginx.httpUrl}${raw}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ success: false, error: 'BAD_PATH', message: 'The request path is not allowed' });
      expect(res.reachedMain).toBe(false);
    });

    it('still passes dots that are not path segments to the main app', async () => {
      for (const url of ['/api/products/v1..2', '/files/.well-known-ish/a.b', '/api/products?next=/../x']) {
        const res = await tracked(`${nginx.httpUrl}${url}`);
        expect(res.status).toBe(200);
        expect(mainSaw(url)).toHaveLength(1);
      }
    });

    it.each(['/api/admin-tools', '/api/administrator', '/api/adminx/users'])('leaves %s, which is not the admin API, to the main app', async (url) => {
      const res = await tracked(`${nginx.httpUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.reachedMain).toBe(true);
    });
  });

  describe("the sidecar's own paths in other spellings", () => {
    const json = { 'content-type': 'application/json' };
    const credentials = JSON.stringify(ADMIN);
    it.each([
      ['POST', '/api/login/', 200],
      ['POST', '/API/LOGIN', 200],
      ['POST', '/api/Login', 200],
      ['POST', '/api/logout/', 200],
      ['GET', '/api/user/', 401],
      ['GET', '/API/User', 401],
      ['GET', '/api/CSRF-Token', 200],
      ['GET', '/api/auth/Verify/', 401],
      ['GET', '/api/admin/License-Counts/', 401],
      ['GET', '/api/Admin/Dashboard', 401],
      ['GET', '/api/admin/Sessions', 401],
      ['DELETE', '/API/admin/sessions/abc', 401],
      ['POST', '/api/images/upload/', 401],
      ['POST', '/api/admin/upload-image/', 401],
      ['POST', '/API/Images/Upload', 401],
      ['POST', '/api/Admin/Upload-Image', 401],
      ['DELETE', '/api/admin/upload-image/0123456789abcdef0123456789abcdef.png', 401],
      ['DELETE', '/API/Admin/Upload-Image/0123456789abcdef0123456789abcdef.png/', 401],
      ['DELETE', '/api/admin/upload-image/not-a-name/extra', 404],
    ] as const)('answers %s %s from the sidecar (%i), never from the main app', async (method, url, status) => {
      const res = await tracked(`${nginx.httpUrl}${url}`, { method, headers: json, body: method === 'POST' ? credentials : undefined });
      expect(res.status).toBe(status);
      expect(res.headers['x-main-app']).toBeUndefined();
      expect(res.reachedMain).toBe(false);
      if (/login/i.test(url)) expect(res.json()).toMatchObject({ success: true, user: { username: 'alice' } });
    });

    it('answers GET /api/user/ with the logged-in user', async () => {
      const { cookie } = await login(nginx.httpUrl);
      const res = await tracked(`${nginx.httpUrl}/api/user/`, { headers: { cookie } });
      expect(res.json()).toMatchObject({ username: 'alice' });
      expect(res.reachedMain).toBe(false);
    });

    const uploadBody = (image: Buffer) => {
      const boundary = '----WebKitFormBoundarySpelling';
      const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      return { body, type: `multipart/form-data; boundary=${boundary}` };
    };

    it('takes an upload on /API/Images/Upload/ and serves the image on /Uploads/products/ from the sidecar', async () => {
      const { cookie } = await login(nginx.httpUrl);
      const image = png(3, 1);
      const { body, type } = uploadBody(image);
      const res = await tracked(`${nginx.httpUrl}/API/Images/Upload/`, { method: 'POST', headers: { cookie, 'content-type': type }, body });
      expect(res.status).toBe(200);
      const served = await tracked(`${nginx.httpUrl}${res.json<{ imageUrl: string }>().imageUrl.replace('/uploads/', '/Uploads/')}`);
      expect(served.status).toBe(200);
      expect(served.body).toEqual(image);
      expect(res.reachedMain || served.reachedMain).toBe(false);
    });

    it.each(['/api/images/upload/', '/API/IMAGES/UPLOAD', '/api/admin/upload-image/', '/api/Admin/Upload-Image'])('passes a 2 MiB upload body on %s to the sidecar and refuses 12 MiB in nginx itself', async (url) => {
      const { cookie } = await login(nginx.httpUrl);
      const post = (mib: number, headers: Record<string, string>) => tracked(`${nginx.httpUrl}${url}`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', ...headers }, body: Buffer.alloc(mib * 1024 * 1024) });
      // An admin's: the sidecar reads the body (and finds no image in it) before it answers.
      const passed = await post(2, { cookie });
      expect(passed.status).toBe(400);
      expect(passed.json()).toMatchObject({ success: false, error: 'VALIDATION_ERROR' });
      const refused = await post(12, { cookie });
      expect(refused.status).toBe(413);
      expect(passed.reachedMain || refused.reachedMain).toBe(false);
    });

    it.each(['/api/admin/License-Counts/', '/api/Admin/Dashboard', '/api/admin/Sessions?username=alice', '/API/ADMIN/SESSIONS/?username=alice'])("answers an admin's GET %s from the sidecar, never from the main app", async (url) => {
      const { cookie } = await login(nginx.httpUrl);
      const res = await tracked(`${nginx.httpUrl}${url}`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(res.headers['x-main-app']).toBeUndefined();
      expect(res.reachedMain).toBe(false);
    });
  });

  describe('admin pages', () => {
    it.each(['/admin', '/ADMIN', '/Admin/settings', '/admin/', '/aDmIn/users/7'])('leave an anonymous GET %s to the main app while admin-pages.conf is not included', async (url) => {
      const res = await tracked(`${nginx.httpUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.reachedMain).toBe(true);
    });

    it.each([
      ['/admin', '%2Fadmin'],
      ['/ADMIN', '%2FADMIN'],
      ['/Admin/settings', '%2FAdmin%2Fsettings'],
      ['/admin/orders?x=1&y=2', '%2Fadmin%2Forders%3Fx%3D1%26y%3D2'],
      ['/admin/a%20b?q=%26', '%2Fadmin%2Fa%2520b%3Fq%3D%2526'],
      ['//admin/x', '%2F'],
    ])('send an anonymous browser from %s to the login page with the target URL-encoded, and only a local one', async (url, target) => {
      const res = await tracked(`${pages.httpUrl}${url}`);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/auth?redirect=${target}`);
      expect(res.reachedMain).toBe(false);
    });

    it('never redirects to another site for //evil.example/%2e%2e/admin', async () => {
      const res = await tracked(`${pages.httpUrl}//evil.example/%2e%2e/admin`);
      expect(res.headers.location ?? '/').toMatch(/^\/(?![/\\])/);
      expect(decodeURIComponent(new URL(res.headers.location ?? '/', 'http://shop').searchParams.get('redirect') ?? '/')).toMatch(/^\/(?![/\\])/);
      expect(res.reachedMain).toBe(false);
    });

    it('send a logged-out POST to an admin page to the login page too', async () => {
      const res = await tracked(`${pages.httpUrl}/admin/products`, { method: 'POST', body: 'a=1' });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/auth?redirect=%2Fadmin%2Fproducts');
    });

    it('let an admin through on another spelling, with the identity headers', async () => {
      const { cookie } = await login(pages.httpUrl);
      const res = await tracked(`${pages.httpUrl}/ADMIN/settings`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(mainSaw('/ADMIN/settings')[0]!.headers).toMatchObject({ 'x-auth-user': 'alice' });
    });

    it.each(['/admin-login', '/admin-panel', '/administrator-tools', '/Admin-Login', '/adminx'])('leave the client-side page %s to the main app for everyone', async (url) => {
      const res = await tracked(`${pages.httpUrl}${url}`);
      expect(res.status).toBe(200);
      expect(res.reachedMain).toBe(true);
    });
  });
});

describe('the locations of nginx/sidecar.conf and admin-pages.conf, and the routes of the sidecar', () => {
  let h: Harness;
  const SAMPLE = 'agree.png';
  const site: NginxLocation = { modifier: '', pattern: '/', body: 'proxy_pass http://main_app;', internal: false, upstream: 'main_app', proxyPath: undefined };
  let locations: NginxLocation[];
  beforeAll(async () => {
    h = await startHarness();
    await fs.mkdir(path.join(h.config.uploads.dir, 'products'), { recursive: true });
    await fs.writeFile(path.join(h.config.uploads.dir, 'products', SAMPLE), png(1, 1));
    const text = await Promise.all(['sidecar.conf', 'admin-pages.conf'].map((f) => fs.readFile(path.join(import.meta.dirname, '..', 'nginx', f), 'utf8')));
    locations = [...text.flatMap(parseLocations), site];
  });
  afterAll(() => h?.close());

  /** A path each route of an audience answers (a parameter filled in). */
  const pathsFor = (audience: string) => SIDECAR_ROUTES.filter((r) => r.audience === audience).map((r) => r.path.replace(/\/[:*]\w+$/, `/${SAMPLE}`));
  const OWNED = pathsFor('client');
  const declared = SIDECAR_ROUTES.map((r) => match(r.path, { sensitive: false, trailing: true, decode: false }));
  const spellings = (p: string) => [p, `${p}/`, p.toUpperCase(), p.replace(/[a-z]+/, (w) => w[0]!.toUpperCase() + w.slice(1))];

  it('sends every path the sidecar owns, in every spelling, to the sidecar', () => {
    for (const owned of OWNED) {
      for (const spelling of spellings(owned)) {
        const chosen = selectLocation(locations, spelling)!;
        expect({ spelling, to: chosen.upstream ?? (/\balias\b/.test(chosen.body) ? 'alias' : chosen.body) }).toEqual({ spelling, to: spelling.startsWith('/uploads/products/') ? 'alias' : 'auth_sidecar' });
      }
    }
  });

  it("sends the nginx-only routes through an internal location, and none of the operator endpoints anywhere", () => {
    const internal = locations.filter((l) => l.internal && l.upstream === 'auth_sidecar').map((l) => l.proxyPath);
    expect(pathsFor('nginx').length).toBeGreaterThan(0);
    for (const p of pathsFor('nginx')) expect(internal, p).toContain(p);
    for (const p of pathsFor('operator').flatMap(spellings)) expect({ p, to: selectLocation(locations, p)!.upstream }).toEqual({ p, to: 'main_app' });
  });

  it('sends no path to the sidecar that is not one of its declared routes', () => {
    const toSidecar = locations.filter((l) => l.upstream === 'auth_sidecar');
    for (const location of toSidecar) {
      for (const p of location.internal ? [location.proxyPath!] : pathsOf(location, SAMPLE)) {
        expect({ location: `${location.modifier} ${location.pattern}`, path: p, declared: declared.some((m) => m(p) !== false) }).toMatchObject({ declared: true });
      }
    }
  });

  it('keeps the upload limit and streaming on every spelling of the upload paths', () => {
    for (const spelling of ['/api/admin/upload-image', '/api/images/upload'].flatMap(spellings)) {
      expect(selectLocation(locations, spelling)!.body).toMatch(/client_max_body_size 11m;[\s\S]*proxy_request_buffering off;/);
    }
  });

  it('puts every spelling of the admin API and the admin pages behind the gate', () => {
    for (const spelling of ['/api/admin', '/api/admin/users', '/admin', '/admin/x'].flatMap(spellings)) {
      expect({ spelling, body: selectLocation(locations, spelling)!.body }).toMatchObject({ spelling, body: expect.stringContaining('admin-gate.conf') });
    }
  });

  it('sends nothing to the sidecar that it does not serve', async () => {
    const toSidecar = locations.filter((l) => l.upstream === 'auth_sidecar');
    expect(toSidecar.length).toBeGreaterThan(4);
    for (const location of toSidecar) {
      for (const p of location.internal ? [location.proxyPath!] : pathsOf(location, SAMPLE)) {
        const answers = await Promise.all((['get', 'post', 'delete'] as const).map((m) => request(h.app)[m](p)));
        const served = answers.some((r) => !(r.status === 404 && /^No route/.test(r.body.message ?? '')));
        expect({ location: `${location.modifier} ${location.pattern}`, path: p, served }).toEqual({ location: `${location.modifier} ${location.pattern}`, path: p, served: true });
      }
    }
  });
});
