import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, listen, startHarness, type Harness, type TestUser } from '../../test/support/harness.js';
import { startStubMainApp, type StubMainApp } from '../../test/support/stub-main-app.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

async function setup(env: Record<string, string> = {}) {
  const main = await startStubMainApp();
  cleanup.push(() => main.close());
  const h = await startHarness({ users: [ADMIN, B2B], env: { MAIN_APP_URL: main.url, ...env } });
  cleanup.push(() => h.close());
  return { h, main };
}

async function served(h: Harness) {
  const server = await listen(h);
  cleanup.push(server.close);
  return server;
}

async function loginCookie(h: Harness, user: TestUser): Promise<string> {
  return cookieHeader((await request(h.app).post('/api/login').send({ username: user.username, password: user.password })).headers['set-cookie']);
}

/** Sends raw bytes; resolves with what came back and whether the server closed the connection within 3 s. */
function raw(port: number, text: string, options: { halfClose?: boolean } = {}): Promise<{ out: string; closed: boolean }> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect(port, '127.0.0.1', () => (options.halfClose === false ? socket.write(text) : socket.end(text)));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ out, closed: false });
    }, 3000);
    socket.on('data', (d) => (out += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ out, closed: true });
    });
  });
}

const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

/** Opens a WebSocket: the first message on success, or the status and JSON body of a refusal. */
function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<{ first?: unknown; status?: number; body?: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('message', (m) => {
      resolve({ first: JSON.parse(m.toString()) });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    ws.on('error', reject);
  });
}

const UNAUTHORIZED = { success: false, error: 'UNAUTHORIZED', message: 'Unauthorized' };
const FORBIDDEN = { success: false, error: 'FORBIDDEN', message: 'Forbidden' };

describe('the built-in proxy (MAIN_APP_URL set)', () => {
  it('passes method, path, query, headers and a JSON body to the main app unchanged', async () => {
    const { h, main } = await setup();
    const res = await request(h.app).put('/api/products/7?x=1&y=%20z').set('x-custom', 'kept').send({ name: 'Widget' });
    expect(res.status).toBe(200);
    expect(res.headers['x-main-app']).toBe('yes');
    expect(res.body).toMatchObject({ method: 'PUT', url: '/api/products/7?x=1&y=%20z', body: '{"name":"Widget"}' });
    expect(main.seen[0]!.headers['x-custom']).toBe('kept');
  });

  it('passes form and multipart bodies byte for byte', async () => {
    const { h, main } = await setup();
    await request(h.app).post('/contact').type('form').send({ a: '1', b: 'two words' }).expect(200);
    expect(main.seen[0]!.body.toString()).toBe('a=1&b=two%20words');
    const file = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    await request(h.app).post('/api/products/7/manual').attach('manual', file, 'm.bin').expect(200);
    expect(main.seen[1]!.body.includes(file)).toBe(true);
  });

  it('passes status codes, redirects and the main app cookies through', async () => {
    const { h } = await setup();
    expect((await request(h.app).get('/status/418')).status).toBe(418);
    const redirect = await request(h.app).get('/redirect').set('cookie', 'connect.sid=abc');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/landing');
    expect(redirect.headers['set-cookie']).toEqual(['connect.sid=main-app-session; Path=/; HttpOnly']);
  });

  it('streams a response as the main app sends it', async () => {
    const { h } = await setup();
    const { url, close } = await listen(h);
    cleanup.push(close);
    const arrivals: number[] = [];
    const start = Date.now();
    const text = await new Promise<string>((resolve) => {
      http.get(`${url}/stream`, (res) => {
        let body = '';
        res.on('data', (c) => {
          arrivals.push(Date.now() - start);
          body += c;
        });
        res.on('end', () => resolve(body));
      });
    });
    expect(text).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
  });

  it('strips client-sent X-Auth-* headers and adds the logged-in user', async () => {
    const { h, main } = await setup();
    await request(h.app).get('/api/orders').set('x-auth-user', 'root').set('x-auth-role', 'super_admin');
    expect(main.seen[0]!.headers['x-auth-user']).toBeUndefined();
    expect(main.seen[0]!.headers['x-auth-role']).toBeUndefined();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    await request(h.app).get('/api/orders').set('cookie', cookie).set('x-auth-user', 'root');
    expect(main.seen[1]!.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-role': 'super_admin' });
  });

  it('forwards a user whose name cannot go into a header percent-encoded, and keeps serving', async () => {
    const { h, main } = await setup();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    const findById = h.deps.users.findById.bind(h.deps.users);
    h.deps.users.findById = async (id) => {
      const user = await findById(id);
      return user && { ...user, username: '张伟\r\nX-Evil: 1' };
    };
    const { url, close } = await listen(h);
    cleanup.push(close);
    const res = await fetch(`${url}/api/orders`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const seen = main.seen.at(-1)!.headers;
    expect(decodeURIComponent(seen['x-auth-user'] as string)).toBe('张伟\r\nX-Evil: 1');
    expect(seen['x-auth-user-encoded']).toBe('percent');
    expect(seen['x-evil']).toBeUndefined();
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('sets X-Forwarded-For from the socket, ignoring what an untrusted client claims', async () => {
    const { h, main } = await setup({ TRUST_PROXY: 'false' });
    await request(h.app).get('/x').set('x-forwarded-for', '6.6.6.6').set('x-forwarded-proto', 'https');
    expect(main.seen[0]!.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(main.seen[0]!.headers['x-forwarded-for']).not.toContain('6.6.6.6');
    expect(main.seen[0]!.headers['x-forwarded-proto']).toBe('http');
  });

  it('keeps owned routes for itself: login never reaches the main app', async () => {
    const { h, main } = await setup();
    await request(h.app).post('/api/login').send(ADMIN).expect(200);
    await request(h.app).get('/health').expect(200);
    expect(main.seen).toEqual([]);
  });

  it('proxies WebSocket upgrades with the identity header', async () => {
    const { h } = await setup();
    const { url, close } = await listen(h);
    cleanup.push(close);
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket`, { headers: { cookie, 'x-auth-user': 'forged' } });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (m) => {
        messages.push(m.toString());
        if (messages.length === 1) ws.send('ping');
        if (messages.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(JSON.parse(messages[0]!)).toEqual({ hello: true, user: 'alice' });
    expect(messages[1]).toBe('echo:ping');
  });

  it('answers 502 JSON at once when the main app is down, and its own routes keep working', async () => {
    const { h, main } = await setup();
    await main.close();
    const res = await request(h.app).get('/api/products');
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ success: false, error: 'MAIN_APP_UNAVAILABLE', message: 'The main application is not reachable.' });
    await request(h.app).post('/api/login').send(ADMIN).expect(200);
  });

  it('answers 504 JSON when the main app is too slow', async () => {
    const { h } = await setup({ MAIN_APP_TIMEOUT: '1' });
    const res = await request(h.app).get('/slow');
    expect(res.status).toBe(504);
    expect(res.body.error).toBe('MAIN_APP_TIMEOUT');
  });

  it('survives oversized headers and conflicting Content-Length/Transfer-Encoding with a clear error', async () => {
    const { h } = await setup();
    const { port } = await served(h);
    expect((await raw(port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).out).toMatch(/^HTTP\/1\.1 431/);
    expect((await raw(port, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).out).toMatch(/^HTTP\/1\.1 400/);
    expect((await request(h.app).get('/health')).status).toBe(200);
  });
});

describe('the paths the sidecar owns, through the built-in proxy', () => {
  it('never forwards an owned path, in any spelling the main app would accept', async () => {
    const { h, main } = await setup();
    const spellings = [
      '//api/login',
      '///api/login',
      '/api//user',
      '//api/admin/upload-image',
      '/API/LOGIN',
      '/api/login/',
      '/Api/User/',
      '/api/%6cogin',
      '/api%2Flogout',
      '//api/admin/dashboard',
      '/api/admin//sessions/x',
      '//api/auth/verify',
      '//uploads/products/a.png',
      '/health/',
    ];
    for (const path of spellings) {
      for (const method of ['get', 'post'] as const) {
        const res = await request(h.app)[method](path).send({ username: ADMIN.username, password: 'wrong' });
        expect(res.headers['x-main-app'], `${method} ${path}`).toBeUndefined();
        expect(res.type, `${method} ${path}`).toBe('application/json');
      }
    }
    const { port } = await served(h);
    const backslash = await raw(port, 'POST /api\\login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(backslash.out).toMatch(/^HTTP\/1\.1 404/);
    expect(main.seen).toEqual([]);
  });

  it("keeps an admin's DELETE below /api/admin/upload-image, in any spelling, from the main app", async () => {
    const { h, main } = await setup();
    const cookie = await loginCookie(h, ADMIN);
    const name = '0123456789abcdef0123456789abcdef.png';
    for (const path of [`/api/admin/upload-image/${name}`, `/API/Admin/Upload-Image/${name}/`, `//api/admin/upload-image/${name}`, `/api/admin/upload-image%2F${name}`, '/api/admin/upload-image/a/b']) {
      const res = await request(h.app).delete(path).set('cookie', cookie);
      expect({ path, status: res.status, error: res.body.error, mainApp: res.headers['x-main-app'] }).toEqual({ path, status: 404, error: 'NOT_FOUND', mainApp: undefined });
    }
    expect(main.seen).toEqual([]);
  });

  it('answers case and trailing-slash spellings with its own handlers, and other spellings with JSON 404', async () => {
    const { h } = await setup();
    const login = await request(h.app).post('/API/LOGIN').send(ADMIN);
    expect(login.status).toBe(200);
    const cookie = cookieHeader(login.headers['set-cookie']);
    expect((await request(h.app).get('/api/user/').set('cookie', cookie)).body.username).toBe('alice');
    const doubled = await request(h.app).post('//api/login').send(ADMIN);
    expect(doubled.status).toBe(404);
    expect(doubled.body.error).toBe('NOT_FOUND');
  });
});

describe("the main app's responses through the built-in proxy", () => {
  it('carry only the headers the main app sent', async () => {
    const { h, main } = await setup();
    const { url } = await served(h);
    const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding']);
    const names = (res: Response) => {
      const found: string[] = [];
      res.headers.forEach((_value, name) => hopByHop.has(name) || found.push(name));
      return found.sort();
    };
    for (const path of ['/', '/api/products', '/status/404']) {
      const direct = await fetch(`${main.url}${path}`);
      const proxied = await fetch(`${url}${path}`);
      expect(proxied.status).toBe(direct.status);
      expect(names(proxied), path).toEqual(names(direct));
    }
  });

  it('keep the main page free of the sidecar CSP, HSTS, COOP/CORP and X-Frame-Options', async () => {
    const { h } = await setup({ HSTS_MAX_AGE: '600' });
    const res = await request(h.app).get('/');
    expect(res.text).toContain('Main app');
    for (const name of ['content-security-policy', 'strict-transport-security', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'x-frame-options', 'x-request-id']) {
      expect(res.headers[name], name).toBeUndefined();
    }
  });
});

describe("the sidecar's own answers", () => {
  it('carry no HSTS header by default', async () => {
    const { h } = await setup();
    const res = await request(h.app).get('/api/user');
    expect(res.status).toBe(401);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('carry HSTS with the configured max-age and without includeSubDomains when HSTS_MAX_AGE is set', async () => {
    const { h } = await setup({ HSTS_MAX_AGE: '31536000' });
    expect((await request(h.app).get('/health')).headers['strict-transport-security']).toBe('max-age=31536000');
  });
});

describe("the gate in front of the main app's admin API and pages", () => {
  it("answers 401 JSON to anonymous requests for the main app's admin API, in every spelling", async () => {
    const { h, main } = await setup();
    for (const path of ['/api/admin/users', '/api/admin', '/api/admin/', '//api/admin/users', '/API/Admin/Users', '/api/%61dmin/users', '/api/admin%2Fusers', '/api//admin/products?x=1']) {
      const res = await request(h.app).get(path);
      expect(res.status, path).toBe(401);
      expect(res.body, path).toEqual(UNAUTHORIZED);
    }
    expect(main.seen).toEqual([]);
  });

  it('answers 403 JSON to a logged-in user without an admin role, also on upgrades', async () => {
    const { h, main } = await setup();
    const cookie = await loginCookie(h, B2B);
    const res = await request(h.app).get('/api/admin/users').set('cookie', cookie);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(FORBIDDEN);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const { url } = await served(h);
    expect(await openWebSocket(`${url.replace('http', 'ws')}/api/admin/live`, { cookie })).toEqual({ status: 403, body: FORBIDDEN });
    expect(main.seen).toEqual([]);
  });

  it('lets an admin through with the identity headers', async () => {
    const { h, main } = await setup();
    const cookie = await loginCookie(h, ADMIN);
    expect((await request(h.app).get('/api/admin/users').set('cookie', cookie)).status).toBe(200);
    expect(main.seen[0]!.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-role': 'super_admin' });
  });

  it('leaves admin pages open by default', async () => {
    const { h } = await setup();
    const res = await request(h.app).get('/admin');
    expect(res.status).toBe(200);
    expect(res.headers['x-main-app']).toBe('yes');
  });

  it('with PROTECT_ADMIN_PAGES sends anonymous browsers to /login?next=<target> and refuses other roles with 403 JSON', async () => {
    const { h, main } = await setup({ PROTECT_ADMIN_PAGES: 'true' });
    const anonymous = await request(h.app).get('/admin/users?tab=1');
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toBe('/login?next=%2Fadmin%2Fusers%3Ftab%3D1');
    expect((await request(h.app).get('/ADMIN/')).headers.location).toBe('/login?next=%2FADMIN%2F');
    expect((await request(h.app).get('//admin')).headers.location).toBe('/login?next=%2F');
    const b2b = await request(h.app).get('/admin').set('cookie', await loginCookie(h, B2B));
    expect(b2b.status).toBe(403);
    expect(b2b.body).toEqual(FORBIDDEN);
    expect(main.seen).toEqual([]);
    expect((await request(h.app).get('/admin').set('cookie', await loginCookie(h, ADMIN))).status).toBe(200);
    for (const page of ['/admin-login', '/admin-panel']) expect((await request(h.app).get(page)).status, page).toBe(200);
  });

  it('uses LOGIN_URL and LOGIN_REDIRECT_PARAM for the redirect', async () => {
    const { h } = await setup({ PROTECT_ADMIN_PAGES: 'true', LOGIN_URL: '/auth', LOGIN_REDIRECT_PARAM: 'redirect' });
    expect((await request(h.app).get('/admin')).headers.location).toBe('/auth?redirect=%2Fadmin');
  });
});

describe('upgrades through the built-in proxy', () => {
  it('pass the identity on a WebSocket upgrade that follows ordinary proxied requests', async () => {
    const { h } = await setup();
    const { url } = await served(h);
    const cookie = await loginCookie(h, ADMIN);
    expect((await fetch(`${url}/api/orders`, { headers: { cookie } })).status).toBe(200);
    expect(await openWebSocket(`${url.replace('http', 'ws')}/socket`, { cookie })).toEqual({ first: { hello: true, user: 'alice' } });
    expect(await openWebSocket(`${url.replace('http', 'ws')}/socket`)).toEqual({ first: { hello: true, user: null } });
  });

  it('answer an anonymous WebSocket upgrade to the admin API with 401 JSON', async () => {
    const { h, main } = await setup();
    const { url } = await served(h);
    expect(await openWebSocket(`${url.replace('http', 'ws')}//API/admin/live`)).toEqual({ status: 401, body: UNAUTHORIZED });
    expect(main.seen).toEqual([]);
  });

  it("never forward a WebSocket upgrade to the sidecar's own paths", async () => {
    const { h, main } = await setup();
    const { url } = await served(h);
    const res = await openWebSocket(`${url.replace('http', 'ws')}/api/login`);
    expect(res).toMatchObject({ status: 400, body: { success: false, error: 'UPGRADE_NOT_SUPPORTED' } });
    expect(main.seen).toEqual([]);
  });

  it('answer an h2c upgrade to /api/login with 400 JSON and close the connection', async () => {
    const { h, main } = await setup();
    const { port } = await served(h);
    const body = JSON.stringify({ username: ADMIN.username, password: ADMIN.password });
    const head = `POST /api/login HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    for (const halfClose of [true, false]) {
      const { out, closed } = await raw(port, head + body, { halfClose });
      expect(out).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(out)).toMatchObject({ success: false, error: 'UPGRADE_NOT_SUPPORTED' });
      expect(closed).toBe(true);
    }
    expect(main.seen).toEqual([]);
  });
});

describe('without MAIN_APP_URL', () => {
  it('answers unknown paths with 404 JSON and proxies nothing', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const res = await request(h.app).get('/some/page');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('NOT_FOUND');
  });
});
