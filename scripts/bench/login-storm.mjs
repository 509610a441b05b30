import fs from 'node:fs/promises';
import { load, login, postLogin, ratio, sidecarDefaults, sleep, startLoop, startVariant } from './lib.mjs';

/**
 * Authenticated GET /api/user (10 connections) idle, then while a wrong-password flood keeps bcrypt
 * at full capacity: PASSWORD_CONCURRENCY + PASSWORD_QUEUE connections of POST /api/login, each
 * request from another client IP (X-Forwarded-For, trusted from loopback) and with varied
 * usernames, so brute-force regulation never cuts the flood short. The configured BCRYPT_COST is
 * used, as in production.
 */
export async function loginStorm({ quick }) {
  const defaults = sidecarDefaults();
  const cost = Number(process.env.BENCH_BCRYPT_COST) || defaults.users.bcryptCost;
  const { passwordConcurrency: concurrency, passwordQueue } = defaults.login;
  // The queue is bounded by expected wait now (PASSWORD_QUEUE only caps memory, 1000): the flood
  // keeps the size it had under the old count bound (8 x concurrency waiting), bcrypt stays saturated.
  const queue = Math.min(passwordQueue, concurrency * 8);
  const floodConnections = concurrency + queue;
  const seconds = quick ? 2 : 6;
  const server = await startVariant('file', { env: { BCRYPT_COST: String(cost), TRUST_PROXY: 'loopback' } });
  let flood;
  try {
    const cookie = await login(server.url);
    const target = { url: `${server.url}/api/user`, headers: { cookie }, connections: 10 };
    await load({ ...target, duration: 1 }); // autocannon runs whole seconds
    const idle = await load({ ...target, duration: seconds });

    flood = startLoop({
      connections: floodConnections,
      send: (i) =>
        postLogin(server.url, { username: i % 4 === 0 ? 'bench' : `storm-user-${i}`, password: `wrong-${i}` }, { 'x-forwarded-for': clientIp(i) }),
    });
    // Let the first wave fill the queue before measuring.
    await sleep(quick ? 500 : 1000);
    flood.mark();
    const during = await load({ ...target, duration: seconds });
    const floodPromise = flood.stop();
    flood = undefined;
    // The requests still queued are not counted; the server is stopped rather than drained.
    await server.stop();
    const f = await floodPromise;
    const count = (label) => f.counts[label] ?? 0;
    const other = Object.entries(f.counts).filter(([label]) => !['401', '503'].includes(label));
    return {
      name: `GET /api/user during a wrong-password flood (bcrypt cost ${cost}, flood ${floodConnections} connections = ${concurrency} running + ${queue} queued, ${seconds} s each)`,
      rows: [
        { variant: 'GET /api/user, idle', rps: Math.round(idle.rps), p50: idle.p50, p99: idle.p99, failures: idle.failures },
        { variant: 'GET /api/user, during flood', rps: Math.round(during.rps), p50: during.p50, p99: during.p99, failures: during.failures },
        {
          variant: 'flood POST /api/login (wrong passwords)',
          rps: round(f.rate('401')),
          p50: Math.round(f.p50 ?? 0),
          p99: Math.round(f.p99 ?? 0),
          answered401: count('401'),
          answered503: count('503'),
          other: other.map(([l, n]) => `${l}: ${n}`).join(', ') || 0,
        },
      ],
      figures: [
        { name: 'GET /api/user p99 during flood (ms)', value: during.p99, target: '<= 50', pass: during.p99 <= 50 && during.failures === 0 },
        { name: 'GET /api/user throughput during flood / idle', value: ratio(during.rps, idle.rps), target: '>= 0.5', pass: during.rps / idle.rps >= 0.5 },
        { name: 'flood logins checked per second (401)', value: round(f.rate('401')), target: 'reference' },
      ],
    };
  } finally {
    await flood?.stop();
    await server.stop();
    await fs.rm(server.dir, { recursive: true, force: true });
  }
}

/** A different client address for every request: 10.x.y.z. */
const clientIp = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const round = (x) => Math.round(x * 100) / 100;
