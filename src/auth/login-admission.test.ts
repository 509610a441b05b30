import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, startHarness, type Harness } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();
const DELAY_MS = 300;

/** One password slot and one place to wait in each lane; refusals held DELAY_MS. */
async function harness(): Promise<Harness> {
  const h = await startHarness({ users: [ADMIN, B2B], env: { PASSWORD_CONCURRENCY: '1', PASSWORD_QUEUE: '1', LOGIN_BUSY_DELAY_MS: String(DELAY_MS) } });
  harnesses.push(h);
  return h;
}

/** Holds the password slot and the untrusted lane's one waiting place until `release` is called. */
function fillTheQueue(h: Harness): { release: () => Promise<void> } {
  const releases: Array<() => void> = [];
  const held = [0, 1].map(() => h.deps.passwordQueue.run(() => new Promise<void>((resolve) => releases.push(resolve))));
  return {
    // The waiting one starts (and can be released) only once the running one is.
    release: async () => {
      for (let i = 0; i < held.length; i += 1) {
        while (releases.length <= i) await new Promise((resolve) => setImmediate(resolve));
        releases[i]!();
      }
      await Promise.all(held);
    },
  };
}

const busyLogins = async (h: Harness) => Number((await request(h.app).get('/metrics')).text.match(/^sidecar_logins_total\{outcome="busy"\} (\d+)$/m)?.[1] ?? 0);

describe('logins the password queue cannot take', () => {
  it('are answered 503 LOGIN_BUSY with Retry-After once held LOGIN_BUSY_DELAY_MS, before their body is read or a session is touched, and counted', async () => {
    const h = await harness();
    // A real check first, so the queue knows how long one takes.
    await request(h.app).post('/api/login').send(B2B).expect(200);
    const queue = fillTheQueue(h);
    const started = Date.now();
    // Malformed JSON: had the body been parsed, this would be a 400.
    const res = await request(h.app).post('/api/login').set('Content-Type', 'application/json').send('{"username": "alice", "pass');
    expect(Date.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 5);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'LOGIN_BUSY' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await busyLogins(h)).toBe(1);
    await queue.release();
    await request(h.app).post('/api/login').send(ADMIN).expect(200);
    expect(await busyLogins(h)).toBe(1);
  });

  it('are admitted by the trusted lane with a valid device cookie while the untrusted lane refuses', async () => {
    const h = await harness();
    const first = await request(h.app).post('/api/login').send(ADMIN).expect(200);
    const device = cookieHeader(first.headers['set-cookie'], 'sidecar.device');
    const queue = fillTheQueue(h);
    expect((await request(h.app).post('/api/login').send(ADMIN)).status).toBe(503);
    const trusted = request(h.app).post('/api/login').set('Cookie', device).send(ADMIN).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await queue.release();
    expect((await trusted).status).toBe(200);
  });

  it('are dropped without an answer when their client left during the hold, and the server goes on serving', async () => {
    const h = await harness();
    await request(h.app).post('/api/login').send(B2B).expect(200);
    const server = http.createServer(h.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const queue = fillTheQueue(h);
    try {
      const { port } = server.address() as AddressInfo;
      const body = JSON.stringify(ADMIN);
      const req = http.request({ host: '127.0.0.1', port, path: '/api/login', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
      req.on('error', () => undefined);
      req.end(body);
      await new Promise((resolve) => setTimeout(resolve, 50));
      req.destroy();
      await new Promise((resolve) => setTimeout(resolve, DELAY_MS + 100));
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(h.logs.lines.filter((l) => l.level === 50)).toEqual([]);
    } finally {
      await queue.release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
