import express, { type RequestHandler } from 'express';

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
