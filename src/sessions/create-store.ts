import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { FileSessionStore } from './file-store.js';
import type { SessionStore } from './session-store.js';

export async function createSessionStore(config: Config, logger: Logger): Promise<SessionStore> {
  const { store, dir, ttlSeconds, touchIntervalSeconds, reapIntervalSeconds } = config.session;
  switch (store) {
    case 'file':
      return new FileSessionStore({ dir, ttlSeconds, touchIntervalSeconds, reapIntervalSeconds, logger: logger.child({ component: 'session-store' }) });
    case 'redis':
      throw new Error('SESSION_STORE=redis is not available in this version yet; use SESSION_STORE=file');
  }
}
