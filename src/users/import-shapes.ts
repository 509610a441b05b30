import { randomUUID } from 'node:crypto';
import type { Role } from './roles.js';

/** The main app's column names (snake_case, as a SQL export writes them) for the profile fields the sidecar keeps. */
const RENAMED: Record<string, string> = {
  password: 'passwordHash',
  password_hash: 'passwordHash',
  created_at: 'createdAt',
  tenant_id: 'tenantId',
  company_name: 'companyName',
  first_name: 'firstName',
  last_name: 'lastName',
  branch_type: 'branchType',
  parent_company_id: 'parentCompanyId',
};

/**
 * Turns the users of an older users file or of the main app's export into entries of today's
 * shape, to be validated like any users file: `{"users":[...]}` or a bare array; the hash under
 * `password`/`password_hash`; the main app's roles through ROLE_MAP; `isActive`/`is_active` false
 * as `disabled`; a numeric id as text, a missing one made; a missing username taken from the email;
 * null fields left out. Every other field is kept as it is. Undefined when the shape is neither.
 */
export function entriesOf(json: unknown, roleMap: Map<string, Role>): unknown[] | undefined {
  const list = Array.isArray(json) ? json : Array.isArray((json as { users?: unknown })?.users) ? (json as { users: unknown[] }).users : undefined;
  return list?.map((entry) => (entry && typeof entry === 'object' && !Array.isArray(entry) ? currentShape(entry as Record<string, unknown>, roleMap) : entry));
}

function currentShape(entry: Record<string, unknown>, roleMap: Map<string, Role>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (value === null) continue;
    const name = RENAMED[key] ?? key;
    if (!(name in out)) out[name] = value;
  }
  for (const active of ['isActive', 'is_active']) {
    if (active in out) {
      if (out[active] === false) out.disabled = true;
      delete out[active];
    }
  }
  if (typeof out.role === 'string' && roleMap.has(out.role)) out.role = roleMap.get(out.role);
  if (typeof out.id === 'number') out.id = String(out.id);
  out.id ??= randomUUID();
  if (out.username === undefined && typeof out.email === 'string') out.username = out.email;
  if (out.createdAt instanceof Date || typeof out.createdAt === 'number') out.createdAt = new Date(out.createdAt as number).toISOString();
  return out;
}
