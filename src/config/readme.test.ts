import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables } from './config.js';

/** The variable names in the first column of README's configuration table. */
function readmeVariables(): string[] {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| variable | default | meaning |');
  expect(start).toBeGreaterThan(-1);
  const rows = readme.slice(start).split('\n').slice(2);
  const table = rows.slice(0, rows.findIndex((line) => !line.startsWith('|')));
  return table.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

describe("README's configuration table", () => {
  it('lists every variable the code reads, each once, and nothing else', () => {
    const listed = readmeVariables();
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...configVariables()].sort());
  });
});
