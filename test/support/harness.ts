import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import bcrypt from 'bcrypt';
import type { Express } from 'express';
import { createApp, type AppState } from '../../src/app.js';
import { loadConfig, type Config, type Env } from '../../src/config/config.js';
import type { Role } from '../../src/users/roles.js';
import { buildDeps, closeDeps, type AppDeps } from '../../src/deps.js';
import { createLogger } from '../../src/observability/logger.js';
import { writeUsersFile } from '../../src/users/users-file.js';
import type { User } from '../../src/users/user.js';
import { tempDir } from './temp-dir.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export { tempDir };

export interface TestUser {
  username: string;
  password: string;
  role: Role;
  disabled?: boolean;
  email?: string;
}

export const ADMIN: TestUser = { username: 'alice', password: 'alice-password-1', role: 'super_admin' };
export const B2B: TestUser = { username: 'bob', password: 'bob-password-12', role: 'b2b_user' };

export async function makeUser(user: TestUser, id: string = randomUUID()): Promise<User> {
  return {
    id,
    username: user.username,
    role: user.role,
    passwordHash: await bcrypt.hash(user.password, 4),
    ...(user.disabled ? { disabled: true } : {}),
    ...(user.email ? { email: user.email } : {}),
  };
}

/** Log lines written by the app under test, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    for (const line of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(line));
    callback();
  }
}

export interface Harness {
  app: Express;
  config: Config;
  deps: AppDeps;
  state: AppState;
  dir: string;
  logs: LogCapture;
  close(): Promise<void>;
}

/** A sidecar app on real files in `dir` (a new temp dir unless given), with test users. */
export async function startHarness(options: { dir?: string; env?: Env; users?: TestUser[] } = {}): Promise<Harness> {
  const dir = options.dir ?? (await tempDir());
  const env: Env = {
    SESSION_SECRET: TEST_SECRET,
    SESSION_DIR: path.join(dir, 'sessions'),
    USERS_FILE: path.join(dir, 'users.json'),
    UPLOAD_DIR: path.join(dir, 'uploads'),
    ADMIN_DATA_FILE: path.join(dir, 'admin-data.json'),
    BCRYPT_COST: '4',
    SESSION_REAP_INTERVAL: '0',
    ...options.env,
  };
  const config = loadConfig(env, dir);
  if (options.users) await writeUsersFile(config.users.file, await Promise.all(options.users.map((u) => makeUser(u))));
  const logs = new LogCapture();
  const deps = await buildDeps(config, createLogger('debug', logs));
  const state: AppState = { draining: false };
  const app = createApp(config, deps, state);
  return { app, config, deps, state, dir, logs, close: () => closeDeps(deps) };
}

export function sessionIdOf(setCookie: string[] | string | undefined, name = 'sidecar.sid'): string | undefined {
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const cookie = cookies.find((c) => c.startsWith(`${name}=`));
  const value = cookie ? decodeURIComponent(cookie.slice(name.length + 1).split(';')[0]!) : undefined;
  return value?.startsWith('s:') ? value.slice(2).split('.')[0] : undefined;
}

export function cookieHeader(setCookie: string[] | string | undefined, name = 'sidecar.sid'): string {
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const cookie = cookies.find((c) => c.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie in ${JSON.stringify(setCookie)}`);
  return cookie.split(';')[0]!;
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Serves a harness's app on a loopback port, WebSocket upgrades included, as server.ts does. */
export async function listen(h: Harness): Promise<{ url: string; port: number; server: import('node:http').Server; close(): Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer(h.app);
  const proxy = (h.app as import('../../src/app.js').SidecarApp).locals.proxy;
  if (proxy) server.on('upgrade', (req, socket, head) => proxy.upgrade(req, socket as import('node:net').Socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
