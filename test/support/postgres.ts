import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { tempDir } from './temp-dir.js';
import { freePort } from './ports.js';

export function findPostgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort().reverse() : [];
  return versions.map((v) => path.join(base, v, 'bin')).find((dir) => fs.existsSync(path.join(dir, 'postgres')));
}

export interface ThrowawayPostgres {
  url: string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A throwaway PostgreSQL: initdb in a temp dir, a loopback port, no fsync. Runs as "postgres" when we are root. */
export async function startPostgres(bin: string, settings: string[] = []): Promise<ThrowawayPostgres> {
  const dir = await tempDir('sidecar-pg-');
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  execFileSync(...run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']), { stdio: 'ignore' });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);

  async function start(): Promise<void> {
    child = spawn(...run(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', ...settings.flatMap((s) => ['-c', s])]), { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('PostgreSQL did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    // pg_ctl signals the postmaster itself; a signal to runuser would not reach it.
    execFileSync(...run(path.join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast', '-w']), { stdio: 'ignore' });
    await exited;
  }

  await start();
  return {
    url,
    query: async (sql, params) => (await admin.query(sql, params)).rows,
    stop,
    start,
    destroy: async () => {
      await admin.end().catch(() => undefined);
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
