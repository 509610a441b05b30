import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, makeUser, tempDir } from './support/harness.js';
import { failLogins, loginStatus } from './support/logins.js';
import { runNode, startServer, type RunningServer } from './support/processes.js';
import { REDIS_BIN, redisForSuite } from './support/vitest-redis.js';
import { writeUsersFile } from '../src/users/users-file.js';

describe.skipIf(!REDIS_BIN)('npm run users -- bans | unban on SESSION_STORE=redis', () => {
  const redis = redisForSuite();
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  });

  async function loginKeys(): Promise<string[]> {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: 'sidecar:login-fail-*', COUNT: 100 })) keys.push(...batch);
      return keys.sort();
    } finally {
      client.destroy();
    }
  }

  it('lists the bans the server keeps in Redis, lifts them by username and IP in Redis, and the user logs in again, even with the server stopped meanwhile', async () => {
    const cwd = await tempDir();
    await writeUsersFile(path.join(cwd, 'users.json'), [await makeUser(ADMIN)]);
    const env = { SESSION_STORE: 'redis', REDIS_URL: redis.url, LOGIN_MAX_FAILURES: '2', LOGIN_MAX_FAILURES_PER_IP: '3' };
    const server = await startServer({ cwd, env });
    servers.push(server);
    expect(await failLogins(server.url, ADMIN.username, 3)).toEqual([401, 401, 429]);
    expect(await loginKeys()).toEqual(['sidecar:login-fail-ip:127.0.0.1', 'sidecar:login-fail-user:127.0.0.1|alice']);

    // Redis holds the bans, not the server: the command needs no running server.
    expect(await server.stop()).toBe(0);
    const bans = await runNode('cli/users.js', ['bans'], { cwd, env });
    expect(bans.code).toBe(0);
    expect(bans.stdout).toMatch(/^user "alice" from 127\.0\.0\.1 +attempts 4 \(limit 2\)  ends in (14|15) min \d+ s\n$/);

    expect(await runNode('cli/users.js', ['unban', 'alice'], { cwd, env })).toMatchObject({ code: 0, stdout: 'Lifted the ban on user "alice" from 127.0.0.1 (4 attempts).\n' });
    expect(await loginKeys()).toEqual(['sidecar:login-fail-ip:127.0.0.1']);
    expect(await runNode('cli/users.js', ['unban', '127.0.0.1'], { cwd, env })).toMatchObject({ code: 0, stdout: 'Cleared the failure count of IP 127.0.0.1 (2 attempts).\n' });
    expect(await loginKeys()).toEqual([]);

    const again = await startServer({ cwd, env });
    servers.push(again);
    expect(await loginStatus(again.url, ADMIN)).toBe(200);
    expect(await runNode('cli/users.js', ['bans'], { cwd, env })).toMatchObject({ code: 0, stdout: 'No login bans.\n' });
  }, 90_000);

  it('says where Redis could not be reached, with exit code 1', async () => {
    const cwd = await tempDir();
    const result = await runNode('cli/users.js', ['bans'], { cwd, env: { SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Cannot reach Redis at 127\.0\.0\.1:1 \(.+\)\.\n$/);
  });
});
