import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../src/testing/harness.js';
import { ROOT, startServer, type RunningServer } from '../src/testing/processes.js';
import { requireProgram } from '../src/testing/programs.js';

const curl = requireProgram('curl', ['/usr/bin/curl']);
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});

function smoke(url: string, username: string, password: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts/smoke.sh'), url, username], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${password}\n`);
  });
}

describe.skipIf(!curl)('scripts/smoke.sh against a running sidecar', () => {
  it('walks every step and reports PASS with the right password', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'admin-data.json'), JSON.stringify({ products: [], totalUsers: 0, totalSales: 0 }));
    const server = await startServer({ cwd });
    servers.push(server);
    const password = /password: (\S+)/.exec(server.output())![1]!;
    const { code, out } = await smoke(server.url, 'admin', password);
    expect(out).toMatch(/ok +health +200/);
    expect(out).toMatch(/ok +upload +200/);
    expect(out).toMatch(/ok +license-counts +200/);
    expect(out).toMatch(/ok +user-after +401/);
    expect(out).toContain('VERDICT: PASS');
    expect(out).not.toContain(password);
    expect(code).toBe(0);
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
