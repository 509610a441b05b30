import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import signature from 'cookie-signature';
import { loadConfig } from '../../dist/config/config.js';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_USER = { username: 'bench', password: 'bench-password' };

export async function tempDir(prefix = 'sidecar-bench-') {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * Starts scripts/bench/server.mjs with a variant in its own process. `nodeArgs` go to node itself
 * (e.g. --expose-gc); `ask(cmd, args)` sends a command over IPC to the server process (see the
 * commands in server.mjs) and resolves with its answer.
 */
export async function startVariant(variant, { dir, env = {}, nodeArgs = [] } = {}) {
  dir ??= await tempDir();
  const args = [...nodeArgs, path.join(HERE, 'server.mjs'), variant, dir, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 0;
  child.on('message', (m) => {
    const waiter = pending.get(m?.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (m.error) waiter.reject(new Error(`${variant} server: ${m.error}`));
    else waiter.resolve(m.value);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${variant} server exited with ${code}`));
    pending.clear();
  });
  const { port } = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dir,
    pid: child.pid,
    ask: (cmd, cmdArgs = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        child.send({ ...cmdArgs, id, cmd });
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/** The sidecar's configuration defaults (BCRYPT_COST, PASSWORD_CONCURRENCY, ...) on this machine. */
export function sidecarDefaults() {
  const env = process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {};
  return loadConfig(env, os.tmpdir());
}

export function request(url, { method = 'GET', headers = {}, body } = {}, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: keepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (error) => {
      // A pooled connection the server closed while idle (keep-alive timeout): the request never
      // reached it, so it is sent again once on a new connection.
      if (req.reusedSocket && error.code === 'ECONNRESET' && !retried) resolve(request(url, { method, headers, body }, true));
      else reject(error);
    });
    req.end(body);
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

export async function login(url, user = BENCH_USER) {
  const res = await request(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.body}`);
  return res.headers['set-cookie'][0].split(';')[0];
}

export function signedCookie(sid, name = 'sidecar.sid') {
  return `${name}=${encodeURIComponent(`s:${signature.sign(sid, BENCH_SECRET)}`)}`;
}

/** autocannon for `seconds` against one request; returns req/s and latency percentiles (ms). */
export async function load(opts) {
  const result = await autocannon({ connections: 10, pipelining: 1, ...opts });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: non2xx,
  };
}

/** Sequential requests, each timed; returns the median in ms. */
export async function medianLatency(url, headers, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await request(url, { headers });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/**
 * A closed loop: `connections` workers each await send(i) one after another (i counts from 1)
 * until stop() or until `total` sends have started. send resolves with a label (an HTTP status,
 * say); a throw counts as 'error'. Only completions inside the window count: from the start, or
 * from the last mark(), to stop() (or the last completion when the loop ran out of `total`).
 * With `rate`, sends start at most `rate` times a second in all (a steady load, not a flood).
 */
export function startLoop({ connections, send, total = Infinity, rate }) {
  let started = 0;
  let nextStart = performance.now();
  let stopping = false;
  let windowStart = performance.now();
  let windowEnd;
  let lastCompletion = windowStart;
  let counts = {};
  let latencies = [];
  let firstError;
  const worker = async () => {
    while (!stopping && started < total) {
      if (rate) {
        const at = nextStart;
        nextStart = Math.max(nextStart, performance.now()) + 1000 / rate;
        if (at > performance.now()) await sleep(at - performance.now());
        if (stopping) break;
      }
      started += 1;
      const t0 = performance.now();
      let label;
      try {
        label = String(await send(started));
      } catch (error) {
        label = 'error';
        firstError ??= error;
      }
      const t1 = performance.now();
      if (windowEnd === undefined) {
        counts[label] = (counts[label] ?? 0) + 1;
        latencies.push(t1 - t0);
        lastCompletion = t1;
      }
    }
  };
  const workers = Promise.all(Array.from({ length: connections }, worker));
  const summary = () => {
    const seconds = (windowEnd - windowStart) / 1000;
    const completed = Object.values(counts).reduce((a, b) => a + b, 0);
    return { seconds, completed, counts, rate: (label) => (counts[label] ?? 0) / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), firstError };
  };
  return {
    /** Starts the measured window now, forgetting what completed before. */
    mark() {
      windowStart = performance.now();
      counts = {};
      latencies = [];
    },
    /** Ends the window now, then waits for the requests in flight (they are not counted). */
    async stop() {
      windowEnd ??= performance.now();
      stopping = true;
      await workers;
      return summary();
    },
    /** Waits until `total` sends have completed. */
    async done() {
      await workers;
      windowEnd ??= lastCompletion;
      return summary();
    },
  };
}

export function percentile(xs, p) {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** POST /api/login with a JSON body; resolves with the status (the session cookie is dropped). */
export async function postLogin(url, { username, password }, headers = {}) {
  const res = await request(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
  return res.status;
}
