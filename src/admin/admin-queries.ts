import fs from 'node:fs';

/**
 * Default read-only queries for the schema of the shop the sidecar was built for (products,
 * license_keys.is_used, orders.total_amount/status; the figures its own dashboard shows); each can
 * be replaced by a queries file.
 */
export const DEFAULT_ADMIN_QUERIES = {
  licenseCounts: `SELECT p.id::text AS product_id, p.name,
       count(k.id) FILTER (WHERE NOT k.is_used) AS available,
       count(k.id) FILTER (WHERE k.is_used) AS assigned
  FROM products p LEFT JOIN license_keys k ON k.product_id = p.id
 GROUP BY p.id, p.name ORDER BY p.id`,
  totalUsers: 'SELECT count(*) FROM users',
  totalSales: "SELECT coalesce(sum(total_amount), 0) FROM orders WHERE status = 'completed'",
  activeKeys: 'SELECT count(*) FROM license_keys WHERE NOT is_used',
  totalProducts: 'SELECT count(*) FROM products WHERE is_active',
};
export type AdminQueries = typeof DEFAULT_ADMIN_QUERIES;

/**
 * The default queries with those a queries file replaces. Throws one error naming every problem
 * of the file (unreadable, not JSON, not an object, unknown keys, values that are not SQL text).
 */
export function loadAdminQueries(file: string | undefined): AdminQueries {
  if (!file) return DEFAULT_ADMIN_QUERIES;
  let custom: unknown;
  try {
    custom = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code ? `cannot be read (${code})` : `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) {
    throw new Error('must hold a JSON object of query names to SQL text');
  }
  const known = Object.keys(DEFAULT_ADMIN_QUERIES);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(custom)) {
    if (!known.includes(key)) problems.push(`unknown query "${key}"`);
    else if (typeof value !== 'string' || value.trim() === '') problems.push(`"${key}" must be SQL text`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')} (known queries: ${known.join(', ')})`);
  return { ...DEFAULT_ADMIN_QUERIES, ...(custom as Partial<AdminQueries>) };
}
