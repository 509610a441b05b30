import { ROLES, type Role } from '../users/roles.js';

/**
 * "admin:admin,superadmin:super_admin,customer:b2b_user": the main app's role values to the
 * sidecar's. Throws one error naming every malformed entry.
 */
export function parseRoleMap(text: string | undefined): Map<string, Role> {
  const map = new Map<string, Role>(ROLES.map((r) => [r, r]));
  const bad: string[] = [];
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [from, to, ...rest] = pair.split(':').map((s) => s.trim());
    if (!from || !to || rest.length > 0 || !(ROLES as string[]).includes(to)) bad.push(`"${pair}"`);
    else map.set(from, to as Role);
  }
  if (bad.length > 0) throw new Error(`entries ${bad.join(', ')} must be appRole:sidecarRole with sidecarRole one of ${ROLES.join(', ')}`);
  return map;
}
