import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, listen, startHarness, type Harness } from '../src/testing/harness.js';
import { png } from '../src/testing/images.js';
import { call, startNginx, type RunningNginx } from '../src/testing/nginx.js';
import { requireProgram } from '../src/testing/programs.js';
import { startStubMainApp, type StubMainApp } from '../src/testing/stub-main-app.js';

const nginxBin = requireProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);

describe.skipIf(!nginxBin)('the shipped nginx config in a real nginx', () => {
  let h: Harness;
  let main: StubMainApp;
  let nginx: RunningNginx;
  let sidecar: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    main = await startStubMainApp();
    h = await startHarness({ users: [ADMIN, B2B] });
    sidecar = await listen(h);
    nginx = await startNginx(nginxBin!, { sidecarPort: sidecar.port, mainAppPort: main.port, uploadsDir: path.join(h.config.uploads.dir, 'products') });
  }, 30_000);
  afterAll(async () => {
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

  it('sends an anonymous browser from /admin to the login page, and answers the admin API with 401 JSON', async () => {
    const page = await call(`${nginx.httpUrl}/admin/orders`);
    expect(page.status).toBe(302);
    expect(page.headers.location).toMatch(/\/login\?next=\/admin\/orders$/);
    const api = await call(`${nginx.httpUrl}/api/admin/orders`);
    expect(api.status).toBe(401);
    expect(api.json()).toMatchObject({ message: 'Unauthorized' });
    expect(mainSaw('/admin/orders')).toEqual([]);
    expect(mainSaw('/api/admin/orders')).toEqual([]);
  });

  it('lets an admin reach the main app admin API with X-Auth-User, replacing a forged one', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const res = await call(`${nginx.httpUrl}/api/admin/orders?page=2`, { headers: { cookie, 'x-auth-user': 'mallory', 'x-auth-role': 'super_admin' } });
    expect(res.status).toBe(200);
    expect(mainSaw('/api/admin/orders?page=2')[0]!.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-role': 'super_admin' });
  });

  it('answers 403 to a b2b_user on the main app admin API', async () => {
    const { cookie } = await login(nginx.httpUrl, B2B);
    expect((await call(`${nginx.httpUrl}/api/admin/orders`, { headers: { cookie } })).status).toBe(403);
  });

  it('refuses a b2b_user who names his own role in X-Required-Role, on admin pages and the admin API alike', async () => {
    const { cookie } = await login(nginx.httpUrl, B2B);
    const headers = { cookie, 'x-required-role': 'b2b_user' };
    const before = main.seen.length;
    expect((await call(`${nginx.httpUrl}/admin`, { headers })).status).toBe(403);
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
    expect((await call(`${nginx.httpUrl}/uploads/products/.upload-x.tmp`)).status).toBe(404);
    expect((await call(`${nginx.httpUrl}/uploads/products/`)).status).toBe(404);
  });

  it('refuses an upload over the body limit in nginx itself', async () => {
    const { cookie } = await login(nginx.httpUrl);
    const res = await call(`${nginx.httpUrl}/api/images/upload`, { method: 'POST', headers: { cookie, 'content-type': 'multipart/form-data; boundary=x' }, body: Buffer.alloc(12 * 1024 * 1024) });
    expect(res.status).toBe(413);
  });
});
