import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { parseSession, principalOf, SESSION_ID_PATTERN, settle, storeUnavailable, touchIsDue, type Callback, type SessionStore, type StoredSession, type UserSession } from './session-store.js';
import { withTimeout } from './timeout.js';

export interface RedisSessionStoreOptions {
  url: string;
  prefix: string;
  ttlSeconds: number;
  /** A session's expiry is pushed back by touch() at most once per this many seconds. */
  touchIntervalSeconds: number;
  /** A command that takes longer fails the request with 503 rather than holding it. */
  timeoutMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * connect-redis on a node-redis client that never queues commands while disconnected: with Redis
 * down, a request that needs its session fails at once with 503 (never anonymous-as-logged-in),
 * and the client reconnects in the background so service resumes without a restart.
 */
export class RedisSessionStore extends RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly redis: ReturnType<typeof createClient>;
  private readonly timeoutMs: number;
  private readonly touchIntervalMs: number;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
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
    redis.on('error', (error: Error) => this.logThrottled(error));
    redis.on('ready', () => this.logger.info('connected to Redis'));
  }

  /** Starts connecting; resolves once connected or after the timeout, whichever comes first. */
  async open(): Promise<this> {
    const connecting = this.redis.connect().catch(() => undefined);
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, this.timeoutMs).unref())]);
    if (!this.redis.isReady) this.logger.warn('Redis is not reachable yet; requests that need a session get 503 until it is');
    else await this.checkEvictionPolicy();
    return this;
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
    return settle(this.command(this.redis.del(this.prefix + sid)).then(() => undefined), callback);
  }

  async count(): Promise<number> {
    let count = 0;
    for await (const keys of this.keys()) count += keys.length;
    return count;
  }

  async sessionsOf(userId: string): Promise<UserSession[]> {
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
    await this.command(this.redis.set(this.prefix + sid, JSON.stringify(sess), { expiration: { type: 'PX', value: this.lifetimeMs(sess) } }));
  }

  /** Pushes the expiry back at most once per interval, and only for a session that still exists. */
  private async refresh(sid: string, sess: StoredSession): Promise<void> {
    if (!touchIsDue(sess, this.touchIntervalMs, this.now())) return;
    const next = { ...sess, __lastAccess: this.now() };
    await this.command(this.redis.set(this.prefix + sid, JSON.stringify(next), { condition: 'XX', expiration: { type: 'PX', value: this.lifetimeMs(sess) } }));
  }

  private lifetimeMs(sess: StoredSession): number {
    return Math.max(1, sess.cookie?.originalMaxAge ?? this.ttlMs);
  }

  /** The session keys, a batch at a time; an unreachable Redis fails like every other command. */
  private async *keys(): AsyncIterable<string[]> {
    let cursor = '0';
    do {
      const reply = await this.command(this.redis.scan(cursor, { MATCH: `${this.prefix}*`, COUNT: 500 }));
      cursor = reply.cursor;
      yield reply.keys;
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
