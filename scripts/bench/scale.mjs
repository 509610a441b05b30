// Sessions at scale: the same requests against a small and a very large session store.
// Files: SESSION_DIR with 100 live session files, against one with the same 100 live and
// `files - 100` expired ones (the reaper off), each filed in the per-user index:
// GET /api/admin/dashboard and GET /metrics (both read the live-session count), GET /api/user p99
// under load while /metrics is scraped each second (the count walk running meanwhile), peak RSS,
// disk per session file, GET /api/admin/sessions for one user and `npm run users -- passwd`.
// Redis: 100 session keys against `keys`, each filed in its user's set: the same two.
// Sizes: --scale-files=N and --scale-keys=N (1,000,000 each; 100,000 with --quick).
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { createClient } from 'redis';
import { startRedis } from '../../test/.build/test/support/redis.js';
import { writeUsersFile } from '../../dist/users/users-file.js';
import { FileUserIndex } from '../../dist/sessions/file-user-index.js';
import { BENCH_SECRET, HERE, load, login, ratio, request, sleep, startVariant, tempDir } from './lib.mjs';

const DAY_MS = 86_400_000;
const LIVE = 100;
const SMALL = 100;
const SUPER = { username: 'root', password: 'bench-password' };
const LISTED_USER = 'u-listed';
const LISTED_SESSIONS = 5;

const sizeArg = (name, fallback) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
};

export async function scaleBench({ quick, seconds }) {
  const files = sizeArg('scale-files', quick ? 100_000 : 1_000_000);
  const keys = sizeArg('scale-keys', quick ? 100_000 : 1_000_000);
  const rows = [];
  const figures = [];
  if (files > 0) await fileScale(files, Math.min(seconds, 5), rows, figures);
  if (keys > 0) await redisScale(keys, rows, figures);
  return { name: `Sessions at scale (${count(files)} session files, ${count(keys)} Redis keys, against ${SMALL})`, rows, figures };
}

async function fileScale(files, seconds, rows, figures) {
  const small = await fileRun(SMALL, seconds);
  const large = await fileRun(files, seconds);
  for (const r of [small, large]) {
    rows.push({
      variant: `${count(r.files)} session files (${LIVE} live)`,
      writeSeconds: r.writeSeconds,
      firstCountSeconds: r.firstCountSeconds,
      dashboardMs: r.dashboardMs,
      metricsMs: r.metricsMs,
      userP99ms: r.user.p99,
      userRps: Math.round(r.user.rps),
      peakRssMiB: Math.round(r.peakRss / 2 ** 20),
      activeSessions: r.active,
      listMs: r.listMs,
      passwdMs: r.passwdMs,
    });
  }
  const check = (name, a, b, max) => figures.push({ name, value: ratio(a, b), target: `<= ${max}`, pass: a / b <= max });
  check(`files: dashboard time, ${count(files)} / ${SMALL} files`, large.dashboardMs, small.dashboardMs, 3);
  check(`files: /metrics time, ${count(files)} / ${SMALL} files`, large.metricsMs, small.metricsMs, 3);
  check(`files: GET /api/user p99, ${count(files)} / ${SMALL} files`, large.user.p99, small.user.p99, 1.5);
  check(`files: peak RSS, ${count(files)} / ${SMALL} files`, large.peakRss, small.peakRss, 1.5);
  check(`files: listing one user's sessions, ${count(files)} / ${SMALL} files`, large.listMs, small.listMs, 3);
  check(`files: users passwd, ${count(files)} / ${SMALL} files`, large.passwdMs, small.passwdMs, 3);
  figures.push({ name: 'files: live sessions counted with expired files present', value: large.active, target: `${LIVE + 1} (the ${LIVE} live and the bench login)`, pass: large.active === LIVE + 1 });
  figures.push({ name: 'files: disk per session file (bytes allocated / bytes of JSON)', value: `${small.disk.allocated} / ${small.disk.apparent}`, target: 'report only' });
  for (const r of [small, large]) {
    const { markers, users, allocated } = r.disk.index;
    figures.push({ name: `files: per-user index of ${count(r.files)} files (markers / user directories / bytes allocated)`, value: `${markers} / ${users} / ${allocated}`, target: 'report only' });
  }
}

/** One server on a directory of `files` session files, `LIVE` of them live. */
async function fileRun(files, seconds) {
  const dir = await tempDir();
  const sessionDir = path.join(dir, 'sessions');
  const writeStart = performance.now();
  await writeSessionFiles(sessionDir, files);
  const writeSeconds = round((performance.now() - writeStart) / 1000);
  const disk = diskPerFile(sessionDir);
  const usersFile = path.join(dir, 'users.json');
  await writeBenchUsers(usersFile);
  // A count interval of 5 s keeps the background walk of the directory running through the
  // measurements (the worst case for GET /api/user); the default is 60 s.
  const env = { SESSION_TTL: String(DAY_MS / 1000), SESSION_REAP_INTERVAL: '0', SESSION_COUNT_INTERVAL: '5' };
  const server = await startVariant('file', { dir, env });
  let measured;
  try {
    const cookie = await login(server.url, SUPER);
    // The first count walks the directory; later ones are answered from memory.
    const countStart = performance.now();
    const dash = await request(`${server.url}/api/admin/dashboard`, { headers: { cookie } });
    const firstCountSeconds = round((performance.now() - countStart) / 1000);
    const active = JSON.parse(dash.body).data?.activeSessions ?? JSON.parse(dash.body).activeSessions;
    const dashboardMs = await median(20, () => request(`${server.url}/api/admin/dashboard`, { headers: { cookie } }));
    const metricsMs = await median(20, () => request(`${server.url}/metrics`));
    // Before the load below, whose scrapes start walks of the directory (minutes at 1M files).
    const listMs = await listingMs(server.url, cookie);
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        await request(`${server.url}/metrics`);
        await sleep(1000);
      }
    })();
    const user = await load({ url: `${server.url}/api/user`, headers: { cookie }, duration: seconds });
    scraping = false;
    await scraper;
    if (user.failures) throw new Error(`GET /api/user failed ${user.failures} times`);
    const peakRss = peakRssOf(server.pid);
    measured = { files, writeSeconds, firstCountSeconds, dashboardMs, metricsMs, user, peakRss, active, disk, listMs };
  } finally {
    await server.stop();
  }
  try {
    const passwdEnv = { USERS_FILE: usersFile, SESSION_STORE: 'file', SESSION_DIR: sessionDir, ...env };
    return { ...measured, passwdMs: await passwdMedian(passwdEnv, () => writeListedSessionFiles(sessionDir, new FileUserIndex(sessionDir))) };
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** The bench's super admin (who logs in) and LISTED_USER (whose sessions are listed and ended). */
async function writeBenchUsers(file) {
  const hash = await bcrypt.hash(SUPER.password, 4);
  await writeUsersFile(file, [
    { id: 'u-root', username: SUPER.username, role: 'super_admin', passwordHash: hash },
    { id: LISTED_USER, username: 'listed', role: 'b2b_user', passwordHash: hash },
  ]);
}

/** Median time of GET /api/admin/sessions for LISTED_USER, who must have LISTED_SESSIONS sessions. */
async function listingMs(url, cookie) {
  const list = () => request(`${url}/api/admin/sessions?userId=${LISTED_USER}`, { headers: { cookie } });
  const first = JSON.parse((await list()).body);
  if (first.sessions?.length !== LISTED_SESSIONS) throw new Error(`listed ${first.sessions?.length} sessions of ${LISTED_USER}, expected ${LISTED_SESSIONS}`);
  return median(20, list);
}

/** Median of three `npm run users -- passwd listed` runs, each ending LISTED_SESSIONS sessions (`rewrite` makes them again). */
async function passwdMedian(env, rewrite) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await rewrite();
    const start = performance.now();
    const { stdout } = await passwd({ ...process.env, SESSION_SECRET: BENCH_SECRET, LOG_LEVEL: 'silent', ...env }, 'listed');
    times.push(performance.now() - start);
    if (!stdout.includes(`Ended ${LISTED_SESSIONS} sessions`)) throw new Error(`users passwd: ${stdout}`);
  }
  return round(times.sort((a, b) => a - b)[1]);
}

/**
 * `n` session files as FileSessionStore writes them, each with its marker in the per-user index:
 * LIVE used now (LISTED_SESSIONS of them LISTED_USER's), the rest two days ago (TTL one day). The
 * expired ones and their markers are hard links of a few files: one system call each, ~10x faster
 * to make than written files here, and what the count reads of them (a name and an lstat) is the same.
 */
async function writeSessionFiles(dir, n) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const index = new FileUserIndex(dir);
  const now = Date.now();
  const old = now - 2 * DAY_MS;
  await writeListedSessionFiles(dir, index);
  for (let i = LISTED_SESSIONS; i < LIVE; i++) {
    const sid = newSid();
    await index.add(`u-${i}`, sid);
    fs.writeFileSync(path.join(dir, `${sid}.json`), sessionText(`u-${i}`, now), { mode: 0o600 });
  }
  await index.markComplete();
  let expired;
  let marker;
  for (let i = LIVE; i < n; i++) {
    const sid = newSid();
    // A new file every 60,000 links (ext4 allows 65,000 links to one file).
    if ((i - LIVE) % 60_000 === 0) {
      await index.add('u-expired', sid);
      marker = index.markerOf('u-expired', sid);
      expired = path.join(dir, `${sid}.json`);
      fs.writeFileSync(expired, sessionText('u-expired', old), { mode: 0o600 });
      fs.utimesSync(expired, new Date(old), new Date(old));
    } else {
      fs.linkSync(marker, index.markerOf('u-expired', sid));
      fs.linkSync(expired, path.join(dir, `${sid}.json`));
    }
  }
}

/** LISTED_SESSIONS live sessions of LISTED_USER, as the sidecar writes them (marker first). */
async function writeListedSessionFiles(dir, index) {
  for (let i = 0; i < LISTED_SESSIONS; i++) {
    const sid = newSid();
    await index.add(LISTED_USER, sid);
    fs.writeFileSync(path.join(dir, `${sid}.json`), sessionText(LISTED_USER, Date.now()), { mode: 0o600 });
  }
}

const newSid = () => randomBytes(24).toString('base64url');

function diskPerFile(dir) {
  let allocated = 0;
  let apparent = 0;
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.json')).slice(0, 100);
  for (const name of names) {
    const stat = fs.statSync(path.join(dir, name));
    allocated += stat.blocks * 512;
    apparent += stat.size;
  }
  return { allocated: Math.round(allocated / names.length), apparent: Math.round(apparent / names.length), index: indexDisk(dir) };
}

/** What the per-user index takes: its markers (empty files: an inode each, no data block) and its directories. */
function indexDisk(dir) {
  const root = path.join(dir, '.users');
  let markers = 0;
  let allocated = fs.statSync(root).blocks * 512;
  const users = fs.readdirSync(root).filter((name) => !name.startsWith('.'));
  for (const user of users) {
    allocated += fs.statSync(path.join(root, user)).blocks * 512;
    markers += fs.readdirSync(path.join(root, user)).length;
  }
  return { markers, users: users.length, allocated };
}

async function redisScale(keys, rows, figures) {
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));
  if (!bin) {
    figures.push({ name: 'redis: listing one user\'s sessions', value: null, target: 'skipped: redis-server not installed' });
    return;
  }
  const small = await redisRun(bin, SMALL);
  const large = await redisRun(bin, keys);
  for (const r of [small, large]) {
    rows.push({ variant: `${count(r.keys)} Redis session keys`, writeSeconds: r.writeSeconds, listMs: r.listMs, passwdMs: r.passwdMs, redisMemoryMiB: r.memoryMiB });
  }
  const check = (name, a, b, max) => figures.push({ name, value: ratio(a, b), target: `<= ${max}`, pass: a / b <= max });
  check(`redis: listing one user's sessions, ${count(keys)} / ${SMALL} keys`, large.listMs, small.listMs, 3);
  check(`redis: users passwd, ${count(keys)} / ${SMALL} keys`, large.passwdMs, small.passwdMs, 3);
}

async function redisRun(bin, keys) {
  const redis = await startRedis(bin);
  const dir = await tempDir();
  const prefix = 'sidecar:sess:';
  const client = createClient({ url: redis.url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const writeStart = performance.now();
    await writeRedisSessions(client, prefix, keys);
    const writeSeconds = round((performance.now() - writeStart) / 1000);
    const memoryMiB = Math.round(Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]) / 2 ** 20);
    const usersFile = path.join(dir, 'users.json');
    await writeBenchUsers(usersFile);
    const env = { SESSION_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: prefix, REDIS_TIMEOUT_MS: '60000' };
    const server = await startVariant('redis', { dir, env });
    let listMs;
    try {
      listMs = await listingMs(server.url, await login(server.url, SUPER));
    } finally {
      await server.stop();
    }
    const passwdMs = await passwdMedian({ USERS_FILE: usersFile, ...env }, () => writeListedSessions(client, prefix));
    return { keys, writeSeconds, listMs, passwdMs, memoryMiB };
  } finally {
    if (client.isOpen) client.destroy();
    await redis.destroy();
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * `n` session keys as RedisSessionStore writes them (LISTED_SESSIONS of them LISTED_USER's), each
 * filed in its user's set, written by a script inside Redis 10,000 at a time (a pipeline from
 * here took ~3 minutes per million).
 */
async function writeRedisSessions(client, prefix, n) {
  const now = Date.now();
  const [head, tail] = sessionText('@USER@', now).split('@USER@');
  const script = `
    for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
      local sid = 'bench' .. i
      local user = 'u-' .. (i % 5000)
      redis.call('SET', ARGV[1] .. sid, ARGV[4] .. user .. ARGV[5], 'PX', ARGV[6])
      redis.call('SADD', ARGV[1] .. 'user:' .. user, sid)
      redis.call('PEXPIRE', ARGV[1] .. 'user:' .. user, ARGV[6])
    end
    return 1`;
  const others = n - LISTED_SESSIONS;
  for (let start = 0; start < others; start += 10_000) {
    await client.eval(script, { arguments: [prefix, String(start), String(Math.min(others, start + 10_000) - 1), head, tail, String(DAY_MS)] });
  }
  await writeListedSessions(client, prefix);
  await client.set(`${prefix}index:users`, String(now));
}

async function writeListedSessions(client, prefix) {
  const pipeline = client.multi();
  for (let i = 0; i < LISTED_SESSIONS; i++) {
    const sid = randomBytes(24).toString('base64url');
    pipeline.set(prefix + sid, sessionText(LISTED_USER, Date.now()), { expiration: { type: 'PX', value: DAY_MS } });
    pipeline.sAdd(`${prefix}user:${LISTED_USER}`, sid);
    pipeline.pExpire(`${prefix}user:${LISTED_USER}`, DAY_MS);
  }
  await pipeline.execAsPipeline();
}

function sessionText(user, at) {
  return JSON.stringify({
    cookie: { originalMaxAge: DAY_MS, expires: new Date(at + DAY_MS).toISOString(), secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
    passport: { user },
    sidecar: { stamp: 'AAAAAAAAAAAAAAAA', createdAt: at, ip: '127.0.0.1', userAgent: 'bench' },
    __lastAccess: at,
  });
}

/** `npm run users -- passwd <username>` with the new password on standard input. */
function passwd(env, username) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(HERE, '../../dist/cli/users.js'), 'passwd', username], { env }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout })));
    child.stdin.end('another-bench-password\n');
  });
}

/** Sequential calls, each timed; the median in ms. */
async function median(n, call) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const res = await call();
    if (res.status !== 200) throw new Error(`status ${res.status}: ${res.body}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return round(times[Math.floor(n / 2)]);
}

/** The process's peak resident set (VmHWM), in bytes. */
function peakRssOf(pid) {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) * 1024 : NaN;
}

const count = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
const round = (x) => Math.round(x * 100) / 100;
