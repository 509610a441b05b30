import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { cookieHeader, eventually, tempDir, startHarness, type Harness } from '../../test/support/harness.js';
import { spawn } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import bcrypt from 'bcrypt';
import { DIST, PACKAGE_VERSION, runNode } from '../../test/support/processes.js';
import { readUsersFile } from '../users/users-file.js';
import { PasswordVerifier } from '../users/password.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { failLogins, loginStatus } from '../../test/support/logins.js';
import { makeUser, ADMIN } from '../../test/support/harness.js';
import { startServer, type RunningServer } from '../../test/support/processes.js';
import { writeUsersFile } from '../users/users-file.js';

const verifier = new PasswordVerifier(4);
const harnesses = closedAfterEach<Harness>();
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

async function users(cwd: string, args: string[], input = '') {
  return runNode('cli/users.js', args, { cwd, env: { BCRYPT_COST: '4' }, input, timeoutMs: 60_000 });
}

describe('npm run users', () => {
  it("prints package.json's version with --version and its usage with --help, and exits 0", async () => {
    const cwd = await tempDir();
    expect(await users(cwd, ['--version'])).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
    const help = await users(cwd, ['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: npm run users -- <command>/);
    expect(await fs.readdir(cwd)).toEqual([]);
   }, 30_000);

  it('adds a user from standard input, creating the users file (0600) when missing', async () => {
    const cwd = await tempDir();
    const result = await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    expect(result).toMatchObject({ code: 0, stdout: `Added admin "carol" to ${path.join(cwd, 'users.json')}.\n` });
    const [carol] = (await readUsersFile(path.join(cwd, 'users.json')))!;
    expect(carol).toMatchObject({ username: 'carol', role: 'admin' });
    expect(await verifier.verify('carol-password', carol!.passwordHash)).toBe(true);
    expect((await fs.stat(path.join(cwd, 'users.json'))).mode & 0o777).toBe(0o600);
  });

  it('lists users with role and state, never hashes', async () => {
    const cwd = await tempDir();
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    await users(cwd, ['add', 'dave', '--role', 'b2b_user'], 'dave-password\n');
    await users(cwd, ['disable', 'dave']);
    const { stdout, code } = await users(cwd, ['list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^carol\s+admin\s+active\s+[\w-]+\ndave\s+b2b_user\s+disabled\s+[\w-]+\n$/);
    expect(stdout).not.toContain('$2b$');
  });

  it('changes a password, removes, disables and enables users', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'users.json');
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    expect((await users(cwd, ['passwd', 'carol'], 'another-password\n')).code).toBe(0);
    expect(await verifier.verify('another-password', (await readUsersFile(file))![0]!.passwordHash)).toBe(true);
    await users(cwd, ['disable', 'carol']);
    expect((await readUsersFile(file))![0]!.disabled).toBe(true);
    await users(cwd, ['enable', 'carol']);
    expect((await readUsersFile(file))![0]!.disabled).toBeUndefined();
    await users(cwd, ['remove', 'carol']);
    expect(await readUsersFile(file)).toEqual([]);
  });

  it('refuses a password over bcrypt\'s 72-byte limit instead of truncating it', async () => {
    const cwd = await tempDir();
    const result = await users(cwd, ['add', 'carol', '--role', 'admin'], `${'é'.repeat(37)}\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("longer than bcrypt's limit of 72 bytes");
    await expect(fs.access(path.join(cwd, 'users.json'))).rejects.toThrow();
  });

  it('asks twice on a terminal with echo off, and the typed password never appears', async () => {
    const cwd = await tempDir();
    const child = spawn('script', ['-qec', `${process.execPath} ${path.join(DIST, 'cli/users.js')} add carol --role admin`, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', BCRYPT_COST: '4', DATA_DIR: cwd },
    });
    let screen = '';
    child.stdout.on('data', (d) => {
      screen += d;
      if (screen.endsWith('New password: ')) child.stdin.write('tty-password-1\r');
      if (screen.endsWith('Repeat password: ')) child.stdin.write('tty-password-1\r');
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(screen).toContain('Added admin "carol"');
    expect(screen).not.toContain('tty-password-1');
    const [carol] = (await readUsersFile(path.join(cwd, 'users.json')))!;
    expect(await verifier.verify('tty-password-1', carol!.passwordHash)).toBe(true);
  });

  it('never takes a password from the command line', async () => {
    const cwd = await tempDir();
    const result = await users(cwd, ['add', 'carol', '--role', 'admin', '--password', 'secret-pass']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--password'");
    const extra = await users(cwd, ['passwd', 'carol', 'secret-pass']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('passwords are never taken from the command line');
  });

  it('explains its mistakes: duplicate user, unknown user, missing role, unknown command', async () => {
    const cwd = await tempDir();
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    expect((await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n')).stderr).toContain('already exists');
    expect((await users(cwd, ['passwd', 'nobody'], 'x-password\n')).stderr).toContain('No user "nobody"');
    expect((await users(cwd, ['add', 'erin'], 'erin-password\n')).stderr).toContain('add needs --role');
    expect((await users(cwd, ['frobnicate', 'x'])).code).toBe(2);
  }, 60_000);

  it('loses no user when six adds run at once', async () => {
    const cwd = await tempDir();
    const names = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    const results = await Promise.all(names.map((name) => users(cwd, ['add', name, '--role', 'b2b_user'], `${name}-password\n`)));
    expect(results.map((r) => r.code)).toEqual(names.map(() => 0));
    expect((await readUsersFile(path.join(cwd, 'users.json')))!.map((u) => u.username).sort()).toEqual(names);
  }, 120_000);

  it('loses neither change when adds and a disable run at once', async () => {
    const cwd = await tempDir();
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    const results = await Promise.all([
      users(cwd, ['add', 'dave', '--role', 'admin'], 'dave-password\n'),
      users(cwd, ['disable', 'carol']),
      users(cwd, ['add', 'erin', '--role', 'admin'], 'erin-password\n'),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const after = (await readUsersFile(path.join(cwd, 'users.json')))!;
    expect(after.map((u) => [u.username, u.disabled ?? false]).sort()).toEqual([['carol', true], ['dave', false], ['erin', false]]);
  }, 120_000);

  it('deletes the temporary copies of the users file that a killed command left, and takes over its lock', async () => {
    const cwd = await tempDir();
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    const file = path.join(cwd, 'users.json');
    // What `kill -9` during a write leaves: a full copy of the file (every hash) and the lock.
    const leftover = path.join(cwd, '.users.json.0123456789ab.tmp');
    await fs.copyFile(file, leftover);
    await fs.mkdir(`${file}.lock`);
    const longAgo = new Date(Date.now() - 60_000);
    await fs.utimes(`${file}.lock`, longAgo, longAgo);

    expect((await users(cwd, ['disable', 'carol'])).code).toBe(0);
    expect((await fs.readdir(cwd)).filter((name) => name.includes('users.json'))).toEqual(['users.json']);
    expect((await readUsersFile(file))![0]!.disabled).toBe(true);
  }, 60_000);

  it('refuses to edit users that live in PostgreSQL', async () => {
    const cwd = await tempDir();
    const result = await runNode('cli/users.js', ['list'], { cwd, env: { USERS_SOURCE: 'postgres' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("manage them there");
  });

  it('is seen by a running server within a second', async () => {
    const h = await startHarness({ users: [] });
    harnesses.push(h);
    await users(h.dir, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    // Polls the directory, not the login: repeated failed logins would be regulated.
    await eventually(async () => (await h.deps.users.findByUsername('carol')) !== undefined);
    expect((await request(h.app).post('/api/login').send({ username: 'carol', password: 'carol-password' })).status).toBe(200);
  });

  it.each([
    ['passwd', 'another-password\n'],
    ['disable', ''],
    ['remove', ''],
  ])('deletes the user\'s stored sessions on %s, and only theirs', async (command, input) => {
    const h = await startHarness({ users: [] });
    harnesses.push(h);
    await users(h.dir, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    await users(h.dir, ['add', 'dave', '--role', 'admin'], 'dave-password\n');
    await eventually(async () => (await h.deps.users.findByUsername('dave')) !== undefined);
    const login = (username: string) => request(h.app).post('/api/login').send({ username, password: `${username}-password` }).expect(200);
    await login('carol');
    await login('carol');
    const dave = cookieHeader((await login('dave')).headers['set-cookie']);
    const carolId = (await h.deps.users.findByUsername('carol'))!.id;
    expect(await h.deps.sessionStore.sessionsOf(carolId)).toHaveLength(2);

    const result = await users(h.dir, [command, 'carol'], input);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Ended 2 sessions of "carol".');
    expect(await h.deps.sessionStore.sessionsOf(carolId)).toEqual([]);
    expect((await request(h.app).get('/api/user').set('Cookie', dave)).status).toBe(200);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner of the users file when run as root, so the service can still read it', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'users.json');
    await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
    await fs.chown(file, 65534, 65534);
    expect((await users(cwd, ['passwd', 'carol'], 'another-password\n')).code).toBe(0);
    const stat = await fs.stat(file);
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([65534, 65534, 0o600]);
  });

  it('lists every command in --help, answers --help for each command, and refuses an unknown command in one line with exit code 2', async () => {
    const cwd = await tempDir();
    const commands = ['add', 'passwd', 'remove', 'disable', 'enable', 'list', 'bans', 'unban', 'import'];
    const help = await users(cwd, ['--help']);
    for (const command of commands) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const command of commands) {
      const one = await users(cwd, [command, '--help']);
      expect(one).toMatchObject({ code: 0, stderr: '' });
      expect(one.stdout).toMatch(new RegExp(`^Usage: npm run users -- ${command}\\b`));
    }
    expect(await users(cwd, ['frobnicate', 'x'])).toEqual({ code: 2, stdout: '', stderr: 'Unknown command "frobnicate"; run npm run users -- --help for the list of commands.\n' });
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 60_000);

  it('keeps fields and top-level keys it does not know through add, passwd, disable, enable and remove of other users', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'users.json');
    const carol = { ...(await makeUser({ username: 'carol', password: 'carol-password', role: 'admin' }, 'carol-id')), email: 'carol@example.com', tenantId: 'km', phone: '+387 33 000', settings: { theme: 'dark' } };
    await fs.writeFile(file, JSON.stringify({ version: 2, exportedBy: 'shop', users: [carol] }), { mode: 0o600 });
    await users(cwd, ['add', 'dave', '--role', 'admin'], 'dave-password\n');
    for (const command of ['passwd', 'disable', 'enable', 'remove']) expect((await users(cwd, [command, 'dave'], 'another-password\n')).code).toBe(0);
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    expect(after).toEqual({ version: 2, exportedBy: 'shop', users: [carol] });
  }, 60_000);

  describe('bans and unban without Redis (the server\'s control socket)', () => {
    it('shows the bans of an IP and a user that failed logins, lifts them by IP, and the next login from that IP succeeds', async () => {
      const cwd = await tempDir();
      await writeUsersFile(path.join(cwd, 'users.json'), [await makeUser(ADMIN)]);
      const env = { LOGIN_MAX_FAILURES: '2', LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_BAN_TIME: '600' };
      const server = await startServer({ cwd, env });
      servers.push(server);
      const socket = path.join(cwd, 'sessions', 'control.sock');
      expect((await fs.stat(socket)).mode & 0o777).toBe(0o600);

      expect(await failLogins(server.url, ADMIN.username, 2)).toEqual([401, 401]);
      expect(await failLogins(server.url, 'nobody', 1)).toEqual([401]);
      expect(await loginStatus(server.url, ADMIN)).toBe(429);

      const bans = await runNode('cli/users.js', ['bans'], { cwd, env });
      expect(bans.code).toBe(0);
      const lines = bans.stdout.trim().split('\n').sort();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^IP 127\.0\.0\.1 +attempts 5 \(limit 3\)  ends in (9|10) min \d+ s$/);
      expect(lines[1]).toMatch(/^user "alice" from 127\.0\.0\.1 +attempts 4 \(limit 2\)  ends in (9|10) min \d+ s$/);

      const unban = await runNode('cli/users.js', ['unban', '127.0.0.1'], { cwd, env });
      expect(unban.code).toBe(0);
      expect(unban.stdout.trim().split('\n').sort()).toEqual([
        'Cleared the failure count of user "nobody" from 127.0.0.1 (1 attempts).',
        'Lifted the ban on IP 127.0.0.1 (5 attempts).',
        'Lifted the ban on user "alice" from 127.0.0.1 (4 attempts).',
      ]);
      expect(await loginStatus(server.url, ADMIN)).toBe(200);
      expect(await runNode('cli/users.js', ['bans'], { cwd, env })).toMatchObject({ code: 0, stdout: 'No login bans.\n' });
      expect(await runNode('cli/users.js', ['unban', '127.0.0.1'], { cwd, env })).toEqual({ code: 1, stdout: '', stderr: 'Nothing to lift: no ban and no failure count for "127.0.0.1".\n' });

      expect(await server.stop()).toBe(0);
      await expect(fs.access(socket)).rejects.toThrow();
    }, 60_000);

    it('lifts the bans of a username from every IP, leaving other users\' bans', async () => {
      const cwd = await tempDir();
      await writeUsersFile(path.join(cwd, 'users.json'), [await makeUser(ADMIN)]);
      const env = { LOGIN_MAX_FAILURES: '2' };
      const server = await startServer({ cwd, env });
      servers.push(server);
      await failLogins(server.url, ADMIN.username, 2);
      await failLogins(server.url, 'mallory', 2);
      const unban = await runNode('cli/users.js', ['unban', 'ALICE'], { cwd, env });
      expect(unban).toMatchObject({ code: 0, stdout: 'Lifted the ban on user "alice" from 127.0.0.1 (3 attempts).\n' });
      expect((await runNode('cli/users.js', ['bans'], { cwd, env })).stdout).toMatch(/^user "mallory" from 127\.0\.0\.1 +attempts 3 \(limit 2\) /);
      expect(await loginStatus(server.url, ADMIN)).toBe(200);
    }, 60_000);

    it('says that the server is not running, with exit code 3, when nothing answers on the socket', async () => {
      const cwd = await tempDir();
      for (const args of [['bans'], ['unban', '127.0.0.1']]) {
        const result = await users(cwd, args);
        expect(result.code).toBe(3);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(`The sidecar is not running: nothing answers on ${path.join(cwd, 'sessions', 'control.sock')}. Without Redis the bans live in the server's memory and end with it, so there is nothing to list or lift. (Started with another SESSION_DIR or CONTROL_SOCKET? Run this command with the same settings.)\n`);
      }
    });

    it('takes over a socket file a killed server left', async () => {
      const cwd = await tempDir();
      await writeUsersFile(path.join(cwd, 'users.json'), [await makeUser(ADMIN)]);
      const first = await startServer({ cwd });
      expect(await first.stop('SIGKILL')).toBeNull();
      await fs.access(path.join(cwd, 'sessions', 'control.sock'));
      const second = await startServer({ cwd });
      servers.push(second);
      expect(await users(cwd, ['bans'])).toMatchObject({ code: 0, stdout: 'No login bans.\n' });
    }, 60_000);
  });

  describe('import', () => {
    const scryptHash = (password: string) => {
      const salt = randomBytes(16).toString('hex');
      return `${scryptSync(password, salt, 64).toString('hex')}.${salt}`;
    };
    const writeJson = async (dir: string, name: string, value: unknown) => {
      const file = path.join(dir, name);
      await fs.writeFile(file, JSON.stringify(value));
      return file;
    };
    /** The command's answer, its first standard-error line (the users file it uses, checked here) taken off. */
    const importUsers = async (cwd: string, args: string[], env: Record<string, string> = {}) => {
      const result = await runNode('cli/users.js', ['import', ...args], { cwd, env: { BCRYPT_COST: '4', ...env }, timeoutMs: 60_000 });
      const usersFileLine = `Users file: ${path.join(cwd, 'users.json')}\n`;
      expect(result.stderr.startsWith(usersFileLine)).toBe(true);
      return { ...result, stderr: result.stderr.slice(usersFileLine.length) };
    };

    it("merges a bare array with hashes under password and password_hash and the main app's role names through ROLE_MAP, keeping the users already there", async () => {
      const cwd = await tempDir();
      const file = path.join(cwd, 'users.json');
      await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
      const [carol] = (await readUsersFile(file))!;
      const daveHash = await bcrypt.hash('dave-password', 4);
      const erinHash = await bcrypt.hash('erin-password', 4);
      const source = await writeJson(cwd, 'old.json', [
        { username: 'dave', password: daveHash, role: 'customer' },
        { id: 7, username: 'erin', password_hash: erinHash, role: 'admin', created_at: '2024-01-02T03:04:05.000Z' },
      ]);

      const result = await importUsers(cwd, [source], { ROLE_MAP: 'customer:b2b_user' });
      expect(result).toEqual({ code: 0, stdout: `Imported 2 users into ${file}: dave, erin.\n`, stderr: '' });
      const after = (await readUsersFile(file))!;
      expect(after).toHaveLength(3);
      expect(after[0]).toEqual(carol);
      expect(after[1]).toMatchObject({ username: 'dave', role: 'b2b_user', passwordHash: daveHash });
      expect(after[1]!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(after[2]).toEqual({ id: '7', username: 'erin', role: 'admin', passwordHash: erinHash, createdAt: '2024-01-02T03:04:05.000Z' });
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);

      const again = await importUsers(cwd, [source], { ROLE_MAP: 'customer:b2b_user' });
      expect(again).toMatchObject({ code: 1 });
      expect(again.stderr).toContain('users[0] ("dave") field "username": "dave" already in');
      expect(await importUsers(cwd, [await writeJson(cwd, 'same.json', { users: [after[2]] })])).toEqual({ code: 0, stdout: `Imported 0 users into ${file}.\nAlready there, unchanged: erin.\n`, stderr: '' });
    }, 60_000);

    it("imports the main app's users export (scrypt hashes, snake_case columns, is_active) so those users log in, keeping their other columns", async () => {
      const h = await startHarness({ users: [] });
      harnesses.push(h);
      const row = (username: string, extra: Record<string, unknown>) => ({
        id: `${username}-id`, username, email: `${username}@shop.example`, password: scryptHash(`${username}-password`), role: 'b2b_user',
        tenant_id: 'km', is_active: true, company_name: 'Shop d.o.o.', phone: null, country: 'BA', branch_type: 'main_company', ...extra,
      });
      const source = await writeJson(h.dir, 'export.json', [row('frank', {}), row('gina', { is_active: false, role: 'admin' })]);
      expect(await importUsers(h.dir, [source])).toMatchObject({ code: 0, stdout: `Imported 2 users into ${h.config.users.file}: frank, gina.\n` });
      const [frank, gina] = (await readUsersFile(h.config.users.file))!;
      expect(frank).toEqual({ id: 'frank-id', username: 'frank', email: 'frank@shop.example', passwordHash: expect.stringMatching(/^[0-9a-f]{128}\.[0-9a-f]{32}$/), role: 'b2b_user', tenantId: 'km', companyName: 'Shop d.o.o.', country: 'BA', branchType: 'main_company' });
      expect(gina).toMatchObject({ role: 'admin', disabled: true });

      await eventually(async () => (await h.deps.users.findByUsername('gina')) !== undefined);
      expect((await request(h.app).post('/api/login').send({ username: 'frank', password: 'frank-password' })).body).toMatchObject({ username: 'frank', tenantId: 'km' });
      expect((await request(h.app).post('/api/login').send({ username: 'gina', password: 'gina-password' })).status).toBe(401);
    }, 60_000);

    const BROKEN = async () => [
      { username: 'hank', password: await bcrypt.hash('hank-password', 4), role: 'owner' },
      { username: 'ivy', role: 'admin' },
      { username: 'jack', password: 'plain-text-password', role: 'admin', email: 'not-an-email' },
      { username: 'kim', password: await bcrypt.hash('kim-password', 4), role: 'admin' },
      { username: 'kim', password: await bcrypt.hash('kim-password', 4), role: 'admin' },
      { username: 'carol', password: await bcrypt.hash('carol-password', 4), role: 'admin' },
      { username: 'has space', password: await bcrypt.hash('x-password', 4), role: 'admin' },
      { username: 'lena', password: await bcrypt.hash('lena-password', 4), role: 'b2b_user', tenantId: 'eur' },
    ];

    it('reports every problem at once, with the entry, username and field, and writes nothing', async () => {
      const cwd = await tempDir();
      const file = path.join(cwd, 'users.json');
      await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
      const before = await fs.readFile(file, 'utf8');
      const result = await importUsers(cwd, [await writeJson(cwd, 'broken.json', await BROKEN())]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n').slice(0, -1)).toEqual([
        'users[0] ("hank") field "role": Invalid option: expected one of "super_admin"|"admin"|"b2b_user"',
        'users[1] ("ivy") field "passwordHash": Invalid input: expected string, received undefined',
        'users[2] ("jack") field "passwordHash": must be a bcrypt hash ($2a$, $2b$ or $2y$) or a scrypt hex.salt hash',
        'users[2] ("jack") field "email": must be an email address',
        'users[6] ("has space") field "username": letters, digits and . _ @ - only, at most 64',
        'users[4] ("kim") field "username": "kim" appears twice in the import',
        `users[5] ("carol") field "username": "carol" already in ${file}; the existing user is kept`,
        `7 problems in ${path.join(cwd, 'broken.json')}; nothing was written to ${file}. Fix them, or run with --skip-invalid to import the valid entries.`,
      ]);
      expect(await fs.readFile(file, 'utf8')).toBe(before);
    }, 60_000);

    it('with --skip-invalid writes the valid entries and lists the skipped ones', async () => {
      const cwd = await tempDir();
      const file = path.join(cwd, 'users.json');
      await users(cwd, ['add', 'carol', '--role', 'admin'], 'carol-password\n');
      const [carol] = (await readUsersFile(file))!;
      const result = await importUsers(cwd, [await writeJson(cwd, 'broken.json', await BROKEN()), '--skip-invalid']);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`Imported 2 users into ${file}: kim, lena.\nSkipped 7 problems (listed above).\n`);
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(7);
      expect(result.stderr).toMatch(/^skipped: users\[0\] \("hank"\) field "role"/);
      const after = (await readUsersFile(file))!;
      expect(after.map((u) => u.username)).toEqual(['carol', 'kim', 'lena']);
      expect(after[0]).toEqual(carol);
      expect(after[2]).toMatchObject({ tenantId: 'eur' });
    }, 60_000);

    it('refuses a file that is neither a users file nor an array, and a missing file, writing nothing', async () => {
      const cwd = await tempDir();
      const shape = await importUsers(cwd, [await writeJson(cwd, 'odd.json', { people: [] })]);
      expect(shape).toEqual({ code: 1, stdout: '', stderr: `${path.join(cwd, 'odd.json')}: expected {"users":[...]} or an array of users.\n` });
      expect(await importUsers(cwd, ['missing.json'])).toEqual({ code: 1, stdout: '', stderr: 'Cannot read missing.json: no such file\n' });
      expect(await fs.readdir(cwd)).toEqual(['odd.json']);
    });
  });
});
