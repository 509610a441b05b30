import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, sessionIdOf, startHarness, TEST_SECRET, type Harness } from './support/harness.js';
import { findPostgresBin, startPostgres, type ThrowawayPostgres } from './support/postgres.js';
import { runNode, startServer, type RunningServer } from './support/processes.js';
import { requireProgram } from './support/programs.js';
import { startRedis, type ThrowawayRedis } from './support/redis.js';

const redisBin = requireProgram('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
const pgBin = findPostgresBin();
const pgAvailable = requireProgram('PostgreSQL', pgBin ? [path.join(pgBin, 'postgres')] : ['/usr/lib/postgresql/<version>/bin/postgres']);

let redis: ThrowawayRedis | undefined;
let postgres: ThrowawayPostgres | undefined;
beforeAll(async () => {
  if (redisBin) redis = await startRedis(redisBin);
  if (pgAvailable) postgres = await startPostgres(pgBin!);
}, 60_000);
afterAll(async () => {
  await redis?.destroy();
  await postgres?.destroy();
});

const harnesses: Harness[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all([...harnesses.splice(0).map((h) => h.close()), ...servers.splice(0).map((s) => s.stop('SIGKILL'))]);
});

interface Target {
  available: boolean;
  /** SESSION_MODE and the variables naming the target store (a fresh place for each run). */
  env(): Record<string, string>;
  /** A stored session's JSON and the milliseconds it has left, as the target holds it. */
  inspect(env: Record<string, string>, sid: string): Promise<{ session: unknown; leftMs: number } | undefined>;
  /** The session ids filed under the user (Redis' per-user set; PostgreSQL's index reads `sess` itself). */
  filedUnder(env: Record<string, string>, userId: string): Promise<string[]>;
}

const targets: Record<'redis' | 'postgres', Target> = {
  redis: {
    available: Boolean(redisBin),
    env: () => ({ SESSION_MODE: 'own', REDIS_URL: redis!.url, REDIS_PREFIX: `migrated-${Date.now()}:sess:` }),
    async inspect(env, sid) {
      const client = await createClient({ url: redis!.url }).connect();
      try {
        const [text, left] = await Promise.all([client.get(env.REDIS_PREFIX + sid), client.pTTL(env.REDIS_PREFIX + sid)]);
        return text === null ? undefined : { session: JSON.parse(text), leftMs: left };
      } finally {
        client.destroy();
      }
    },
    async filedUnder(env, userId) {
      const client = await createClient({ url: redis!.url }).connect();
      try {
        return (await client.sMembers(`${env.REDIS_PREFIX}user:${userId}`)).sort();
      } finally {
        client.destroy();
      }
    },
  },
  postgres: {
    available: Boolean(pgAvailable),
    // The main app's own form: SESSION_MODE=shared, connect-pg-simple's table.
    env: () => ({ SESSION_MODE: 'shared', DATABASE_URL: postgres!.url, SESSION_TABLE: `migrated_${Date.now()}` }),
    async inspect(env, sid) {
      const rows = await postgres!.query<{ sess: unknown; left_ms: number }>(
        `SELECT sess, (extract(epoch FROM (expire - localtimestamp)) * 1000)::float8 AS left_ms FROM ${env.SESSION_TABLE} WHERE sid = $1`,
        [sid],
      );
      return rows[0] && { session: rows[0].sess, leftMs: rows[0].left_ms };
    },
    async filedUnder(env, userId) {
      const rows = await postgres!.query<{ sid: string }>(`SELECT sid FROM ${env.SESSION_TABLE} WHERE coalesce(sess->'passport'->'user'->>'id', sess->'passport'->>'user') = $1`, [userId]);
      return rows.map((r) => r.sid).sort();
    },
  },
};

const DAY_MS = 86_400_000;

describe.each(['redis', 'postgres'] as const)('npm run sessions -- migrate --from file --to %s', (to) => {
  const target = targets[to];

  it.skipIf(!target.available)(
    'copies every live session file with the time it has left, skips expired and unreadable ones, changes nothing on a second run, and the copied cookies log in on a server on the target',
    async () => {
      const env = target.env();
      const cookieName = env.SESSION_MODE === 'shared' ? 'connect.sid' : 'sidecar.sid';
      // Logins on the file store, as a server on the defaults made them.
      const files = await startHarness({ users: [ADMIN, B2B], env: { SESSION_MODE: env.SESSION_MODE! } });
      harnesses.push(files);
      const login = async (user: typeof ADMIN) => {
        const res = await request(files.app).post('/api/login').send({ username: user.username, password: user.password }).expect(200);
        return { cookie: cookieHeader(res.headers['set-cookie'], cookieName), sid: sessionIdOf(res.headers['set-cookie'], cookieName)! };
      };
      const [alice, bob] = [await login(ADMIN), await login(B2B)];
      const bobId = (await files.deps.users.findByUsername(B2B.username))!.id;
      const dir = files.config.session.dir;
      // One day old with a one-day max age: live for about an hour more.
      const aliceFile = path.join(dir, `${alice.sid}.json`);
      const aged = { ...JSON.parse(await fs.readFile(aliceFile, 'utf8')), __lastAccess: Date.now() - DAY_MS + 3_600_000 };
      await fs.writeFile(aliceFile, JSON.stringify(aged));
      await fs.writeFile(path.join(dir, 'expiredSessionId000.json'), JSON.stringify({ ...aged, __lastAccess: Date.now() - 2 * DAY_MS }));
      await fs.writeFile(path.join(dir, 'brokenSessionId0000.json'), '{"cookie":');
      const before = await snapshot(dir);

      const migrate = () => runNode('cli/sessions.js', ['migrate', '--from', 'file', '--to', to], { cwd: files.dir, env, timeoutMs: 60_000 });
      const first = await migrate();
      expect(first.stdout).toBe(`skipped brokenSe…: not a readable session file\n2 migrated to ${to}, 0 already there, 1 expired (skipped), 1 unreadable (skipped), 0 failed\n`);
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(new RegExp(`^Sessions from: file ${dir}\nSessions to: ${to} `));

      const aliceStored = await target.inspect(env, alice.sid);
      expect(aliceStored?.session).toEqual(aged);
      expect(aliceStored!.leftMs).toBeGreaterThan(3_600_000 - 120_000);
      expect(aliceStored!.leftMs).toBeLessThanOrEqual(3_600_000);
      expect((await target.inspect(env, bob.sid))?.session).toEqual(JSON.parse(await fs.readFile(path.join(dir, `${bob.sid}.json`), 'utf8')));
      expect(await target.inspect(env, 'expiredSessionId000')).toBeUndefined();
      expect(await target.filedUnder(env, bobId)).toEqual([bob.sid]);

      const second = await migrate();
      expect(second).toMatchObject({ code: 0, stdout: `skipped brokenSe…: not a readable session file\n0 migrated to ${to}, 2 already there, 1 expired (skipped), 1 unreadable (skipped), 0 failed\n` });
      expect(await snapshot(dir)).toEqual(before);
      await files.close();

      const server = await startServer({ cwd: files.dir, env: { SESSION_SECRET: TEST_SECRET, SESSION_STORE: to, ...env }, timeoutMs: 60_000 });
      servers.push(server);
      for (const [who, { cookie }] of [[ADMIN, alice], [B2B, bob]] as const) {
        const user = await fetch(`${server.url}/api/user`, { headers: { cookie } });
        expect(user.status).toBe(200);
        expect(await user.json()).toMatchObject({ username: who.username });
      }
      const listed = await runNode('cli/sessions.js', ['list', 'bob'], { cwd: files.dir, env: { SESSION_STORE: to, ...env } });
      expect(listed).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^1 live session of "bob":\n.*\n${bob.sid.slice(0, 8)}…`)) });
    },
    180_000,
  );
});

/** Every file of a directory with its text (its folders, such as the per-user index, left out): what must stay as it was. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const names = (await fs.readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await fs.readFile(path.join(dir, name), 'utf8')] as const)));
}
