import type { Logger } from 'pino';
import type pg from 'pg';
import type { DatabaseReader } from '../db/pool.js';
import type { Role } from './roles.js';
import { UserDirectoryUnavailableError } from '../errors/domain-errors.js';
import { PROFILE_FIELDS, type Profile, type User, type UserDirectory } from './user.js';

// users.* brings the profile columns the table has (email, tenant_id, ...); the aliases after it win.
const USER_COLUMNS = 'SELECT users.*, id::text AS id, password AS password_hash FROM users';

export const DEFAULT_USER_QUERIES = {
  byUsername: `${USER_COLUMNS} WHERE username = $1`,
  byEmail: `${USER_COLUMNS} WHERE email = $1`,
  byId: `${USER_COLUMNS} WHERE id::text = $1`,
  sampleHashes: 'SELECT password AS password_hash FROM users LIMIT 100',
};

export { parseRoleMap } from '../config/role-map.js';

/**
 * Users the main app already has, read from its PostgreSQL. A row whose role has no mapping, or
 * that lacks columns, is logged and treated as no user. Lookups by id (one per request) are cached
 * for `cacheMs`, so a disabled or removed user is anonymous within that time.
 */
export class PostgresUserDirectory implements UserDirectory {
  readonly kind = 'postgres';
  private readonly byIdCache = new Map<string, { at: number; user: User | undefined }>();
  private readonly queries: typeof DEFAULT_USER_QUERIES;

  constructor(
    private readonly pool: DatabaseReader,
    /** Each query not given is the default one. */
    queries: Partial<typeof DEFAULT_USER_QUERIES>,
    private readonly roles: Map<string, Role>,
    private readonly logger: Logger,
    private readonly cacheMs = 5000,
  ) {
    this.queries = { ...DEFAULT_USER_QUERIES, ...definedOnly(queries) };
  }

  async findByUsername(username: string): Promise<User | undefined> {
    return this.findOne(this.queries.byUsername, username);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.findOne(this.queries.byEmail, email);
  }

  async sampleHashes(): Promise<string[]> {
    const { rows } = await this.query(this.queries.sampleHashes);
    return rows.map((row) => row.password_hash).filter((hash): hash is string => typeof hash === 'string');
  }

  /** PostgreSQL text cannot hold a NUL byte, so no user's name or id has one: unknown, without asking (it would be a query error). */
  private async findOne(sql: string, value: string): Promise<User | undefined> {
    if (value.includes('\u0000')) return undefined;
    return this.toUser((await this.query(sql, value)).rows[0]);
  }

  private async query(sql: string, ...values: string[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, values);
    } catch (error) {
      this.logger.error({ reason: (error as Error).message }, 'users query failed');
      throw new UserDirectoryUnavailableError(error);
    }
  }

  async findById(id: string): Promise<User | undefined> {
    const hit = this.byIdCache.get(id);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.user;
    const user = await this.findOne(this.queries.byId, id);
    this.byIdCache.set(id, { at: Date.now(), user });
    if (this.byIdCache.size > 10_000) this.byIdCache.delete(this.byIdCache.keys().next().value!);
    return user;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private toUser(row: Record<string, unknown> | undefined): User | undefined {
    if (!row) return undefined;
    if (typeof row.id !== 'string' || typeof row.username !== 'string' || typeof row.password_hash !== 'string') {
      this.logger.error({ columns: Object.keys(row) }, 'users query must return id, username and password_hash as text');
      return undefined;
    }
    const role = this.roles.get(String(row.role));
    if (!role) {
      this.logger.warn({ username: row.username, role: row.role }, 'user has a role with no mapping to a sidecar role (ROLE_MAP); refusing login');
      return undefined;
    }
    // is_active is the main app's own flag (false: refused there, so here too).
    const disabled = row.disabled === true || row.is_active === false;
    return { ...profileOf(row), id: row.id, username: row.username, role, passwordHash: row.password_hash, disabled };
  }
}

/** The profile columns a row has, by their snake_case names (tenant_id) or as written (tenantId). */
function profileOf(row: Record<string, unknown>): Profile {
  const profile: Profile = {};
  for (const field of PROFILE_FIELDS) {
    const value = row[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] ?? row[field];
    if (typeof value === 'string' || typeof value === 'number') profile[field] = value;
  }
  return profile;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
