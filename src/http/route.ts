import type { RequestHandler, Router } from 'express';

/**
 * Who calls a route: `client` through the public locations of nginx/sidecar.conf, `nginx` only
 * through an internal location of the shipped nginx files, `operator` straight on the sidecar's
 * port (nginx sends nothing there).
 */
export type RouteAudience = 'client' | 'nginx' | 'operator';

/**
 * One route the sidecar answers itself, declared by the module that serves it. The app mounts the
 * session in front of the routes that need it, and the built-in proxy and the nginx check read
 * the paths the sidecar owns from these declarations.
 */
export interface Route {
  readonly method: 'get' | 'post' | 'delete';
  /** The full path, in Express syntax; a `:name` or `*name` segment takes anything below the part before it. */
  readonly path: string;
  /** Needs the session: CORS, the cross-site and CSRF checks, express-session and passport run first. */
  readonly session: boolean;
  readonly audience: RouteAudience;
}

/** Adds the handlers of a declared route to a router, at its declared method and path. */
export function serve(router: Router, route: Route, ...handlers: Array<RequestHandler | RequestHandler[]>): void {
  router[route.method](route.path, ...handlers);
}

/** The part of a route's path before its first parameter, and whether there is one (it owns what is below). */
export function fixedPart(route: Route): { path: string; below: boolean } {
  const at = route.path.search(/\/[:*]/);
  return at === -1 ? { path: route.path, below: false } : { path: route.path.slice(0, at), below: true };
}

/** The paths the session middleware is mounted on: each session route's fixed part (a mount takes what is below it too). */
export function sessionPaths(routes: readonly Route[]): string[] {
  return [...new Set(routes.filter((r) => r.session).map((r) => fixedPart(r).path))];
}
