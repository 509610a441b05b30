import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import signature from 'cookie-signature';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_USER = { username: 'bench', password: 'bench-password' };

export async function tempDir(prefix = 'sidecar-bench-') {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Starts scripts/bench/server.mjs with a variant in its own process. */
export async function startVariant(variant, { dir, env = {} } = {}) {
  dir ??= await tempDir();
  const args = [path.join(HERE, 'server.mjs'), variant, dir, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: keepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
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
