import type { RequestHandler } from 'express';

export function health(sessionStore: string, isDraining: () => boolean): RequestHandler {
  return function healthCheck(_req, res) {
    const draining = isDraining();
    res.status(draining ? 503 : 200).json({
      status: draining ? 'draining' : 'healthy',
      service: 'auth-upload-sidecar',
      sessionStore,
      timestamp: new Date().toISOString(),
    });
  };
}
