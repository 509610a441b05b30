import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import session from 'express-session';
import createFileStore from 'session-file-store';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { parseSession, principalOf, SESSION_ID_PATTERN, type SessionStore, type StoredSession, type UserSession } from './session-store.js';

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
  now?: () => number;
}

type Callback<T = void> = (err?: unknown, value?: T) => void;

const STALE_TEMP_FILE_MS = 60 * 60 * 1000;
// The callback API costs fewer threadpool round trips than fs/promises on the hot path.
const statFile = promisify(fs.stat);
const readFile = promisify(fs.readFile);

/**
 * session-file-store, hardened: missing, expired and corrupt sessions are answered at once as
 * anonymous; touch() rewrites a file at most once per interval; files are 0600 and written
 * atomically; reaping runs in-process without blocking the event loop.
 */
export class FileSessionStore extends StockFileStore implements SessionStore {
  readonly kind = 'file';
  private readonly dir: string;
  private readonly ttlMs: number;
  private readonly touchIntervalMs: number;
  private readonly logger: Logger;
  private readonly reapConcurrency: number;
  private readonly now: () => number;
  private readonly reapTimer: NodeJS.Timeout | undefined;
  private reaping: Promise<{ scanned: number; removed: number }> | undefined;
  private readonly cacheEntries: number;
  /**
   * Text of recently read files. A hit still costs a stat, so a file rewritten or removed by any
   * process is seen at once; it saves the open/read/close round trips of a full read.
   */
  private readonly cache = new Map<string, { version: string; text: string }>();

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
    this.now = options.now ?? Date.now;
    this.cacheEntries = options.cacheEntries ?? 1000;
    if (options.reapIntervalSeconds > 0) {
      this.reapTimer = setInterval(() => void this.reapLogged(), options.reapIntervalSeconds * 1000);
      this.reapTimer.unref();
    }
  }

  override get(sid: string, callback: Callback<StoredSession | null>): void {
    this.read(sid).then(
      (sess) => callback(null, sess),
      (error) => callback(error),
    );
  }

  override set(sid: string, sess: StoredSession, callback?: Callback): void {
    this.write(sid, sess).then(
      () => callback?.(),
      (error) => callback?.(error),
    );
  }

  override touch(sid: string, sess: StoredSession, callback?: Callback): void {
    this.refresh(sid, sess).then(
      () => callback?.(),
      (error) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    if (!SESSION_ID_PATTERN.test(sid)) {
      callback?.();
      return;
    }
    this.cache.delete(sid);
    fsp.rm(this.fileOf(sid), { force: true }).then(
      () => callback?.(),
      (error) => callback?.(error),
    );
  }

  async count(): Promise<number> {
    let count = 0;
    for (const name of await fsp.readdir(this.dir)) if (isSessionFile(name)) count += 1;
    return count;
  }

  async sessionsOf(userId: string): Promise<UserSession[]> {
    const found: UserSession[] = [];
    await this.eachFile(async (name) => {
      if (!isSessionFile(name)) return;
      const sid = name.slice(0, -'.json'.length);
      try {
        const session = parseSession(await fsp.readFile(path.join(this.dir, name), 'utf8'));
        if (session && !this.isExpired(session) && principalOf(session)?.id === userId) found.push({ sid, session });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    });
    return found;
  }

  async ping(): Promise<void> {
    await fsp.access(this.dir, fs.constants.R_OK | fs.constants.W_OK);
  }

  /** Deletes expired and unreadable session files and stale temporary files. */
  reap(): Promise<{ scanned: number; removed: number }> {
    this.reaping ??= this.reapAll().finally(() => {
      this.reaping = undefined;
    });
    return this.reaping;
  }

  async close(): Promise<void> {
    if (this.reapTimer) clearInterval(this.reapTimer);
    await this.reaping?.catch(() => undefined);
  }

  private fileOf(sid: string): string {
    return path.join(this.dir, `${sid}.json`);
  }

  private isExpired(sess: StoredSession): boolean {
    const maxAge = sess.cookie?.originalMaxAge ?? this.ttlMs;
    return (sess.__lastAccess ?? 0) + maxAge < this.now();
  }

  private async read(sid: string): Promise<StoredSession | null> {
    if (!SESSION_ID_PATTERN.test(sid)) return null;
    const file = this.fileOf(sid);
    const text = await this.readText(sid, file);
    if (text === undefined) return null;
    const sess = parseSession(text);
    if (!sess) {
      this.cache.delete(sid);
      this.logger.warn({ sessionFile: path.basename(file) }, 'removed unreadable session file; the request is anonymous');
      await fsp.rm(file, { force: true });
      return null;
    }
    return this.isExpired(sess) ? null : sess;
  }

  private async readText(sid: string, file: string): Promise<string | undefined> {
    try {
      const stat = await statFile(file);
      const version = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
      const cached = this.cache.get(sid);
      if (cached?.version === version) {
        this.cache.delete(sid);
        this.cache.set(sid, cached);
        return cached.text;
      }
      const text = await readFile(file, 'utf8');
      this.remember(sid, { version, text });
      return text;
    } catch (error) {
      this.cache.delete(sid);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private remember(sid: string, entry: { version: string; text: string }): void {
    if (this.cacheEntries <= 0) return;
    this.cache.delete(sid);
    this.cache.set(sid, entry);
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
  }

  private async write(sid: string, sess: StoredSession): Promise<void> {
    if (!SESSION_ID_PATTERN.test(sid)) throw new Error('invalid session id');
    sess.__lastAccess = this.now();
    this.cache.delete(sid);
    await writeFileAtomic(this.fileOf(sid), JSON.stringify(sess), 0o600);
  }

  private async refresh(sid: string, sess: StoredSession): Promise<void> {
    if (this.now() - (sess.__lastAccess ?? 0) < this.touchIntervalMs) return;
    // Re-read so a touch never overwrites another process's change, nor revives a destroyed session.
    const current = await this.read(sid);
    if (!current) return;
    current.cookie = sess.cookie;
    await this.write(sid, current);
  }

  private async reapLogged(): Promise<void> {
    try {
      const { scanned, removed } = await this.reap();
      this.logger.debug({ scanned, removed }, 'reaped expired sessions');
    } catch (error) {
      this.logger.warn({ err: error }, 'session reaping failed');
    }
  }

  private async reapAll(): Promise<{ scanned: number; removed: number }> {
    let scanned = 0;
    let removed = 0;
    await this.eachFile(async (name) => {
      const isTemp = name.startsWith('.') && name.endsWith('.tmp');
      if (!isSessionFile(name) && !isTemp) return;
      scanned += 1;
      if (await this.reapOne(name, isTemp)) removed += 1;
    });
    return { scanned, removed };
  }

  /** Runs work on every file of the session directory, a few at a time, without listing it whole. */
  private async eachFile(work: (name: string) => Promise<void>): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const dir = await fsp.opendir(this.dir, { bufferSize: 128 });
    for await (const entry of dir) {
      if (!entry.isFile()) continue;
      const running = work(entry.name).finally(() => inFlight.delete(running));
      inFlight.add(running);
      if (inFlight.size >= this.reapConcurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  private async reapOne(name: string, isTemp: boolean): Promise<boolean> {
    const file = path.join(this.dir, name);
    try {
      const stat = await fsp.stat(file);
      const age = this.now() - stat.mtimeMs;
      if (isTemp ? age < STALE_TEMP_FILE_MS : age < this.ttlMs) return false;
      if (!isTemp) {
        const sess = parseSession(await fsp.readFile(file, 'utf8'));
        if (sess && !this.isExpired(sess)) return false;
      }
      await fsp.rm(file, { force: true });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}

function isSessionFile(name: string): boolean {
  return name.endsWith('.json') && SESSION_ID_PATTERN.test(name.slice(0, -5));
}
