import fs from 'node:fs';
import { findPostgresBin, startPostgres } from '../../test/.build/test/support/postgres.js';
import { startRedis } from '../../test/.build/test/support/redis.js';
import { load, login, ratio, startVariant } from './lib.mjs';

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Authenticated GET /api/user: file store, Redis store (a throwaway redis-server) and sessions
 * shared with the main app in its PostgreSQL (SESSION_MODE=shared, connect-pg-simple rows in a
 * throwaway PostgreSQL) against MemoryStore, the stock file store and bare Express. All servers run at once and are loaded in
 * turn, round after round, so a drift in the machine's speed affects every variant alike.
 */
export async function userThroughput({ seconds, quick }) {
  const servers = {};
  const redis = fs.existsSync(REDIS_SERVER) ? await startRedis(REDIS_SERVER) : undefined;
  const pgBin = findPostgresBin();
  const postgres = pgBin ? await startPostgres(pgBin) : undefined;
  const VARIANTS = ['bare', 'memory', 'file', ...(redis ? ['redis'] : []), ...(postgres ? ['pg-shared'] : []), 'stock'];
  const options = {
    redis: () => ({ env: { REDIS_URL: redis.url } }),
    'pg-shared': () => ['file', { env: { SESSION_MODE: 'shared', SESSION_STORE: 'postgres', DATABASE_URL: postgres.url } }],
  };
  try {
    for (const variant of VARIANTS) {
      const chosen = options[variant]?.() ?? {};
      servers[variant] = Array.isArray(chosen) ? await startVariant(chosen[0], chosen[1]) : await startVariant(variant, chosen);
    }
    const targets = {};
    for (const variant of VARIANTS) {
      const cookie = variant === 'bare' ? '' : await login(servers[variant].url);
      targets[variant] = { url: `${servers[variant].url}/api/user`, headers: { cookie } };
      await load({ ...targets[variant], duration: 1 });
    }
    const rounds = Math.max(3, Math.round(seconds / 2));
    // Shorter rounds in a quick run, which must stay under 2 minutes in all (autocannon counts whole seconds).
    const roundSeconds = quick ? 1 : 2;
    const totals = Object.fromEntries(VARIANTS.map((v) => [v, { total: 0, seconds: 0, p50: [], p99: [], failures: 0 }]));
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) {
        const r = await load({ ...targets[variant], duration: roundSeconds });
        const t = totals[variant];
        t.total += r.total;
        t.seconds += roundSeconds;
        t.p50.push(r.p50);
        t.p99.push(r.p99);
        t.failures += r.failures;
      }
    }
    const rows = Object.fromEntries(
      VARIANTS.map((v) => {
        const t = totals[v];
        return [v, { rps: Math.round(t.total / t.seconds), total: t.total, p50: median(t.p50), p99: median(t.p99), failures: t.failures }];
      }),
    );
    return {
      name: `GET /api/user throughput (10 connections, ${rounds} interleaved rounds of ${roundSeconds} s)`,
      rows: VARIANTS.map((variant) => ({ variant, ...rows[variant] })),
      figures: [
        { name: 'file store / MemoryStore', value: ratio(rows.file.rps, rows.memory.rps), target: '>= 0.9', pass: rows.file.rps / rows.memory.rps >= 0.9 },
        redis
          ? { name: 'redis store / MemoryStore', value: ratio(rows.redis.rps, rows.memory.rps), target: '>= 0.9', pass: rows.redis.rps / rows.memory.rps >= 0.9 }
          : { name: 'redis store / MemoryStore', value: null, target: `skipped: ${REDIS_SERVER} not installed` },
        postgres
          ? { name: 'shared sessions in PostgreSQL / MemoryStore', value: ratio(rows['pg-shared'].rps, rows.memory.rps), target: '>= 0.8', pass: rows['pg-shared'].rps / rows.memory.rps >= 0.8 }
          : { name: 'shared sessions in PostgreSQL / MemoryStore', value: null, target: 'skipped: PostgreSQL not installed' },
        { name: 'stock session-file-store / MemoryStore', value: ratio(rows.stock.rps, rows.memory.rps), target: 'reference (~0.1)' },
        { name: 'file store / bare Express', value: ratio(rows.file.rps, rows.bare.rps), target: 'ceiling' },
      ],
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await redis?.destroy();
    await postgres?.destroy();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
