import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { login, request, startLoop, startVariant, tempDir } from './lib.mjs';

const DAY_MS = 86_400_000;
/**
 * GET /api/user a second during the reap: steady traffic, well below what the machine can serve.
 * (A closed loop at full speed keeps the event loop saturated, and every step of the reap, about
 * seven threadpool round trips per file, then waits a loaded loop turn: 10k files took ~50 s
 * instead of ~2.5 s on 2 cores.)
 */
const GET_RATE = 200;

/**
 * FileSessionStore.reap() over many expired session files, inside a running sidecar that serves
 * authenticated GET /api/user (10 connections, GET_RATE requests/s in all) meanwhile: how long the
 * reap takes and how much it delays the event loop (monitorEventLoopDelay, 1 ms resolution),
 * against the same load without a reap. The files are written straight to the session directory in the store's format, with
 * mtimes and __lastAccess two days old (the TTL is one day).
 */
export async function reapBench({ quick }) {
  const files = quick ? 5_000 : 100_000;
  const dir = await tempDir();
  const sessionDir = path.join(dir, 'sessions');
  const writeStart = performance.now();
  writeExpiredSessions(sessionDir, files);
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const server = await startVariant('file', { dir, env: { SESSION_TTL: String(DAY_MS / 1000) } });
  try {
    const cookie = await login(server.url);
    const get = async () => (await request(`${server.url}/api/user`, { headers: { cookie } })).status;
    const loop = startLoop({ connections: 10, send: get, rate: GET_RATE });
    let during;
    try {
      // Warm-up, then the same load without a reap as the baseline.
      await server.ask('loopDelay', { ms: 500 });
      loop.mark();
      const baselineDelay = await server.ask('loopDelay', { ms: quick ? 1000 : 2000 });
      const baselineGets = await loop.stop();
      during = startLoop({ connections: 10, send: get, rate: GET_RATE });
      const reap = await server.ask('reap');
      const reapGets = await during.stop();
      for (const r of [baselineGets, reapGets]) {
        const failed = Object.entries(r.counts).filter(([label]) => label !== '200');
        if (failed.length) throw new Error(`GET /api/user failed: ${failed.map(([l, n]) => `${l} × ${n}`).join(', ')}`);
      }
      const left = fs.readdirSync(sessionDir).filter((n) => n.endsWith('.json')).length;
      if (reap.removed !== files || left !== 1) throw new Error(`reap removed ${reap.removed} of ${files} expired files; ${left} session files left (expected 1, the live one)`);
      return {
        name: `Reaping ${count(files)} expired session files while serving GET /api/user (10 connections, ${GET_RATE} requests/s)`,
        rows: [
          { variant: `write ${count(files)} expired files (setup)`, seconds: round(writeSeconds) },
          { variant: 'GET /api/user, no reap', seconds: round(baselineGets.seconds), rps: Math.round(baselineGets.completed / baselineGets.seconds), p99ms: round(baselineGets.p99), loopP50ms: baselineDelay.p50, loopP99ms: baselineDelay.p99, loopMaxMs: baselineDelay.max },
          { variant: `GET /api/user during reap (${reap.scanned} scanned, ${reap.removed} removed)`, seconds: round(reap.durationMs / 1000), rps: Math.round(reapGets.completed / reapGets.seconds), p99ms: round(reapGets.p99), loopP50ms: reap.delay.p50, loopP99ms: reap.delay.p99, loopMaxMs: reap.delay.max },
        ],
        figures: [
          { name: `reap duration for ${count(files)} expired sessions (s)`, value: round(reap.durationMs / 1000), target: 'report only' },
          { name: 'event-loop p99 delay while reaping (ms)', value: reap.delay.p99, target: '<= 20', pass: reap.delay.p99 <= 20 },
        ],
      };
    } finally {
      await loop.stop();
      await during?.stop();
    }
  } finally {
    await server.stop();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** Session files as FileSessionStore writes them (express-session cookie, passport principal), expired. */
function writeExpiredSessions(dir, n) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const old = Date.now() - 2 * DAY_MS;
  const oldDate = new Date(old);
  for (let i = 0; i < n; i++) {
    const sid = randomBytes(24).toString('base64url');
    const session = {
      cookie: { originalMaxAge: DAY_MS, expires: new Date(old + DAY_MS).toISOString(), secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
      passport: { user: { id: `u-${i % 500}`, stamp: 'AAAAAAAAAAAAAAAA', createdAt: old, ip: '127.0.0.1', userAgent: 'bench' } },
      __lastAccess: old,
    };
    const fd = fs.openSync(path.join(dir, `${sid}.json`), 'w', 0o600);
    fs.writeSync(fd, JSON.stringify(session));
    fs.futimesSync(fd, oldDate, oldDate);
    fs.closeSync(fd);
  }
}

const count = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));
const round = (x) => Math.round(x * 100) / 100;
