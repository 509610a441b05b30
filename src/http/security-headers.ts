import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's headers for the sidecar's own answers, never for the main app's. HSTS is off unless
 * `hstsMaxAgeSeconds` is set, and never has includeSubDomains: pinning the shop's whole domain to
 * HTTPS is the operator's decision, made where TLS ends. Off means no header at all (`max-age=0`
 * would erase a policy the main app or nginx set).
 */
export function securityHeaders(options: { hstsMaxAgeSeconds: number }): RequestHandler {
  const { hstsMaxAgeSeconds } = options;
  return helmet({
    strictTransportSecurity: hstsMaxAgeSeconds > 0 ? { maxAge: hstsMaxAgeSeconds, includeSubDomains: false } : false,
  });
}
