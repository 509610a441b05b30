import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * CORS for the sidecar's own routes: closed unless ALLOWED_ORIGINS names origins, which then may
 * send credentialed requests. Never a wildcard.
 */
export function corsAllowlist(allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Content-Type', 'X-CSRF-Token', 'X-Requested-With'],
    maxAge: 600,
  });
}
