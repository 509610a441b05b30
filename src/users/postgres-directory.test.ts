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
  it('reads the profile columns a row has and refuses a row the main app marks inactive', async () => {
    const row = { id: '7', username: 'erin', password_hash: 'x'.repeat(60), role: 'b2b_user', tenant_id: 'eur', company_name: 'Erin AG', parent_company_id: 3, first_name: null, password: 'secret' };
    const active = new PostgresUserDirectory(fakePool([row]).pool, {}, parseRoleMap(undefined), createLogger('silent'));
    expect(await active.findByUsername('erin')).toEqual({ id: '7', username: 'erin', role: 'b2b_user', passwordHash: 'x'.repeat(60), disabled: false, tenantId: 'eur', companyName: 'Erin AG', parentCompanyId: 3 });
    const inactive = new PostgresUserDirectory(fakePool([{ ...row, is_active: false }]).pool, {}, parseRoleMap(undefined), createLogger('silent'));
    expect((await inactive.findByEmail('erin@example.com'))?.disabled).toBe(true);
  });

  it('answers a username holding a NUL byte as unknown without asking the database', async () => {
    const { pool, asked } = fakePool([{ id: '1', username: 'carol', password_hash: 'x'.repeat(60), role: 'admin' }]);
    const users = new PostgresUserDirectory(pool, {}, parseRoleMap(undefined), createLogger('silent'));
    expect(await users.findByUsername('carol\u0000')).toBeUndefined();
    expect(await users.findById('1\u0000')).toBeUndefined();
    expect(asked).toEqual([]);
  });
});
