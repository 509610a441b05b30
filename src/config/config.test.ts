import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { resolveSessionSecrets, SECRET_FILE_NAME } from '../sessions/secret.js';
import { tempDir } from '../../test/support/harness.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { readEnv } from './env-file.js';

const LONG = 'a'.repeat(32);

function problemsOf(env: Record<string, string>): ConfigError['problems'] {
  try {
    loadConfig(env, '/srv/app');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has working defaults for a development start', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.port).toBe(3001);
    expect(config.session).toMatchObject({ store: 'file', dir: '/srv/app/sessions', ttlSeconds: 86400, touchIntervalSeconds: 8640, secrets: undefined });
    expect(config.cookie).toEqual({ name: 'sidecar.sid', secure: 'auto', sameSite: 'lax' });
    expect(config.users).toEqual({ source: 'file', file: '/srv/app/users.json', bcryptCost: 12 });
    expect(config.uploads).toEqual({ dir: '/srv/app/uploads', maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 });
    expect(config.allowedOrigins).toEqual([]);
  });

  it('lists every problem together, each naming the variable, the value and the fix', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', SESSION_STORE: 'mongo', COOKIE_SAMESITE: 'sometimes', BCRYPT_COST: '40', ALLOWED_ORIGINS: '*' }, '/srv/app');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Invalid configuration (5 problems)');
    expect(message).toContain('PORT="eighty": must be a whole number from 0 to 65535');
    expect(message).toContain('SESSION_STORE="mongo": must be one of file, redis');
    expect(message).toContain('COOKIE_SAMESITE="sometimes": must be one of lax, strict, none');
    expect(message).toContain('BCRYPT_COST="40": must be a whole number from 4 to 15');
    expect(message).toContain('ALLOWED_ORIGINS="*": each entry must be an origin');
  });

  it('refuses to start in production without a session secret, saying how to make one', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([expect.objectContaining({ variable: 'SESSION_SECRET', message: expect.stringContaining('randomBytes') })]);
  });

  it('refuses a secret shorter than 32 characters without printing it', () => {
    const problems = problemsOf({ NODE_ENV: 'production', SESSION_SECRET: `${LONG},short` });
    expect(problems).toEqual([expect.objectContaining({ variable: 'SESSION_SECRET', value: '<hidden>' })]);
  });

  it('takes comma-separated secrets in order, the first one signing', () => {
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: `${'n'.repeat(40)}, ${LONG}` });
    expect(config.session.secrets).toEqual(['n'.repeat(40), LONG]);
  });

  it('refuses connect.sid as the cookie name, since the main app uses it', () => {
    expect(problemsOf({ COOKIE_NAME: 'connect.sid' })[0]!.variable).toBe('COOKIE_NAME');
  });

  it('requires REDIS_URL for the redis store and DATABASE_URL for postgres sources', () => {
    const variables = problemsOf({ SESSION_STORE: 'redis', USERS_SOURCE: 'postgres' }).map((p) => p.variable);
    expect(variables).toEqual(['REDIS_URL', 'DATABASE_URL']);
  });

  it('hides credentials of a malformed URL in the message', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/app' });
    expect(problem!.value).toBe('mysql://<credentials>@db/app');
  });

  it('refuses a currency that is no ISO code and a locale that does not exist', () => {
    expect(problemsOf({ ADMIN_CURRENCY: 'euro' }).map((p) => p.variable)).toEqual(['ADMIN_CURRENCY']);
    expect(problemsOf({ ADMIN_LOCALE: 'not a locale!' }).map((p) => p.variable)).toEqual(['ADMIN_LOCALE']);
    expect(loadConfig({ ADMIN_CURRENCY: 'bam', ADMIN_LOCALE: 'bs-BA' }).adminData).toMatchObject({ currency: 'BAM', locale: 'bs-BA' });
  });

  it.each([
    ['a password holding "/"', 'postgres://app:pa/ss-s3cret@db/app'],
    ['a password holding "@"', 'postgres://app:p@ss-s3cret@db:port/app'],
    ['a password holding a space', 'postgres://app:pass s3cret@db host/app'],
    ['an unparsable host', 'postgres://app:s3cret@[::1/app'],
    ['no scheme at all', 'app:s3cret@db/app'],
    ['a password query parameter', 'postgres://db:port/app?user=app&password=s3cret'],
  ])('never shows the password of a malformed DATABASE_URL with %s', (_case, url) => {
    const error = (() => {
      try {
        loadConfig({ DATABASE_URL: url, REDIS_URL: url.replace('postgres', 'redis'), SESSION_STORE: 'redis' }, '/srv/app');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.variable)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
    expect(error!.message).not.toMatch(/s3cret|pa\/ss|ss-/);
  });

  it('limits slow and silent clients by default, and refuses a request timeout longer than the upload timeout', () => {
    expect(loadConfig({}, '/srv/app').http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, uploadTimeoutMs: 300_000, keepAliveTimeoutMs: 5000, maxConnections: 1024 });
    const [problem] = problemsOf({ REQUEST_TIMEOUT_MS: '60000', UPLOAD_TIMEOUT_MS: '50000' });
    expect(problem).toMatchObject({ variable: 'REQUEST_TIMEOUT_MS', value: '60000' });
  });

  it('refuses SameSite=None without Secure', () => {
    expect(problemsOf({ COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' })[0]!.variable).toBe('COOKIE_SAMESITE');
  });

  it('leaves admin pages unprotected, logs in at /login?next= and sends no HSTS by default', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.protectAdminPages).toBe(false);
    expect(config.loginPage).toEqual({ url: '/login', param: 'next' });
    expect(config.hstsMaxAgeSeconds).toBe(0);
  });

  it('takes the shop login page and parameter as login URL', () => {
    expect(loadConfig({ PROTECT_ADMIN_PAGES: 'true', LOGIN_URL: '/auth', LOGIN_REDIRECT_PARAM: 'redirect' }, '/srv/app')).toMatchObject({ protectAdminPages: true, loginPage: { url: '/auth', param: 'redirect' } });
    expect(loadConfig({ LOGIN_URL: '/auth?mode=admin' }, '/srv/app').loginPage.url).toBe('/auth?mode=admin');
  });

  it('refuses a login URL that could lead to another site or break the redirect, and a malformed parameter or switch', () => {
    for (const url of ['//evil.example/login', '/\\evil.example', 'login', 'javascript:alert(1)', '/log in', 'https://shop.example.com/auth']) {
      expect(problemsOf({ LOGIN_URL: url }).map((p) => p.variable), url).toEqual(['LOGIN_URL']);
    }
    expect(problemsOf({ LOGIN_REDIRECT_PARAM: 'next&admin=1', PROTECT_ADMIN_PAGES: 'yes', HSTS_MAX_AGE: '-1' }).map((p) => p.variable)).toEqual(['PROTECT_ADMIN_PAGES', 'LOGIN_REDIRECT_PARAM', 'HSTS_MAX_AGE']);
  });
});

describe('loadConfig: the password queue', () => {
  it('admits by expected wait (LOGIN_MAX_WAIT, 15 s) with PASSWORD_QUEUE only as a bound on memory', () => {
    expect(loadConfig({}, '/srv/app').login).toMatchObject({ maxWaitSeconds: 15, passwordQueue: 1000 });
    expect(loadConfig({ LOGIN_MAX_WAIT: '3' }, '/srv/app').login.maxWaitSeconds).toBe(3);
    expect(problemsOf({ LOGIN_MAX_WAIT: '0' }).map((p) => p.variable)).toEqual(['LOGIN_MAX_WAIT']);
  });
});

describe('readEnv', () => {
  it('reads a .env file under the process environment, which wins', async () => {
    const dir = await tempDir();
    const file = path.join(dir, '.env');
    await fs.writeFile(file, 'PORT=4000\nHOST=0.0.0.0\n# comment\n');
    expect(readEnv(file, { PORT: '5000' })).toMatchObject({ PORT: '5000', HOST: '0.0.0.0' });
  });

  it('is fine without a .env file', () => {
    expect(readEnv('/nonexistent/.env', { A: '1' })).toEqual({ A: '1' });
  });
});

describe('resolveSessionSecrets', () => {
  it('uses configured secrets as they are', async () => {
    expect(await resolveSessionSecrets([LONG], await tempDir(), createLogger('silent'))).toEqual([LONG]);
  });

  it('generates a random secret once, in a 0600 file, and reuses it after a restart', async () => {
    const dir = path.join(await tempDir(), 'sessions');
    const first = await resolveSessionSecrets(undefined, dir, createLogger('silent'));
    const second = await resolveSessionSecrets(undefined, dir, createLogger('silent'));
    expect(first[0]!.length).toBeGreaterThanOrEqual(32);
    expect(second).toEqual(first);
    expect((await fs.stat(path.join(dir, SECRET_FILE_NAME))).mode & 0o777).toBe(0o600);
    const other = await resolveSessionSecrets(undefined, path.join(await tempDir(), 'sessions'), createLogger('silent'));
    expect(other).not.toEqual(first);
  });
});

describe('loadConfig: ROLE_MAP and ADMIN_QUERIES_FILE', () => {
  async function queriesFile(text: string): Promise<string> {
    const file = path.join(await tempDir(), 'queries.json');
    await fs.writeFile(file, text);
    return file;
  }

  it('reports a bad ROLE_MAP, a bad queries file and a bad PORT together in one call', async () => {
    const file = await queriesFile(JSON.stringify({ totalUsers: 42, totalSale: 'SELECT 1' }));
    const problems = problemsOf({ ROLE_MAP: 'customer:b2b_user,manager:boss,nocolon', ADMIN_QUERIES_FILE: file, PORT: 'http' });
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ variable: 'ROLE_MAP', value: 'customer:b2b_user,manager:boss,nocolon', message: expect.stringMatching(/"manager:boss", "nocolon" must be appRole:sidecarRole/) }),
      expect.objectContaining({ variable: 'ADMIN_QUERIES_FILE', value: file, message: expect.stringMatching(/"totalUsers" must be SQL text; unknown query "totalSale"/) }),
      expect.objectContaining({ variable: 'PORT', value: 'http' }),
    ]));
  });

  it('reports a queries file that is missing, not JSON, or not an object', async () => {
    const missing = problemsOf({ ADMIN_QUERIES_FILE: '/nonexistent/queries.json' });
    expect(missing).toEqual([expect.objectContaining({ variable: 'ADMIN_QUERIES_FILE', message: 'cannot be read (ENOENT)' })]);
    const notJson = problemsOf({ ADMIN_QUERIES_FILE: await queriesFile('{"totalUsers": ') });
    expect(notJson).toEqual([expect.objectContaining({ message: expect.stringContaining('is not valid JSON') })]);
    const array = problemsOf({ ADMIN_QUERIES_FILE: await queriesFile('["SELECT 1"]') });
    expect(array).toEqual([expect.objectContaining({ message: 'must hold a JSON object of query names to SQL text' })]);
  });

  it('holds the parsed role map and the queries with the file over the defaults', async () => {
    const file = await queriesFile(JSON.stringify({ totalUsers: 'SELECT count(*) FROM customers' }));
    const config = loadConfig({ ROLE_MAP: 'customer:b2b_user, boss:super_admin', ADMIN_QUERIES_FILE: file }, '/srv/app');
    expect(config.database.roleMap.get('customer')).toBe('b2b_user');
    expect(config.database.roleMap.get('boss')).toBe('super_admin');
    expect(config.database.roleMap.get('admin')).toBe('admin');
    expect(config.database.adminQueries.totalUsers).toBe('SELECT count(*) FROM customers');
    expect(config.database.adminQueries.activeKeys).toBe('SELECT count(*) FROM license_keys WHERE NOT is_used');
  });
});
