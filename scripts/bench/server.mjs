// One variant of the sidecar for a benchmark, in its own process: node server.mjs <variant> <dir>
// Prints {"port":N} once listening. Variants share the same app and differ only in what is named.
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import session from 'express-session';
import createFileStore from 'session-file-store';
import bcrypt from 'bcrypt';
import { createApp } from '../../dist/app.js';
import { loadConfig } from '../../dist/config/config.js';
import { buildDeps } from '../../dist/deps.js';
import { createLogger } from '../../dist/observability/logger.js';
import { writeUsersFile } from '../../dist/users/users-file.js';

export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_USER = { username: 'bench', password: 'bench-password' };

const [variant, dir, ...rest] = process.argv.slice(2);
const extraEnv = Object.fromEntries(rest.map((kv) => kv.split('=')));

async function main() {
  if (variant === 'bare') {
    const app = express();
    app.get('/api/user', (_req, res) => res.json({ id: '1', username: 'bench', role: 'admin' }));
    return listen(app);
  }
  const env = {
    SESSION_SECRET: BENCH_SECRET,
    SESSION_DIR: path.join(dir, 'sessions'),
    USERS_FILE: path.join(dir, 'users.json'),
    UPLOAD_DIR: path.join(dir, 'uploads'),
    ADMIN_DATA_FILE: path.join(dir, 'admin-data.json'),
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    ...extraEnv,
  };
  const config = loadConfig(env, dir);
  if (!fs.existsSync(config.users.file)) {
    await writeUsersFile(config.users.file, [
      { id: 'u-bench', username: BENCH_USER.username, role: 'admin', passwordHash: await bcrypt.hash(BENCH_USER.password, Number(env.BCRYPT_COST)) },
    ]);
  }
  const deps = await buildDeps(config, createLogger('silent'));
  if (variant === 'memory') {
    await deps.sessionStore.close();
    deps.sessionStore = Object.assign(new session.MemoryStore(), { kind: 'memory', close: async () => {} });
  } else if (variant === 'stock') {
    // The seed's setup: session-file-store with its defaults (retries, per-request touch rewrite).
    await deps.sessionStore.close();
    const FileStore = createFileStore(session);
    deps.sessionStore = Object.assign(new FileStore({ path: path.join(dir, 'stock-sessions'), ttl: 86400, logFn: () => {} }), {
      kind: 'stock-file',
      close: async () => {},
    });
  } else if (variant !== 'file') {
    throw new Error(`unknown variant ${variant}`);
  }
  listen(createApp(config, deps));
}

function listen(app) {
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
