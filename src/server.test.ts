import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/support/harness.js';
import { PACKAGE_VERSION, ROOT, runNode, startServer, type RunningServer } from '../test/support/processes.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

async function postJson(url: string, body: unknown, cookie?: string) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
}

describe('node dist/server.js', () => {
  it('on first start creates a users file, prints the admin password once, and that password logs in', async () => {
    const cwd = await tempDir();
    const server = await startServer({ cwd });
    servers.push(server);
    const password = /password: (\S+)/.exec(server.output())?.[1];
    expect(password).toBeDefined();
    expect((await fs.stat(path.join(cwd, 'users.json'))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(cwd, 'users.json'), 'utf8')).not.toContain(password!);

    const login = await postJson(`${server.url}/api/login`, { username: 'admin', password });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${server.url}/api/user`, { headers: { cookie } })).status).toBe(200);

    expect(await server.stop('SIGTERM')).toBe(0);
    const again = await startServer({ cwd });
    servers.push(again);
    expect(again.output()).not.toMatch(/password:/);
    // the generated secret and the session file outlive the restart
    expect((await fetch(`${again.url}/api/user`, { headers: { cookie } })).status).toBe(200);
  });

  it("prints package.json's version with --version and its usage with --help, exits 0 and starts nothing", async () => {
    const cwd = await tempDir();
    expect(await runNode('server.js', ['--version'], { cwd })).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
    const help = await runNode('server.js', ['--help'], { cwd, env: { PORT: 'not-a-port' } });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: node dist\/server\.js \[--help\] \[--version\]/);
    expect(await fs.readdir(cwd)).toEqual([]);
    expect(await runNode('server.js', ['--no-such-option'], { cwd })).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--no-such-option'") });
   }, 30_000);

  it('says in one line that the port is in use and exits 1 when another process holds PORT', async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const { port } = other.address() as net.AddressInfo;
    try {
      const result = await runNode('server.js', [], { cwd: await tempDir(), env: { PORT: String(port), HOST: '127.0.0.1', BCRYPT_COST: '4' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`port ${port} is in use: stop the other process or set PORT\n`);
    } finally {
      other.close();
    }
  }, 30_000);

  it('names the supported Node lines in one line and exits 1 on a Node older than 20.19', async () => {
    const cwd = await tempDir();
    const oldNode = 'data:text/javascript,Object.defineProperty(process,"version",{value:"v18.20.4"})';
    for (const script of ['server.js', 'cli/users.js', 'cli/sessions.js']) {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, ['--import', oldNode, path.join(ROOT, 'dist', script), 'list'], { cwd, env: { PATH: process.env.PATH ?? '', PORT: '0' } }, (_e, _out, stderr) => resolve({ code: child.exitCode, stderr }));
      });
      expect(result, script).toEqual({ code: 1, stderr: 'Node v18.20.4 is not supported: install Node 20 (20.19 or later), 22, 24 or 26\n' });
    }
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 30_000);

  it('refuses to start in production without SESSION_SECRET and exits non-zero', async () => {
    const result = await runNode('server.js', [], { cwd: await tempDir(), env: { NODE_ENV: 'production', PORT: '0' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SESSION_SECRET: is required when NODE_ENV=production');
  });

  it('reports every configuration problem at once and exits non-zero', async () => {
    const result = await runNode('server.js', [], { cwd: await tempDir(), env: { PORT: 'x', SESSION_TTL: '-5', COOKIE_SECURE: 'maybe' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration (3 problems)');
    for (const bad of ['PORT="x"', 'SESSION_TTL="-5"', 'COOKIE_SECURE="maybe"']) expect(result.stderr).toContain(bad);
  });

  it('refuses to start with a malformed ROLE_MAP before creating the sessions directory, its secret file or the users file', async () => {
    const cwd = await tempDir();
    const result = await runNode('server.js', [], { cwd, env: { ROLE_MAP: 'customer=b2b_user', PORT: '0' }, timeoutMs: 10_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ROLE_MAP="customer=b2b_user": entries "customer=b2b_user" must be appRole:sidecarRole');
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 30_000);

  it('logs a warning at start for a misspelt variable, naming the one most likely meant', async () => {
    const server = await startServer({ cwd: await tempDir(), env: { SESION_SECRET: 'x'.repeat(40), NODE_OPTIONS: '' } });
    servers.push(server);
    const warnings = server.output().split('\n').filter((line) => line.includes('not a variable the sidecar reads'));
    expect(warnings).toEqual([expect.stringMatching(/"level":40,.*SESION_SECRET is set but not a variable the sidecar reads \(ignored\); did you mean SESSION_SECRET\?/)]);
  }, 30_000);

  it('never prints the password of a malformed DATABASE_URL or REDIS_URL when it refuses to start', async () => {
    const env = { DATABASE_URL: 'postgres://app:pa/ss-s3cret@db/app', ADMIN_DATA_SOURCE: 'postgres', SESSION_STORE: 'redis', REDIS_URL: 'redis://:pa/ss-s3cret@cache:6379' };
    const result = await runNode('server.js', [], { cwd: await tempDir(), env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL="postgres://<credentials>@db/app"');
    expect(result.stderr).toContain('REDIS_URL="redis://<credentials>@cache:6379"');
    expect(result.stderr).not.toMatch(/s3cret|pa\/ss/);
  }, 60_000);

  it('closes a connection that sends no headers after HEADERS_TIMEOUT_MS, and connections past MAX_CONNECTIONS on arrival', async () => {
    const server = await startServer({ cwd: await tempDir(), env: { HEADERS_TIMEOUT_MS: '500', MAX_CONNECTIONS: '2' } });
    servers.push(server);
    const connect = () => {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined).resume();
      return { socket, closed: new Promise<number>((r) => socket.on('close', () => r(Date.now()))) };
    };
    const started = Date.now();
    const silent = [connect(), connect()];
    await Promise.all(silent.map((c) => new Promise((r) => c.socket.once('connect', r))));
    const third = connect();
    expect((await third.closed) - started).toBeLessThan(500);
    for (const c of silent) expect((await c.closed) - started).toBeLessThan(4 * 500);
  }, 60_000);
});

describe('npm start, npm run users and npm run sessions before a build', () => {
  it('say in one line to run npm run build first, and exit non-zero', async () => {
    const project = await tempDir();
    await fs.mkdir(path.join(project, 'scripts'));
    await fs.copyFile(path.join(ROOT, 'package.json'), path.join(project, 'package.json'));
    await fs.copyFile(path.join(ROOT, 'scripts/require-build.mjs'), path.join(project, 'scripts/require-build.mjs'));
    for (const [args, file] of [[['start'], 'server.js'], [['run', 'users', '--', 'list'], 'cli/users.js'], [['run', 'sessions', '--', 'list', 'bob'], 'cli/sessions.js']] as const) {
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile('npm', ['--silent', ...args], { cwd: project, env: { PATH: process.env.PATH ?? '', HOME: project } }, (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
      });
      expect(result).toEqual({ code: 1, stdout: '', stderr: `dist/${file} is missing: run npm run build first (npm ci first on a fresh checkout)\n` });
    }
  }, 60_000);
});
