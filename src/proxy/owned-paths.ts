import { parse } from 'node:url';
import { ADMIN_DATA_PATHS } from '../admin/routes.js';
import { SESSIONS_ADMIN_PATH } from '../admin/sessions-routes.js';
import { UPLOADED_IMAGES_PATH, UPLOAD_PATHS } from '../uploads/routes.js';

/** Paths the sidecar answers itself, exactly (as nginx/sidecar.conf's `location =`). */
export const OWNED_PATHS: readonly string[] = [
  '/api/login',
  '/api/logout',
  '/api/user',
  '/api/csrf-token',
  '/api/auth/verify',
  ...[...ADMIN_DATA_PATHS, ...UPLOAD_PATHS].map((p) => `/api${p}`),
  '/health',
  '/ready',
  '/metrics',
];

/** Paths the sidecar answers itself together with everything below them. */
export const OWNED_PREFIXES: readonly string[] = [`/api${SESSIONS_ADMIN_PATH}`, `/api${UPLOADED_IMAGES_PATH}`, '/uploads/products'];

/**
 * The path of a request URL in one spelling, so that every spelling a main app could take for a
 * path compares equal: read as http-proxy reads it before forwarding (`\` becomes `/`, no
 * fragment, no scheme and host), every percent-escape decoded once, runs of slashes collapsed,
 * lower-cased, without a trailing slash. Undefined when the URL cannot be read at all: such a
 * request is the sidecar's to refuse, never forwarded.
 */
export function canonicalPath(url: string): string | undefined {
  let pathname: string | null;
  try {
    pathname = parse(url).pathname;
  } catch {
    return undefined;
  }
  if (pathname === null) return undefined;
  const decoded = pathname.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const path = decoded.replace(/[/\\]+/g, '/').toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Whether a canonical path belongs to the sidecar. */
export function isOwnedPath(canonical: string): boolean {
  return OWNED_PATHS.includes(canonical) || OWNED_PREFIXES.some((prefix) => canonical === prefix || canonical.startsWith(`${prefix}/`));
}
