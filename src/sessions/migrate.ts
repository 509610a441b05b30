import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAX_FILE_BYTES } from './file-store.js';
import { readSessionFile } from './session-file.js';
import { isExpired, lastAccessOf, parseSession, SESSION_ID_PATTERN, type SessionStore } from './session-store.js';

export type InsertingStore = SessionStore & Required<Pick<SessionStore, 'insert'>>;

export interface MigrationReport {
  migrated: number;
  /** Already in the target (a run before this one, or a login since). */
  present: number;
  expired: number;
  /** Session ids of files that are not a session (not JSON, too large, not a regular file). */
  unreadable: string[];
  failed: Array<{ sid: string; reason: string }>;
}

const CONCURRENCY = 8;

/**
 * Copies every live session file of `dir` into `target` as it is, each expiring when it would
 * have in the file store (last access + its max age). The files are only read, never changed.
 */
export async function migrateSessionFiles(dir: string, target: InsertingStore, ttlSeconds: number, now: () => number = Date.now): Promise<MigrationReport> {
  const report: MigrationReport = { migrated: 0, present: 0, expired: 0, unreadable: [], failed: [] };
  const ttlMs = ttlSeconds * 1000;

  const copy = async (sid: string): Promise<void> => {
    const read = await readSessionFile(path.join(dir, `${sid}.json`), MAX_FILE_BYTES).catch(() => 'unreadable' as const);
    if (read === 'missing') return;
    const session = read === 'unreadable' ? null : parseSession(read.text);
    if (!session) return void report.unreadable.push(sid);
    if (isExpired(session, ttlMs, now())) return void report.expired++;
    const expiresAt = lastAccessOf(session, now()) + (session.cookie?.originalMaxAge ?? ttlMs);
    try {
      if (await target.insert(sid, session, expiresAt)) report.migrated++;
      else report.present++;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error;
      report.failed.push({ sid, reason: (cause as Error)?.message ?? String(cause) });
    }
  };

  const inFlight = new Set<Promise<void>>();
  for await (const entry of await fsp.opendir(dir, { bufferSize: 128 })) {
    const sid = entry.name.endsWith('.json') ? entry.name.slice(0, -'.json'.length) : '';
    if (!SESSION_ID_PATTERN.test(sid)) continue;
    const running = copy(sid).finally(() => inFlight.delete(running));
    inFlight.add(running);
    if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return report;
}
