import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/harness.js';
import { migrateSessionFiles, type InsertingStore } from './migrate.js';
import type { StoredSession } from './session-store.js';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

/** A target that keeps what it is given, already holds `present`, and fails for `failing`. */
function fakeTarget(present: string[] = [], failing: string[] = []) {
  const written = new Map<string, { session: StoredSession; expiresAt: number }>();
  const store = {
    insert: async (sid: string, session: StoredSession, expiresAt: number) => {
      if (failing.includes(sid)) throw Object.assign(new Error('The session store is unavailable'), { cause: new Error('READONLY You can\'t write against a read only replica.') });
      if (present.includes(sid) || written.has(sid)) return false;
      written.set(sid, { session, expiresAt });
      return true;
    },
  } as unknown as InsertingStore;
  return { store, written };
}

async function sessionDir(files: Record<string, unknown>): Promise<string> {
  const dir = await tempDir();
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const session = (lastAccess: number, maxAge?: number) => ({ cookie: { originalMaxAge: maxAge, path: '/' }, passport: { user: 'u-1' }, __lastAccess: lastAccess });

describe('migrateSessionFiles', () => {
  it('writes each live session as it is, expiring when it would have in the file store (last access + its max age, else the TTL)', async () => {
    const dir = await sessionDir({ 'own-max-age.json': session(NOW - HOUR, 2 * HOUR), 'ttl.json': session(NOW - HOUR) });
    const { store, written } = fakeTarget();
    const report = await migrateSessionFiles(dir, store, 86_400, () => NOW);
    expect(report).toEqual({ migrated: 2, present: 0, expired: 0, unreadable: [], failed: [] });
    expect(written.get('own-max-age')).toEqual({ session: session(NOW - HOUR, 2 * HOUR), expiresAt: NOW + HOUR });
    expect(written.get('ttl')?.expiresAt).toBe(NOW - HOUR + 86_400_000);
  });

  it('counts sessions the target holds, expired files and unreadable ones apart, reports each failed write with its cause, and changes no file', async () => {
    const files = {
      'there.json': session(NOW),
      'expired.json': session(NOW - 2 * HOUR, HOUR),
      'broken.json': 'not json',
      'no-cookie.json': { passport: { user: 'u-1' } },
      'failing.json': session(NOW),
      'not-a-session.txt': 'x',
      '.tmp-123.json.tmp': 'x',
      '.session-secret': 'x'.repeat(64),
    };
    const dir = await sessionDir(files);
    await fs.mkdir(path.join(dir, 'directory.json'));
    await fs.symlink(path.join(dir, 'there.json'), path.join(dir, 'link.json'));
    const { store, written } = fakeTarget(['there'], ['failing']);
    const report = await migrateSessionFiles(dir, store, 86_400, () => NOW);
    expect({ ...report, unreadable: report.unreadable.sort() }).toEqual({
      migrated: 0,
      present: 1,
      expired: 1,
      unreadable: ['broken', 'directory', 'link', 'no-cookie'],
      failed: [{ sid: 'failing', reason: "READONLY You can't write against a read only replica." }],
    });
    expect(written.size).toBe(0);
    expect((await fs.readdir(dir)).sort()).toEqual([...Object.keys(files), 'directory.json', 'link.json'].sort());
    for (const [name, content] of Object.entries(files)) expect(await fs.readFile(path.join(dir, name), 'utf8')).toBe(typeof content === 'string' ? content : JSON.stringify(content));
  });
});
