import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import type { Logger } from 'pino';
import { Database, type PoolShare } from '../db/pool.js';
import { StoreUnavailableError } from '../errors/domain-errors.js';
import { ensureUserIndex, USER_ID_EXPRESSION } from './postgres-user-index.js';
import { asSession, parseSession, SESSION_ID_PATTERN, storeUnavailable, touchIsDue, type SessionStore, type StoredSession, type UserSession } from './session-store.js';

const PGStore = connectPgSimple(session);

export interface PostgresSessionStoreOptions {
  url: string;
  /** The database's shared pool; without it the store opens a pool of its own on `url`. */
  database?: Database;
  /** The table connect-pg-simple reads (`session` for an app on its defaults); `schema.table` allowed. */
  table: string;
  ttlSeconds: number;
  /** A session's expiry is pushed back by touch() at most once per this many seconds. */
  touchIntervalSeconds: number;
  /** Seconds between deletions of expired rows (connect-pg-simple's prune); 0 for none. */
  reapIntervalSeconds: number;
  /** Connecting and every statement fail after this many milliseconds (503, never a hang). */
  timeoutMs: number;
  logger: Logger;
  now?: () => number;
}

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * Sessions in PostgreSQL through connect-pg-simple, in exactly the rows an express-session app on
 * connect-pg-simple reads and writes (`sid`, `sess` json, `expire` set with to_timestamp): with the
 * app's table and secret, a session written here is a login at the app. The table is created when
 * missing, with an index name of its own (the name connect-pg-simple would use may belong to
 * another table of the app already).
 */
export class PostgresSessionStore extends PGStore implements SessionStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly share: PoolShare;
  private readonly quoted: string;
  private readonly touchIntervalMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private indexing: Promise<void> | undefined;
  private readonly stopIndexing = new AbortController();
  private lastErrorLog = 0;
  private closed = false;

  constructor(private readonly options: PostgresSessionStoreOptions) {
    const share = (options.database ?? new Database(options.url, options.timeoutMs, options.logger)).share();
    const { pool } = share;
    const [schemaName, tableName] = options.table.includes('.') ? options.table.split('.', 2) : [undefined, options.table];
    // Expired rows are deleted by reap() on the sidecar's own schedule, not by a timer of the library.
    const errorLog = (...args: unknown[]) => options.logger.error({ reason: String(args.at(-1)) }, 'PostgreSQL session store error');
    super({ pool, schemaName, tableName, ttl: options.ttlSeconds, createTableIfMissing: false, pruneSessionInterval: false, errorLog });
    this.pool = pool;
    this.share = share;
    this.quoted = [schemaName, tableName].filter(Boolean).map((part) => `"${part!.replaceAll('"', '""')}"`).join('.');
    this.touchIntervalMs = options.touchIntervalSeconds * 1000;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    pool.on('error', (error) => this.logThrottled(error));
  }

  /** Creates the table when missing; resolves even when PostgreSQL is down (requests get 503 until it is up). */
  async open(): Promise<this> {
    const index = `"${`sidecar_${this.options.table.replace(/\W/g, '_')}_expire`.slice(0, 63)}"`;
    try {
      await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.quoted} (sid varchar NOT NULL COLLATE "default" PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`);
      await this.pool.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.quoted} (expire)`);
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message }, 'could not check the session table yet; requests that need a session get 503 until PostgreSQL answers');
      return this;
    }
    this.indexing = ensureUserIndex(this.options.url, this.options.table, this.quoted, this.options.timeoutMs, this.logger, this.stopIndexing.signal);
    return this;
  }

  /** Resolves once the index by user is built, or its building failed (logged). */
  async userIndexReady(): Promise<void> {
    await this.indexing;
  }

  override get(sid: string, callback: Callback<StoredSession | null>): void {
    this.settle(this.read(sid), callback);
  }

  override set(sid: string, sess: StoredSession, callback?: Callback): void {
    if (!SESSION_ID_PATTERN.test(sid)) return void callback?.(new Error('invalid session id'));
    sess.__lastAccess = this.now();
    super.set(sid, sess, (error?: unknown) => callback?.(error ? this.unavailable(error) : undefined));
  }

  /**
   * Pushes the expiry back at most once per interval. Only `expire` and the sidecar's own
   * `__lastAccess` change, in one statement: the rest of the session may have been changed by the
   * app meanwhile (its CSRF token, a cart) and is never written back from this request's copy.
   */
  override touch(sid: string, sess: StoredSession, callback?: Callback): void {
    const now = this.now();
    if (!touchIsDue(sess, this.touchIntervalMs, now)) return void callback?.();
    const update = `UPDATE ${this.quoted} SET expire = to_timestamp($1), sess = jsonb_set(sess::jsonb, '{__lastAccess}', to_jsonb($2::bigint))::json WHERE sid = $3`;
    this.settle(this.run(update, [this.expiresAt(sess) / 1000, now, sid]).then(() => undefined), callback);
  }

  /** An expired row with the same id is replaced; a live one is left as it is. */
  async insert(sid: string, sess: StoredSession, expiresAt: number): Promise<boolean> {
    if (!SESSION_ID_PATTERN.test(sid)) throw new Error('invalid session id');
    const { rowCount } = await this.run(
      `INSERT INTO ${this.quoted} AS stored (sid, sess, expire) VALUES ($1, $2, to_timestamp($3))
       ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire WHERE stored.expire < to_timestamp($4)`,
      [sid, JSON.stringify(sess), expiresAt / 1000, this.now() / 1000],
    );
    return rowCount === 1;
  }

  override destroy(sid: string, callback?: Callback): void {
    super.destroy(sid, (error?: unknown) => callback?.(error ? this.unavailable(error) : undefined));
  }

  async count(): Promise<number> {
    const { rows } = await this.run<{ n: string }>(`SELECT count(*) AS n FROM ${this.quoted} WHERE expire >= to_timestamp($1)`, [this.now() / 1000]);
    return Number(rows[0]!.n);
  }

  /** The user's live sessions (`passport.user` is the id itself, the app's form, or an object with it), by the index on the user id. */
  async sessionsOf(userId: string): Promise<UserSession[]> {
    const { rows } = await this.run<{ sid: string; sess: unknown }>(
      `SELECT sid, sess FROM ${this.quoted} WHERE ${USER_ID_EXPRESSION} = $1 AND expire >= to_timestamp($2)`,
      [userId, this.now() / 1000],
    );
    return rows.flatMap(({ sid, sess }) => {
      const session = typeof sess === 'string' ? parseSession(sess) : asSession(sess);
      return session ? [{ sid, session }] : [];
    });
  }

  async reap(): Promise<{ scanned: number; removed: number }> {
    const { rowCount } = await this.run(`DELETE FROM ${this.quoted} WHERE expire < to_timestamp($1)`, [this.now() / 1000]);
    return { scanned: rowCount ?? 0, removed: rowCount ?? 0 };
  }

  async ping(): Promise<void> {
    await this.run(`SELECT 1 FROM ${this.quoted} LIMIT 1`);
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopIndexing.abort();
    await this.indexing;
    super.close();
    await this.share.end();
  }

  private async read(sid: string): Promise<StoredSession | null> {
    if (!SESSION_ID_PATTERN.test(sid)) return null;
    const { rows } = await this.run<{ sess: unknown }>(`SELECT sess FROM ${this.quoted} WHERE sid = $1 AND expire >= to_timestamp($2)`, [sid, this.now() / 1000], 'read');
    if (rows.length === 0) return null;
    const raw = rows[0]!.sess;
    const sess = typeof raw === 'string' ? parseSession(raw) : asSession(raw);
    if (!sess) {
      this.logger.warn('removed an unreadable session from PostgreSQL; the request is anonymous');
      await this.run(`DELETE FROM ${this.quoted} WHERE sid = $1`, [sid]);
    }
    return sess;
  }

  /** As connect-pg-simple computes it: the cookie's expiry, or the TTL from now. */
  private expiresAt(sess: StoredSession): number {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : NaN;
    return Number.isFinite(expires) ? expires : this.now() + this.options.ttlSeconds * 1000;
  }

  /** One statement; a `name` makes it a prepared statement, planned once per connection (the hot read). */
  private async run<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], name?: string): Promise<pg.QueryResult<T>> {
    try {
      return await this.pool.query<T>(name ? { name: `sidecar-session-${name}-${this.options.table}`, text, values } : { text, values });
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown) {
    this.logThrottled(error);
    return storeUnavailable(error);
  }

  private settle<T>(work: Promise<T>, callback: Callback<T> | undefined): void {
    work.then(
      (value) => callback?.(null, value),
      (error: unknown) => callback?.(error instanceof StoreUnavailableError ? error : this.unavailable(error)),
    );
  }

  private logThrottled(error: unknown): void {
    if (this.now() - this.lastErrorLog < 5000) return;
    this.lastErrorLog = this.now();
    this.logger.error({ reason: (error as Error)?.message ?? String(error) }, 'PostgreSQL session store error');
  }
}
