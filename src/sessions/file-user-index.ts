import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SESSION_ID_PATTERN } from './session-store.js';

/** Changes when the layout below does; an index of another version is built again. */
export const USER_INDEX_VERSION = '1';

const open = promisify(fs.open);
const close = promisify(fs.close);
// O_TRUNC: an existing marker's mtime is renewed too, so it is not taken for a stale one.
const MARKER_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;
/** A marker at least this old without its session is left over, not a write under way. */
export const STALE_MARKER_MS = 60 * 1000;

/**
 * Which session files belong to which user, as empty files `<root>/.users/<sha256 of the user
 * id>/<sid>`: listing one user's sessions reads one small directory rather than every session.
 * A marker is made (or renewed) before its session file is written and removed after it is
 * deleted, so a killed process leaves at most a marker without a session, never a session without
 * a marker. Such a marker is skipped, and removed once it is STALE_MARKER_MS old (younger, it may
 * belong to a write under way). `.users/.version` says the index holds every session written before
 * it existed; without it (a directory from before the index, or `.users` deleted) the store builds
 * the index again.
 */
export class FileUserIndex {
  readonly root: string;
  private readonly versionFile: string;

  constructor(sessionDir: string) {
    this.root = path.join(sessionDir, '.users');
    this.versionFile = path.join(this.root, '.version');
  }

  /** Files `sid` under the user. ENOENT when the session directory itself is gone. */
  async add(userId: string, sid: string): Promise<void> {
    const marker = this.markerOf(userId, sid);
    try {
      await close(await open(marker, MARKER_FLAGS, 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Not recursive: a missing session directory is the store's to make again (and log).
      await mkdirIfMissing(this.root);
      await mkdirIfMissing(path.dirname(marker));
      await close(await open(marker, MARKER_FLAGS, 0o600));
    }
  }

  async remove(userId: string, sid: string): Promise<void> {
    await unlinkIfPresent(this.markerOf(userId, sid));
  }

  /** Removes a marker whose session is gone or someone else's, unless a write may be under way. */
  async removeStale(marker: string, now: number): Promise<boolean> {
    const stat = await fsp.lstat(marker).catch(() => undefined);
    if (!stat || Math.abs(now - stat.mtimeMs) < STALE_MARKER_MS) return false;
    await unlinkIfPresent(marker);
    return true;
  }

  /** The session ids filed under the user (some may be gone, or another user's since). */
  async sids(userId: string): Promise<string[]> {
    const names = await fsp.readdir(this.userDir(userId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return names.filter((name) => SESSION_ID_PATTERN.test(name));
  }

  /** Whether the index holds every session (its version file is there and current). */
  async isComplete(): Promise<boolean> {
    const text = await fsp.readFile(this.versionFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return '';
      throw error;
    });
    return text.trim() === USER_INDEX_VERSION;
  }

  async markComplete(): Promise<void> {
    await mkdirIfMissing(this.root);
    await fsp.writeFile(this.versionFile, `${USER_INDEX_VERSION}\n`, { mode: 0o600 });
  }

  /** Every marker as (user directory, sid), one user directory after another. */
  async *markers(): AsyncGenerator<{ marker: string; sid: string }> {
    let users: fs.Dir;
    try {
      users = await fsp.opendir(this.root, { bufferSize: 128 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for await (const user of users) {
      if (!user.isDirectory()) continue;
      const userDir = path.join(this.root, user.name);
      const sids = await fsp.opendir(userDir, { bufferSize: 128 }).catch(() => undefined);
      if (!sids) continue;
      for await (const marker of sids) {
        if (SESSION_ID_PATTERN.test(marker.name)) yield { marker: path.join(userDir, marker.name), sid: marker.name };
      }
    }
  }

  userDir(userId: string): string {
    return path.join(this.root, createHash('sha256').update(userId).digest('hex'));
  }

  markerOf(userId: string, sid: string): string {
    return path.join(this.userDir(userId), sid);
  }
}

async function mkdirIfMissing(dir: string): Promise<void> {
  await fsp.mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

export async function unlinkIfPresent(file: string): Promise<void> {
  await fsp.unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
