import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/harness.js';
import { DIST, PACKAGE_VERSION, ROOT } from './support/processes.js';

const run = promisify(execFile);
/** Modules that run a program when loaded: started with --version instead of imported. */
const ENTRY_POINTS = ['server.js', path.join('cli', 'users.js'), path.join('cli', 'sessions.js')];

/**
 * What a deployment runs: package.json, package-lock.json and dist/ with the production
 * dependencies only (node_modules copied, then `npm prune --omit=dev`, offline).
 */
describe('dist/ in a tree pruned of dev dependencies', () => {
  let dir: string;
  let modules: string[];

  beforeAll(async () => {
    dir = await tempDir('sidecar-pruned-');
    for (const file of ['package.json', 'package-lock.json']) await fs.copyFile(path.join(ROOT, file), path.join(dir, file));
    await fs.cp(DIST, path.join(dir, 'dist'), { recursive: true });
    await fs.cp(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, timeout: 120_000 });
    modules = ((await fs.readdir(path.join(dir, 'dist'), { recursive: true })) as string[]).filter((f) => f.endsWith('.js')).sort();
  }, 180_000);
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('has no dev dependency left, and the production ones are there', async () => {
    await expect(fs.access(path.join(dir, 'node_modules', 'vitest'))).rejects.toThrow();
    await expect(fs.access(path.join(dir, 'node_modules', 'typescript'))).rejects.toThrow();
    await expect(fs.access(path.join(dir, 'node_modules', 'express', 'package.json'))).resolves.toBeUndefined();
  });

  it('loads every module of dist/', { timeout: 60_000 }, async () => {
    const imported = modules.filter((m) => !ENTRY_POINTS.includes(m));
    expect(imported.length).toBeGreaterThan(50);
    const script = `
      const failed = [];
      for (const m of ${JSON.stringify(imported)}) {
        try { await import('./dist/' + m); } catch (error) { failed.push(m + ': ' + String(error && error.message).split('\\n')[0]); }
      }
      process.stdout.write(JSON.stringify(failed));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, timeout: 50_000 });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('imports at run time only packages that package.json declares as production dependencies', async () => {
    const { dependencies } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const undeclared = new Set<string>();
    for (const m of modules) {
      const text = await fs.readFile(path.join(dir, 'dist', m), 'utf8');
      // Type-only imports are gone from the emitted JavaScript; what is left is loaded at run time.
      for (const [, specifier] of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"./][^'"]*)['"]|import\(\s*['"]([^'"./][^'"]*)['"]/g)) {
        if (!specifier || specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!(name in dependencies)) undeclared.add(`${name} (dist/${m})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it.each(ENTRY_POINTS)('starts dist/%s with --version', { timeout: 30_000 }, async (entry) => {
    const { stdout } = await run(process.execPath, [path.join('dist', entry), '--version'], { cwd: dir, timeout: 20_000 });
    expect(stdout).toContain(PACKAGE_VERSION);
  });
});
