import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './support/harness.js';
import { promisify } from 'node:util';
import { ROOT, startServer, type RunningServer } from './support/processes.js';
import { requireProgram } from './support/programs.js';

const curl = requireProgram('curl', ['/usr/bin/curl']);
const openssl = requireProgram('openssl', ['/usr/bin/openssl']);
const servers: RunningServer[] = [];
const fronts: https.Server[] = [];
afterEach(async () => {
  for (const front of fronts.splice(0)) front.close();
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

/** An HTTPS front with a self-signed certificate (as a staging site's) that passes requests to `port`. */
async function selfSignedFront(dir: string, port: number): Promise<number> {
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  await promisify(execFile)(openssl!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=staging.smoke.test', '-keyout', key, '-out', cert]);
  const front = https.createServer({ key: await fs.readFile(key), cert: await fs.readFile(cert) }, (req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  fronts.push(front);
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  return (front.address() as AddressInfo).port;
}

function smoke(url: string, username: string, password: string, options: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/smoke.sh'), ...options, url, username], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.on('error', () => undefined); // a usage error exits before reading the password
    child.stdin.end(`${password}\n`);
  });
}

describe.skipIf(!curl)('scripts/smoke.sh against a running sidecar', () => {
  it('walks every step, reports PASS with the right password and leaves the upload directory as it was', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'admin-data.json'), JSON.stringify({ products: [], totalUsers: 0, totalSales: 0 }));
    const products = path.join(cwd, 'uploads', 'products');
    await fs.mkdir(products, { recursive: true });
    await fs.writeFile(path.join(products, '0123456789abcdef0123456789abcdef.png'), 'an image the shop had');
    const server = await startServer({ cwd, env: { UPLOAD_DIR: path.join(cwd, 'uploads') } });
    servers.push(server);
    const before = await fs.readdir(products);
    const password = /password: (\S+)/.exec(server.output())![1]!;
    const { code, out } = await smoke(server.url, 'admin', password);
    expect(out).toMatch(/ok +health +200/);
    expect(out).toMatch(/ok +upload +200/);
    expect(out).toMatch(/ok +license-counts +200/);
    expect(out).toMatch(/ok +delete-upload +204/);
    expect(await fs.readdir(products)).toEqual(before);
    expect(out).toMatch(/ok +user-after +401/);
    expect(out).toContain('VERDICT: PASS');
    expect(out).not.toContain(password);
    expect(code).toBe(0);
  });

  it.skipIf(!openssl)('with --resolve and --insecure passes through a self-signed HTTPS front under a host name no DNS knows, and deletes its image there too', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'admin-data.json'), JSON.stringify({ products: [], totalUsers: 0, totalSales: 0 }));
    const server = await startServer({ cwd, env: { UPLOAD_DIR: path.join(cwd, 'uploads') } });
    servers.push(server);
    const password = /password: (\S+)/.exec(server.output())![1]!;
    const port = await selfSignedFront(cwd, server.port);
    const url = `https://staging.smoke.test:${port}`;
    const resolve = ['--resolve', `staging.smoke.test:${port}:127.0.0.1`];

    const passed = await smoke(url, 'admin', password, ['--insecure', ...resolve]);
    expect(passed.out).toContain('VERDICT: PASS');
    expect(passed.code).toBe(0);
    expect(passed.out).toMatch(/ok +delete-upload +204/);
    expect(await fs.readdir(path.join(cwd, 'uploads', 'products'))).toEqual([]);

    const untrusted = await smoke(url, 'admin', password, resolve);
    expect(untrusted.out).toMatch(/FAIL +health +000 .*certificate/);
    expect(untrusted.code).toBe(1);
    const unresolved = await smoke(url, 'admin', password, ['--insecure']);
    expect(unresolved.out).toMatch(/FAIL +health +000 .*resolve/i);
  });

  it('refuses an unknown option with its usage and exit 2', async () => {
    const { code, out } = await smoke('http://127.0.0.1:1', 'admin', 'x', ['--no-such-option']);
    expect(out).toContain('unknown option: --no-such-option');
    expect(out).toMatch(/usage: .*smoke\.sh \[--insecure\] \[--resolve HOST:PORT:ADDRESS\] BASE_URL USERNAME/);
    expect(code).toBe(2);
  });

  it('reports FAIL and exits 1 with a wrong password', async () => {
    const server = await startServer({ cwd: await tempDir() });
    servers.push(server);
    const { code, out } = await smoke(server.url, 'admin', 'not-the-password');
    expect(out).toMatch(/FAIL +login +401/);
    expect(out).toContain('VERDICT: FAIL');
    expect(code).toBe(1);
  });
});
