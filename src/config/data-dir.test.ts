import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/harness.js';
import { DIST, ROOT, runNode, startServer, type RunningServer } from '../../test/support/processes.js';
import { writeUsersFile } from '../users/users-file.js';
import { loadConfig } from './config.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

/** A copy of the built sidecar in a folder of its own (dist/ and package.json copied, node_modules linked), as deployed. */
async function installedCopy(): Promise<{ dir: string; dist: string }> {
  const dir = await tempDir('sidecar-install-');
  await fs.cp(DIST, path.join(dir, 'dist'), { recursive: true });
  await fs.copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  await fs.symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return { dir, dist: path.join(dir, 'dist') };
}

/** The default data directory: DATA_DIR unset (the test helpers otherwise set it to the working directory). */
const DEFAULT_DATA_DIR = { DATA_DIR: '' };

async function start(cwd: string, dist: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ cwd, dist, env: { ...DEFAULT_DATA_DIR, ...env }, timeoutMs: 30_000 });
  servers.push(server);
  return server;
}

async function login(url: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('the data directory', () => {
  it('is the install directory wherever the server starts: a start from another folder uses the same users file, secret and sessions, and creates nothing there', async () => {
    const install = await installedCopy();
    const elsewhere = await tempDir('sidecar-elsewhere-');
    const first = await start(elsewhere, install.dist);
    expect(first.output()).toContain(`Created ${path.join(install.dir, 'users.json')} with one user.`);
    expect(first.output()).toMatch(new RegExp(`"dataDir":"${install.dir}".*"usersFile":"${path.join(install.dir, 'users.json')}".*"msg":"data directory ${install.dir}"`));
    const cookie = await login(first.url, /password: (\S+)/.exec(first.output())![1]!);
    await first.stop();
    expect(await fs.readdir(elsewhere)).toEqual([]);
    expect(await fs.readdir(path.join(install.dir, 'sessions'))).toContain('.session-secret');

    const second = await start(install.dir, install.dist);
    expect(second.output()).not.toContain('Created');
    expect((await fetch(`${second.url}/api/user`, { headers: { cookie } })).status).toBe(200);
  }, 90_000);

  it('warns, at the start of the server and of the users command, about a users file and a .env in the working directory that are not the ones in use', async () => {
    const install = await installedCopy();
    await fs.writeFile(path.join(install.dir, '.env'), 'USERS_FILE=team.json\n');
    const elsewhere = await tempDir('sidecar-elsewhere-');
    await writeUsersFile(path.join(elsewhere, 'users.json'), []);
    await fs.writeFile(path.join(elsewhere, '.env'), 'USERS_FILE=wrong.json\n');
    const inUse = path.join(install.dir, 'team.json');

    const server = await start(elsewhere, install.dist);
    const warnings = server.output().split('\n').filter((line) => line.includes('"level":40') && line.includes(elsewhere));
    expect(warnings).toEqual([
      expect.stringContaining(`${path.join(elsewhere, 'users.json')} is not the users file in use (${inUse}); set DATA_DIR or USERS_FILE if it was meant`),
      expect.stringContaining(`${path.join(elsewhere, '.env')} is not read (only ${path.join(install.dir, '.env')} and the environment are); move it there if it was meant`),
    ]);
    expect(server.output()).toContain(`Created ${inUse} with one user.`);
    await server.stop();

    const list = await runNode('cli/users.js', ['list'], { cwd: elsewhere, dist: install.dist, env: DEFAULT_DATA_DIR });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^admin\s+super_admin/);
    expect(list.stderr).toBe(
      `Users file: ${inUse}\nWarning: ${path.join(elsewhere, 'users.json')} is not the users file in use (${inUse}); set DATA_DIR or USERS_FILE if it was meant\n` +
        `Warning: ${path.join(elsewhere, '.env')} is not read (only ${path.join(install.dir, '.env')} and the environment are); move it there if it was meant\n`,
    );
  }, 90_000);

  it('DATA_DIR moves every default file and folder, and a relative DATA_DIR is taken from the install directory', async () => {
    const install = await installedCopy();
    await fs.mkdir(path.join(install.dir, 'data'));
    const elsewhere = await tempDir('sidecar-elsewhere-');
    const server = await start(elsewhere, install.dist, { DATA_DIR: 'data' });
    const data = path.join(install.dir, 'data');
    expect(server.output()).toContain(`Created ${path.join(data, 'users.json')} with one user.`);
    await server.stop();
    expect((await fs.readdir(data)).sort()).toEqual(['sessions', 'uploads', 'users.json']);
    expect((await fs.readdir(path.join(data, 'sessions'))).sort()).toEqual(['.session-secret', '.users']);
    expect(await fs.readdir(path.join(data, 'uploads'))).toEqual(['products']);
    expect(await fs.readdir(elsewhere)).toEqual([]);
    expect((await fs.readdir(install.dir)).sort()).toEqual(['data', 'dist', 'node_modules', 'package.json']);
  }, 90_000);
});

describe('DATA_DIR in the configuration', () => {
  it('resolves every relative path against it, and explicit absolute paths stay as they are', async () => {
    const data = await tempDir();
    const config = loadConfig({ DATA_DIR: data, USERS_FILE: 'people.json', SESSION_DIR: '/var/lib/sidecar/sessions' }, '/opt/sidecar');
    expect(config.dataDir).toBe(data);
    expect(config.users.file).toBe(path.join(data, 'people.json'));
    expect(config.session.dir).toBe('/var/lib/sidecar/sessions');
    expect(config.uploads.dir).toBe(path.join(data, 'uploads'));
    expect(config.adminData.file).toBe(path.join(data, 'admin-data.json'));
  });

  it('defaults to the install directory, never the working directory', () => {
    const config = loadConfig({});
    expect(config.dataDir).toBe(ROOT);
    expect(config.users.file).toBe(path.join(ROOT, 'users.json'));
    expect(config.session.dir).toBe(path.join(ROOT, 'sessions'));
  });

  it('must exist, so a mistyped DATA_DIR never starts an empty data directory', () => {
    expect(() => loadConfig({ DATA_DIR: '/nonexistent/sidecar-data' }, '/opt/sidecar')).toThrow(
      'DATA_DIR="/nonexistent/sidecar-data": must be an existing directory (/nonexistent/sidecar-data is not); create it or fix the path',
    );
  });
});
