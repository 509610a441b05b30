import fs from 'node:fs/promises';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ADMIN, B2B, cookieHeader, eventually, makeUser, startHarness, type Harness } from '../../test/support/harness.js';
import bcrypt from 'bcrypt';
import { hashParameters } from './password.js';
import { readUsersFile, writeUsersFile } from './users-file.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';

const harnesses = closedAfterEach<Harness>();

async function harness(): Promise<Harness> {
  const h = await startHarness({ users: [ADMIN, B2B] });
  harnesses.push(h);
  return h;
}

const loginStatus = (h: Harness, username: string, password: string) =>
  request(h.app).post('/api/login').send({ username, password }).then((r) => r.status);

async function editUsers(h: Harness, edit: (users: Awaited<ReturnType<typeof readUsersFile>> & object) => Promise<void> | void) {
  const users = (await readUsersFile(h.config.users.file))!;
  await edit(users);
  await writeUsersFile(h.config.users.file, users);
}

describe('the users file while the server runs', () => {
  it('checks unknown users at the cost of the hashes in the changed file', async () => {
    const h = await harness();
    expect(hashParameters(await h.deps.verifier.dummyHash())).toBe('bcrypt cost 4');
    await editUsers(h, async (users) => {
      for (const user of users) user.passwordHash = await bcrypt.hash('changed-password', 5);
    });
    await eventually(async () => hashParameters(await h.deps.verifier.dummyHash()) === 'bcrypt cost 5', 3000);
  });

  it('lets a newly added user log in within a second, without a restart', async () => {
    const h = await harness();
    expect(await loginStatus(h, 'carol', 'carol-password')).toBe(401);
    await editUsers(h, async (users) => {
      users.push(await makeUser({ username: 'carol', password: 'carol-password', role: 'admin' }));
    });
    // Polls the directory, not the login: repeated failed logins would be regulated.
    await eventually(async () => (await h.deps.users.findByUsername('carol')) !== undefined);
    expect(await loginStatus(h, 'carol', 'carol-password')).toBe(200);
  });

  it('keeps the previous users when the file breaks, and logs why', async () => {
    const h = await harness();
    await fs.writeFile(h.config.users.file, '{"users": [ {"username": ');
    await eventually(async () => h.logs.lines.some((l) => l.msg === 'users file is invalid; keeping the last good version'));
    expect(await loginStatus(h, ADMIN.username, ADMIN.password)).toBe(200);
  });

  it('keeps the previous users, logs the error and stays up when the file is replaced by a directory', async () => {
    const h = await harness();
    await fs.rm(h.config.users.file);
    await fs.mkdir(h.config.users.file);
    await eventually(async () => h.logs.lines.some((l) => l.msg === 'users file cannot be read; keeping the last good version' && l.code === 'EISDIR'));
    expect(await loginStatus(h, ADMIN.username, ADMIN.password)).toBe(200);
  });

  it('names the bad entry when a user has an unknown role', async () => {
    const h = await harness();
    await editUsers(h, (users) => {
      (users[1] as { role: string }).role = 'root';
    });
    await eventually(async () => h.logs.lines.some((l) => String(l.reason).includes('users[1] ("bob") field "role"')));
    expect(await loginStatus(h, B2B.username, B2B.password)).toBe(200);
  });

  it('makes a disabled user anonymous at the next request and refuses their login', async () => {
    const h = await harness();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(B2B)).headers['set-cookie']);
    await editUsers(h, (users) => {
      users[1]!.disabled = true;
    });
    await eventually(async () => (await request(h.app).get('/api/user').set('cookie', cookie)).status === 401);
    expect(await loginStatus(h, B2B.username, B2B.password)).toBe(401);
  });

  it('makes a removed user anonymous at the next request', async () => {
    const h = await harness();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(B2B)).headers['set-cookie']);
    await editUsers(h, (users) => {
      users.splice(1, 1);
    });
    await eventually(async () => (await request(h.app).get('/api/user').set('cookie', cookie)).status === 401);
  });

  it('ends existing sessions when the password changes', async () => {
    const h = await harness();
    const cookie = cookieHeader((await request(h.app).post('/api/login').send(ADMIN)).headers['set-cookie']);
    await editUsers(h, async (users) => {
      users[0]!.passwordHash = (await makeUser({ ...ADMIN, password: 'a-new-password' })).passwordHash;
    });
    await eventually(async () => (await request(h.app).get('/api/user').set('cookie', cookie)).status === 401);
    expect(await loginStatus(h, ADMIN.username, 'a-new-password')).toBe(200);
  });
});
