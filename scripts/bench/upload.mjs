import fs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { login, ratio, startVariant } from './lib.mjs';

const MB = 1024 * 1024;

/** Upload throughput against writing the same bytes with fs, and the server's peak RSS growth per file size. */
export async function uploadBench({ quick }) {
  const reps = quick ? 3 : 9;
  const env = { UPLOAD_MAX_BYTES: String(110 * MB) };
  const server = await startVariant('file', { env });
  // The same server without keepFreedMemory, for what the allocator setting is worth here; full runs only.
  const plain = quick ? undefined : await startVariant('file', { env: { ...env, KEEP_FREED_MEMORY: '0' } });
  const rows = [];
  const figures = [];
  try {
    const cookie = await login(server.url);
    const plainCookie = plain && (await login(plain.url));
    const fileBytes = pngOfSize(20 * MB);
    // The admin panel uploads from a browser; this is the body Chromium sends.
    const body20 = multipart(fileBytes, browserBoundary());
    // The boundary this bench used before: busboy's boundary search (JavaScript, inside multer)
    // costs more per byte the shorter the boundary, so this row shows what that choice was worth.
    const shortBody20 = multipart(fileBytes, 'benchBoundary7d93');
    const dirs = [server, plain].filter(Boolean).map((s) => path.join(s.dir, 'uploads', 'products'));
    // Warm-up: the first uploads run before V8 has optimised the parsing and streaming code; the
    // event loop's busy time per upload fell from about 110 ms to a steady 35-40 ms over the first 6.
    for (let i = 0; i < 6; i++) {
      await upload(server.url, cookie, body20);
      if (plain) await upload(plain.url, plainCookie, body20);
    }
    const uploadMs = [];
    const shortMs = [];
    const plainMs = [];
    const writeMs = [];
    // Every measured write, upload or fs, starts from the same state: the previous one's file was
    // just deleted. (Before, only the first of each round followed the deletions.)
    const clean = async () => {
      for (const dir of dirs) for (const name of await fs.readdir(dir)) await fs.rm(path.join(dir, name), { force: true });
    };
    await clean();
    for (let i = 0; i < reps; i++) {
      uploadMs.push(await time(() => upload(server.url, cookie, body20)));
      await clean();
      if (plain) {
        shortMs.push(await time(() => upload(server.url, cookie, shortBody20)));
        await clean();
        plainMs.push(await time(() => upload(plain.url, plainCookie, body20)));
        await clean();
      }
      writeMs.push(await time(() => durableWrite(path.join(dirs[0], 'baseline.bin'), fileBytes)));
      await clean();
    }
    const up = median(uploadMs);
    const raw = median(writeMs);
    rows.push({ variant: '20 MB upload, browser boundary (median)', ms: round(up), MBps: round(20 / (up / 1000)) });
    figures.push({ name: 'upload throughput / fs write + fsync (20 MB)', value: ratio(raw, up), target: '>= 0.5', pass: raw / up >= 0.5 });
    if (plain) {
      const upShort = median(shortMs);
      const upPlain = median(plainMs);
      rows.push({ variant: '20 MB upload, 17-character boundary (median)', ms: round(upShort), MBps: round(20 / (upShort / 1000)) });
      rows.push({ variant: '20 MB upload without keepFreedMemory (median)', ms: round(upPlain), MBps: round(20 / (upPlain / 1000)) });
      figures.push({ name: 'same, with a 17-character boundary', value: ratio(raw, upShort), target: 'reference' });
      figures.push({ name: 'same, without keepFreedMemory', value: ratio(raw, upPlain), target: 'reference' });
    }
    rows.push({ variant: '20 MB fs write + fsync (median)', ms: round(raw), MBps: round(20 / (raw / 1000)) });
  } finally {
    await Promise.all([server.stop(), plain?.stop()]);
  }

  for (const size of [1, 20, 100]) {
    const fresh = await startVariant('file', { env });
    try {
      const cookie = await login(fresh.url);
      const body = multipart(pngOfSize(size * MB), browserBoundary());
      await upload(fresh.url, cookie, multipart(pngOfSize(64 * 1024), browserBoundary()));
      const before = await peakRssMB(fresh.pid);
      const res = await upload(fresh.url, cookie, body);
      if (res.status !== 200) throw new Error(`upload of ${size} MB failed: ${res.status}`);
      const growth = (await peakRssMB(fresh.pid)) - before;
      rows.push({ variant: `peak RSS growth, ${size} MB file`, MB: round(growth) });
      figures.push({ name: `peak RSS growth for a ${size} MB upload (MB)`, value: round(growth), target: '< 32', pass: growth < 32 });
    } finally {
      await fresh.stop();
    }
  }
  return { name: 'Image upload (multipart, one file)', rows, figures };
}

function pngOfSize(bytes) {
  const crcless = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crcless('IHDR', ihdr), crcless('IDAT', deflateSync(Buffer.from([0, 1, 2, 3])))]);
  const iend = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  const pad = crcless('zzZz', Buffer.alloc(Math.max(0, bytes - head.length - iend.length - 12), 7));
  return Buffer.concat([head, pad, iend]);
}

/** Chromium's form boundary: "----WebKitFormBoundary" and 16 random letters and digits (as Chromium 156 sent here). */
function browserBoundary() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `----WebKitFormBoundary${Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('')}`;
}

function multipart(file, boundary) {
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="bench.png"\r\nContent-Type: image/png\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { boundary, body: Buffer.concat([head, file, tail]) };
}

function upload(url, cookie, { boundary, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/admin/upload-image`, {
      method: 'POST',
      headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function peakRssMB(pid) {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

async function time(fn) {
  const start = performance.now();
  const res = await fn();
  if (res && res.status && res.status !== 200) throw new Error(`failed: ${res.status} ${res.body}`);
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;

/** What the upload route does to the same bytes at the end: write them, then force them to disk. */
async function durableWrite(file, bytes) {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
