import fs from 'node:fs/promises';
import { BENCH_USER, postLogin, sidecarDefaults, startLoop, startVariant } from './lib.mjs';

// Regulation reserves each attempt before its check, so more than LOGIN_MAX_FAILURES logins of one
// user from one address at once get 429; this bench measures memory per login, not regulation.
const PARALLEL_LOGINS_ALLOWED = { LOGIN_MAX_FAILURES: '1000', LOGIN_MAX_FAILURES_PER_IP: '100000' };

const MB = 1024 * 1024;
const VARIANTS = [
  { variant: 'file', label: 'file store' },
  { variant: 'memory', label: 'MemoryStore' },
];

/**
 * Heap growth of the server process after many logins (each a new session) at BCRYPT_COST=4: the
 * file store against express-session's MemoryStore. heapUsed is read over IPC after forced full
 * collections (node --expose-gc) once a warm-up is done, and again after the logins.
 */
export async function loginHeap({ quick }) {
  const logins = quick ? 3_000 : 100_000;
  const warmup = quick ? 200 : 2000;
  const { passwordConcurrency: concurrency, passwordQueue: queue } = sidecarDefaults().login;
  // Enough to keep the password queue and the session writes busy, never past the queue (503).
  const connections = Math.min(16, concurrency + queue);
  const servers = {};
  let measured;
  try {
    // Both servers run at once: the file store waits on fsync, MemoryStore on the CPU, so the
    // two overlap well; each heap is its own process's.
    for (const { variant } of VARIANTS) servers[variant] = await startVariant(variant, { env: { BCRYPT_COST: '4', ...PARALLEL_LOGINS_ALLOWED }, nodeArgs: ['--expose-gc'] });
    measured = await Promise.all(VARIANTS.map(({ variant }) => measure(servers[variant], { warmup, logins, connections })));
  } finally {
    await Promise.all(Object.values(servers).map(async (server) => {
      await server.stop();
      await fs.rm(server.dir, { recursive: true, force: true });
    }));
  }
  const rows = measured.map((m, i) => ({
    variant: `${VARIANTS[i].label}, ${count(logins)} logins`,
    heapBeforeMB: round(m.before.heapUsed / MB),
    heapAfterMB: round(m.after.heapUsed / MB),
    growthMB: round(m.growth / MB),
    bytesPerLogin: Math.round(m.growth / logins),
    seconds: round(m.seconds),
    loginsPerSecond: Math.round(logins / m.seconds),
  }));
  const growth = Object.fromEntries(measured.map((m, i) => [VARIANTS[i].variant, m.growth / MB]));
  return {
    name: `Heap growth after ${count(logins)} logins (BCRYPT_COST=4, ${connections} connections each, both stores loaded at once, heapUsed after forced GC)`,
    rows,
    figures: [
      { name: `heap growth after ${count(logins)} logins, file store (MB)`, value: round(growth.file), target: '<= 2', pass: growth.file <= 2 },
      { name: `heap growth after ${count(logins)} logins, MemoryStore (MB)`, value: round(growth.memory), target: `reference (~${Math.round((415 * logins) / MB)} MB)` },
    ],
  };
}

async function measure(server, { warmup, logins, connections }) {
  await runLogins(server.url, warmup, connections);
  const before = await server.ask('heap');
  const start = performance.now();
  await runLogins(server.url, logins, connections);
  const seconds = (performance.now() - start) / 1000;
  const after = await server.ask('heap');
  return { before, after, seconds, growth: after.heapUsed - before.heapUsed };
}

/** `total` logins over `connections` connections; any answer but 200 fails the bench. */
async function runLogins(url, total, connections) {
  const r = await startLoop({ connections, total, send: () => postLogin(url, BENCH_USER) }).done();
  if (r.firstError) throw r.firstError;
  const failed = Object.entries(r.counts).filter(([label]) => label !== '200');
  if (failed.length) throw new Error(`logins failed: ${failed.map(([l, n]) => `${l} × ${n}`).join(', ')}`);
}

const count = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));
const round = (x) => Math.round(x * 100) / 100;
