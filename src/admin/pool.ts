import pg from 'pg';
import type { Logger } from 'pino';

/** A small read-only pool: every statement times out, nothing can be written. */
export function createReadOnlyPool(url: string, timeoutMs: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs + 500,
    idleTimeoutMillis: 30_000,
    options: `-c statement_timeout=${timeoutMs} -c default_transaction_read_only=on`,
  });
  pool.on('error', (error) => logger.warn({ reason: error.message }, 'idle database connection failed'));
  return pool;
}
