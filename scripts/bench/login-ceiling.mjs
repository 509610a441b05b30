import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcrypt';
import { BENCH_USER, postLogin, ratio, sidecarDefaults, sleep, startLoop, startVariant } from './lib.mjs';

/**
 * POST /api/login throughput (correct password, JSON, a new session each) against bcrypt's own
 * ceiling at the configured cost: bcrypt.compare calls/s with PASSWORD_CONCURRENCY compares in
 * parallel, measured in a child process of its own. The sidecar gets enough connections to keep
 * its password queue busy without overflowing it; successful logins are never regulated.
 * Ceiling and sidecar are measured in alternating rounds, so a drift in the machine affects both.
 */
export async function loginCeiling({ quick }) {
  const defaults = sidecarDefaults();
  const cost = Number(process.env.BENCH_BCRYPT_COST) || defaults.users.bcryptCost;
  const { passwordConcurrency: concurrency, passwordQueue: queue } = defaults.login;
  const connections = Math.min(concurrency + queue, concurrency * 3);
  const rounds = quick ? 1 : 2;
  const seconds = quick ? 2 : 4;
  const warmupMs = quick ? 500 : 1000;
  const ceiling = { completed: 0, seconds: 0 };
  const sidecar = { completed: 0, seconds: 0, counts: {}, p50: [] };
  const server = await startVariant('file', { env: { BCRYPT_COST: String(cost) } });
  try {
    for (let round = 0; round < rounds; round++) {
      const c = await bcryptCeiling({ cost, parallel: concurrency, seconds, warmupMs });
      ceiling.completed += c.completed;
      ceiling.seconds += c.seconds;

      const loop = startLoop({ connections, send: () => postLogin(server.url, BENCH_USER) });
      await sleep(warmupMs);
      loop.mark();
      await sleep(seconds * 1000);
      const r = await loop.stop();
      sidecar.completed += r.counts['200'] ?? 0;
      sidecar.seconds += r.seconds;
      sidecar.p50.push(r.p50);
      for (const [label, n] of Object.entries(r.counts)) sidecar.counts[label] = (sidecar.counts[label] ?? 0) + n;
      if (r.firstError) throw r.firstError;
    }
  } finally {
    await server.stop();
    await fs.rm(server.dir, { recursive: true, force: true });
  }
  const ceilingRate = ceiling.completed / ceiling.seconds;
  const loginRate = sidecar.completed / sidecar.seconds;
  const refused = Object.entries(sidecar.counts).filter(([label]) => label !== '200');
  return {
    name: `Login throughput vs bcrypt's ceiling (cost ${cost}, ${concurrency} in parallel, ${rounds} round(s) of ${seconds} s, ${connections} connections)`,
    rows: [
      { variant: `bcrypt.compare, ${concurrency} in parallel (own process)`, perSecond: round(ceilingRate), completed: ceiling.completed },
      { variant: `POST /api/login, ${connections} connections, file store`, perSecond: round(loginRate), completed: sidecar.completed, p50ms: Math.round(median(sidecar.p50)), notOk: refused.map(([l, n]) => `${l}: ${n}`).join(', ') || 0 },
    ],
    figures: [
      { name: 'login throughput / bcrypt ceiling', value: ratio(loginRate, ceilingRate), target: '>= 0.9', pass: loginRate / ceilingRate >= 0.9 && refused.length === 0 },
    ],
  };
}

/** Runs this file as a child process measuring bcrypt.compare/s; resolves with {completed, seconds}. */
export function bcryptCeiling({ cost, parallel, seconds, warmupMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'ceiling', String(cost), String(parallel), String(seconds), String(warmupMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bcrypt ceiling child exited with ${code}`))));
  });
}

async function ceilingChild([cost, parallel, seconds, warmupMs]) {
  const password = 'bench-password';
  const hash = await bcrypt.hash(password, Number(cost));
  const loop = startLoop({ connections: Number(parallel), send: () => bcrypt.compare(password, hash).then((ok) => (ok ? 'ok' : 'mismatch')) });
  await sleep(Number(warmupMs));
  loop.mark();
  await sleep(Number(seconds) * 1000);
  const r = await loop.stop();
  if (r.firstError || !r.counts.ok) throw r.firstError ?? new Error('bcrypt.compare never matched');
  process.stdout.write(`${JSON.stringify({ completed: r.counts.ok, seconds: r.seconds })}\n`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'ceiling') {
  ceilingChild(process.argv.slice(3)).catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
}
