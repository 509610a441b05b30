import fs from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { cookieHeader, eventually, tempDir, startHarness, type Harness } from '../../test/support/harness.js';
import { spawn } from 'node:child_process';
import { DIST, PACKAGE_VERSION, runNode } from '../../test/support/processes.js';
import { readUsersFile } from '../users/users-file.js';
import { PasswordVerifier } from '../users/password.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const verifier = new PasswordVerifier(4);
const harnesses = closedAfterEach<Harness>();

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
  });

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
});
