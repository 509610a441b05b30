import net from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../config/config.js';
import { ADMIN, cookieHeader, startHarness, type Harness } from '../../test/support/harness.js';
import { png } from '../../test/support/images.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { createHttpServer } from './http-server.js';

const harnesses = closedAfterEach<Harness>();
const sockets: net.Socket[] = [];
const servers: import('node:http').Server[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const LIMITS: Config['http'] = { headersTimeoutMs: 400, requestTimeoutMs: 400, uploadTimeoutMs: 10_000, keepAliveTimeoutMs: 5000, maxConnections: 5 };

async function serve(limits: Partial<Config['http']> = {}) {
  const h = await startHarness({ users: [ADMIN] });
  harnesses.push(h);
  const server = createHttpServer(h.app, { ...LIMITS, ...limits }, ['/api/admin/upload-image']);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { h, port: (server.address() as AddressInfo).port };
}

/** A raw connection that records what the server sends and when it closes. */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (d) => (received += d));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now())));
  await new Promise((r) => socket.once('connect', r));
  return { socket, closed, received: () => received };
}

/** Sends a POST's headers, then its body one byte every 50 ms until the connection closes. */
function trickle(socket: net.Socket, path: string) {
  socket.write(`POST ${path} HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
  const timer = setInterval(() => socket.writable && socket.write('{'), 50);
  socket.on('close', () => clearInterval(timer));
}

describe('the listening server', () => {
  it('answers a trickled login body with 408 JSON and closes the connection once REQUEST_TIMEOUT_MS has passed', async () => {
    const { port } = await serve();
    const { socket, closed, received } = await connect(port);
    const started = Date.now();
    trickle(socket, '/api/login');
    expect((await closed) - started).toBeLessThan(4 * LIMITS.requestTimeoutMs);
    expect(received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(received()).toContain('"error":"REQUEST_TIMEOUT"');
  });

  it('closes the connection of a refused upload whose body is still arriving, instead of waiting for the upload limit', async () => {
    const { port } = await serve();
    const { socket, closed, received } = await connect(port);
    const started = Date.now();
    trickle(socket, '/api/Admin/Upload-Image');
    expect((await closed) - started).toBeLessThan(LIMITS.uploadTimeoutMs / 4);
    expect(received()).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('lets a signed-in upload take longer than REQUEST_TIMEOUT_MS', async () => {
    const { h, port } = await serve();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    const csrf = (await request(h.app).get('/api/csrf-token').set('Cookie', cookie)).body.csrfToken as string;
    const boundary = 'sidecar-test-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      png(4, 4),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const { socket, closed, received } = await connect(port);
    socket.write(
      `POST /api/admin/upload-image HTTP/1.1\r\nHost: sidecar\r\nCookie: ${cookie}\r\nX-CSRF-Token: ${csrf}\r\nConnection: close\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const pieces = 10;
    for (let i = 0; i < pieces; i++) {
      await new Promise((r) => setTimeout(r, (2 * LIMITS.requestTimeoutMs) / pieces));
      socket.write(body.subarray(Math.floor((i * body.length) / pieces), Math.floor(((i + 1) * body.length) / pieces)));
    }
    await closed;
    expect(received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('closes a connection that sends no headers once HEADERS_TIMEOUT_MS has passed', async () => {
    const { port } = await serve();
    const { closed } = await connect(port);
    const started = Date.now();
    expect((await closed) - started).toBeLessThan(4 * LIMITS.headersTimeoutMs);
  });

  it.each([
    ['headers that never finish', 'GET /api/user HTTP/1.1\r\nHost: sidecar\r\n', 408, 'REQUEST_TIMEOUT'],
    ["headers over Node's size limit", `GET /api/user HTTP/1.1\r\nHost: sidecar\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ['bytes that are not HTTP', 'HELLO THERE\r\n\r\n', 400, 'BAD_REQUEST'],
  ])('answers %s with %i JSON, as every other error, and closes the connection', async (_, sent, status, code) => {
    const { port } = await serve();
    const { socket, closed, received } = await connect(port);
    socket.write(sent);
    await closed;
    const [head, body] = received().split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/i);
    expect(JSON.parse(body!)).toEqual({ success: false, error: code, message: expect.any(String) });
  });

  it('closes connections past MAX_CONNECTIONS on arrival while the open ones keep working', async () => {
    const { port } = await serve({ headersTimeoutMs: 5000, requestTimeoutMs: 5000 });
    const open = [];
    for (let i = 0; i < LIMITS.maxConnections; i++) open.push(await connect(port));
    const extra = await connect(port);
    await extra.closed;
    expect(extra.received()).toBe('');
    const first = open[0]!;
    first.socket.write('GET /health HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n');
    await first.closed;
    expect(first.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
