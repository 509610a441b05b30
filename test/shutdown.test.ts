import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, B2B, makeUser, tempDir } from './support/harness.js';
import { bigPng } from './support/images.js';
import { call } from './support/nginx.js';
import { startServer, type RunningServer } from './support/processes.js';
import { writeUsersFile } from '../src/users/users-file.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

async function deployed(): Promise<string> {
  const cwd = await tempDir('sidecar-shutdown-');
  await writeUsersFile(path.join(cwd, 'users.json'), [await makeUser(ADMIN, 'u-alice'), await makeUser(B2B, 'u-bob')]);
  return cwd;
}
async function start(cwd: string, env: Record<string, string> = {}) {
  const server = await startServer({ cwd, env });
  servers.push(server);
  return server;
}
async function login(url: string, user = ADMIN): Promise<string> {
  const res = await call(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  expect(res.status).toBe(200);
  return (res.headers['set-cookie']![0] as string).split(';')[0]!;
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful shutdown', () => {
  it('finishes an upload that is in flight when SIGTERM arrives, refuses new connections, and exits 0', async () => {
    const cwd = await deployed();
    const server = await start(cwd);
    const cookie = await login(server.url);
    const image = bigPng(3 * 1024 * 1024);
    const boundary = 'shutdown-test-boundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="slow.png"\r\nContent-Type: image/png\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = Buffer.concat([head, image, tail]);

    const reply = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = http.request(`${server.url}/api/admin/upload-image`, {
        method: 'POST',
        headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      void (async () => {
        const chunk = 256 * 1024;
        for (let i = 0; i < body.length; i += chunk) {
          req.write(body.subarray(i, i + chunk));
          await pause(60);
        }
        req.end();
      })();
    });

    await pause(200);
    const exit = server.stop('SIGTERM');
    await pause(100);
    await expect(call(`${server.url}/health`)).rejects.toThrow(/ECONNREFUSED/);
    const { status, json } = await reply;
    expect(status).toBe(200);
    expect(json).toMatchObject({ success: true, size: image.length });
    const stored = await fs.readFile(path.join(cwd, 'uploads/products', String(json.filename)));
    expect(stored.equals(image)).toBe(true);
    expect(await exit).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  }, 30_000);

  it('lets a request that is mid-body on a kept-alive connection finish, and closes that connection after it', async () => {
    const server = await start(await deployed());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (p: string) =>
      new Promise<number>((resolve, reject) => {
        http.get(`${server.url}${p}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        }).on('error', reject);
      });
    expect(await get('/health')).toBe(200);
    // The login body arrives in two parts, 400 ms apart, across the signal.
    const body = JSON.stringify(ADMIN);
    const slow = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = http.request(`${server.url}/api/login`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 400);
    });
    await pause(100);
    const started = Date.now();
    const exit = server.stop('SIGTERM');
    expect(await slow).toEqual({ status: 200, connection: 'close' });
    expect(await exit).toBe(0);
    // Not held open until the keep-alive timeout (5 s).
    expect(Date.now() - started).toBeLessThan(3000);
    agent.destroy();
  }, 30_000);

  it('closes connections still open when the shutdown timeout passes, then exits 0', async () => {
    const server = await start(await deployed(), { SHUTDOWN_TIMEOUT: '1' });
    const hanging = new Promise<string>((resolve) => {
      const req = http.request(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1000 } });
      req.on('error', (e) => resolve(e.message));
      req.on('response', () => resolve('response'));
      req.write('{"username":');
    });
    await pause(100);
    const started = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await hanging).toMatch(/socket hang up|ECONNRESET/);
  }, 30_000);
});

describe('SIGKILL under load', () => {
  it('loses no completed login and leaves every session file readable', async () => {
    const cwd = await deployed();
    const server = await start(cwd);
    const completed: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await call(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
          if (res.status === 200) completed.push((res.headers['set-cookie']![0] as string).split(';')[0]!);
          await call(`${server.url}/api/user`, { headers: { cookie: completed.at(-1) ?? '' } });
        } catch {
          return; // the server died mid-request
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await pause(1500);
    await server.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect(completed.length).toBeGreaterThan(20);

    const sessionDir = path.join(cwd, 'sessions');
    const files = (await fs.readdir(sessionDir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(completed.length);
    for (const f of files) JSON.parse(await fs.readFile(path.join(sessionDir, f), 'utf8'));

    const restarted = await start(cwd);
    const statuses = await Promise.all(completed.map(async (cookie) => (await call(`${restarted.url}/api/user`, { headers: { cookie } })).status));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
