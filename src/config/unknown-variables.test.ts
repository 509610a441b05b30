import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables } from './config.js';
import { unknownVariables } from './unknown-variables.js';

describe('unknownVariables', () => {
  it('warns about misspelt variables with the name most likely intended', () => {
    const env = { SESION_SECRET: 'x', PROT: '3000', SESSION_STOR: 'redis', COOKIE_SECURED: 'true', ADMIN_SOMETHING: '1' };
    expect(unknownVariables(env)).toEqual([
      { variable: 'ADMIN_SOMETHING', suggestion: undefined },
      { variable: 'COOKIE_SECURED', suggestion: 'COOKIE_SECURE' },
      { variable: 'PROT', suggestion: 'PORT' },
      { variable: 'SESION_SECRET', suggestion: 'SESSION_SECRET' },
      { variable: 'SESSION_STOR', suggestion: 'SESSION_STORE' },
    ]);
  });

  it('says nothing about known variables or the usual variables of a process environment', () => {
    const env = { PORT: '3001', SESSION_SECRET: 'x', PATH: '/usr/bin', HOME: '/root', NODE_OPTIONS: '--max-old-space-size=512', USER: 'sidecar', LANG: 'C.UTF-8', TERM: 'xterm', PWD: '/', HOSTNAME: 'web1', SHELL: '/bin/sh', TZ: 'UTC', LOGNAME: 'sidecar', INVOCATION_ID: 'abc', JOURNAL_STREAM: '8:1' };
    expect(unknownVariables(env)).toEqual([]);
  });
});

describe('configVariables', () => {
  it('is every variable name config.ts reads, and only those', () => {
    const source = fs.readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
    const readInSource = new Set([...source.matchAll(/read\.\w+\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
    const listed = configVariables();
    expect(new Set(listed).size).toBe(listed.length);
    for (const name of readInSource) expect(listed).toContain(name);
    for (const name of listed) expect(source).toContain(`'${name}'`);
    expect(listed).toEqual(expect.arrayContaining(['PORT', 'SESSION_SECRET', 'ROLE_MAP', 'ADMIN_QUERIES_FILE', 'NODE_ENV', 'ADMIN_LOCALE']));
  });
});
