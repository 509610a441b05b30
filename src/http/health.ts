import type { RequestHandler } from 'express';
import { VERSION } from '../config/version.js';
import type { Route } from './route.js';

export const HEALTH_ROUTES = {
  health: { method: 'get', path: '/health', session: false, audience: 'operator' },
  ready: { method: 'get', path: '/ready', session: false, audience: 'operator' },
} as const satisfies Record<string, Route>;

/** Liveness: the process answers; 503 while draining so balancers stop sending work. */
export function health(sessionStore: string, isDraining: () => boolean): RequestHandler {
  return function healthCheck(_req, res) {
    const draining = isDraining();
    res.status(draining ? 503 : 200).json({
      status: draining ? 'draining' : 'healthy',
      service: 'auth-upload-sidecar',
      version: VERSION,
      sessionStore,
      timestamp: new Date().toISOString(),
    });
  };
}

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** Readiness: every dependency answers within the timeout and the process is not draining. */
export function ready(checks: ReadinessChecks, isDraining: () => boolean, timeoutMs = 2000): RequestHandler {
  return async function readinessCheck(_req, res) {
    const results = Object.fromEntries(
      await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await probe(check, timeoutMs)] as const)),
    );
    const draining = isDraining();
    const ok = !draining && Object.values(results).every((r) => r.ok);
    res.status(ok ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ok ? 'ready' : draining ? 'draining' : 'not ready', checks: results });
  };
}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    // A system error's code, not its message: messages can name paths.
    const { code, message } = error as NodeJS.ErrnoException;
    return { ok: false, ms: Math.round(performance.now() - started), error: typeof code === 'string' ? code : message };
  } finally {
    clearTimeout(timer);
  }
}
