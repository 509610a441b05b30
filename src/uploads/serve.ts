import express, { type RequestHandler } from 'express';
import type { Route } from '../http/route.js';

/** Served by a static mount on the fixed part (see fixedPart), not a route of its own. */
export const STORED_IMAGES_ROUTE = { method: 'get', path: '/uploads/products/*file', session: false, audience: 'client' } as const satisfies Route;

/** GET /uploads/products/<file>: stored images, typed by their (detected) extension, never sniffed. */
export function serveUploads(dir: string): RequestHandler {
  return express.static(dir, {
    index: false,
    dotfiles: 'ignore',
    redirect: false,
    immutable: true,
    maxAge: '365d',
    setHeaders(res) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    },
  });
}
