import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = import.meta.dirname;

/** Every product module of src/ (tests and type declarations left out) with the src/ modules it imports. */
function importsOfProduct(): Array<{ from: string; to: string }> {
  const files = (fs.readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
  return files.flatMap((from) => {
    const text = fs.readFileSync(path.join(SRC, from), 'utf8');
    return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => ({
      from,
      to: path.relative(SRC, path.resolve(SRC, path.dirname(from), m[1]!)).replace(/\.js$/, '.ts'),
    }));
  });
}

const folderOf = (file: string) => (file.includes(path.sep) ? file.split(path.sep)[0]! : file);
const isRoutesModule = (file: string) => /(^|[/-])routes\.ts$/.test(file);

describe('the direction of the dependencies between the folders of src/', () => {
  const edges = importsOfProduct();

  it('reads the imports of the product modules', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: path.join('admin', 'routes.ts'), to: path.join('auth', 'require-role.ts') });
  });

  it('lets admin depend on auth and never auth (or any other domain) on admin, beyond the composition root and the config parsing its queries', () => {
    const intoAdmin = edges.filter((e) => folderOf(e.to) === 'admin' && folderOf(e.from) !== 'admin');
    expect(intoAdmin.filter((e) => !['app.ts', 'deps.ts'].includes(e.from) && !(folderOf(e.from) === 'config' && e.to === path.join('admin', 'admin-queries.ts')))).toEqual([]);
  });

  it('keeps the shared infrastructure (http, errors, db, fs, observability, process) free of the domain folders', () => {
    const infrastructure = ['http', 'errors', 'db', 'fs', 'observability', 'process'];
    const domains = ['admin', 'auth', 'users', 'sessions', 'uploads', 'proxy', 'cli'];
    expect(edges.filter((e) => infrastructure.includes(folderOf(e.from)) && domains.includes(folderOf(e.to)))).toEqual([]);
  });

  it('takes the domain type Role from the users folder, and nothing from config but the parsed configuration', () => {
    expect(fs.existsSync(path.join(SRC, 'config', 'roles.ts'))).toBe(false);
    expect(edges.filter((e) => folderOf(e.from) === 'config' && !['config', 'users', 'admin'].includes(folderOf(e.to)))).toEqual([]);
  });

  it('imports route modules only into the composition root (app.ts) and the server', () => {
    expect(edges.filter((e) => isRoutesModule(e.to) && !['app.ts', 'server.ts'].includes(e.from) && folderOf(e.from) !== folderOf(e.to))).toEqual([]);
    expect(edges.filter((e) => e.from === 'deps.ts' && isRoutesModule(e.to))).toEqual([]);
  });
});
