import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { resolveSessionSecrets, SECRET_FILE_NAME } from '../sessions/secret.js';
import { tempDir } from '../testing/harness.js';
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

  it('refuses SameSite=None without Secure', () => {
    expect(problemsOf({ COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'false' })[0]!.variable).toBe('COOKIE_SAMESITE');
  });
});

describe('loadConfig: the password queue', () => {
  it('admits by expected wait (LOGIN_MAX_WAIT, 10 s) with PASSWORD_QUEUE only as a bound on memory', () => {
    expect(loadConfig({}, '/srv/app').login).toMatchObject({ maxWaitSeconds: 10, passwordQueue: 1000 });
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
