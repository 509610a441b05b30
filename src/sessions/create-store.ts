import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Databases } from '../db/pool.js';
import { FileSessionStore } from './file-store.js';
import { PostgresSessionStore } from './postgres-store.js';
import { RedisSessionStore } from './redis-store.js';
import type { SessionStore } from './session-store.js';

export async function createSessionStore(config: Config, logger: Logger, databases: Databases): Promise<SessionStore> {
  const { store, dir, ttlSeconds, touchIntervalSeconds, reapIntervalSeconds, countIntervalSeconds } = config.session;
  const log = logger.child({ component: 'session-store' });
  switch (store) {
    case 'file':
      return new FileSessionStore({ dir, ttlSeconds, touchIntervalSeconds, reapIntervalSeconds, countIntervalSeconds, logger: log });
    case 'redis':
      return new RedisSessionStore({
        url: config.session.redisUrl!,
        prefix: config.session.redisPrefix,
        ttlSeconds,
        touchIntervalSeconds,
        timeoutMs: config.session.redisTimeoutMs,
        countIntervalSeconds,
        logger: log,
      }).open();
    case 'postgres':
      return new PostgresSessionStore({
        url: config.databaseUrl!,
        database: databases.of(config.databaseUrl!),
        table: config.session.table,
        ttlSeconds,
        touchIntervalSeconds,
        reapIntervalSeconds,
        timeoutMs: config.database.timeoutMs,
        logger: log,
      }).open();
  }
}
