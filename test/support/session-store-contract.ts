import { describe, expect, it, afterEach } from 'vitest';
import { principalOf, type SessionStore, type StoredSession } from '../../src/sessions/session-store.js';
import { httpAnswerOf } from './http-answer.js';

type Factory = () => Promise<SessionStore>;

/** Makes the last store the factory opened fail (its disk or server), and then recover. */
export interface StoreFault {
  inject(): Promise<void>;
  recover(): Promise<void>;
}

const call = <T>(fn: (cb: (err?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

export function sessionFor(userId: string): StoredSession {
  return {
    cookie: { originalMaxAge: 3_600_000, path: '/', httpOnly: true, expires: new Date(Date.now() + 3_600_000) },
    passport: { user: userId },
    sidecar: { stamp: 'stamp', createdAt: Date.now() },
  } as unknown as StoredSession;
}

/** The behaviour every session store adapter must have; run once per adapter. */
export function sessionStoreContract(name: string, factory: Factory, fault?: StoreFault): void {
  describe(`${name} session store (shared contract)`, () => {
    const stores: SessionStore[] = [];
    const open = async () => {
      const store = await factory();
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    it('gives back what was set', async () => {
      const store = await open();
      await call((cb) => store.set('sid-roundtrip-1', sessionFor('u1'), cb));
      const got = await call<StoredSession | null>((cb) => store.get('sid-roundtrip-1', cb));
      expect(principalOf(got)?.id).toBe('u1');
      expect(got?.cookie?.originalMaxAge).toBe(3_600_000);
    });

    it('answers an unknown id with no session and no error', async () => {
      const store = await open();
      await expect(call((cb) => store.get('sid-never-set', cb))).resolves.toBeFalsy();
    });

    it('answers a malformed id with no session and no error', async () => {
      const store = await open();
      await expect(call((cb) => store.get('../../etc/passwd', cb))).resolves.toBeFalsy();
    });

    it('forgets a destroyed session, and destroying an unknown id is fine', async () => {
      const store = await open();
      await call((cb) => store.set('sid-destroy-1', sessionFor('u1'), cb));
      await call((cb) => store.destroy('sid-destroy-1', cb));
      await expect(call((cb) => store.get('sid-destroy-1', cb))).resolves.toBeFalsy();
      await expect(call((cb) => store.destroy('sid-destroy-unknown', cb))).resolves.toBeUndefined();
    });

    it('does not bring a destroyed session back on touch', async () => {
      const store = await open();
      const sess = sessionFor('u1');
      sess.__lastAccess = 0;
      await call((cb) => store.set('sid-touch-1', sess, cb));
      await call((cb) => store.destroy('sid-touch-1', cb));
      await call((cb) => store.touch('sid-touch-1', { ...sess, __lastAccess: 0 } as StoredSession, cb));
      await expect(call((cb) => store.get('sid-touch-1', cb))).resolves.toBeFalsy();
    });

    it('replaces a session on a second set', async () => {
      const store = await open();
      await call((cb) => store.set('sid-replace-1', sessionFor('u1'), cb));
      await call((cb) => store.set('sid-replace-1', sessionFor('u2'), cb));
      const got = await call<StoredSession | null>((cb) => store.get('sid-replace-1', cb));
      expect(principalOf(got)?.id).toBe('u2');
    });

    it('counts live sessions', async () => {
      const store = await open();
      expect(store.count).toBeTypeOf('function');
      const before = await store.count!();
      await call((cb) => store.set('sid-count-1', sessionFor('u1'), cb));
      await call((cb) => store.set('sid-count-2', sessionFor('u1'), cb));
      expect(await store.count!()).toBe(before + 2);
    });

    it("lists a user's live sessions and no one else's", async () => {
      const store = await open();
      const user = `u-list-${Math.random().toString(36).slice(2)}`;
      await call((cb) => store.set('sid-list-1', sessionFor(user), cb));
      await call((cb) => store.set('sid-list-2', sessionFor(user), cb));
      await call((cb) => store.set('sid-list-3', sessionFor(`${user}-other`), cb));
      const listed = await store.sessionsOf(user);
      expect(listed.map((s) => s.sid).sort()).toEqual(['sid-list-1', 'sid-list-2']);
      expect(principalOf(listed[0]!.session)?.id).toBe(user);
      await call((cb) => store.destroy('sid-list-1', cb));
      expect((await store.sessionsOf(user)).map((s) => s.sid)).toEqual(['sid-list-2']);
    });

    it('lists a session under its new user only, once it changed hands', async () => {
      const store = await open();
      const user = `u-hands-${Math.random().toString(36).slice(2)}`;
      await call((cb) => store.set('sid-hands-1', sessionFor(user), cb));
      await call((cb) => store.set('sid-hands-1', sessionFor(`${user}-next`), cb));
      expect(await store.sessionsOf(user)).toEqual([]);
      expect((await store.sessionsOf(`${user}-next`)).map((s) => s.sid)).toEqual(['sid-hands-1']);
    });

    it('answers a ping when it can serve requests', async () => {
      const store = await open();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it.skipIf(!fault)('fails a read with 503 SESSION_STORE_UNAVAILABLE and Retry-After while it fails, and still has the session once it recovers', async () => {
      const store = await open();
      await call((cb) => store.set('sid-fault-1', sessionFor('u1'), cb));
      await fault!.inject();
      try {
        await expect(httpAnswerOf(call((cb) => store.get('sid-fault-1', cb)))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE', headers: { 'Retry-After': '5' } });
        await expect(store.ping()).rejects.toBeDefined();
      } finally {
        await fault!.recover();
      }
      const got = await call<StoredSession | null>((cb) => store.get('sid-fault-1', cb));
      expect(principalOf(got)?.id).toBe('u1');
    });

    it('counts a session last used in the future (the clock stepped back) as used now: a touch writes it again', async () => {
      const store = await open();
      const sess = sessionFor('u1');
      await call((cb) => store.set('sid-future-1', sess, cb));
      const written = (await call<StoredSession | null>((cb) => store.get('sid-future-1', cb)))!.__lastAccess!;
      await new Promise((r) => setTimeout(r, 5));
      const ahead = { ...sess, __lastAccess: Date.now() + 10 * 3_600_000 } as StoredSession;
      await call((cb) => store.touch('sid-future-1', ahead, cb));
      const got = await call<StoredSession | null>((cb) => store.get('sid-future-1', cb));
      expect(got?.__lastAccess).toBeGreaterThan(written);
      expect(got?.__lastAccess).toBeLessThanOrEqual(Date.now());
    });
  });
}
