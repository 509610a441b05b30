import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import session from 'express-session';
import createFileStore from 'session-file-store';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { RefreshedValue } from './refreshed-value.js';
import { FileUserIndex } from './file-user-index.js';
import { readSessionFile, sessionFileVersion } from './session-file.js';
import {
  isExpired,
  parseSession,
  principalOf,
  SESSION_ID_PATTERN,
  settle,
  storeUnavailable,
  touchIsDue,
  type Callback,
  type SessionStore,
  type StoredSession,
  type UserSession,
} from './session-store.js';

const StockFileStore = createFileStore(session);

export interface FileSessionStoreOptions {
  dir: string;
  ttlSeconds: number;
  /** A session file is rewritten by touch() at most once per this many seconds. */
  touchIntervalSeconds: number;
  /** Seconds between reaps; 0 turns the timer off (reap() still works). */
  reapIntervalSeconds: number;
  logger: Logger;
  /** How many session files the reaper works on at once; kept low to leave threadpool room for requests. */
  reapConcurrency?: number;
  /** How many recently read session files are kept, keyed by inode, mtime and size. */
  cacheEntries?: number;
  /** How many characters of session text the cache holds at most. */
  cacheBytes?: number;
  /** A larger session file is unreadable (answered as no session and removed). */
  maxFileBytes?: number;
  /** count() walks the directory again at most once per this many seconds (0: on every call). */
  countIntervalSeconds?: number;
  now?: () => number;
}

/** A temporary file this old was left by a write that never finished (the process was killed). */
const STALE_TEMP_FILE_MS = 60 * 1000;
export const MAX_FILE_BYTES = 64 * 1024;
/** Unreadable files warned about once each; the set is emptied past this size. */
const MAX_WARNED_FILES = 1000;

/**
 * session-file-store, hardened: missing, expired and corrupt sessions are answered at once as
 * anonymous; touch() rewrites a file at most once per interval; files are 0600 and written
 * atomically; only regular files of bounded size are read, never through a link; reaping runs
 * in-process without blocking the event loop. A failing directory (full, read-only, gone, not a
 * directory) fails the request with 503 (507 when full), never ends a session. One user's sessions
 * are found through a per-user index (FileUserIndex), built in the background at start when the
 * directory has none (until then, by reading every session file).
 */
export class FileSessionStore extends StockFileStore implements SessionStore {
  readonly kind = 'file';
  private readonly dir: string;
  private readonly ttlMs: number;
  private readonly touchIntervalMs: number;
  private readonly logger: Logger;
  private readonly reapConcurrency: number;
  private readonly maxFileBytes: number;
  private readonly now: () => number;
  private readonly reapTimer: NodeJS.Timeout | undefined;
  private reaping: Promise<{ scanned: number; removed: number }> | undefined;
  private readonly sweepingTemps: Promise<unknown>;
  private readonly cacheEntries: number;
  private readonly cacheBytes: number;
  /**
   * Text of recently read files. A hit still costs an lstat, so a file rewritten or removed by any
   * process is seen at once; it saves the open/read/close round trips of a full read.
   */
  private readonly cache = new Map<string, { version: string; text: string }>();
  private cachedBytes = 0;
  private readonly warnedFiles = new Set<string>();
  private readonly liveCount: RefreshedValue<number>;
  private lastErrorLog = 0;
  private readonly index: FileUserIndex;
  private indexing: Promise<void> | undefined;
  private readonly checkingIndex: Promise<unknown>;
  private closed = false;

  constructor(options: FileSessionStoreOptions) {
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    super({
      path: options.dir,
      ttl: options.ttlSeconds,
      retries: 0,
      reapInterval: -1,
      fileExtension: '.json',
      logFn: (message) => options.logger.debug(message),
    });
    this.dir = options.dir;
    this.ttlMs = options.ttlSeconds * 1000;
    this.touchIntervalMs = options.touchIntervalSeconds * 1000;
    this.logger = options.logger;
    this.reapConcurrency = options.reapConcurrency ?? 4;
    this.maxFileBytes = options.maxFileBytes ?? MAX_FILE_BYTES;
    this.now = options.now ?? Date.now;
    this.cacheEntries = options.cacheEntries ?? 1000;
    this.cacheBytes = options.cacheBytes ?? 8 * 1024 * 1024;
    if (options.reapIntervalSeconds > 0) {
      this.reapTimer = setInterval(() => void this.reapLogged(), options.reapIntervalSeconds * 1000);
      this.reapTimer.unref();
    }
    this.liveCount = new RefreshedValue(() => this.countLive(), (options.countIntervalSeconds ?? 60) * 1000, this.now);
    this.sweepingTemps = this.sweepStaleTemps();
    this.index = new FileUserIndex(this.dir);
    this.checkingIndex = this.indexIsComplete().catch((error: unknown) => this.logger.warn({ err: error }, 'could not look at the per-user session index'));
  }

  override get(sid: string, callback: Callback<StoredSession | null>): void {
    void settle(this.guard(this.read(sid)), callback);
  }

  override set(sid: string, sess: StoredSession, callback?: Callback): void {
    void settle(this.guard(this.write(sid, sess)), callback);
  }

  override touch(sid: string, sess: StoredSession, callback?: Callback): void {
    void settle(this.guard(this.refresh(sid, sess)), callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    if (!SESSION_ID_PATTERN.test(sid)) {
      callback?.();
      return;
    }
    void settle(this.guard(this.remove(sid)), callback);
  }

  /** Live sessions, from memory: the directory is walked again in the background at most once per count interval. */
  count(): Promise<number> {
    return this.guard(this.liveCount.get());
  }

  /** The user's sessions, through the per-user index; by reading every session file while it is being built. */
  sessionsOf(userId: string): Promise<UserSession[]> {
    return this.guard(this.indexIsComplete().then((complete) => (complete ? this.indexedSessionsOf(userId) : this.scanSessionsOf(userId))));
  }

  private async indexedSessionsOf(userId: string): Promise<UserSession[]> {
    const found: UserSession[] = [];
    const now = this.now();
    await forEachLimited(await this.index.sids(userId), this.reapConcurrency, async (sid) => {
      // A failed read fails the listing (503): revocation never silently misses a session.
      const read = await readSessionFile(this.fileOf(sid), this.maxFileBytes);
      if (read === 'unreadable') return; // answered as no session by get(), removed by the reaper
      const session = read === 'missing' ? null : parseSession(read.text);
      if (read === 'missing' || (session && principalOf(session)?.id !== userId)) {
        await this.index.removeStale(this.index.markerOf(userId, sid), now);
      } else if (session && !isExpired(session, this.ttlMs, now)) {
        found.push({ sid, session });
      }
    });
    return found;
  }

  private async scanSessionsOf(userId: string): Promise<UserSession[]> {
    const found: UserSession[] = [];
    await this.eachFile(async (name) => {
      if (!isSessionFile(name)) return;
      const read = await readSessionFile(path.join(this.dir, name), this.maxFileBytes).catch(() => 'unreadable' as const);
      const session = typeof read === 'object' ? parseSession(read.text) : null;
      if (session && !isExpired(session, this.ttlMs, this.now()) && principalOf(session)?.id === userId) {
        found.push({ sid: name.slice(0, -'.json'.length), session });
      }
    });
    return found;
  }

  /** Resolves once the per-user index is complete (building it if need be); rejects if it cannot be built. */
  async indexReady(): Promise<void> {
    await this.checkingIndex;
    if (await this.indexIsComplete()) return;
    await this.indexing;
    if (!(await this.index.isComplete())) throw new Error('could not index the session files by user');
  }

  /** Whether the per-user index is complete; when it is missing, starts building it in the background. */
  private async indexIsComplete(): Promise<boolean> {
    if (this.indexing) return false;
    if (await this.index.isComplete()) return true;
    if (!this.closed) {
      this.indexing = this.buildIndex()
        .catch((error: unknown) => this.logger.warn({ err: error }, "could not index the session files by user; a user's sessions are found by reading every file until it succeeds"))
        .finally(() => {
          this.indexing = undefined;
        });
    }
    return false;
  }

  /** Files every live session by its user, then marks the index complete. */
  private async buildIndex(): Promise<void> {
    let filed = 0;
    await this.eachFile(async (name) => {
      if (!isSessionFile(name)) return;
      const sid = name.slice(0, -'.json'.length);
      const read = await readSessionFile(path.join(this.dir, name), this.maxFileBytes).catch((error: NodeJS.ErrnoException) => {
        // A file this process may never read is no session it serves; anything else (EMFILE) is tried again later.
        if (error.code !== 'EACCES' && error.code !== 'EPERM') throw error;
        this.warnOnce(name, error);
        return 'unreadable' as const;
      });
      const session = typeof read === 'object' ? parseSession(read.text) : null;
      const user = principalOf(session)?.id;
      if (!user || isExpired(session!, this.ttlMs, this.now())) return;
      await this.index.add(user, sid);
      filed += 1;
    });
    if (this.closed) return;
    await this.index.markComplete();
    // A new (empty) directory is indexed silently.
    if (filed > 0) this.logger.info({ sessions: filed }, 'indexed the session files by user');
  }

  /** Ready when the directory is a directory this process may read and write. */
  async ping(): Promise<void> {
    const stat = await fsp.stat(this.dir);
    if (!stat.isDirectory()) throw Object.assign(new Error('SESSION_DIR is not a directory'), { code: 'ENOTDIR' });
    await fsp.access(this.dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  }

  /** Deletes expired and unreadable session files and stale temporary files. */
  reap(): Promise<{ scanned: number; removed: number }> {
    this.reaping ??= this.reapAll().finally(() => {
      this.reaping = undefined;
    });
    return this.reaping;
  }

  /** Stops the timer and the walks under way (a partial index build is done again at the next start). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reapTimer) clearInterval(this.reapTimer);
    await this.checkingIndex;
    await Promise.all([this.reaping?.catch(() => undefined), this.sweepingTemps, this.liveCount.settled(), this.indexing]);
  }

  private fileOf(sid: string): string {
    return path.join(this.dir, `${sid}.json`);
  }

  /** A failure of the directory as the 503 (507 when full) the request gets, logged at most every 5 s. */
  private guard<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      if (this.now() - this.lastErrorLog >= 5000) {
        this.lastErrorLog = this.now();
        this.logger.error({ err: error }, 'file session store error');
      }
      throw storeUnavailable(error);
    });
  }

  private async read(sid: string): Promise<StoredSession | null> {
    if (!SESSION_ID_PATTERN.test(sid)) return null;
    const file = this.fileOf(sid);
    const text = await this.readText(sid, file);
    const sess = text === 'missing' ? null : parseSession(text === 'unreadable' ? '' : text);
    if (text !== 'missing' && !sess) {
      this.forget(sid);
      this.logger.warn({ sessionFile: path.basename(file) }, 'removed unreadable session file; the request is anonymous');
      // unlink, not rm: never follows a link, and leaves a directory in place.
      await fsp.unlink(file).catch(() => undefined);
      return null;
    }
    return sess && !isExpired(sess, this.ttlMs, this.now()) ? sess : null;
  }

  private async readText(sid: string, file: string): Promise<string | 'missing' | 'unreadable'> {
    const cached = this.cache.get(sid);
    if (cached) {
      const version = await sessionFileVersion(file, this.maxFileBytes);
      if (version === cached.version) {
        this.cache.delete(sid);
        this.cache.set(sid, cached);
        return cached.text;
      }
      this.forget(sid);
    }
    const read = await readSessionFile(file, this.maxFileBytes);
    if (typeof read !== 'object') return read;
    this.remember(sid, read);
    return read.text;
  }

  private remember(sid: string, entry: { version: string; text: string }): void {
    if (this.cacheEntries <= 0 || entry.text.length > this.cacheBytes) return;
    this.forget(sid);
    this.cache.set(sid, entry);
    this.cachedBytes += entry.text.length;
    while (this.cache.size > this.cacheEntries || this.cachedBytes > this.cacheBytes) this.forget(this.cache.keys().next().value!);
  }

  private forget(sid: string): void {
    const entry = this.cache.get(sid);
    if (!entry) return;
    this.cache.delete(sid);
    this.cachedBytes -= entry.text.length;
  }

  /** Files the session under its user first, then writes it: a crash leaves at most a marker without a session. */
  private async write(sid: string, sess: StoredSession): Promise<void> {
    if (!SESSION_ID_PATTERN.test(sid)) throw new Error('invalid session id');
    sess.__lastAccess = this.now();
    this.forget(sid);
    const file = this.fileOf(sid);
    const text = JSON.stringify(sess);
    const user = principalOf(sess)?.id;
    const writeBoth = async () => {
      if (user) await this.index.add(user, sid);
      await writeFileAtomic(file, text, 0o600);
    };
    try {
      await writeBoth();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // The directory was removed (by hand, by a cleanup job): make it again.
      await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
      this.logger.warn('the session directory was missing; created it again');
      await writeBoth();
    }
  }

  /** Deletes the session file, then its marker in the per-user index. */
  private async remove(sid: string): Promise<void> {
    // The owner, to find the marker; a session that cannot be read leaves its marker to the reaper.
    const text = await this.readText(sid, this.fileOf(sid)).catch(() => 'unreadable' as const);
    const user = text === 'missing' || text === 'unreadable' ? undefined : principalOf(parseSession(text))?.id;
    this.forget(sid);
    await fsp.rm(this.fileOf(sid), { force: true });
    if (user) await this.index.remove(user, sid).catch(() => undefined);
  }

  private async refresh(sid: string, sess: StoredSession): Promise<void> {
    if (!touchIsDue(sess, this.touchIntervalMs, this.now())) return;
    // Re-read so a touch never overwrites another process's change, nor revives a destroyed session.
    const current = await this.read(sid);
    if (!current) return;
    current.cookie = sess.cookie;
    await this.write(sid, current);
  }

  /**
   * Session files last written less than a TTL ago: a live session is written again at least once
   * per touch interval, so this needs an lstat per file and no read (expired files are left to the
   * reaper). Two at a time, to leave the threadpool to requests.
   */
  private async countLive(): Promise<number> {
    let live = 0;
    const now = this.now();
    await this.eachFile(async (name) => {
      if (!isSessionFile(name)) return;
      const stat = await fsp.lstat(path.join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (stat?.isFile() && now - stat.mtimeMs < this.ttlMs) live += 1;
    }, 2);
    return live;
  }

  private async reapLogged(): Promise<void> {
    try {
      const { scanned, removed } = await this.reap();
      this.logger.debug({ scanned, removed }, 'reaped expired sessions');
    } catch (error) {
      this.logger.warn({ err: error }, 'session reaping failed');
    }
  }

  /** Temporary files a killed process left, cleared at start rather than at the first reap. */
  private async sweepStaleTemps(): Promise<void> {
    try {
      const { removed } = await this.reapAll(true);
      if (removed > 0) this.logger.info({ removed }, 'removed temporary session files of interrupted writes');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not sweep temporary session files');
    }
  }

  private async reapAll(onlyTemps = false): Promise<{ scanned: number; removed: number }> {
    let scanned = 0;
    let removed = 0;
    await this.eachFile(async (name) => {
      const isTemp = name.startsWith('.') && name.endsWith('.tmp');
      if (!isTemp && (onlyTemps || !isSessionFile(name))) return;
      scanned += 1;
      if (await this.reapOne(name, isTemp)) removed += 1;
    });
    if (!onlyTemps) {
      await this.reapMarkers().then(
        (markers) => markers > 0 && this.logger.debug({ markers }, 'removed markers of sessions that are gone from the per-user index'),
        (error: unknown) => this.logger.warn({ err: error }, 'could not look for stale markers in the per-user session index'),
      );
    }
    return { scanned, removed };
  }

  /** Removes the markers of the per-user index whose session file is gone (an lstat each, two at a time). */
  private async reapMarkers(): Promise<number> {
    let removed = 0;
    const now = this.now();
    await forEachLimited(this.index.markers(), 2, async ({ marker, sid }) => {
      const gone = await fsp.lstat(this.fileOf(sid)).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
      );
      if (gone && (await this.index.removeStale(marker, now).catch(() => false))) removed += 1;
    }, () => this.closed);
    return removed;
  }

  /** Runs work on every file of the session directory, a few at a time, without listing it whole; stops when the store closes. */
  private async eachFile(work: (name: string) => Promise<void>, concurrency = this.reapConcurrency): Promise<void> {
    const dir = await fsp.opendir(this.dir, { bufferSize: 128 });
    await forEachLimited(filesIn(dir), concurrency, work, () => this.closed);
  }

  /** Removes one file if it is expired, unreadable or a stale temporary; a file that fails is skipped. */
  private async reapOne(name: string, isTemp: boolean): Promise<boolean> {
    const file = path.join(this.dir, name);
    try {
      const stat = await fsp.lstat(file);
      const age = this.now() - stat.mtimeMs;
      // A time ahead of now (the clock stepped back) is looked at rather than trusted.
      if (isTemp ? Math.abs(age) < STALE_TEMP_FILE_MS : age >= 0 && age < this.ttlMs) return false;
      let user: string | undefined;
      if (!isTemp) {
        const read = await readSessionFile(file, this.maxFileBytes);
        if (read === 'missing') return false;
        const sess = typeof read === 'object' ? parseSession(read.text) : null;
        if (sess && !isExpired(sess, this.ttlMs, this.now())) {
          if ((sess.__lastAccess ?? 0) > this.now()) await this.write(name.slice(0, -'.json'.length), sess);
          return false;
        }
        user = principalOf(sess)?.id;
      }
      await fsp.unlink(file);
      // A marker left behind is harmless (skipped) and removed with the others gone stale below.
      if (user) await this.index.remove(user, name.slice(0, -'.json'.length)).catch(() => undefined);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warnOnce(name, error);
      return false;
    }
  }

  private warnOnce(name: string, error: unknown): void {
    if (this.warnedFiles.has(name)) return;
    if (this.warnedFiles.size >= MAX_WARNED_FILES) this.warnedFiles.clear();
    this.warnedFiles.add(name);
    this.logger.warn({ sessionFile: name, code: (error as NodeJS.ErrnoException).code }, 'skipped a session file that cannot be read or removed');
  }
}

/** Runs `work` on every item, at most `concurrency` at once, until one fails or `stopped()` says so. */
async function forEachLimited<T>(items: Iterable<T> | AsyncIterable<T>, concurrency: number, work: (item: T) => Promise<void>, stopped = () => false): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const item of items) {
      if (failure || stopped()) break;
      const running: Promise<void> = work(item)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
}

async function* filesIn(dir: fs.Dir): AsyncGenerator<string> {
  for await (const entry of dir) if (entry.isFile()) yield entry.name;
}

function isSessionFile(name: string): boolean {
  return name.endsWith('.json') && SESSION_ID_PATTERN.test(name.slice(0, -5));
}
