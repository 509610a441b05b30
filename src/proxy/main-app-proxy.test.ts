import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, cookieHeader, listen, startHarness, type Harness } from '../testing/harness.js';
import { startStubMainApp, type StubMainApp } from '../testing/stub-main-app.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

async function setup(env: Record<string, string> = {}) {
  const main = await startStubMainApp();
  cleanup.push(() => main.close());
  const h = await startHarness({ users: [ADMIN], env: { MAIN_APP_URL: main.url, ...env } });
  cleanup.push(() => h.close());
  return { h, main };
}

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
    const { port, close } = await listen(h);
    cleanup.push(close);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
        let out = '';
        socket.on('data', (d) => (out += d));
        socket.on('close', () => resolve(out));
        socket.on('error', () => resolve(out));
      });
    expect(await raw(`GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await raw('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await request(h.app).get('/health')).status).toBe(200);
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
