import { randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcrypt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLICATION_NAME, Database } from '../src/db/pool.js';
import { DEFAULT_ADMIN_QUERIES } from '../src/admin/admin-queries.js';
import { PostgresAdminDataSource } from '../src/admin/postgres-source.js';
import { createLogger } from '../src/observability/logger.js';
import { cookieHeader, startHarness, tempDir, type Harness } from './support/harness.js';
import { findPostgresBin, startPostgres, type ThrowawayPostgres } from './support/postgres.js';
import { requireProgram } from './support/programs.js';
import { userDirectoryContract } from './support/user-directory-contract.js';
import { PostgresUserDirectory, parseRoleMap } from '../src/users/postgres-directory.js';
import { hashParameters, PasswordVerifier } from '../src/users/password.js';
import { httpAnswerOf } from './support/http-answer.js';

const bin = findPostgresBin();
const available = requireProgram('PostgreSQL', bin ? [path.join(bin, 'postgres')] : ['/usr/lib/postgresql/<version>/bin/postgres']);

const SCHEMA = `
CREATE TABLE products (id varchar PRIMARY KEY DEFAULT gen_random_uuid()::text, name text NOT NULL, is_active boolean NOT NULL DEFAULT true);
CREATE TABLE license_keys (id varchar PRIMARY KEY DEFAULT gen_random_uuid()::text, product_id varchar NOT NULL REFERENCES products(id), key_value text NOT NULL, is_used boolean NOT NULL DEFAULT false);
CREATE TABLE orders (id varchar PRIMARY KEY DEFAULT gen_random_uuid()::text, total_amount numeric(10,2) NOT NULL, final_amount numeric(10,2) NOT NULL, status varchar NOT NULL DEFAULT 'pending');
CREATE TABLE users (id serial PRIMARY KEY, username text UNIQUE NOT NULL, password text NOT NULL, role text NOT NULL, disabled boolean DEFAULT false, email text UNIQUE, tenant_id text, company_name text);
INSERT INTO products (id, name, is_active) VALUES ('1', 'Office 365', true), ('2', 'Antivirus', true), ('3', 'Empty product', true), ('4', 'Retired product', false);
INSERT INTO license_keys (product_id, key_value, is_used) SELECT '1', 'K1-' || i, i % 3 = 0 FROM generate_series(1, 17) i;
INSERT INTO license_keys (product_id, key_value, is_used) SELECT '2', 'K2-' || i, i % 2 = 0 FROM generate_series(1, 9) i;
INSERT INTO orders (total_amount, final_amount, status) VALUES (100.50, 100.50, 'completed'), (1200, 1200, 'completed'), (999, 999, 'cancelled');
`;

const scrypt = (password: string) => {
  const salt = randomBytes(16).toString('hex');
  return `${scryptSync(password, salt, 64).toString('hex')}.${salt}`;
};

describe.skipIf(!available)('with a real PostgreSQL', () => {
  let db: ThrowawayPostgres;
  let h: Harness;
  const login = (username: string, password: string) => request(h.app).post('/api/login').send({ username, password });

  beforeAll(async () => {
    db = await startPostgres(bin!);
    await db.query(SCHEMA);
    const insert = 'INSERT INTO users (username, password, role, disabled) VALUES ($1, $2, $3, $4)';
    await db.query(insert, ['pgadmin', await bcrypt.hash('bcrypt-password', 4), 'admin', false]);
    await db.query(insert, ['phpadmin', (await bcrypt.hash('php-password', 4)).replace(/^\$2b\$/, '$2y$'), 'superadmin', false]);
    await db.query(insert, ['oldadmin', (await bcrypt.hash('old-password', 4)).replace(/^\$2b\$/, '$2a$'), 'admin', false]);
    await db.query(insert, ['starter', scrypt('scrypt-password'), 'customer', false]);
    await db.query(insert, ['janitor', await bcrypt.hash('janitor-password', 4), 'janitor', false]);
    await db.query(insert, ['plain', 'plain-password', 'admin', false]);
    await db.query(insert, ['carol', await bcrypt.hash('carol-password', 4), 'admin', false]);
    await db.query("UPDATE users SET email = 'carol@example.com', tenant_id = 'eur', company_name = 'Carol GmbH' WHERE username = 'carol'");
    await db.query(insert, ['dave', await bcrypt.hash('dave-password', 4), 'customer', true]);
    h = await startHarness({
      env: {
        USERS_SOURCE: 'postgres',
        ADMIN_DATA_SOURCE: 'postgres',
        DATABASE_URL: db.url,
        DATABASE_TIMEOUT_MS: '1000',
        ADMIN_CACHE_SECONDS: '0',
        ROLE_MAP: 'superadmin:super_admin,customer:b2b_user',
        USERS_QUERY: 'SELECT id::text AS id, username, password AS password_hash, role, disabled FROM users WHERE username = $1',
        USERS_BY_ID_QUERY: 'SELECT id::text AS id, username, password AS password_hash, role, disabled FROM users WHERE id::text = $1',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db?.destroy();
  });

  userDirectoryContract('postgres', async () =>
    new PostgresUserDirectory(
      new Database(db.url, 1000, createLogger('silent')).reader(),
      {
        byUsername: 'SELECT id::text AS id, username, password AS password_hash, role, disabled FROM users WHERE username = $1',
        byId: "SELECT id::text AS id, username, password AS password_hash, role, disabled FROM users WHERE id::text = $1 OR (id = 0 AND $1 = '')",
      },
      parseRoleMap('customer:b2b_user'),
      createLogger('silent'),
    ),
  );

  it.each([
    ['bcrypt $2b$', 'pgadmin', 'bcrypt-password', 'admin'],
    ['bcrypt $2y$ (PHP)', 'phpadmin', 'php-password', 'super_admin'],
    ['bcrypt $2a$', 'oldadmin', 'old-password', 'admin'],
    ['scrypt hex.salt', 'starter', 'scrypt-password', 'b2b_user'],
  ])('logs in a main-app user whose password is %s, mapping the role', async (_format, username, password, role) => {
    const res = await login(username, password);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username, role });
    expect((await login(username, 'wrong-password')).status).toBe(401);
  });

  it('samples the main app\'s password hashes, so unknown users are checked at their cost rather than BCRYPT_COST', async () => {
    const users = new PostgresUserDirectory(new Database(db.url, 1000, createLogger('silent')).reader(), {}, parseRoleMap(undefined), createLogger('silent'));
    const verifier = new PasswordVerifier(12);
    await verifier.learnFrom(() => users.sampleHashes(), (error) => { throw error; });
    expect(hashParameters(await verifier.dummyHash())).toBe('bcrypt cost 4');
    await users.close();
  });

  it('answers a username holding a NUL byte 401 like an unknown user, counted by regulation', async () => {
    const attempt = () => request(h.app).post('/api/login').set('X-Forwarded-For', '203.0.113.160').send({ username: 'pgadmin\u0000', password: 'bcrypt-password' });
    for (let i = 0; i < h.config.login.maxFailuresPerUser; i += 1) {
      const res = await attempt();
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ success: false, error: 'INVALID_CREDENTIALS', message: 'Invalid username or password' });
    }
    expect((await attempt()).status).toBe(429);
  });

  it('logs a main-app user in by email, answering its profile columns at the top level and under user, never a hash', async () => {
    const res = await request(h.app).post('/api/login').send({ email: 'carol@example.com', password: 'carol-password' });
    expect(res.status).toBe(200);
    const carol = { id: expect.any(String), username: 'carol', role: 'admin', email: 'carol@example.com', tenantId: 'eur', companyName: 'Carol GmbH' };
    expect(res.body).toEqual({ success: true, ...carol, user: carol });
    expect((await request(h.app).post('/api/login').send({ email: 'carol@example.com', password: 'wrong-password' })).status).toBe(401);
  });

  it('refuses a user whose role has no mapping, a hash in no known format, and a disabled user', async () => {
    expect((await login('janitor', 'janitor-password')).status).toBe(401);
    expect((await login('plain', 'plain-password')).status).toBe(401);
    expect((await login('dave', 'dave-password')).status).toBe(401);
    expect(h.logs.lines.some((l) => String(l.msg).includes('no mapping'))).toBe(true);
    expect(h.logs.lines.some((l) => String(l.msg).includes('no known format'))).toBe(true);
  });

  it('answers license counts that equal the counts SQL gives', async () => {
    const cookie = cookieHeader((await login('pgadmin', 'bcrypt-password')).headers['set-cookie']);
    const res = await request(h.app).get('/api/admin/license-counts').set('cookie', cookie);
    expect(res.status).toBe(200);
    const rows = await db.query<{ id: string; available: string }>('SELECT p.id, count(k.id) FILTER (WHERE NOT k.is_used) AS available FROM products p LEFT JOIN license_keys k ON k.product_id = p.id GROUP BY p.id');
    expect(res.body).toEqual({ success: true, data: Object.fromEntries(rows.map((r) => [String(r.id), Number(r.available)])) });
    expect(res.body.data).toEqual({ '1': 12, '2': 5, '3': 0, '4': 0 });
  });

  it('answers dashboard figures of the shop schema that equal what SQL counts, sales as a display string', async () => {
    const cookie = cookieHeader((await login('pgadmin', 'bcrypt-password')).headers['set-cookie']);
    const res = await request(h.app).get('/api/admin/dashboard').set('cookie', cookie);
    const [users] = await db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    const [sales] = await db.query<{ s: string }>("SELECT sum(total_amount) AS s FROM orders WHERE status = 'completed'");
    const [keys] = await db.query<{ n: string }>('SELECT count(*) AS n FROM license_keys WHERE NOT is_used');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalUsers: Number(users!.n), totalSalesAmount: Number(sales!.s), activeKeys: Number(keys!.n), totalProducts: 3 });
    expect(res.body.totalSales).toBe('€1,300.50');
    expect((await request(h.app).get('/ready')).status).toBe(200);
  });

  it('shares one query per figure among concurrent requests within the cache period', async () => {
    const pool = new Database(db.url, 1000, createLogger('silent')).reader();
    let queries = 0;
    const counting = new Proxy(pool, { get: (target, prop) => (prop === 'query' ? (...args: unknown[]) => (queries++, (target.query as (...a: unknown[]) => unknown)(...args)) : Reflect.get(target, prop)) });
    const source = new PostgresAdminDataSource(counting, DEFAULT_ADMIN_QUERIES, 60, createLogger('silent'));
    await Promise.all(Array.from({ length: 100 }, () => source.figures()));
    await source.figures();
    expect(queries).toBe(5);
    await source.close();
  });

  it('answers 503 for a query returning unexpected columns or non-numeric counts, never wrong numbers', async () => {
    const queriesFile = path.join(await tempDir(), 'queries.json');
    await fs.writeFile(queriesFile, JSON.stringify({ totalUsers: "SELECT 'many' AS n", licenseCounts: 'SELECT name FROM products' }));
    const { loadAdminQueries } = await import('../src/admin/admin-queries.js');
    const source = new PostgresAdminDataSource(new Database(db.url, 1000, createLogger('silent')).reader(), loadAdminQueries(queriesFile), 0, createLogger('silent'));
    await expect(httpAnswerOf(source.figures())).resolves.toMatchObject({ status: 503, code: 'DATA_SOURCE_UNAVAILABLE' });
    await source.close();
  });

  it('answers 503 within the statement timeout when a query is too slow', async () => {
    const queriesFile = path.join(await tempDir(), 'queries.json');
    await fs.writeFile(queriesFile, JSON.stringify({ totalSales: 'SELECT 1 FROM pg_sleep(10)' }));
    const { loadAdminQueries } = await import('../src/admin/admin-queries.js');
    const source = new PostgresAdminDataSource(new Database(db.url, 500, createLogger('silent')).reader(), loadAdminQueries(queriesFile), 0, createLogger('silent'));
    const start = Date.now();
    await expect(httpAnswerOf(source.figures())).resolves.toMatchObject({ status: 503 });
    expect(Date.now() - start).toBeLessThan(3000);
    await source.close();
  });

  it('answers 503 within the timeout while the database is down, and recovers without a restart', async () => {
    const cookie = cookieHeader((await login('pgadmin', 'bcrypt-password')).headers['set-cookie']);
    await db.stop();
    try {
      const start = Date.now();
      const res = await request(h.app).get('/api/admin/license-counts').set('cookie', cookie);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('DATA_SOURCE_UNAVAILABLE');
      expect(Date.now() - start).toBeLessThan(5000);
      expect((await request(h.app).get('/health')).status).toBe(200);
      const loginWhileDown = await login('carol', 'carol-password');
      expect(loginWhileDown.status).toBe(503);
      expect(loginWhileDown.body.error).toBe('USER_DIRECTORY_UNAVAILABLE');
    } finally {
      await db.start();
    }
    const again = await request(h.app).get('/api/admin/license-counts').set('cookie', cookie);
    expect(again.status).toBe(200);
  }, 30_000);
});

describe.skipIf(!available)('one pool per database', () => {
  let db: ThrowawayPostgres;
  let h: Harness;
  beforeAll(async () => {
    db = await startPostgres(bin!);
    await db.query(SCHEMA);
    await db.query('INSERT INTO users (username, password, role) VALUES ($1, $2, $3)', ['pgadmin', await bcrypt.hash('bcrypt-password', 4), 'admin']);
    h = await startHarness({ env: { SESSION_STORE: 'postgres', USERS_SOURCE: 'postgres', ADMIN_DATA_SOURCE: 'postgres', DATABASE_URL: db.url, ADMIN_CACHE_SECONDS: '0' } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db?.destroy();
  });

  it('keeps every connection of the session store, the users and the admin figures in the one pool of DATABASE_URL', async () => {
    const logins = await Promise.all(Array.from({ length: 4 }, () => request(h.app).post('/api/login').send({ username: 'pgadmin', password: 'bcrypt-password' })));
    expect(logins.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const cookie = cookieHeader(logins[0]!.headers['set-cookie']);
    const dashboards = await Promise.all(Array.from({ length: 4 }, () => request(h.app).get('/api/admin/dashboard').set('cookie', cookie)));
    expect(dashboards.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(h.deps.databases.size).toBe(1);
    const database = h.deps.databases.of(db.url);
    const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [APPLICATION_NAME]);
    expect(database.connections).toBeGreaterThan(0);
    expect(Number(row!.n)).toBe(database.connections);
  });

  it('refuses a write through the read-only share that the users and the admin figures query with', async () => {
    const reader = h.deps.databases.of(db.url).reader();
    await expect(reader.query("INSERT INTO products (id, name) VALUES ('9', 'Written')")).rejects.toThrow(/read-only transaction/);
    await expect(reader.query('SELECT count(*) AS n FROM products')).resolves.toMatchObject({ rows: [{ n: '4' }] });
    await reader.end();
  });
});
