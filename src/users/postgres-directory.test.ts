import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { parseRoleMap, PostgresUserDirectory } from './postgres-directory.js';

/** A pool that answers like PostgreSQL: a NUL byte in a text parameter is an encoding error. */
function fakePool(rows: Array<Record<string, unknown>>) {
  const asked: unknown[][] = [];
  const pool = {
    query: async (_sql: string, values: unknown[]) => {
      asked.push(values);
      if (values.some((v) => String(v).includes('\u0000'))) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
      return { rows };
    },
    end: async () => undefined,
  };
  return { pool: pool as unknown as pg.Pool, asked };
}

describe('PostgresUserDirectory', () => {
  it('answers a username holding a NUL byte as unknown without asking the database', async () => {
    const { pool, asked } = fakePool([{ id: '1', username: 'carol', password_hash: 'x'.repeat(60), role: 'admin' }]);
    const users = new PostgresUserDirectory(pool, {}, parseRoleMap(undefined), createLogger('silent'));
    expect(await users.findByUsername('carol\u0000')).toBeUndefined();
    expect(await users.findById('1\u0000')).toBeUndefined();
    expect(asked).toEqual([]);
  });
});
