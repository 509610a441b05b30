import path from 'node:path';
import { RedisStore } from 'connect-redis';
import connectPgSimple from 'connect-pg-simple';
import session, { type Store } from 'express-session';
import pg from 'pg';
import { createClient } from 'redis';
import createFileStore from 'session-file-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, listen, startHarness, TEST_SECRET, type Harness } from './support/harness.js';
import { call, startNginx, type RunningNginx } from './support/nginx.js';
import { findPostgresBin, startPostgres, type ThrowawayPostgres } from './support/postgres.js';
import { requireProgram } from './support/programs.js';
import { startRedis, type ThrowawayRedis } from './support/redis.js';
import { startStandInShop, type StandInShop } from './support/stand-in-shop.js';

const nginxBin = requireProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
const redisBin = requireProgram('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
const pgBin = findPostgresBin();
const pgAvailable = requireProgram('PostgreSQL', pgBin ? [path.join(pgBin, 'postgres')] : ['/usr/lib/postgresql/<version>/bin/postgres']);

interface StoreUnderTest {
  /** The sidecar's environment for this store. */
  env(h: { dir: string }): Record<string, string>;
  /** The same store as the main app opens it, with its own library and defaults. */
  appStore(sidecar: Harness): Store;
  close(): Promise<void>;
}

let postgres: ThrowawayPostgres | undefined;
let redis: ThrowawayRedis | undefined;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  if (pgAvailable) postgres = await startPostgres(pgBin!);
  if (redisBin) redis = await startRedis(redisBin);
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await postgres?.destroy();
  await redis?.destroy();
});

const stores: Record<string, () => StoreUnderTest> = {
  'PostgreSQL (connect-pg-simple)': () => {
    const pool = new pg.Pool({ connectionString: postgres!.url, max: 2 });
    return {
      env: () => ({ SESSION_STORE: 'postgres', DATABASE_URL: postgres!.url }),
      appStore: () => new (connectPgSimple(session))({ pool, tableName: 'session' }),
      close: () => pool.end(),
    };
  },
  'Redis (connect-redis)': () => {
    const client = createClient({ url: redis!.url });
    return {
      env: () => ({ SESSION_STORE: 'redis', REDIS_URL: redis!.url }),
      appStore: () => {
        void client.connect();
        return new RedisStore({ client });
      },
      close: async () => {
        if (client.isOpen) client.destroy();
      },
    };
  },
  'files (session-file-store)': () => ({
    env: () => ({ SESSION_STORE: 'file' }),
    appStore: (sidecar) => new (createFileStore(session))({ path: sidecar.config.session.dir, retries: 0, logFn: () => undefined }),
    close: async () => undefined,
  }),
};

const ready: Record<string, boolean> = {
  'PostgreSQL (connect-pg-simple)': Boolean(pgAvailable),
  'Redis (connect-redis)': Boolean(redisBin),
  'files (session-file-store)': true,
};

describe.skipIf(!nginxBin).each(Object.keys(stores))('sessions shared with an unchanged main app on %s, through the shipped nginx config', (name) => {
  let sidecar: Harness;
  let shop: StandInShop;
  let nginx: RunningNginx;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    if (!ready[name]) return;
    const store = stores[name]!();
    closers.push(() => store.close());
    sidecar = await startHarness({ users: [ADMIN, B2B], env: { SESSION_MODE: 'shared', SESSION_SECRET: TEST_SECRET } });
    // The harness's directory is known only now; start again on the store's settings.
    await sidecar.close();
    sidecar = await startHarness({ dir: sidecar.dir, env: { SESSION_MODE: 'shared', SESSION_SECRET: TEST_SECRET, ...store.env(sidecar) } });
    closers.push(() => sidecar.close());
    const server = await listen(sidecar);
    closers.push(() => server.close());
    alice = (await sidecar.deps.users.findByUsername(ADMIN.username))!.id;
    bob = (await sidecar.deps.users.findByUsername(B2B.username))!.id;
    shop = await startStandInShop({
      store: store.appStore(sidecar),
      secret: TEST_SECRET,
      users: [
        { id: alice, username: ADMIN.username, role: ADMIN.role },
        { id: bob, username: B2B.username, role: B2B.role },
      ],
    });
    closers.push(() => shop.close());
    nginx = await startNginx(nginxBin!, { sidecarPort: server.port, mainAppPort: shop.port, uploadsDir: path.join(sidecar.config.uploads.dir, 'products') });
    closers.push(() => nginx.stop());
  }, 60_000);

  const json = { 'content-type': 'application/json' };
  const cookieOf = (setCookie: string[] | undefined) => setCookie?.find((c) => c.startsWith('connect.sid='))?.split(';')[0];

  it.skipIf(!ready[name])('makes a sidecar login a login at the main app, and a sidecar logout ends it there', async () => {
    const login = await call(`${nginx.httpUrl}/api/login`, { method: 'POST', headers: json, body: JSON.stringify(ADMIN) });
    expect(login.status).toBe(200);
    const cookie = cookieOf(login.headers['set-cookie'] as string[]);
    expect(cookie).toBeDefined();
    const products = await call(`${nginx.httpUrl}/api/products`, { headers: { cookie: cookie! } });
    expect(products.status).toBe(200);
    expect(products.json()).toMatchObject({ userId: alice });
    const admin = await call(`${nginx.httpUrl}/api/admin/products`, { headers: { cookie: cookie! } });
    expect(admin.status).toBe(200);
    expect(admin.json()).toMatchObject({ role: 'super_admin' });

    const logout = await call(`${nginx.httpUrl}/api/logout`, { method: 'POST', headers: { cookie: cookie! } });
    expect(logout.status).toBe(200);
    expect((await call(`${nginx.httpUrl}/api/products`, { headers: { cookie: cookie! } })).status).toBe(401);
    expect((await call(`${nginx.httpUrl}/api/user`, { headers: { cookie: cookie! } })).status).toBe(401);
  });

  it.skipIf(!ready[name])("keeps the CSRF token a page fetched before logging in valid for the main app's own check", async () => {
    const token = await call(`${nginx.httpUrl}/api/csrf-token`);
    expect(token.status).toBe(200);
    const { csrfToken } = token.json<{ csrfToken: string }>();
    const anonymous = cookieOf(token.headers['set-cookie'] as string[]);
    const login = await call(`${nginx.httpUrl}/api/login`, { method: 'POST', headers: { ...json, cookie: anonymous!, 'x-csrf-token': csrfToken }, body: JSON.stringify(B2B) });
    expect(login.status).toBe(200);
    const cookie = cookieOf(login.headers['set-cookie'] as string[])!;
    expect(cookie).not.toBe(anonymous);
    const cart = await call(`${nginx.httpUrl}/api/cart`, { method: 'POST', headers: { ...json, cookie, 'x-csrf-token': csrfToken }, body: '{"productId":"p1"}' });
    expect(cart.status).toBe(200);
    expect(cart.json()).toMatchObject({ userId: bob });
    const forged = await call(`${nginx.httpUrl}/api/cart`, { method: 'POST', headers: { ...json, cookie, 'x-csrf-token': 'forged' }, body: '{}' });
    expect(forged.status).toBe(403);
    expect((await call(`${nginx.httpUrl}/api/admin/products`, { headers: { cookie } })).status).toBe(403);
  });

  it.skipIf(!ready[name])("ends the user's sessions at the main app too when a super admin revokes them, and lists them first", async () => {
    const bobLogin = await call(`${nginx.httpUrl}/api/login`, { method: 'POST', headers: json, body: JSON.stringify(B2B) });
    const bobCookie = cookieOf(bobLogin.headers['set-cookie'] as string[])!;
    expect((await call(`${nginx.httpUrl}/api/products`, { headers: { cookie: bobCookie } })).status).toBe(200);
    const adminLogin = await call(`${nginx.httpUrl}/api/login`, { method: 'POST', headers: json, body: JSON.stringify(ADMIN) });
    const adminCookie = cookieOf(adminLogin.headers['set-cookie'] as string[])!;
    const listed = await call(`${nginx.httpUrl}/api/admin/sessions?username=${B2B.username}`, { headers: { cookie: adminCookie } });
    expect(listed.status).toBe(200);
    expect(listed.json<{ sessions: unknown[] }>().sessions.length).toBeGreaterThanOrEqual(1);
    const revoked = await call(`${nginx.httpUrl}/api/admin/sessions?username=${B2B.username}`, { method: 'DELETE', headers: { cookie: adminCookie } });
    expect(revoked.status).toBe(200);
    expect(revoked.json<{ revoked: number }>().revoked).toBeGreaterThanOrEqual(1);
    expect((await call(`${nginx.httpUrl}/api/products`, { headers: { cookie: bobCookie } })).status).toBe(401);
    expect((await call(`${nginx.httpUrl}/api/products`, { headers: { cookie: adminCookie } })).status).toBe(200);
  });
});
