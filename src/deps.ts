import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { Databases } from './db/pool.js';
import { productsDir } from './uploads/products-dir.js';
import { sweepStaleUploads } from './uploads/temp-storage.js';
import type { Config } from './config/config.js';
import { DeviceCookies } from './auth/device-cookie.js';
import { DeviceRegulation } from './auth/device-regulation.js';
import { LoginRegulation } from './auth/regulation.js';
import { BanList, memoryKeys } from './auth/bans.js';
import { countsPrefix } from './auth/login-counters.js';
import { LoginService } from './auth/login-service.js';
import { PasswordQueue } from './auth/password-queue.js';
import { Metrics } from './observability/metrics.js';
import { createSessionStore } from './sessions/create-store.js';
import { boundedRedis } from './sessions/bounded-redis.js';
import { RedisSessionStore } from './sessions/redis-store.js';
import { withTimeout } from './sessions/timeout.js';
import { resolveSessionSecrets } from './sessions/secret.js';
import type { SessionStore } from './sessions/session-store.js';
import type { AdminDataSource } from './admin/data-source.js';
import { FileAdminDataSource } from './admin/file-source.js';
import { LoginStats } from './auth/login-stats.js';
import { PostgresAdminDataSource } from './admin/postgres-source.js';
import { UploadStats } from './admin/upload-stats.js';
import { FileUserDirectory } from './users/file-directory.js';
import { PostgresUserDirectory } from './users/postgres-directory.js';
import { PasswordVerifier } from './users/password.js';
import type { UserDirectory } from './users/user.js';

/** Everything createApp needs from outside: built once from the config, closed on shutdown. */
export interface AppDeps {
  logger: Logger;
  adminData: AdminDataSource;
  logins: LoginStats;
  uploadStats: UploadStats;
  secrets: string[];
  sessionStore: SessionStore;
  users: UserDirectory;
  verifier: PasswordVerifier;
  passwordQueue: PasswordQueue;
  regulation: LoginRegulation;
  /** The login bans when this process keeps them (no Redis), for the control socket; in Redis the users command reads them itself. */
  localBans: BanList | undefined;
  loginService: LoginService;
  /** Undefined when DEVICE_COOKIES=false. */
  deviceCookies: DeviceCookies | undefined;
  metrics: Metrics;
  /** The database pools: one per DATABASE_URL, shared by the session store, the users and the admin figures. */
  databases: Databases;
}

export async function buildDeps(config: Config, logger: Logger): Promise<AppDeps> {
  await prepareUploadDir(config, logger);
  const secrets = await resolveSessionSecrets(config.session.secrets, config.session.dir, logger);
  const databases = new Databases(config.database.timeoutMs, logger);
  const sessionStore = await createSessionStore(config, logger, databases);
  const users = await createUserDirectory(config, logger, databases);
  const adminData = await createAdminDataSource(config, logger, databases);
  const verifier = new PasswordVerifier(config.users.bcryptCost, () =>
    logger.warn('a stored password hash is in no known format (bcrypt $2a$/$2b$/$2y$ or scrypt hex.salt); login refused'),
  );
  const learnHashes = () =>
    users.sampleHashes &&
    void verifier.learnFrom(users.sampleHashes.bind(users), (error) =>
      logger.warn({ reason: (error as Error).message }, 'could not sample the stored password hashes; unknown users are checked at BCRYPT_COST until real hashes are seen'),
    );
  learnHashes();
  users.onChange?.(learnHashes);
  const passwordQueue = new PasswordQueue({ concurrency: config.login.passwordConcurrency, maxQueued: config.login.passwordQueue, maxWaitMs: config.login.maxWaitSeconds * 1000 });
  // With Redis, failure counts are shared by every process; prefixed beside the session keys.
  const { redisTimeoutMs } = config.session;
  const redis = sessionStore instanceof RedisSessionStore ? boundedRedis(sessionStore.redis, redisTimeoutMs) : undefined;
  const prefix = countsPrefix(config.session.redisPrefix);
  const regulation = new LoginRegulation(config.login, redis, prefix);
  const { device } = config.login;
  const deviceCookies = device.enabled ? new DeviceCookies({ secrets, maxAgeSeconds: device.maxAgeSeconds }) : undefined;
  const devices = device.enabled ? new DeviceRegulation({ maxFailures: device.maxFailures, windowSeconds: config.login.windowSeconds }, redis, prefix) : undefined;
  const localBans = redis ? undefined : new BanList({ pair: regulation.perUser, ip: regulation.perIp, device: devices?.limiter }, memoryKeys);
  const loginService = new LoginService({ users, verifier, passwordQueue, regulation, devices });
  const uploadStats = new UploadStats(productsDir(config));
  const metrics = new Metrics({
    // A scrape leaves the gauge out rather than wait on a store that hangs.
    activeSessions: async () => (sessionStore.count ? withTimeout(sessionStore.count(), redisTimeoutMs, 'the session count') : undefined),
    passwordQueue: () => ({ depth: passwordQueue.depth, active: passwordQueue.active }),
    storedUploads: () => uploadStats.read(),
  });
  const logins = new LoginStats();
  logins.onRecord((outcome) => metrics.login(outcome));
  return { logger, secrets, sessionStore, users, verifier, passwordQueue, regulation, localBans, loginService, deviceCookies, adminData, logins, uploadStats, metrics, databases };
}

/**
 * Creates the upload directories readable to others (nginx serves the images from them, whatever
 * the service's umask) and clears temporary files that interrupted uploads left.
 */
async function prepareUploadDir(config: Config, logger: Logger): Promise<void> {
  const products = productsDir(config);
  const created = await fs.mkdir(products, { recursive: true });
  if (created) for (const dir of [config.uploads.dir, products]) if (dir.startsWith(created)) await fs.chmod(dir, 0o755);
  const removed = await sweepStaleUploads(products);
  if (removed > 0) logger.info({ removed }, 'removed temporary files of interrupted uploads');
}

async function createAdminDataSource(config: Config, logger: Logger, databases: Databases): Promise<AdminDataSource> {
  const log = logger.child({ component: 'admin-data' });
  switch (config.adminData.source) {
    case 'file':
      return FileAdminDataSource.open(config.adminData.file, log);
    case 'postgres':
      return new PostgresAdminDataSource(
        databases.of(config.databaseUrl!).reader(),
        config.database.adminQueries,
        config.database.adminCacheSeconds,
        log,
      );
  }
}

export async function createUserDirectory(config: Config, logger: Logger, databases: Databases): Promise<UserDirectory> {
  switch (config.users.source) {
    case 'file':
      return FileUserDirectory.open({ file: config.users.file, logger: logger.child({ component: 'users' }) });
    case 'postgres': {
      const log = logger.child({ component: 'users' });
      const queries = {
        byUsername: config.database.usersQuery,
        byId: config.database.usersByIdQuery,
        byEmail: config.database.usersByEmailQuery,
        sampleHashes: config.database.usersSampleQuery,
      };
      return new PostgresUserDirectory(databases.of(config.databaseUrl!).reader(), queries, config.database.roleMap, log);
    }
  }
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  await Promise.allSettled([deps.sessionStore.close(), deps.users.close(), deps.adminData.close()]);
}
