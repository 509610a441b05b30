import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { LogCapture, eventually, tempDir } from '../testing/harness.js';
import { sessionFor, sessionStoreContract } from '../testing/session-store-contract.js';
import { FileSessionStore, type FileSessionStoreOptions } from './file-store.js';
import { principalOf, type StoredSession } from './session-store.js';

sessionStoreContract('file', async () =>
  new FileSessionStore({ dir: path.join(await tempDir(), 'sessions'), ttlSeconds: 3600, touchIntervalSeconds: 360, reapIntervalSeconds: 0, logger: createLogger('silent') }),
);

const stores: FileSessionStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

interface Clock {
  now: number;
}

async function open(overrides: Partial<FileSessionStoreOptions> = {}, clock: Clock = { now: Date.now() }) {
  const dir = path.join(await tempDir(), 'sessions');
  const logs = new LogCapture();
  const store = new FileSessionStore({
    dir,
    ttlSeconds: 3600,
    touchIntervalSeconds: 360,
    reapIntervalSeconds: 0,
    logger: createLogger('debug', logs),
    now: () => clock.now,
    ...overrides,
  });
  stores.push(store);
  return { store, dir, clock, logs };
}

const set = (s: FileSessionStore, sid: string, sess: StoredSession) =>
  new Promise<void>((resolve, reject) => s.set(sid, sess, (e) => (e ? reject(e) : resolve())));
const get = (s: FileSessionStore, sid: string) =>
  new Promise<StoredSession | null | undefined>((resolve, reject) => s.get(sid, (e, v) => (e ? reject(e) : resolve(v))));
const touch = (s: FileSessionStore, sid: string, sess: StoredSession) =>
  new Promise<void>((resolve, reject) => s.touch(sid, sess, (e) => (e ? reject(e) : resolve())));
const mtime = async (file: string) => (await fs.stat(file, { bigint: true })).mtimeNs;

describe('FileSessionStore', () => {
  it('creates a missing session directory with mode 0700 and writes files with mode 0600', async () => {
    const { store, dir } = await open();
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await set(store, 'sid-mode', sessionFor('u1'));
    expect((await fs.stat(path.join(dir, 'sid-mode.json'))).mode & 0o777).toBe(0o600);
  });

  it('leaves no temporary file behind after a write', async () => {
    const { store, dir } = await open();
    await set(store, 'sid-atomic', sessionFor('u1'));
    expect(await fs.readdir(dir)).toEqual(['sid-atomic.json']);
  });

  it('does not rewrite the file on touch before the interval has passed', async () => {
    const { store, dir, clock } = await open();
    await set(store, 'sid-touch', sessionFor('u1'));
    const file = path.join(dir, 'sid-touch.json');
    const before = await mtime(file);
    const loaded = (await get(store, 'sid-touch'))!;
    clock.now += 359_000;
    await touch(store, 'sid-touch', loaded);
    expect(await mtime(file)).toBe(before);
  });

  it('rewrites the file on touch once the interval has passed, keeping expiry rolling', async () => {
    const { store, dir, clock } = await open();
    await set(store, 'sid-roll', sessionFor('u1'));
    const loaded = (await get(store, 'sid-roll'))!;
    clock.now += 361_000;
    await touch(store, 'sid-roll', loaded);
    const stored = JSON.parse(await fs.readFile(path.join(dir, 'sid-roll.json'), 'utf8'));
    expect(stored.__lastAccess).toBe(clock.now);
    clock.now += 3_500_000; // past the first write's expiry, within the touched one
    expect(principalOf(await get(store, 'sid-roll'))?.id).toBe('u1');
  });

  it('sees at once a session file that another process rewrote or removed', async () => {
    const { store, dir } = await open();
    const other = new FileSessionStore({ dir, ttlSeconds: 3600, touchIntervalSeconds: 360, reapIntervalSeconds: 0, logger: createLogger('silent') });
    stores.push(other);
    await set(store, 'sid-shared', sessionFor('u1'));
    expect(principalOf(await get(store, 'sid-shared'))?.id).toBe('u1');
    await set(other, 'sid-shared', sessionFor('u2'));
    expect(principalOf(await get(store, 'sid-shared'))?.id).toBe('u2');
    await new Promise<void>((resolve) => other.destroy('sid-shared', () => resolve()));
    expect(await get(store, 'sid-shared')).toBeNull();
  });

  it('answers an expired session as missing', async () => {
    const { store, clock } = await open();
    await set(store, 'sid-old', sessionFor('u1'));
    clock.now += 3_600_001;
    expect(await get(store, 'sid-old')).toBeNull();
  });

  it('answers a corrupt or truncated file as missing and removes it', async () => {
    const { store, dir, logs } = await open();
    for (const [sid, text] of [['sid-trunc', '{"cookie":{"orig'], ['sid-null', 'null'], ['sid-array', '[1]'], ['sid-empty', '']]) {
      await fs.writeFile(path.join(dir, `${sid}.json`), text!);
      expect(await get(store, sid!)).toBeNull();
      await expect(fs.access(path.join(dir, `${sid}.json`))).rejects.toThrow();
    }
    expect(logs.lines.filter((l) => l.msg === 'removed unreadable session file; the request is anonymous')).toHaveLength(4);
  });

  it('reaps expired, corrupt and stale temporary files and keeps live sessions', async () => {
    const { store, dir, clock } = await open();
    await set(store, 'sid-expired', sessionFor('u1'));
    await fs.writeFile(path.join(dir, 'sid-corrupt.json'), '{');
    await fs.writeFile(path.join(dir, '.sid-x.json.abc.tmp'), '{');
    clock.now += 3_000_000;
    await set(store, 'sid-live', sessionFor('u2'));
    clock.now += 3_000_000;
    const result = await store.reap();
    expect(await fs.readdir(dir)).toEqual(['sid-live.json']);
    expect(result).toEqual({ scanned: 4, removed: 3 });
  });

  it('reaps on its own timer', async () => {
    const clock = { now: Date.now() };
    const { store, dir } = await open({ reapIntervalSeconds: 1 }, clock);
    await set(store, 'sid-timer', sessionFor('u1'));
    clock.now += 3_700_000;
    await eventually(async () => (await fs.readdir(dir)).length === 0, 3000);
  });

  it('shares one reap among concurrent calls', async () => {
    const { store } = await open();
    expect(store.reap()).toBe(store.reap());
  });

  it('never reads outside its directory for a crafted session id', async () => {
    const { store, dir } = await open();
    await fs.writeFile(path.join(dir, '..', 'outside.json'), JSON.stringify(sessionFor('evil')));
    expect(await get(store, '../outside')).toBeNull();
  });
});
