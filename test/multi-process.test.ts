import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, B2B, TEST_SECRET, makeUser, tempDir } from './support/harness.js';
import { call, startNginx, type RunningNginx } from './support/nginx.js';
import { startServer, type RunningServer } from './support/processes.js';
import { requireProgram } from './support/programs.js';
import { startRedis, type ThrowawayRedis } from './support/redis.js';
import { startStubMainApp, type StubMainApp } from './support/stub-main-app.js';
import { writeUsersFile } from '../src/users/users-file.js';

const nginxBin = requireProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
const redisBin = requireProgram('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);

const USERS = Promise.all([makeUser(ADMIN, 'u-alice'), makeUser(B2B, 'u-bob')]);

/** A host: its own working directory with the same deployed users file as every other host. */
async function host(): Promise<string> {
  const cwd = await tempDir('sidecar-host-');
  await writeUsersFile(path.join(cwd, 'users.json'), await USERS);
  await fs.writeFile(path.join(cwd, 'admin-data.json'), JSON.stringify({ products: [], totalUsers: 0, totalSales: 0 }));
  return cwd;
}

describe.skipIf(!nginxBin || !redisBin)('several sidecar processes behind a real nginx upstream', () => {
  let main: StubMainApp;
  let redis: ThrowawayRedis;
  const servers: RunningServer[] = [];
  const nginxes: RunningNginx[] = [];

  beforeAll(async () => {
    main = await startStubMainApp();
    redis = await startRedis(redisBin!);
  });
  afterEach(async () => {
    await Promise.all(nginxes.splice(0).map((n) => n.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  });
  afterAll(async () => {
    await main?.close();
    await redis?.destroy();
  });

  async function cluster(cwds: string[], env: Record<string, string> = {}) {
    const started = await Promise.all(cwds.map((cwd) => startServer({ cwd, env })));
    servers.push(...started);
    const nginx = await startNginx(nginxBin!, { sidecarPort: started.map((s) => s.port), mainAppPort: main.port, uploadsDir: path.join(cwds[0]!, 'uploads/products') });
    nginxes.push(nginx);
    return { servers: started, nginx };
  }

  const login = async (base: string) => {
    const res = await call(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    expect(res.status).toBe(200);
    return (res.headers['set-cookie']![0] as string).split(';')[0]!;
  };
  const userStatus = async (base: string, cookie: string) => (await call(`${base}/api/user`, { headers: { cookie } })).status;

  async function expectSharedSessions(servers: RunningServer[], nginx: RunningNginx): Promise<void> {
    const cookie = await login(nginx.httpUrl);
    // Through nginx's round robin, and on every process directly.
    const viaNginx = await Promise.all(Array.from({ length: 3 * servers.length }, () => userStatus(nginx.httpUrl, cookie)));
    expect(viaNginx.every((s) => s === 200)).toBe(true);
    for (const s of servers) expect(await userStatus(s.url, cookie)).toBe(200);

    const logout = await call(`${servers[1]!.url}/api/logout`, { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(200);
    for (const s of servers) expect(await userStatus(s.url, cookie)).toBe(401);
    const afterLogout = await Promise.all(Array.from({ length: 3 * servers.length }, () => userStatus(nginx.httpUrl, cookie)));
    expect(afterLogout.every((s) => s === 401)).toBe(true);
  }

  it('three processes on one host sharing the session directory: a login on one is valid on all, a logout on one ends it on all', async () => {
    const cwd = await host();
    const { servers, nginx } = await cluster([cwd, cwd, cwd]);
    await expectSharedSessions(servers, nginx);
  }, 60_000);

  it('two hosts sharing Redis: a login on one is valid on both, a logout on one ends it on both', async () => {
    const env = { SESSION_STORE: 'redis', REDIS_URL: redis.url, SESSION_SECRET: TEST_SECRET };
    const { servers, nginx } = await cluster([await host(), await host()], env);
    await expectSharedSessions(servers, nginx);
  }, 60_000);
});
