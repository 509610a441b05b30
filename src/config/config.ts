import os from 'node:os';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from './errors.js';

export type Role = 'super_admin' | 'admin' | 'b2b_user';
export const ROLES: readonly Role[] = ['super_admin', 'admin', 'b2b_user'];

export interface Config {
  port: number;
  host: string;
  production: boolean;
  session: {
    /** Undefined outside production when SESSION_SECRET is unset: a secret file is used instead. */
    secrets: string[] | undefined;
    store: 'file' | 'redis';
    dir: string;
    ttlSeconds: number;
    touchIntervalSeconds: number;
    reapIntervalSeconds: number;
    redisUrl: string | undefined;
    /** Key prefix of session keys in Redis; other keys the sidecar keeps there share its first part. */
    redisPrefix: string;
    /** Milliseconds a Redis command may take before the request gets 503. */
    redisTimeoutMs: number;
  };
  cookie: {
    name: string;
    secure: 'auto' | boolean;
    sameSite: 'lax' | 'strict' | 'none';
  };
  trustProxy: string | number | boolean;
  allowedOrigins: string[];
  users: {
    source: 'file' | 'postgres';
    file: string;
    bcryptCost: number;
  };
  login: {
    maxFailuresPerUser: number;
    maxFailuresPerIp: number;
    windowSeconds: number;
    banSeconds: number;
    /** Password checks running at once; the rest wait while their expected wait is under `maxWaitSeconds` (and at most `passwordQueue` of them), else 503. */
    passwordConcurrency: number;
    passwordQueue: number;
    maxWaitSeconds: number;
    /** libuv's threadpool size (UV_THREADPOOL_SIZE) and the nice value its threads get, 0 for none. */
    threadpoolSize: number;
    threadpoolNice: number;
  };
  uploads: {
    dir: string;
    maxBytes: number;
    maxPixels: number;
  };
  adminData: {
    source: 'file' | 'postgres';
    file: string;
  };
  databaseUrl: string | undefined;
  database: {
    timeoutMs: number;
    adminQueriesFile: string | undefined;
    adminCacheSeconds: number;
    usersQuery: string | undefined;
    usersByIdQuery: string | undefined;
    usersByEmailQuery: string | undefined;
    usersSampleQuery: string | undefined;
    roleMap: string | undefined;
  };
  mainAppUrl: string | undefined;
  /** Seconds the built-in proxy waits on a silent main app before answering 504. */
  mainAppTimeoutSeconds: number;
  /** Seconds in-flight requests get to finish after SIGTERM before their connections are closed. */
  shutdownTimeoutSeconds: number;
  logLevel: string;
  metricsToken: string | undefined;
}

export type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_SECRET_LENGTH = 32;

/** Reads every variable, collects every problem, and throws them together. */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const problems: ConfigProblem[] = [];
  const read = new Reader(env, problems);

  const production = env.NODE_ENV === 'production';
  const ttlSeconds = read.integer('SESSION_TTL', 86400, 60, 31_536_000);
  const secrets = read.secrets('SESSION_SECRET', production);
  const store = read.oneOf('SESSION_STORE', ['file', 'redis'] as const, 'file');
  const redisUrl = read.url('REDIS_URL', ['redis:', 'rediss:']);
  if (store === 'redis' && !redisUrl) {
    read.problem('REDIS_URL', undefined, 'is required when SESSION_STORE=redis; set it to e.g. redis://127.0.0.1:6379');
  }
  const secure = read.oneOf('COOKIE_SECURE', ['auto', 'true', 'false'] as const, 'auto');
  const sameSite = read.oneOf('COOKIE_SAMESITE', ['lax', 'strict', 'none'] as const, 'lax');
  if (sameSite === 'none' && secure === 'false') {
    read.problem('COOKIE_SAMESITE', 'none', 'browsers reject SameSite=None without Secure; use COOKIE_SECURE=true or auto');
  }
  const cookieName = read.string('COOKIE_NAME', 'sidecar.sid');
  if (cookieName === 'connect.sid') {
    read.problem('COOKIE_NAME', cookieName, "is the main app's express-session cookie and would be overwritten; choose another name");
  } else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    read.problem('COOKIE_NAME', cookieName, 'must be a valid cookie name (letters, digits and !#$%&\'*+-.^_`|~)');
  }
  const users = readUsers(read, cwd);
  const adminSource = read.oneOf('ADMIN_DATA_SOURCE', ['file', 'postgres'] as const, 'file');
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  for (const [name, value] of [['USERS_SOURCE', users.source], ['ADMIN_DATA_SOURCE', adminSource]] as const) {
    if (value === 'postgres' && !databaseUrl) {
      read.problem('DATABASE_URL', undefined, `is required when ${name}=postgres; set it to postgres://user:pass@host/db`);
    }
  }
  const logLevel = read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');

  const config: Config = {
    port: read.integer('PORT', 3001, 0, 65535),
    host: read.string('HOST', '127.0.0.1'),
    production,
    session: {
      secrets,
      store,
      dir: path.resolve(cwd, read.string('SESSION_DIR', './sessions')),
      ttlSeconds,
      touchIntervalSeconds: read.integer('SESSION_TOUCH_INTERVAL', Math.max(1, Math.floor(ttlSeconds / 10)), 0, ttlSeconds),
      reapIntervalSeconds: read.integer('SESSION_REAP_INTERVAL', 3600, 0, 604_800),
      redisUrl,
      redisPrefix: read.string('REDIS_PREFIX', 'sidecar:sess:'),
      redisTimeoutMs: read.integer('REDIS_TIMEOUT_MS', 1000, 50, 60_000),
    },
    cookie: { name: cookieName, secure: secure === 'auto' ? 'auto' : secure === 'true', sameSite },
    trustProxy: read.trustProxy('TRUST_PROXY', 'loopback'),
    allowedOrigins: read.origins('ALLOWED_ORIGINS'),
    users,
    login: readLogin(read),
    uploads: {
      dir: path.resolve(cwd, read.string('UPLOAD_DIR', './uploads')),
      maxBytes: read.integer('UPLOAD_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxPixels: read.integer('UPLOAD_MAX_PIXELS', 40_000_000, 1, 1_000_000_000),
    },
    adminData: {
      source: adminSource,
      file: path.resolve(cwd, read.string('ADMIN_DATA_FILE', './admin-data.json')),
    },
    databaseUrl,
    database: {
      timeoutMs: read.integer('DATABASE_TIMEOUT_MS', 2000, 100, 60_000),
      adminQueriesFile: read.optional('ADMIN_QUERIES_FILE') && path.resolve(cwd, read.optional('ADMIN_QUERIES_FILE')!),
      adminCacheSeconds: read.integer('ADMIN_CACHE_SECONDS', 10, 0, 3600),
      usersQuery: read.optional('USERS_QUERY'),
      usersByIdQuery: read.optional('USERS_BY_ID_QUERY'),
      usersByEmailQuery: read.optional('USERS_BY_EMAIL_QUERY'),
      usersSampleQuery: read.optional('USERS_SAMPLE_QUERY'),
      roleMap: read.optional('ROLE_MAP'),
    },
    mainAppUrl: read.url('MAIN_APP_URL', ['http:', 'https:']),
    mainAppTimeoutSeconds: read.integer('MAIN_APP_TIMEOUT', 30, 1, 3600),
    shutdownTimeoutSeconds: read.integer('SHUTDOWN_TIMEOUT', 10, 0, 3600),
    logLevel,
    metricsToken: read.optional('METRICS_TOKEN'),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readUsers(read: Reader, cwd: string): Config['users'] {
  return {
    source: read.oneOf('USERS_SOURCE', ['file', 'postgres'] as const, 'file'),
    file: path.resolve(cwd, read.string('USERS_FILE', './users.json')),
    bcryptCost: read.integer('BCRYPT_COST', 12, 4, 15),
  };
}

/**
 * Password checks share libuv's threadpool (UV_THREADPOOL_SIZE, 4 by default) with file reads:
 * by default they may use the cores but always leave two threads for session and upload files.
 */
function readLogin(read: Reader): Config['login'] {
  const threads = Number(read.optional('UV_THREADPOOL_SIZE')) || 4;
  const concurrency = read.integer('PASSWORD_CONCURRENCY', Math.max(1, Math.min(os.availableParallelism(), threads - 2)), 1, 64);
  return {
    maxFailuresPerUser: read.integer('LOGIN_MAX_FAILURES', 5, 1, 1000),
    maxFailuresPerIp: read.integer('LOGIN_MAX_FAILURES_PER_IP', 50, 1, 100_000),
    windowSeconds: read.integer('LOGIN_FAILURE_WINDOW', 600, 1, 86_400),
    banSeconds: read.integer('LOGIN_BAN_TIME', 900, 1, 86_400),
    passwordConcurrency: concurrency,
    passwordQueue: read.integer('PASSWORD_QUEUE', 1000, 0, 100_000),
    maxWaitSeconds: read.integer('LOGIN_MAX_WAIT', 10, 1, 600),
    threadpoolSize: threads,
    threadpoolNice: read.integer('THREADPOOL_NICE', 10, 0, 19),
  };
}

/** Only the users section, for the users command: unrelated settings cannot stop it. */
export function loadUsersConfig(env: Env, cwd = process.cwd()): Config['users'] {
  const problems: ConfigProblem[] = [];
  const users = readUsers(new Reader(env, problems), cwd);
  if (problems.length > 0) throw new ConfigError(problems);
  return users;
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: ConfigProblem[],
  ) {}

  problem(variable: string, value: string | undefined, message: string): void {
    this.problems.push({ variable, value, message });
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      this.problem(name, raw, `must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase() as T;
    if (!allowed.includes(value)) {
      this.problem(name, raw, `must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value;
  }

  url(name: string, protocols: string[]): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (protocols.includes(url.protocol)) return raw;
    } catch {
      // reported below
    }
    this.problem(name, redactUrl(raw), `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    return undefined;
  }

  secrets(name: string, production: boolean): string[] | undefined {
    const raw = this.optional(name);
    if (raw === undefined) {
      if (production) {
        this.problem(name, undefined, `is required when NODE_ENV=production; generate one with: node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))"`);
      }
      return undefined;
    }
    const secrets = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const short = secrets.filter((s) => s.length < MIN_SECRET_LENGTH);
    if (secrets.length === 0 || short.length > 0) {
      this.problem(name, '<hidden>', `each comma-separated secret must be at least ${MIN_SECRET_LENGTH} characters (${short.length || 1} too short)`);
      return undefined;
    }
    return secrets;
  }

  trustProxy(name: string, fallback: string): string | number | boolean {
    const raw = this.string(name, fallback);
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (/^\d+$/.test(raw)) return Number(raw);
    const allowed = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:/]+)$/;
    const parts = raw.split(',').map((p) => p.trim());
    if (parts.some((p) => !allowed.test(p))) {
      this.problem(name, raw, 'must be true, false, a hop count, or a comma-separated list of loopback, linklocal, uniquelocal, IP addresses or CIDR ranges');
      return fallback;
    }
    return raw;
  }

  origins(name: string): string[] {
    const raw = this.optional(name);
    if (raw === undefined) return [];
    const origins: string[] = [];
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      try {
        const url = new URL(part);
        if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === part.replace(/\/$/, '')) {
          origins.push(url.origin);
          continue;
        }
      } catch {
        // reported below
      }
      this.problem(name, part, 'each entry must be an origin such as https://shop.example.com (no path, no wildcard)');
    }
    return origins;
  }
}

function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, '//<credentials>@');
}
