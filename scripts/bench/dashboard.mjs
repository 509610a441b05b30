import fs from 'node:fs/promises';
import { DEFAULT_ADMIN_QUERIES } from '../../dist/admin/admin-queries.js';
import path from 'node:path';
import { findPostgresBin, startPostgres } from '../../test/.build/test/support/postgres.js';
import { load, login, ratio, startVariant, tempDir } from './lib.mjs';

const SCHEMA = `
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, is_active boolean NOT NULL DEFAULT true);
CREATE TABLE license_keys (id serial PRIMARY KEY, product_id int REFERENCES products(id), is_used boolean NOT NULL DEFAULT false);
CREATE TABLE orders (id serial PRIMARY KEY, total_amount numeric(10,2) NOT NULL, final_amount numeric(10,2) NOT NULL, status text NOT NULL);
CREATE TABLE users (id serial PRIMARY KEY, username text UNIQUE NOT NULL, password text NOT NULL, role text NOT NULL);
INSERT INTO products (name) SELECT 'Product ' || i FROM generate_series(1, 50) i;
INSERT INTO license_keys (product_id, is_used) SELECT 1 + (i % 50), i % 3 = 0 FROM generate_series(1, 20000) i;
INSERT INTO orders (total_amount, final_amount, status) SELECT i % 100, i % 100, CASE WHEN i % 5 = 0 THEN 'cancelled' ELSE 'completed' END FROM generate_series(1, 5000) i;
INSERT INTO users (username, password, role) SELECT 'user' || i, 'x', 'b2b_user' FROM generate_series(1, 500) i;
`;

/** GET /api/admin/dashboard on PostgreSQL under 100 concurrent requests, against GET /api/user. */
export async function dashboardBench({ seconds }) {
  const bin = findPostgresBin();
  if (!bin) return { name: 'Dashboard on PostgreSQL', rows: [], figures: [{ name: 'dashboard / GET /api/user throughput', value: null, target: 'skipped: PostgreSQL not installed' }] };
  const db = await startPostgres(bin, ['shared_preload_libraries=pg_stat_statements']);
  await db.query(SCHEMA);
  await db.query('CREATE EXTENSION pg_stat_statements');
  const dir = await tempDir();
  const server = await startVariant('file', { dir, env: { ADMIN_DATA_SOURCE: 'postgres', DATABASE_URL: db.url, ADMIN_CACHE_SECONDS: '10' } });
  try {
    const cookie = await login(server.url);
    const opts = (p) => ({ url: `${server.url}${p}`, headers: { cookie }, connections: 100 });
    const before = await countQueries(db);
    const start = Date.now();
    await load({ ...opts('/api/admin/dashboard'), duration: 1 });
    await load({ ...opts('/api/user'), duration: 1 });
    // Alternating rounds, so a drift in the machine's speed affects both alike.
    const dash = { total: 0, p99: [], failures: 0 };
    const user = { total: 0, p99: [], failures: 0 };
    const rounds = Math.max(3, Math.round(seconds / 2));
    for (let i = 0; i < rounds; i++) {
      for (const [path, acc] of [['/api/admin/dashboard', dash], ['/api/user', user]]) {
        const r = await load({ ...opts(path), duration: 2 });
        acc.total += r.total;
        acc.p99.push(r.p99);
        acc.failures += r.failures;
      }
    }
    for (const acc of [dash, user]) {
      acc.rps = acc.total / (rounds * 2);
      acc.p99 = acc.p99.sort((a, b) => a - b)[Math.floor(acc.p99.length / 2)];
    }
    const elapsed = (Date.now() - start) / 1000;
    const after = await countQueries(db);
    const periods = Math.ceil(elapsed / 10);
    return {
      name: `Dashboard on PostgreSQL (100 connections, alternating 2 s rounds, cache 10 s)`,
      rows: [
        { variant: 'GET /api/admin/dashboard', rps: Math.round(dash.rps), p99: dash.p99, failures: dash.failures },
        { variant: 'GET /api/user', rps: Math.round(user.rps), p99: user.p99, failures: user.failures },
        { variant: 'admin queries the database ran (warm-up and run)', count: after - before, cachePeriods: periods },
      ],
      figures: [
        { name: 'dashboard / GET /api/user throughput', value: ratio(dash.rps, user.rps), target: '>= 0.8', pass: dash.rps / user.rps >= 0.8 },
        { name: 'database queries per figure per cache period', value: ratio(after - before, FIGURES * periods), target: '<= 1', pass: after - before <= FIGURES * periods },
      ],
    };
  } finally {
    await server.stop();
    await db.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** One query per figure: licenseCounts, totalUsers, totalSales, activeKeys, totalProducts. */
const FIGURES = Object.keys(DEFAULT_ADMIN_QUERIES).length;

/** Executions of the admin queries, as pg_stat_statements counted them. */
async function countQueries(db) {
  const [row] = await db.query("SELECT coalesce(sum(calls), 0)::int AS n FROM pg_stat_statements WHERE query ~* '(license_keys|FROM users|FROM orders|FROM products)' AND query !~* 'pg_stat_statements|INSERT|CREATE'");
  return row.n;
}
