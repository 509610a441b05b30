import pg from 'pg';
import type { Logger } from 'pino';

/** The user id of a row, as sessionsOf() matches it: `passport.user` itself (the app's form) or its `id`. */
export const USER_ID_EXPRESSION = `coalesce(sess->'passport'->'user'->>'id', sess->'passport'->>'user')`;

/**
 * Adds an index on USER_ID_EXPRESSION to the sessions table (which may be the main app's own), so
 * listing one user's sessions is no scan of every row: CONCURRENTLY, so the app's writes go on
 * while it is built, under a name of the sidecar's own, only IF NOT EXISTS. A build that failed or
 * was killed leaves an invalid index; it is dropped and built again. Runs in the background on a
 * connection of its own, without the statement timeout of requests; a failure is logged and
 * leaves the listing working, by a scan. `signal` ends the connection (and a build under way, to be
 * built again at the next start).
 */
export async function ensureUserIndex(url: string, table: string, quotedTable: string, connectTimeoutMs: number, logger: Logger, signal: AbortSignal): Promise<void> {
  const name = `sidecar_${table.replace(/\W/g, '_')}_user`.slice(0, 63);
  const schema = table.includes('.') ? table.split('.', 1)[0]! : undefined;
  const quotedName = `"${name}"`;
  const qualified = schema ? `"${schema}".${quotedName}` : quotedName;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  // A connection lost meanwhile fails the pending query, which is handled below.
  client.on('error', () => undefined);
  let connected = false;
  const stop = () => void (connected && client.end().catch(() => undefined));
  signal.addEventListener('abort', stop);
  try {
    await client.connect();
    connected = true;
    if (signal.aborted) return;
    const { rows } = await client.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND i.indrelid = $2::regclass`,
      [name, quotedTable],
    );
    if (rows[0]?.valid) return;
    if (rows[0]) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified}`);
    await client.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quotedName} ON ${quotedTable} ((${USER_ID_EXPRESSION}))`);
    logger.info({ index: name }, 'indexed the session table by user');
  } catch (error) {
    if (signal.aborted) return;
    logger.warn({ index: name, reason: (error as Error).message }, "could not index the session table by user; listing a user's sessions reads every row until it is");
    if (connected) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified}`).catch(() => undefined);
  } finally {
    signal.removeEventListener('abort', stop);
    if (connected) await client.end().catch(() => undefined);
  }
}
