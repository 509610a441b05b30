import fs from 'node:fs/promises';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, sessionIdOf, startHarness, tempDir, type Harness, type TestUser } from '../../test/support/harness.js';
import { PACKAGE_VERSION, runNode } from '../../test/support/processes.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

function sessions(cwd: string, args: string[], env: Record<string, string> = {}) {
  return runNode('cli/sessions.js', args, { cwd, env, timeoutMs: 60_000 });
}

async function harness(): Promise<Harness> {
  const h = await startHarness({ users: [ADMIN, B2B] });
  harnesses.push(h);
  return h;
}

async function login(h: Harness, user: TestUser, userAgent: string): Promise<{ cookie: string; sid: string }> {
  const res = await request(h.app).post('/api/login').set('User-Agent', userAgent).send({ username: user.username, password: user.password }).expect(200);
  return { cookie: cookieHeader(res.headers['set-cookie']), sid: sessionIdOf(res.headers['set-cookie'])! };
}

describe('npm run sessions', () => {
  it("prints package.json's version with --version, its usage with --help and a command's with <command> --help, exits 0 and touches nothing", async () => {
    const cwd = await tempDir();
    expect(await sessions(cwd, ['--version'])).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
    const help = await sessions(cwd, ['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: npm run sessions -- <command>\n\n {2}migrate --from file --to <redis\|postgres> .*\n {2}list <user> .*\n {2}revoke <user> /);
    for (const command of ['migrate', 'list', 'revoke']) {
      const one = await sessions(cwd, [command, '--help']);
      expect(one).toMatchObject({ code: 0, stderr: '' });
      expect(one.stdout).toMatch(new RegExp(`^Usage: npm run sessions -- ${command} `));
    }
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 60_000);

  it('says in one line what to do, and exits 2, for a missing or unknown command, a missing user and an incomplete migrate', async () => {
    const cwd = await tempDir();
    const cases: Array<[string[], string]> = [
      [[], 'Name a command: npm run sessions -- migrate|list|revoke (--help explains them)'],
      [['rotate'], 'Unknown command "rotate": use migrate, list or revoke (npm run sessions -- --help)'],
      [['list'], 'list needs a user: npm run sessions -- list <user>'],
      [['revoke'], 'revoke needs a user: npm run sessions -- revoke <user>'],
      [['migrate', '--to', 'redis'], 'migrate needs --from file (sessions are copied from files only): npm run sessions -- migrate --from file --to <redis|postgres>'],
      [['migrate', '--from', 'file', '--to', 'mongo'], 'migrate needs --to redis or --to postgres: npm run sessions -- migrate --from file --to <redis|postgres>'],
    ];
    for (const [args, message] of cases) expect(await sessions(cwd, args), args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
    const unknownOption = await sessions(cwd, ['list', 'bob', '--all']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^Unknown option '--all'.*\(npm run sessions -- --help\)\n$/);
    expect(await fs.readdir(cwd)).toEqual([]);
  }, 60_000);

  it("lists a user's live sessions with when and where they were made, never a whole session id, and names the store on standard error", async () => {
    const h = await harness();
    const bob = [await login(h, B2B, 'Firefox/140'), await login(h, B2B, 'Chromium/139')];
    const alice = await login(h, ADMIN, 'Safari/18');
    const result = await sessions(h.dir, ['list', 'bob']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`Sessions in: file ${h.config.session.dir}\n`);
    const [title, header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(title).toBe('2 live sessions of "bob":');
    expect(header).toMatch(/^session\s+created\s+last seen\s+expires\s+ip\s+user agent$/);
    expect(rows).toHaveLength(2);
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
    for (const [i, { sid }] of bob.entries()) {
      const row = rows.find((r) => r.startsWith(`${sid.slice(0, 8)}…`));
      expect(row).toMatch(new RegExp(`^${sid.slice(0, 8)}…\\s+${stamp}\\s+${stamp}\\s+${stamp}\\s+\\S*127\\.0\\.0\\.1\\s+${['Firefox/140', 'Chromium/139'][i]}$`));
    }
    for (const { sid } of [...bob, alice]) expect(result.stdout).not.toContain(sid.slice(0, 9));
    expect(await sessions(h.dir, ['list', B2B.username])).toMatchObject({ code: 0 });
  }, 60_000);

  it("revokes every session of a user and only theirs, prints how many, and the user's cookies stop working", async () => {
    const h = await harness();
    const bob = [await login(h, B2B, 'Firefox/140'), await login(h, B2B, 'Chromium/139')];
    const alice = await login(h, ADMIN, 'Safari/18');
    expect(await sessions(h.dir, ['revoke', 'bob'])).toMatchObject({ code: 0, stdout: 'Ended 2 sessions of "bob".\n' });
    for (const { cookie } of bob) expect((await request(h.app).get('/api/user').set('Cookie', cookie)).status).toBe(401);
    expect((await request(h.app).get('/api/user').set('Cookie', alice.cookie)).status).toBe(200);
    expect(await sessions(h.dir, ['list', 'bob'])).toMatchObject({ code: 0, stdout: 'No live sessions of "bob".\n' });
  }, 60_000);

  it('revokes the sessions of a removed user by id, and says so when the user is unknown (exit 1)', async () => {
    const h = await harness();
    await login(h, B2B, 'Firefox/140');
    const bobId = (await h.deps.users.findByUsername('bob'))!.id;
    await fs.writeFile(h.config.users.file, JSON.stringify({ users: [] }));
    expect(await sessions(h.dir, ['revoke', bobId])).toMatchObject({ code: 0, stdout: `Ended 1 session of "${bobId}".\n` });
    expect(await sessions(h.dir, ['list', 'nobody'])).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('No user "nobody" (neither a username nor the id of a user with sessions).\n') });
  }, 60_000);

  it('refuses to migrate, exit 1, when the target is not configured or does not answer, and leaves the session files alone', async () => {
    const h = await harness();
    await login(h, B2B, 'Firefox/140');
    const before = await fs.readdir(h.config.session.dir);
    const unconfigured = await sessions(h.dir, ['migrate', '--from', 'file', '--to', 'redis']);
    expect(unconfigured).toMatchObject({ code: 1, stdout: '' });
    expect(unconfigured.stderr).toContain('REDIS_URL: is required when SESSION_STORE=redis');
    const down = await sessions(h.dir, ['migrate', '--from', 'file', '--to', 'redis'], { REDIS_URL: 'redis://:s3cret@127.0.0.1:1', REDIS_TIMEOUT_MS: '200' });
    expect(down).toMatchObject({ code: 1, stdout: '' });
    expect(down.stderr).toMatch(/^Sessions from: file .*\nSessions to: redis redis:\/\/<credentials>@127\.0\.0\.1:1 \(keys sidecar:sess:\*\)\nThe session store \(redis .*\) does not answer: .+\n$/);
    expect(down.stderr).not.toContain('s3cret');
    expect(await fs.readdir(h.config.session.dir)).toEqual(before);
  }, 60_000);
});
