import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { parseSession, principalOf, SESSION_ID_PATTERN, settle, storeUnavailable, touchIsDue, type Callback, type SessionStore, type StoredSession, type UserSession } from './session-store.js';
import { RefreshedValue } from './refreshed-value.js';
import { withTimeout } from './timeout.js';

/** Files one session id in a user's set. KEYS: user set; ARGV: sid, lifetime ms. */
const FILE_SCRIPT = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`;

/**
 * Writes a session and, for a login, files its id in the user's set, whose expiry is pushed back
 * to the session's when that is later (never shortened). With ARGV[4] 'XX' only an existing
 * session is written (a touch never revives a destroyed one), with 'NX' only a new one.
 * KEYS: session key, [user set]; ARGV: text, lifetime ms, sid, 'XX' | 'NX' | ''.
 */
const WRITE_SCRIPT = `
local written
if ARGV[4] == 'XX' or ARGV[4] == 'NX' then
  written = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], ARGV[4])
else
  written = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if written and KEYS[2] then
  redis.call('SADD', KEYS[2], ARGV[3])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
end
return written and 1 or 0
`;

export interface RedisSessionStoreOptions {
  url: string;
  prefix: string;
  ttlSeconds: number;
  /** A session's expiry is pushed back by touch() at most once per this many seconds. */
  touchIntervalSeconds: number;
  /** A command that takes longer fails the request with 503 rather than holding it. */
  timeoutMs: number;
  logger: Logger;
  /** count() scans the keys again at most once per this many seconds (0: on every call). */
  countIntervalSeconds?: number;
  now?: () => number;
}

/**
 * connect-redis on a node-redis client that never queues commands while disconnected: with Redis
 * down, a request that needs its session fails at once with 503 (never anonymous-as-logged-in),
 * and the client reconnects in the background so service resumes without a restart.
 *
 * Each user's session ids are kept in a set `<prefix>user:<id>`, added to on every write, so
 * listing (and revoking) one user's sessions reads that set rather than every key. Ids whose
 * session is gone are dropped from it when it is read. Keys written before the sets existed are
 * filed once, in the background, the first time a store opens on a Redis without the marker key
 * `<prefix>index:users`; until then a user's sessions are found by a scan as before.
 */
export class RedisSessionStore extends RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly redis: ReturnType<typeof createClient>;
  private readonly timeoutMs: number;
  private readonly touchIntervalMs: number;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly liveCount: RefreshedValue<number>;
  /** True once every session is filed in its user's set (the marker key exists). */
  private indexed = false;
  private indexing: Promise<void> | undefined;
  private lastErrorLog = 0;
  private closed = false;

  constructor(options: RedisSessionStoreOptions) {
    const redis = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: options.timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
    });
    super({ client: redis, prefix: options.prefix, ttl: options.ttlSeconds });
    this.redis = redis;
    this.timeoutMs = options.timeoutMs;
    this.touchIntervalMs = options.touchIntervalSeconds * 1000;
    this.ttlMs = options.ttlSeconds * 1000;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.liveCount = new RefreshedValue(() => this.countKeys(), (options.countIntervalSeconds ?? 60) * 1000, this.now);
    redis.on('error', (error: Error) => this.logThrottled(error));
    redis.on('ready', () => this.logger.info('connected to Redis'));
  }

  /** Starts connecting; resolves once connected or after the timeout, whichever comes first. */
  async open(): Promise<this> {
    const connecting = this.redis.connect().catch(() => undefined);
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, this.timeoutMs).unref())]);
    if (!this.redis.isReady) this.logger.warn('Redis is not reachable yet; requests that need a session get 503 until it is');
    else await Promise.all([this.checkEvictionPolicy(), this.checkIndex()]);
    return this;
  }

  /** Resolves once every session is filed in its user's set (at once when it already was). */
  async indexReady(): Promise<void> {
    if (this.indexed) return;
    this.indexing ??= this.buildIndex().finally(() => {
      this.indexing = undefined;
    });
    await this.indexing;
  }

  private get indexMarker(): string {
    return `${this.prefix}index:users`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}user:${userId}`;
  }

  /** Files the sessions written before the per-user sets existed, in the background. */
  private async checkIndex(): Promise<void> {
    try {
      this.indexed = (await this.command(this.redis.exists(this.indexMarker))) === 1;
    } catch {
      return; // looked at again on the next sessionsOf()
    }
    if (!this.indexed) void this.indexReady().catch((error: unknown) => this.logger.warn({ err: error }, 'could not file the existing sessions by user; a user\'s sessions are found by a scan until it succeeds'));
  }

  private async buildIndex(): Promise<void> {
    let filed = 0;
    for await (const keys of this.keys()) {
      if (this.closed) return;
      if (keys.length === 0) continue;
      const values = await this.command(this.redis.mGet(keys));
      const sessions = keys.flatMap((key, i) => {
        const session = parseSession(values[i] ?? '');
        const user = principalOf(session)?.id;
        return user ? [{ sid: key.slice(this.prefix.length), user, lifetime: String(this.lifetimeMs(session!)) }] : [];
      });
      await Promise.all(sessions.map(({ sid, user, lifetime }) => this.command(this.redis.eval(FILE_SCRIPT, { keys: [this.userKey(user)], arguments: [sid, lifetime] }))));
      filed += sessions.length;
    }
    await this.command(this.redis.set(this.indexMarker, String(this.now())));
    this.indexed = true;
    this.logger.info({ sessions: filed }, 'filed the existing sessions by user');
  }

  /** Sessions are data, not a cache: a Redis that may evict keys logs users out when memory runs short. */
  private async checkEvictionPolicy(): Promise<void> {
    let policy: string | undefined;
    try {
      policy = (await withTimeout(this.redis.configGet('maxmemory-policy'), this.timeoutMs, 'Redis'))['maxmemory-policy'];
    } catch (error) {
      this.logger.info({ err: error }, 'could not read the maxmemory-policy of Redis (CONFIG GET refused?); make sure it is noeviction');
      return;
    }
    if (policy !== undefined && policy !== 'noeviction') {
      this.logger.warn({ maxmemoryPolicy: policy }, 'Redis may evict session keys when memory runs short (logging users out); set maxmemory-policy noeviction');
    }
  }

  override get(sid: string, callback: Callback<StoredSession | null>): Promise<void> {
    return settle(this.read(sid), callback);
  }

  override set(sid: string, sess: StoredSession, callback?: Callback): Promise<void> {
    return settle(this.write(sid, sess), callback);
  }

  override touch(sid: string, sess: StoredSession, callback?: Callback): Promise<void> {
    return settle(this.refresh(sid, sess), callback);
  }

  override destroy(sid: string, callback?: Callback): Promise<void> {
    return settle(this.remove(sid), callback);
  }

  /** Live sessions (Redis expires the rest), from memory: the keys are scanned again at most once per count interval. */
  count(): Promise<number> {
    return this.liveCount.get();
  }

  /** The user's sessions, from the user's set; by a scan of every key while the set may be incomplete. */
  async sessionsOf(userId: string): Promise<UserSession[]> {
    if (!this.indexed && !this.indexing) await this.checkIndex();
    if (!this.indexed) return this.scanSessionsOf(userId);
    const userKey = this.userKey(userId);
    const sids = await this.command(this.redis.sMembers(userKey));
    if (sids.length === 0) return [];
    const values = await this.command(this.redis.mGet(sids.map((sid) => this.prefix + sid)));
    const found: UserSession[] = [];
    const gone: string[] = [];
    sids.forEach((sid, i) => {
      const session = parseSession(values[i] ?? '');
      if (session && principalOf(session)?.id === userId) found.push({ sid, session });
      else gone.push(sid);
    });
    if (gone.length > 0) await this.command(this.redis.sRem(userKey, gone));
    return found;
  }

  private async scanSessionsOf(userId: string): Promise<UserSession[]> {
    const found: UserSession[] = [];
    for await (const keys of this.keys()) {
      if (keys.length === 0) continue;
      const values = await this.command(this.redis.mGet(keys));
      values.forEach((text, i) => {
        const session = text ? parseSession(text) : null;
        if (session && principalOf(session)?.id === userId) found.push({ sid: keys[i]!.slice(this.prefix.length), session });
      });
    }
    return found;
  }

  async ping(): Promise<void> {
    await this.command(this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.indexing?.catch(() => undefined), this.liveCount.settled()]);
    if (this.redis.isReady) await this.redis.close().catch(() => undefined);
    if (this.redis.isOpen) this.redis.destroy();
  }

  private async read(sid: string): Promise<StoredSession | null> {
    if (!SESSION_ID_PATTERN.test(sid)) return null;
    const text = await this.command(this.redis.get(this.prefix + sid));
    if (text === null) return null;
    const sess = parseSession(text);
    if (!sess) {
      this.logger.warn('removed an unreadable session from Redis; the request is anonymous');
      await this.command(this.redis.del(this.prefix + sid));
    }
    return sess;
  }

  private async write(sid: string, sess: StoredSession): Promise<void> {
    if (!SESSION_ID_PATTERN.test(sid)) throw new Error('invalid session id');
    sess.__lastAccess = this.now();
    await this.store(sid, sess, '');
  }

  async insert(sid: string, sess: StoredSession, expiresAt: number): Promise<boolean> {
    if (!SESSION_ID_PATTERN.test(sid)) throw new Error('invalid session id');
    return (await this.store(sid, sess, 'NX', Math.max(1, expiresAt - this.now()))) === 1;
  }

  /** Pushes the expiry back at most once per interval, and only for a session that still exists. */
  private async refresh(sid: string, sess: StoredSession): Promise<void> {
    if (!touchIsDue(sess, this.touchIntervalMs, this.now())) return;
    await this.store(sid, { ...sess, __lastAccess: this.now() }, 'XX');
  }

  /** Answers 1 when the session was written, 0 when the condition kept it from being. */
  private async store(sid: string, sess: StoredSession, condition: 'XX' | 'NX' | '', lifetimeMs = this.lifetimeMs(sess)): Promise<unknown> {
    const user = principalOf(sess)?.id;
    const keys = [this.prefix + sid, ...(user ? [this.userKey(user)] : [])];
    return this.command(this.redis.eval(WRITE_SCRIPT, { keys, arguments: [JSON.stringify(sess), String(lifetimeMs), sid, condition] }));
  }

  /** Deletes the session and takes its id out of its user's set. */
  private async remove(sid: string): Promise<void> {
    const [text] = await this.command(this.redis.multi().get(this.prefix + sid).del(this.prefix + sid).exec());
    const user = principalOf(parseSession(typeof text === 'string' ? text : ''))?.id;
    if (user) await this.command(this.redis.sRem(this.userKey(user), sid));
  }

  private lifetimeMs(sess: StoredSession): number {
    return Math.max(1, sess.cookie?.originalMaxAge ?? this.ttlMs);
  }

  private async countKeys(): Promise<number> {
    let count = 0;
    for await (const keys of this.keys()) count += keys.length;
    return count;
  }

  /** The session keys (not the user sets), a batch at a time; an unreachable Redis fails like every other command. */
  private async *keys(): AsyncIterable<string[]> {
    let cursor = '0';
    do {
      const reply = await this.command(this.redis.scan(cursor, { MATCH: `${this.prefix}*`, COUNT: 500 }));
      cursor = reply.cursor;
      yield reply.keys.filter((key) => SESSION_ID_PATTERN.test(key.slice(this.prefix.length)));
    } while (cursor !== '0');
  }

  /** Fails within the timeout even when Redis hangs with the connection open. */
  private command<T>(pending: Promise<T>): Promise<T> {
    return withTimeout(pending, this.timeoutMs, 'Redis').catch((error: unknown) => {
      this.logThrottled(error);
      throw storeUnavailable(error);
    });
  }

  private logThrottled(error: unknown): void {
    if (this.now() - this.lastErrorLog < 5000) return;
    this.lastErrorLog = this.now();
    this.logger.error({ err: error }, 'Redis session store error');
  }
}
