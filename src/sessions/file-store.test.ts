import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { LogCapture, eventually, tempDir } from '../../test/support/harness.js';
import { sessionFor, sessionStoreContract } from '../../test/support/session-store-contract.js';
import { FileSessionStore, type FileSessionStoreOptions } from './file-store.js';
import { FileUserIndex, STALE_MARKER_MS } from './file-user-index.js';
import { revokeSessions } from './revoke.js';
import { principalOf, type StoredSession } from './session-store.js';
import { httpAnswerOf } from '../../test/support/http-answer.js';

let contractDir = '';
sessionStoreContract(
  'file',
  async () => {
    contractDir = path.join(await tempDir(), 'sessions');
    return new FileSessionStore({ dir: contractDir, ttlSeconds: 3600, touchIntervalSeconds: 360, reapIntervalSeconds: 0, countIntervalSeconds: 0, logger: createLogger('silent') });
  },
  {
    // The directory replaced by a file, as a mistaken deploy or cleanup job would leave it.
    inject: async () => {
      await fs.rename(contractDir, `${contractDir}.away`);
      await fs.writeFile(contractDir, '');
    },
    recover: async () => {
      await fs.rm(contractDir);
      await fs.rename(`${contractDir}.away`, contractDir);
    },
  },
);

const stores: FileSessionStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

interface Clock {
  now: number;
}

async function open(overrides: Partial<FileSessionStoreOptions> = {}, clock: Clock = { now: Date.now() }) {
  const dir = overrides.dir ?? path.join(await tempDir(), 'sessions');
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
/** Makes nobody the owner of the session directory and all in it (root reads any file whatever its mode). */
async function handToNobody(dir: string): Promise<void> {
  await fs.chmod(path.dirname(dir), 0o711);
  for (const name of ['.', ...(await fs.readdir(dir, { recursive: true }))]) await fs.chown(path.join(dir, name), 65534, 65534);
}

async function asNobody<T>(work: () => Promise<T>): Promise<T> {
  process.seteuid!(65534);
  try {
    return await work();
  } finally {
    process.seteuid!(0);
  }
}

/** The session directory's entries but the per-user index. */
const entries = async (dir: string) => (await fs.readdir(dir)).filter((name) => name !== '.users');
const mtime = async (file: string) => (await fs.stat(file, { bigint: true })).mtimeNs;

describe('FileSessionStore', () => {
  it('counts only sessions written within the TTL: an expired session file is not a live session', async () => {
    const { store, dir } = await open({ countIntervalSeconds: 0 });
    await set(store, 'sid-count-live', sessionFor('u1'));
    await set(store, 'sid-count-old', sessionFor('u1'));
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await fs.utimes(path.join(dir, 'sid-count-old.json'), twoHoursAgo, twoHoursAgo);
    expect(await store.count()).toBe(1);
  });

  it('serves the session count from memory within the count interval, and walks the directory again after it', async () => {
    const { store, clock } = await open({ countIntervalSeconds: 60 });
    await set(store, 'sid-counted-1', sessionFor('u1'));
    expect(await store.count()).toBe(1);
    await set(store, 'sid-counted-2', sessionFor('u1'));
    clock.now += 59_000;
    expect(await store.count()).toBe(1);
    clock.now += 2_000;
    await store.count(); // starts the walk; answers the last figure meanwhile
    await eventually(async () => (await store.count()) === 2);
  });

  it('creates a missing session directory with mode 0700 and writes files with mode 0600', async () => {
    const { store, dir } = await open();
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    await set(store, 'sid-mode', sessionFor('u1'));
    expect((await fs.stat(path.join(dir, 'sid-mode.json'))).mode & 0o777).toBe(0o600);
  });

  it('leaves no temporary file behind after a write', async () => {
    const { store, dir } = await open();
    await set(store, 'sid-atomic', sessionFor('u1'));
    expect(await entries(dir)).toEqual(['sid-atomic.json']);
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
    expect(await entries(dir)).toEqual(['sid-live.json']);
    expect(result).toEqual({ scanned: 4, removed: 3 });
  });

  it('reaps on its own timer', async () => {
    const clock = { now: Date.now() };
    const { store, dir } = await open({ reapIntervalSeconds: 1 }, clock);
    await set(store, 'sid-timer', sessionFor('u1'));
    clock.now += 3_700_000;
    await eventually(async () => (await entries(dir)).length === 0, 3000);
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

describe('FileSessionStore with files that are not plain session files', () => {
  it('answers a session file that is a link to another session as no session, and removes the link', async () => {
    const { store, dir } = await open();
    await set(store, 'sid-victim', sessionFor('victim'));
    await fs.symlink(path.join(dir, 'sid-victim.json'), path.join(dir, 'sid-link.json'));
    expect(await get(store, 'sid-link')).toBeNull();
    await expect(fs.lstat(path.join(dir, 'sid-link.json'))).rejects.toThrow();
    expect(principalOf(await get(store, 'sid-victim'))?.id).toBe('victim');
  });

  it('answers a session file that is a FIFO as no session without blocking', async () => {
    const { store, dir } = await open();
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(dir, 'sid-fifo.json')]);
    expect(await get(store, 'sid-fifo')).toBeNull();
  });

  it('answers a session file over the size cap as no session without reading it', async () => {
    const { store, dir } = await open({ maxFileBytes: 1024 });
    const big = { ...sessionFor('u1'), padding: 'x'.repeat(2000) };
    await fs.writeFile(path.join(dir, 'sid-big.json'), JSON.stringify(big));
    expect(await get(store, 'sid-big')).toBeNull();
    await expect(fs.access(path.join(dir, 'sid-big.json'))).rejects.toThrow();
  });

  it('answers a session path that is a directory as no session, not an error', async () => {
    const { store, dir } = await open();
    await fs.mkdir(path.join(dir, 'sid-dir.json'));
    expect(await get(store, 'sid-dir')).toBeNull();
  });

  it('keeps no more session text in its cache than its byte bound', async () => {
    const { store } = await open({ cacheBytes: 1000 });
    for (let i = 0; i < 10; i += 1) {
      await set(store, `sid-cache-${i}`, { ...sessionFor('u1'), padding: 'x'.repeat(300) } as StoredSession);
      await get(store, `sid-cache-${i}`);
    }
    const cache = (store as unknown as { cache: Map<string, { text: string }> }).cache;
    expect([...cache.values()].reduce((n, e) => n + e.text.length, 0)).toBeLessThanOrEqual(1000);
    expect(cache.size).toBeGreaterThan(0);
  });
});

describe('FileSessionStore when its directory fails', () => {
  it('creates the session directory again (0700) on the next write after it was deleted', async () => {
    const { store, dir } = await open();
    await fs.rm(dir, { recursive: true });
    await set(store, 'sid-again', sessionFor('u1'));
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect(principalOf(await get(store, 'sid-again'))?.id).toBe('u1');
  });

  it('fails with 503 SESSION_STORE_UNAVAILABLE and Retry-After when the directory is replaced by a file, and is not ready', async () => {
    const { store, dir } = await open();
    await set(store, 'sid-gone', sessionFor('u1'));
    await fs.rm(dir, { recursive: true });
    await fs.writeFile(dir, 'not a directory');
    await expect(httpAnswerOf(get(store, 'sid-gone'))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE', headers: { 'Retry-After': '5' } });
    await expect(httpAnswerOf(set(store, 'sid-new', sessionFor('u1')))).resolves.toMatchObject({ status: 503, code: 'SESSION_STORE_UNAVAILABLE' });
    await expect(store.ping()).rejects.toThrow();
  });

  it('keeps reaping past a file it cannot read, and warns about that file once', async () => {
    const clock = { now: Date.now() };
    const { store, dir, logs } = await open({}, clock);
    await set(store, 'sid-locked', sessionFor('u1'));
    for (let i = 0; i < 6; i += 1) await set(store, `sid-reap-${i}`, sessionFor('u1'));
    clock.now += 3_700_000;
    // Root reads any file: the reap runs as nobody, owner of everything but the locked file.
    await handToNobody(dir);
    await fs.chown(path.join(dir, 'sid-locked.json'), 0, 0);
    await fs.chmod(path.join(dir, 'sid-locked.json'), 0o000);
    expect(await asNobody(() => store.reap())).toEqual({ scanned: 7, removed: 6 });
    await asNobody(() => store.reap());
    expect(await entries(dir)).toEqual(['sid-locked.json']);
    expect(logs.lines.filter((l) => l.msg === 'skipped a session file that cannot be read or removed')).toHaveLength(1);
  });
});

describe('FileSessionStore over time', () => {
  it('removes temporary files a killed writer left as soon as it starts', async () => {
    const dir = path.join(await tempDir(), 'sessions');
    await fs.mkdir(dir);
    const stale = path.join(dir, '.sid-killed.json.abcdef.tmp');
    await fs.writeFile(stale, '{');
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(stale, old, old);
    await fs.writeFile(path.join(dir, '.sid-writing.json.123456.tmp'), '{');
    const { store } = await open({ dir });
    await eventually(async () => !(await entries(dir)).includes('.sid-killed.json.abcdef.tmp'));
    expect(await entries(dir)).toEqual(['.sid-writing.json.123456.tmp']);
    await store.close();
  });

  it('treats a last access in the future (the clock stepped back) as now: rewritten on touch, expired a TTL later', async () => {
    const { store, dir, clock } = await open();
    const stepped = clock.now;
    clock.now += 10 * 3_600_000;
    await set(store, 'sid-future', sessionFor('u1'));
    clock.now = stepped;
    await touch(store, 'sid-future', (await get(store, 'sid-future'))!);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'sid-future.json'), 'utf8')).__lastAccess).toBe(stepped);
    clock.now += 3_600_001;
    expect(await get(store, 'sid-future')).toBeNull();
  });

  it('corrects a last access in the future when reaping, so an unused session still expires a TTL later', async () => {
    const { store, dir, clock } = await open();
    const stepped = clock.now;
    clock.now += 10 * 3_600_000;
    await set(store, 'sid-future-idle', sessionFor('u1'));
    // Written while the clock was ahead: the file's time is in the future too, as a real step leaves it
    // (the file system's own clock, a tick coarse, could otherwise stamp it just before `stepped`).
    const written = new Date(clock.now);
    await fs.utimes(path.join(dir, 'sid-future-idle.json'), written, written);
    clock.now = stepped;
    await store.reap();
    expect(JSON.parse(await fs.readFile(path.join(dir, 'sid-future-idle.json'), 'utf8')).__lastAccess).toBe(stepped);
    clock.now += 3_700_000;
    await store.reap();
    expect(await entries(dir)).toEqual([]);
  });
});

describe('FileSessionStore per-user index', () => {
  const sids = (listed: Array<{ sid: string }>) => listed.map((s) => s.sid).sort();
  const markersOf = async (dir: string, user: string) => (await fs.readdir(new FileUserIndex(dir).userDir(user)).catch(() => [])).sort();

  it.skipIf(process.getuid?.() !== 0)("lists a user's sessions among many others' without listing the session directory: only that user's files are read", async () => {
    const { store, dir } = await open();
    await store.indexReady();
    await set(store, 'sid-mine-1', sessionFor('u-mine'));
    await set(store, 'sid-mine-2', sessionFor('u-mine'));
    for (let i = 0; i < 300; i += 1) await set(store, `sid-other-${i}`, sessionFor(`u-other-${i % 30}`));
    await handToNobody(dir);
    // Write and search but no read permission: a walk of the directory fails, opening a named file does not.
    await fs.chmod(dir, 0o300);
    const listed = await asNobody(() => store.sessionsOf('u-mine'));
    expect(sids(listed)).toEqual(['sid-mine-1', 'sid-mine-2']);
    expect(principalOf(listed[0]!.session)?.id).toBe('u-mine');
  });

  it('leaves no phantom session when a write was killed between its marker and its session file, and removes that marker once it is stale', async () => {
    const { store, dir, clock } = await open();
    await store.indexReady();
    await set(store, 'sid-written', sessionFor('u1'));
    const index = new FileUserIndex(dir);
    await index.add('u1', 'sid-killed');
    expect(sids(await store.sessionsOf('u1'))).toEqual(['sid-written']);
    // Younger than STALE_MARKER_MS it may be a write under way, and stays.
    expect(await markersOf(dir, 'u1')).toEqual(['sid-killed', 'sid-written']);
    clock.now += STALE_MARKER_MS + 1000;
    expect(sids(await store.sessionsOf('u1'))).toEqual(['sid-written']);
    expect(await markersOf(dir, 'u1')).toEqual(['sid-written']);
  });

  it("does not list a marker's session that now belongs to another user, and removes that marker once it is stale", async () => {
    const { store, dir, clock } = await open();
    await store.indexReady();
    await set(store, 'sid-moved', sessionFor('u1'));
    await set(store, 'sid-moved', sessionFor('u2'));
    expect(await store.sessionsOf('u1')).toEqual([]);
    clock.now += STALE_MARKER_MS + 1000;
    await store.sessionsOf('u1');
    expect(await markersOf(dir, 'u1')).toEqual([]);
    expect(await markersOf(dir, 'u2')).toEqual(['sid-moved']);
  });

  it('removes the marker of a session destroyed at logout and the markers of revoked sessions', async () => {
    const { store, dir } = await open();
    await store.indexReady();
    for (const sid of ['sid-a', 'sid-b', 'sid-c']) await set(store, sid, sessionFor('u1'));
    await new Promise<void>((resolve, reject) => store.destroy('sid-a', (e) => (e ? reject(e) : resolve())));
    expect(await markersOf(dir, 'u1')).toEqual(['sid-b', 'sid-c']);
    expect(await revokeSessions(store, 'u1')).toBe(2);
    expect(await markersOf(dir, 'u1')).toEqual([]);
    expect(await entries(dir)).toEqual([]);
  });

  it("reaps the marker of each expired session it removes, and markers whose session file is gone", async () => {
    const { store, dir, clock } = await open();
    await store.indexReady();
    await set(store, 'sid-expiring', sessionFor('u1'));
    await new FileUserIndex(dir).add('u2', 'sid-never-written');
    clock.now += 3_700_000;
    await set(store, 'sid-live', sessionFor('u2'));
    await store.reap();
    expect(await entries(dir)).toEqual(['sid-live.json']);
    expect(await markersOf(dir, 'u1')).toEqual([]);
    expect(await markersOf(dir, 'u2')).toEqual(['sid-live']);
  });

  it('indexes a session directory from before the index once, at start, and lists from it', async () => {
    const dir = path.join(await tempDir(), 'sessions');
    await fs.mkdir(dir);
    const now = Date.now();
    const write = (sid: string, user: string, lastAccess: number) => fs.writeFile(path.join(dir, `${sid}.json`), JSON.stringify({ ...sessionFor(user), __lastAccess: lastAccess }));
    await write('sid-old-1', 'u1', now);
    await write('sid-old-2', 'u1', now);
    await write('sid-old-3', 'u2', now);
    await write('sid-old-expired', 'u1', now - 7_200_000);
    await fs.writeFile(path.join(dir, 'sid-old-corrupt.json'), '{');
    const { store, logs } = await open({ dir }, { now });
    await store.indexReady();
    expect(await markersOf(dir, 'u1')).toEqual(['sid-old-1', 'sid-old-2']);
    expect(await markersOf(dir, 'u2')).toEqual(['sid-old-3']);
    expect(await fs.readFile(path.join(dir, '.users', '.version'), 'utf8')).toBe('1\n');
    expect(logs.lines.filter((l) => l.msg === 'indexed the session files by user')).toMatchObject([{ sessions: 3 }]);
    expect(sids(await store.sessionsOf('u1'))).toEqual(['sid-old-1', 'sid-old-2']);
    await store.close();
    // A later start finds the index complete and does not build it again.
    const again = await open({ dir }, { now });
    await again.store.indexReady();
    expect(again.logs.lines.filter((l) => l.msg === 'indexed the session files by user')).toEqual([]);
  });

  it('builds the index again when it was deleted while running, listing every session meanwhile', async () => {
    const { store, dir } = await open();
    await store.indexReady();
    await set(store, 'sid-kept-1', sessionFor('u1'));
    await set(store, 'sid-kept-2', sessionFor('u1'));
    await fs.rm(path.join(dir, '.users'), { recursive: true });
    expect(sids(await store.sessionsOf('u1'))).toEqual(['sid-kept-1', 'sid-kept-2']);
    await store.indexReady();
    expect(await markersOf(dir, 'u1')).toEqual(['sid-kept-1', 'sid-kept-2']);
    expect(sids(await store.sessionsOf('u1'))).toEqual(['sid-kept-1', 'sid-kept-2']);
  });
});
