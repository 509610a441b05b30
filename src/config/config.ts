import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ADMIN_QUERIES, loadAdminQueries, type AdminQueries } from '../admin/admin-queries.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { redactUrl } from './redact.js';
import { parseRoleMap } from './role-map.js';
import type { Role } from '../users/roles.js';


export interface Config {
  /** Where relative paths (and the default files and folders) resolve: DATA_DIR, by default the install directory. */
  dataDir: string;
  port: number;
  host: string;
  production: boolean;
  session: {
    /**
     * `own`: the sidecar's own cookie and sessions. `shared`: the main app's store, cookie name and
     * secret, in the form its express-session + passport read, so a sidecar login is a login there.
     */
    mode: 'own' | 'shared';
    /** Whether every answer re-sends the cookie with a new max age (express-session's `rolling`). */
    rolling: boolean;
    /** Undefined outside production when SESSION_SECRET is unset: a secret file is used instead. */
    secrets: string[] | undefined;
    store: 'file' | 'redis' | 'postgres';
    dir: string;
    /** The sessions table in DATABASE_URL when SESSION_STORE=postgres (connect-pg-simple's rows). */
    table: string;
    ttlSeconds: number;
    touchIntervalSeconds: number;
    reapIntervalSeconds: number;
    /** The live-session count (metrics gauge, dashboard) is worked out again at most this often. */
    countIntervalSeconds: number;
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
    /** How long a login refused as busy is held before its 503, so a flood's closed loops cannot spin on refusals. */
    busyAnswerDelayMs: number;
    /** libuv's threadpool size (UV_THREADPOOL_SIZE) and the nice value its threads get, 0 for none. */
    threadpoolSize: number;
    threadpoolNice: number;
    /** Device cookies: trusted logins of known browsers, counted per device instead of per IP (off when `enabled` is false). */
    device: { enabled: boolean; cookieName: string; maxAgeSeconds: number; maxFailures: number };
  };
  uploads: {
    dir: string;
    maxBytes: number;
    maxPixels: number;
  };
  adminData: {
    source: 'file' | 'postgres';
    file: string;
    /** ISO 4217 code and BCP 47 locale of the dashboard's totalSales display string. */
    currency: string;
    locale: string;
  };
  databaseUrl: string | undefined;
  database: {
    timeoutMs: number;
    /** The default admin queries with those ADMIN_QUERIES_FILE replaces, read and checked at start. */
    adminQueries: AdminQueries;
    adminCacheSeconds: number;
    usersQuery: string | undefined;
    usersByIdQuery: string | undefined;
    usersByEmailQuery: string | undefined;
    usersSampleQuery: string | undefined;
    /** The main app's role values to the sidecar's (ROLE_MAP over the identity map). */
    roleMap: Map<string, Role>;
  };
  mainAppUrl: string | undefined;
  /** Seconds the built-in proxy waits on a silent main app before answering 504. */
  mainAppTimeoutSeconds: number;
  /** Whether the main app's /admin pages need an admin login (its /api/admin API always does). */
  protectAdminPages: boolean;
  /** Where a browser that is not logged in is sent from a protected page, and the parameter carrying its target. */
  loginPage: { url: string; param: string };
  /** Strict-Transport-Security max-age on the sidecar's own answers; 0 sends no such header. */
  hstsMaxAgeSeconds: number;
  /** Seconds in-flight requests get to finish after SIGTERM before their connections are closed. */
  shutdownTimeoutSeconds: number;
  /** Limits of the listening HTTP server, in milliseconds, and its connection cap. */
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    uploadTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
  };
  logLevel: string;
  metricsToken: string | undefined;
  /** The Unix socket on which the server answers `npm run users -- bans|unban` without Redis; undefined: none. */
  controlSocket: string | undefined;
}

export type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The folder with the sidecar's package.json (src/ and dist/ both sit one level below it): the
 * default data directory, wherever the process is started from.
 */
export const INSTALL_DIR = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
const MIN_SECRET_LENGTH = 32;

/**
 * Reads every variable, files named by them included (ADMIN_QUERIES_FILE), collects every problem,
 * and throws them together, before anything is created or changed.
 */
export function loadConfig(env: Env, installDir = INSTALL_DIR): Config {
  const { config, problems } = readConfig(env, installDir);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Every variable the sidecar reads, in the order it reads them: registered by the reader itself. */
export function configVariables(): string[] {
  return [...readConfig({}, '/').names];
}

/** Every variable is read whatever the environment holds, so `names` is the same for every env. */
function readConfig(env: Env, installDir: string): { config: Config; problems: ConfigProblem[]; names: Set<string> } {
  const problems: ConfigProblem[] = [];
  const read = new Reader(env, problems);
  const dataDir = readDataDir(read, installDir);

  const production = read.optional('NODE_ENV') === 'production';
  const ttlSeconds = read.integer('SESSION_TTL', 86400, 60, 31_536_000);
  const secrets = read.secrets('SESSION_SECRET', production);
  const store = read.oneOf('SESSION_STORE', ['file', 'redis', 'postgres'] as const, 'file');
  const redisUrl = read.url('REDIS_URL', ['redis:', 'rediss:']);
  if (store === 'redis' && !redisUrl) {
    read.problem('REDIS_URL', undefined, 'is required when SESSION_STORE=redis; set it to e.g. redis://127.0.0.1:6379');
  }
  const secure = read.oneOf('COOKIE_SECURE', ['auto', 'true', 'false'] as const, 'auto');
  const sameSite = read.oneOf('COOKIE_SAMESITE', ['lax', 'strict', 'none'] as const, 'lax');
  if (sameSite === 'none' && secure === 'false') {
    read.problem('COOKIE_SAMESITE', 'none', 'browsers reject SameSite=None without Secure; use COOKIE_SECURE=true or auto');
  }
  const mode = read.oneOf('SESSION_MODE', ['own', 'shared'] as const, 'own');
  const shared = mode === 'shared';
  const cookieName = read.string('COOKIE_NAME', shared ? 'connect.sid' : 'sidecar.sid');
  if (cookieName === 'connect.sid' && !shared) {
    read.problem('COOKIE_NAME', cookieName, "is the main app's express-session cookie and would be overwritten; choose another name, or set SESSION_MODE=shared to share the app's sessions");
  } else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    read.problem('COOKIE_NAME', cookieName, 'must be a valid cookie name (letters, digits and !#$%&\'*+-.^_`|~)');
  }
  const users = readUsers(read, dataDir);
  const adminSource = read.oneOf('ADMIN_DATA_SOURCE', ['file', 'postgres'] as const, 'file');
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  for (const [name, value] of [['SESSION_STORE', store], ['USERS_SOURCE', users.source], ['ADMIN_DATA_SOURCE', adminSource]] as const) {
    if (value === 'postgres' && !databaseUrl) {
      read.problem('DATABASE_URL', undefined, `is required when ${name}=postgres; set it to postgres://user:pass@host/db`);
    }
  }
  const logLevel = read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const sessionDir = path.resolve(dataDir, read.string('SESSION_DIR', './sessions'));

  const config: Config = {
    dataDir,
    port: read.integer('PORT', 3001, 0, 65535),
    host: read.string('HOST', '127.0.0.1'),
    production,
    session: {
      mode,
      rolling: read.boolean('SESSION_ROLLING', !shared),
      secrets,
      store,
      dir: sessionDir,
      table: read.pattern('SESSION_TABLE', 'session', /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a table name, optionally schema.table (letters, digits, _)'),
      ttlSeconds,
      touchIntervalSeconds: read.integer('SESSION_TOUCH_INTERVAL', Math.max(1, Math.floor(ttlSeconds / 10)), 0, ttlSeconds),
      reapIntervalSeconds: read.integer('SESSION_REAP_INTERVAL', 3600, 0, 604_800),
      countIntervalSeconds: read.integer('SESSION_COUNT_INTERVAL', 60, 0, 86_400),
      redisUrl,
      redisPrefix: read.string('REDIS_PREFIX', shared ? 'sess:' : 'sidecar:sess:'),
      redisTimeoutMs: read.integer('REDIS_TIMEOUT_MS', 1000, 50, 60_000),
    },
    cookie: { name: cookieName, secure: secure === 'auto' ? 'auto' : secure === 'true', sameSite },
    trustProxy: read.trustProxy('TRUST_PROXY', 'loopback'),
    allowedOrigins: read.origins('ALLOWED_ORIGINS'),
    users,
    login: readLogin(read),
    uploads: {
      dir: path.resolve(dataDir, read.string('UPLOAD_DIR', './uploads')),
      maxBytes: read.integer('UPLOAD_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxPixels: read.integer('UPLOAD_MAX_PIXELS', 40_000_000, 1, 1_000_000_000),
    },
    adminData: {
      source: adminSource,
      file: path.resolve(dataDir, read.string('ADMIN_DATA_FILE', './admin-data.json')),
      ...read.money('ADMIN_CURRENCY', 'EUR', 'ADMIN_LOCALE', 'en-US'),
    },
    databaseUrl,
    database: {
      timeoutMs: read.integer('DATABASE_TIMEOUT_MS', 2000, 100, 60_000),
      adminQueries: read.parsed('ADMIN_QUERIES_FILE', DEFAULT_ADMIN_QUERIES, (file) => loadAdminQueries(path.resolve(dataDir, file))),
      adminCacheSeconds: read.integer('ADMIN_CACHE_SECONDS', 10, 0, 3600),
      usersQuery: read.optional('USERS_QUERY'),
      usersByIdQuery: read.optional('USERS_BY_ID_QUERY'),
      usersByEmailQuery: read.optional('USERS_BY_EMAIL_QUERY'),
      usersSampleQuery: read.optional('USERS_SAMPLE_QUERY'),
      roleMap: read.parsed('ROLE_MAP', parseRoleMap(undefined), parseRoleMap),
    },
    mainAppUrl: read.url('MAIN_APP_URL', ['http:', 'https:']),
    mainAppTimeoutSeconds: read.integer('MAIN_APP_TIMEOUT', 30, 1, 3600),
    protectAdminPages: read.boolean('PROTECT_ADMIN_PAGES', false),
    loginPage: readLoginPage(read),
    hstsMaxAgeSeconds: read.integer('HSTS_MAX_AGE', 0, 0, 63_072_000),
    shutdownTimeoutSeconds: read.integer('SHUTDOWN_TIMEOUT', 10, 0, 3600),
    http: readHttp(read),
    logLevel,
    metricsToken: read.optional('METRICS_TOKEN'),
    controlSocket: readControlSocket(read, dataDir, sessionDir),
  };
  return { config, problems, names: read.names };
}

/** DATA_DIR, relative to the install directory; when set, it must exist (a typo never starts a new, empty data directory). */
function readDataDir(read: Reader, installDir: string): string {
  const raw = read.optional('DATA_DIR');
  const dir = path.resolve(installDir, raw ?? '.');
  if (raw !== undefined && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    read.problem('DATA_DIR', raw, `must be an existing directory (${dir} is not); create it or fix the path`);
  }
  return dir;
}

function readUsers(read: Reader, dataDir: string): Config['users'] {
  return {
    source: read.oneOf('USERS_SOURCE', ['file', 'postgres'] as const, 'file'),
    file: path.resolve(dataDir, read.string('USERS_FILE', './users.json')),
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
    maxWaitSeconds: read.integer('LOGIN_MAX_WAIT', 15, 1, 600),
    busyAnswerDelayMs: read.integer('LOGIN_BUSY_DELAY_MS', 1000, 0, 10_000),
    threadpoolSize: threads,
    threadpoolNice: read.integer('THREADPOOL_NICE', 10, 0, 19),
    device: readDevice(read),
  };
}

function readDevice(read: Reader): Config['login']['device'] {
  return {
    enabled: read.boolean('DEVICE_COOKIES', true),
    cookieName: read.pattern('DEVICE_COOKIE_NAME', 'sidecar.device', /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)"),
    maxAgeSeconds: read.integer('DEVICE_COOKIE_MAX_AGE', 180 * 86_400, 60, 2 * 365 * 86_400),
    maxFailures: read.integer('DEVICE_MAX_FAILURES', 5, 1, 1000),
  };
}

/** Unix socket paths are limited to 107 bytes on Linux; "off" runs no socket. */
function readControlSocket(read: Reader, dataDir: string, sessionDir: string): string | undefined {
  const raw = read.string('CONTROL_SOCKET', path.join(sessionDir, 'control.sock'));
  if (raw.toLowerCase() === 'off') return undefined;
  const socketPath = path.resolve(dataDir, raw);
  if (Buffer.byteLength(socketPath) > 107) {
    read.problem('CONTROL_SOCKET', socketPath, 'is longer than the 107 bytes a Unix socket path may have; set a shorter path, or off');
  }
  return socketPath;
}

/** The login page must be a local path, so a redirect to it can never leave the site. */
function readLoginPage(read: Reader): Config['loginPage'] {
  const url = read.string('LOGIN_URL', '/login');
  const param = read.string('LOGIN_REDIRECT_PARAM', 'next');
  if (!isLocalPath(url)) read.problem('LOGIN_URL', url, 'must be a local path starting with a single / (e.g. /login or /auth)');
  if (!/^[A-Za-z0-9_.~-]+$/.test(param)) read.problem('LOGIN_REDIRECT_PARAM', param, 'must be a query parameter name of letters, digits and _.~- (e.g. next or redirect)');
  return { url, param };
}

/** A path on this site: one leading "/", never "//" or "/\" (which browsers read as another host), no control characters. */
export function isLocalPath(value: string): boolean {
  return /^\/(?![/\\])[^\s\x00-\x1f\x7f]*$/.test(value);
}

/** A login service exposed directly must not let slow or silent clients hold its connections. */
function readHttp(read: Reader): Config['http'] {
  const headersTimeoutMs = read.integer('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = read.integer('REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const uploadTimeoutMs = read.integer('UPLOAD_TIMEOUT_MS', 300_000, 100, 3_600_000);
  if (requestTimeoutMs > uploadTimeoutMs) {
    read.problem('REQUEST_TIMEOUT_MS', String(requestTimeoutMs), `must not exceed UPLOAD_TIMEOUT_MS (${uploadTimeoutMs}); raise UPLOAD_TIMEOUT_MS too`);
  }
  if (headersTimeoutMs > uploadTimeoutMs) {
    read.problem('HEADERS_TIMEOUT_MS', String(headersTimeoutMs), `must not exceed UPLOAD_TIMEOUT_MS (${uploadTimeoutMs})`);
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    uploadTimeoutMs,
    keepAliveTimeoutMs: read.integer('KEEPALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    maxConnections: read.integer('MAX_CONNECTIONS', 1024, 1, 1_000_000),
  };
}

/** Only the users section, for the users command: unrelated settings cannot stop it. */
export function loadUsersConfig(env: Env, installDir = INSTALL_DIR): Config['users'] {
  const problems: ConfigProblem[] = [];
  const read = new Reader(env, problems);
  const users = readUsers(read, readDataDir(read, installDir));
  if (problems.length > 0) throw new ConfigError(problems);
  return users;
}

class Reader {
  /** The name of every variable read, whether set or not. */
  readonly names = new Set<string>();

  constructor(
    private readonly env: Env,
    private readonly problems: ConfigProblem[],
  ) {}

  problem(variable: string, value: string | undefined, message: string): void {
    this.problems.push({ variable, value, message });
  }

  optional(name: string): string | undefined {
    this.names.add(name);
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** A value `parse` turns into something else, throwing an error whose message says what is wrong. */
  parsed<T>(name: string, fallback: T, parse: (raw: string) => T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (error) {
      this.problem(name, raw, (error as Error).message);
      return fallback;
    }
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  pattern(name: string, fallback: string, pattern: RegExp, message: string): string {
    const value = this.string(name, fallback);
    if (pattern.test(value)) return value;
    this.problem(name, value, message);
    return fallback;
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

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (value !== 'true' && value !== 'false') {
      this.problem(name, raw, 'must be true or false');
      return fallback;
    }
    return value === 'true';
  }

  /** A path on this site (`/auth`, never `//host` or `/\host`) or an http(s) URL; no fragment, no spaces. */
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

  money(currencyName: string, currencyFallback: string, localeName: string, localeFallback: string): { currency: string; locale: string } {
    const currency = this.string(currencyName, currencyFallback).toUpperCase();
    const locale = this.string(localeName, localeFallback);
    if (!/^[A-Z]{3}$/.test(currency)) {
      this.problem(currencyName, currency, 'must be a three-letter ISO 4217 currency code such as EUR or BAM');
      return { currency: currencyFallback, locale: localeFallback };
    }
    try {
      new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      this.problem(localeName, locale, 'must be a BCP 47 locale such as en-US or de-DE');
      return { currency, locale: localeFallback };
    }
    return { currency, locale };
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
      this.problem(name, redactUrl(part), 'each entry must be an origin such as https://shop.example.com (no path, no wildcard)');
    }
    return origins;
  }
}
