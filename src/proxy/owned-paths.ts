import { parse } from 'node:url';
import { fixedPart, type Route } from '../http/route.js';

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

/**
 * Whether a canonical path belongs to the sidecar: the path of one of its routes, or the fixed part
 * of a route with a parameter (`/api/admin/sessions/:id`, `/uploads/products/*file`) or anything below it.
 */
export function ownedPaths(routes: readonly Route[]): (canonical: string) => boolean {
  const exact = new Set<string>();
  const prefixes = new Set<string>();
  for (const route of routes) {
    const { path, below } = fixedPart(route);
    (below ? prefixes : exact).add(path.toLowerCase());
  }
  return (canonical) => exact.has(canonical) || [...prefixes].some((prefix) => canonical === prefix || canonical.startsWith(`${prefix}/`));
}
