import pg from 'pg';
import type { Logger } from 'pino';

/** What a reading module needs of the database: pg.Pool's query and end, as a pool share offers them. */
export interface DatabaseReader {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Gives the share back; the pool ends with the last one. */
  end(): Promise<void>;
}

/** A share of the pool for a module that also writes (the session store). */
export interface PoolShare {
  readonly pool: pg.Pool;
  end(): Promise<void>;
}

/** The application_name of the pool's connections (pg_stat_activity). */
export const APPLICATION_NAME = 'auth-upload-sidecar';

/**
 * The one connection pool of a database, shared by the session store, the user directory and the
 * admin figures: every statement times out, and the readers' statements run in READ ONLY
 * transactions, so nothing can be written through them. Each user takes a share and ends it; the
 * pool closes when the last share is ended.
 */
export class Database {
  private readonly pool: pg.Pool;
  private shares = 0;

  constructor(url: string, timeoutMs: number, logger: Logger, max = 10) {
    this.pool = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs + 500,
      idleTimeoutMillis: 30_000,
      application_name: APPLICATION_NAME,
      options: `-c statement_timeout=${timeoutMs}`,
    });
    this.pool.on('error', (error) => logger.warn({ reason: error.message }, 'idle database connection failed'));
  }

  share(): PoolShare {
    this.shares += 1;
    let ended = false;
    return {
      pool: this.pool,
      end: async () => {
        if (ended) return;
        ended = true;
        this.shares -= 1;
        if (this.shares === 0) await this.pool.end().catch(() => undefined);
      },
    };
  }

  /** The connections the pool holds now. */
  get connections(): number {
    return this.pool.totalCount;
  }

  /** A share whose every statement runs in a READ ONLY transaction. */
  reader(): DatabaseReader {
    const { pool, end } = this.share();
    return { query: (text, values) => readOnly(pool, text, values), end };
  }
}

async function readOnly<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    const result = await client.query<R>(text, values);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // After a failed or timed-out statement the connection's state is unknown: it is not reused.
    client.release(error as Error);
    throw error;
  }
}

/** One Database per URL: the modules of one database share its pool. */
export class Databases {
  private readonly byUrl = new Map<string, Database>();

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  of(url: string): Database {
    let database = this.byUrl.get(url);
    if (!database) {
      database = new Database(url, this.timeoutMs, this.logger.child({ component: 'database' }));
      this.byUrl.set(url, database);
    }
    return database;
  }

  /** How many pools are open or were opened: one per URL. */
  get size(): number {
    return this.byUrl.size;
  }
}
