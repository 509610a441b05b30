// One variant of the sidecar for a benchmark, in its own process: node server.mjs <variant> <dir>
// Prints {"port":N} once listening. Variants share the same app and differ only in what is named:
// bare (Express alone), memory (MemoryStore), file (the sidecar's FileSessionStore), redis
// (SESSION_STORE=redis; REDIS_URL=... must be given), stock (session-file-store as the seed had it).
// Over IPC (startVariant's ask) the process answers bench commands, so no bench-only route is added
// to the app under measurement: heap, loopDelay, reap.
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
import { lowerThreadpoolPriority } from '../../dist/process/threadpool-priority.js';
import { keepFreedMemory } from '../../dist/process/keep-freed-memory.js';

export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_USER = { username: 'bench', password: 'bench-password' };

const [variant, dir, ...rest] = process.argv.slice(2);
const extraEnv = Object.fromEntries(rest.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
let deps;

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
    // The real server reads the same variable libuv sizes its threadpool from.
    ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}),
    ...(variant === 'redis' ? { SESSION_STORE: 'redis' } : {}),
    ...extraEnv,
  };
  const config = loadConfig(env, dir);
  if (!fs.existsSync(config.users.file)) {
    await writeUsersFile(config.users.file, [
      { id: 'u-bench', username: BENCH_USER.username, role: 'admin', passwordHash: await bcrypt.hash(BENCH_USER.password, Number(env.BCRYPT_COST)) },
    ]);
  }
  deps = await buildDeps(config, createLogger('silent'));
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
  } else if (variant !== 'file' && variant !== 'redis') {
    throw new Error(`unknown variant ${variant}`);
  }
  // As dist/server.js does: password checks yield the CPU to the event loop, and malloc keeps
  // freed memory (KEEP_FREED_MEMORY=0 leaves that out, for the upload bench's comparison).
  await lowerThreadpoolPriority(config.login.threadpoolSize, config.login.threadpoolNice);
  if (extraEnv.KEEP_FREED_MEMORY !== '0') keepFreedMemory();
  listen(createApp(config, deps));
}

function listen(app) {
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

/** Bench commands over IPC: each message {id, cmd, ...args} gets {id, value} or {id, error}. */
const COMMANDS = {
  /** heapUsed after full garbage collections (needs node --expose-gc). */
  async heap() {
    if (typeof global.gc !== 'function') throw new Error('start the server with nodeArgs: [\'--expose-gc\']');
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { heapUsed, heapTotal, rss, external } = process.memoryUsage();
    return { heapUsed, heapTotal, rss, external };
  },
  /** Event-loop delay over `ms` milliseconds of whatever the process is doing. */
  async loopDelay({ ms }) {
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    await new Promise((resolve) => setTimeout(resolve, ms));
    histogram.disable();
    return delayStats(histogram);
  },
  /** Runs the session store's reap() once, with the event-loop delay while it runs. */
  async reap() {
    if (typeof deps?.sessionStore.reap !== 'function') throw new Error(`the ${variant} store cannot reap`);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const start = performance.now();
    const { scanned, removed } = await deps.sessionStore.reap();
    const durationMs = performance.now() - start;
    histogram.disable();
    return { scanned, removed, durationMs, delay: delayStats(histogram) };
  },
};

function delayStats(h) {
  const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
  return { samples: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
}

if (process.send) {
  process.on('message', ({ id, cmd, ...args }) => {
    const run = COMMANDS[cmd] ?? (() => Promise.reject(new Error(`unknown command ${cmd}`)));
    run(args).then(
      (value) => process.send({ id, value }),
      (error) => process.send({ id, error: String(error?.stack ?? error) }),
    );
  });
  // The bench process is gone (crashed or killed): do not outlive it.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
