import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, B2B, makeUser, tempDir, type TestUser } from './support/harness.js';
import { requireProgram } from './support/programs.js';
import { startServer, type RunningServer } from './support/processes.js';
import { writeUsersFile } from '../src/users/users-file.js';

const prlimit = requireProgram('prlimit (util-linux)', ['/usr/bin/prlimit', '/bin/prlimit', '/usr/local/bin/prlimit']);
const CAROL: TestUser = { username: 'carol', password: 'carol-password-1', role: 'b2b_user' };
const USERS = [ADMIN, B2B, CAROL];

const servers: RunningServer[] = [];
const agents: http.Agent[] = [];
afterEach(async () => {
  agents.splice(0).forEach((a) => a.destroy());
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on `agent` (its kept-alive connections: a new one could not be accepted while descriptors are out). */
function send(agent: http.Agent, url: string, options: { method?: string; cookie?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = http.request(url, {
      agent,
      method: options.method ?? 'GET',
      headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      timeout: 10_000,
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The lowest descriptor number the process has free: with the soft limit there, every open() fails with EMFILE. */
async function lowestFreeDescriptor(pid: number): Promise<number> {
  const open = new Set((await fs.readdir(`/proc/${pid}/fd`)).map(Number));
  let n = 0;
  while (open.has(n)) n += 1;
  return n;
}

const sessionFiles = async (dir: string) => (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();

describe.skipIf(!prlimit || process.platform !== 'linux')('node dist/server.js with file sessions when it runs out of file descriptors', () => {
  it('answers 503 SESSION_STORE_UNAVAILABLE with Retry-After (never 500), deletes no session file, and keeps every user logged in once descriptors are back', async () => {
    const cwd = await tempDir('sidecar-emfile-');
    await writeUsersFile(path.join(cwd, 'users.json'), await Promise.all(USERS.map((u, i) => makeUser(u, `u-${i}`))));
    const server = await startServer({ cwd, env: { SESSION_STORE: 'file' } });
    servers.push(server);
    const pid = server.child.pid!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    agents.push(agent);

    const cookies: string[] = [];
    for (const user of USERS) {
      for (let i = 0; i < 2; i += 1) {
        const login = await send(agent, `${server.url}/api/login`, { method: 'POST', body: { username: user.username, password: user.password } });
        expect(login.status).toBe(200);
        cookies.push(login.headers['set-cookie']![0]!.split(';')[0]!);
      }
    }
    const sessionDir = path.join(cwd, 'sessions');
    const filesBefore = await sessionFiles(sessionDir);
    expect(filesBefore).toHaveLength(cookies.length);
    // Four connections opened and kept alive now, to carry every request below.
    await Promise.all([1, 2, 3, 4].map(() => send(agent, `${server.url}/health`)));

    const soft = /^Max open files\s+(\d+)/m.exec(await fs.readFile(`/proc/${pid}/limits`, 'utf8'))![1]!;
    // Only the soft limit: it can be raised again without privileges.
    await promisify(execFile)(prlimit!, ['--pid', String(pid), `--nofile=${await lowestFreeDescriptor(pid)}:`]);
    const answers: Answer[] = [];
    try {
      // Not read since login, so no session is in the store's cache: every request opens its file.
      for (let round = 0; round < 3; round += 1) {
        answers.push(...(await Promise.all(cookies.slice(0, 4).map((cookie) => send(agent, `${server.url}/api/user`, { cookie })))));
        answers.push(...(await Promise.all(cookies.slice(4).map((cookie) => send(agent, `${server.url}/api/user`, { cookie })))));
      }
      answers.push(await send(agent, `${server.url}/api/login`, { method: 'POST', body: { username: B2B.username, password: B2B.password } }));
    } finally {
      await promisify(execFile)(prlimit!, ['--pid', String(pid), `--nofile=${soft}:`]);
    }

    expect(answers).toHaveLength(3 * cookies.length + 1);
    for (const answer of answers) {
      expect(answer.status, answer.body).toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ success: false, error: 'SESSION_STORE_UNAVAILABLE' });
      expect(answer.headers['retry-after']).toBeDefined();
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(await sessionFiles(sessionDir)).toEqual(filesBefore);
    for (const cookie of cookies) expect((await send(agent, `${server.url}/api/user`, { cookie })).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  }, 60_000);
});
