import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './support/harness.js';
import { startServer, type RunningServer } from './support/processes.js';
import { denySyscallWrapper } from './support/seccomp.js';

// The shipped systemd unit has SystemCallFilter=~@resources: setpriority fails with EPERM there.
const x86Linux = process.platform === 'linux' && process.arch === 'x64';
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

describe.skipIf(!x86Linux)('node dist/server.js under a seccomp filter like the systemd unit', () => {
  it('starts with a warning when setpriority is refused, and a user logs in', async (ctx) => {
    const cwd = await tempDir();
    const wrapper = await denySyscallWrapper(cwd, 'setpriority');
    if (!wrapper) return ctx.skip();
    const server = await startServer({ cwd, wrapper, env: { THREADPOOL_NICE: '10' } });
    servers.push(server);
    expect(server.output()).toMatch(/"level":40[^\n]*uv_os_setpriority returned EPERM[^\n]*could not lower the CPU priority of the threadpool/);
    const password = /password: (\S+)/.exec(server.output())![1]!;
    const login = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(login.status).toBe(200);
  }, 60_000);
});
