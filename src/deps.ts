import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { productsDir } from './uploads/routes.js';
import type { Config } from './config/config.js';
import { createSessionStore } from './sessions/create-store.js';
import { resolveSessionSecrets } from './sessions/secret.js';
import type { SessionStore } from './sessions/session-store.js';
import { FileUserDirectory } from './users/file-directory.js';
import { PasswordVerifier } from './users/password.js';
import type { UserDirectory } from './users/user.js';

/** Everything createApp needs from outside: built once from the config, closed on shutdown. */
export interface AppDeps {
  logger: Logger;
  secrets: string[];
  sessionStore: SessionStore;
  users: UserDirectory;
  verifier: PasswordVerifier;
}

export async function buildDeps(config: Config, logger: Logger): Promise<AppDeps> {
  await fs.mkdir(productsDir(config), { recursive: true });
  const secrets = await resolveSessionSecrets(config.session.secrets, config.session.dir, logger);
  const sessionStore = await createSessionStore(config, logger);
  const users = await createUserDirectory(config, logger);
  return { logger, secrets, sessionStore, users, verifier: new PasswordVerifier(config.users.bcryptCost) };
}

async function createUserDirectory(config: Config, logger: Logger): Promise<UserDirectory> {
  switch (config.users.source) {
    case 'file':
      return FileUserDirectory.open({ file: config.users.file, logger: logger.child({ component: 'users' }) });
    case 'postgres':
      throw new Error('USERS_SOURCE=postgres is not available in this version yet; use USERS_SOURCE=file');
  }
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  await Promise.allSettled([deps.sessionStore.close(), deps.users.close()]);
}
