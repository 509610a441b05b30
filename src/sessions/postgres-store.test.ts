import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { findPostgresBin, startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.js';
import { requireProgram } from '../../test/support/programs.js';
import { sessionFor, sessionStoreContract } from '../../test/support/session-store-contract.js';
import { PostgresSessionStore, type PostgresSessionStoreOptions } from './postgres-store.js';
import type { StoredSession } from './session-store.js';
import { httpAnswerOf } from '../../test/support/http-answer.js';

const bin = findPostgresBin();
const available = requireProgram('PostgreSQL', bin ? [path.join(bin, 'postgres')] : ['/usr/lib/postgresql/<version>/bin/postgres']);

describe.skipIf(!available)('PostgreSQL session store (connect-pg-simple rows)', () => {
  let db: ThrowawayPostgres;
  const stores: PostgresSessionStore[] = [];
  beforeAll(async () => {
    db = await startPostgres(bin!);
  }, 30_000);
  afterAll(async () => {
    await db?.destroy();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  const open = async (overrides: Partial<PostgresSessionStoreOptions> = {}) => {
    const store = await new PostgresSessionStore({ url: db.url, table: 'session', ttlSeconds: 3600, touchIntervalSeconds: 360, reapIntervalSeconds: 0, timeoutMs: 1000, logger: createLogger('silent'), ...overrides }).open();
    stores.push(store);
    return store;
  };
  const cb = <T>(fn: (done: (err?: unknown, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

  sessionStoreContract('postgres', () => open(), { inject: () => db.stop(), recover: () => db.start() });

  it('creates the table with an index name that cannot collide with the app index IDX_session_expire', async () => {
    await db.query('CREATE TABLE sessions (sid varchar PRIMARY KEY, sess jsonb NOT NULL, expire timestamp NOT NULL)');
    await db.query('CREATE INDEX "IDX_session_expire" ON sessions (expire)');
    await (await open({ table: 'app_session' })).userIndexReady();
    const indexes = await db.query<{ indexname: string; tablename: string }>("SELECT indexname, tablename FROM pg_indexes WHERE tablename IN ('sessions', 'app_session')");
    expect(indexes.map((i) => `${i.tablename}:${i.indexname}`).sort()).toEqual(['app_session:app_session_pkey', 'app_session:sidecar_app_session_expire', 'app_session:sidecar_app_session_user', 'sessions:IDX_session_expire', 'sessions:sessions_pkey']);
  });

  it('writes the row an express-session app on connect-pg-simple reads: sess json, expire from the cookie as to_timestamp', async () => {
    const store = await open();
    const sess = { cookie: { originalMaxAge: 604_800_000, expires: new Date('2030-01-02T03:04:05.000Z'), httpOnly: true, path: '/', secure: true, sameSite: 'strict' }, passport: { user: 'user-uuid-1' } } as unknown as StoredSession;
    await cb((done) => store.set('sid-row-1', sess, done));
    const [row] = await db.query<{ sess: Record<string, unknown>; epoch: string; type: string }>(
      "SELECT sess, extract(epoch FROM expire)::bigint::text AS epoch, pg_typeof(sess)::text AS type FROM session WHERE sid = 'sid-row-1'",
    );
    expect(row!.type).toBe('json');
    expect(row!.sess).toMatchObject({ passport: { user: 'user-uuid-1' }, cookie: { originalMaxAge: 604_800_000, secure: true, sameSite: 'strict' } });
    expect(Number(row!.epoch)).toBe(Date.parse('2030-01-02T03:04:05.000Z') / 1000);
  });

  it('lists sessions whose passport.user is the plain id (the app form) as well as the object form', async () => {
    const store = await open();
    await cb((done) => store.set('sid-plain-1', { cookie: { originalMaxAge: 1000 * 3600 }, passport: { user: 'plain-7' } } as unknown as StoredSession, done));
    await cb((done) => store.set('sid-object-1', sessionFor('plain-7'), done));
    expect((await store.sessionsOf('plain-7')).map((s) => s.sid).sort()).toEqual(['sid-object-1', 'sid-plain-1']);
  });

  it("finds a user's sessions through an index on the user id, not by reading every row", async () => {
    const store = await open({ table: 'indexed_session' });
    await store.userIndexReady();
    await cb((done) => store.set('sid-indexed-1', sessionFor('u-indexed'), done));
    await db.query(`INSERT INTO indexed_session SELECT 'sid-' || i, json_build_object('cookie', '{}'::json, 'passport', json_build_object('user', 'u-' || i)), now() + interval '1 hour' FROM generate_series(1, 5000) i`);
    await db.query('ANALYZE indexed_session');
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT sid FROM indexed_session WHERE coalesce(sess->'passport'->'user'->>'id', sess->'passport'->>'user') = 'u-indexed' AND expire >= now()`,
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index.*sidecar_indexed_session_user/);
    expect((await store.sessionsOf('u-indexed')).map((s) => s.sid)).toEqual(['sid-indexed-1']);
  });

  it('builds again an index by user that an interrupted build left invalid', async () => {
    await db.query('CREATE TABLE broken_session (sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)');
    await db.query(`CREATE INDEX sidecar_broken_session_user ON broken_session ((coalesce(sess->'passport'->'user'->>'id', sess->'passport'->>'user')))`);
    await db.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'sidecar_broken_session_user'::regclass`);
    await (await open({ table: 'broken_session' })).userIndexReady();
    const [row] = await db.query<{ valid: boolean }>(`SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'sidecar_broken_session_user'::regclass`);
    expect(row!.valid).toBe(true);
  });

  it('answers an expired row as no session, and touch moves only expire, never the data the app may have changed', async () => {
    const store = await open({ touchIntervalSeconds: 0 });
    await db.query(`INSERT INTO session (sid, sess, expire) VALUES ('sid-old-1', '{"cookie":{}}', now() - interval '1 minute')`);
    expect(await cb((done) => store.get('sid-old-1', done))).toBeFalsy();
    const sess = sessionFor('u-touch');
    await cb((done) => store.set('sid-touch-pg', sess, done));
    await db.query(`UPDATE session SET sess = jsonb_set(sess::jsonb, '{csrfToken}', '"from-the-app"')::json WHERE sid = 'sid-touch-pg'`);
    await cb((done) => store.touch('sid-touch-pg', { ...sess, cookie: { ...sess.cookie, expires: new Date(Date.now() + 7_200_000) } } as StoredSession, done));
    const got = await cb<StoredSession | null>((done) => store.get('sid-touch-pg', done));
    expect((got as { csrfToken?: string } | null)?.csrfToken).toBe('from-the-app');
  });

  it('answers 503 SESSION_STORE_UNAVAILABLE while PostgreSQL is down, and serves again when it is back', async () => {
    const store = await open();
    await cb((done) => store.set('sid-outage-1', sessionFor('u1'), done));
    await db.stop();
    try {
      await expect(httpAnswerOf(cb((done) => store.get('sid-outage-1', done)))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
      await expect(httpAnswerOf(store.ping())).resolves.toMatchObject({ status: 503 });
    } finally {
      await db.start();
    }
    expect((await cb<StoredSession | null>((done) => store.get('sid-outage-1', done)))?.passport?.user).toBe('u1');
  }, 30_000);
});
