import { Router } from 'express';
import type { Logger } from 'pino';
import { requireRole } from '../auth/require-role.js';
import { DataSourceUnavailableError } from '../errors/domain-errors.js';
import { serve, type Route } from '../http/route.js';
import type { SessionStore } from '../sessions/session-store.js';
import { dataSourceUnavailable, type AdminDataSource, type AdminFigures } from './data-source.js';
import type { LoginStats } from '../auth/login-stats.js';
import type { UploadStats } from './upload-stats.js';

export const ADMIN_DATA_ROUTES = {
  licenseCounts: { method: 'get', path: '/api/admin/license-counts', session: true, audience: 'client' },
  dashboard: { method: 'get', path: '/api/admin/dashboard', session: true, audience: 'client' },
} as const satisfies Record<string, Route>;

export function adminRoutes(deps: {
  data: AdminDataSource;
  sessionStore: SessionStore;
  logins: LoginStats;
  uploads: UploadStats;
  logger: Logger;
  /** The display string of an amount in the shop's currency. */
  money: (amount: number) => string;
}): Router {
  const router = Router();
  const admins = requireRole('super_admin', 'admin');

  const figures = async (): Promise<AdminFigures> => {
    try {
      return await deps.data.figures();
    } catch (error) {
      if (error instanceof DataSourceUnavailableError) throw error;
      deps.logger.error({ err: error }, 'admin data source failed');
      throw dataSourceUnavailable(error);
    }
  };

  serve(router, ADMIN_DATA_ROUTES.licenseCounts, admins, async (req, res) => {
    const { products } = await figures();
    const detailed = req.query.detail === '1' || req.query.detail === 'true';
    const data = Object.fromEntries(
      products.map((p) => [p.id, detailed ? { name: p.name, available: p.available, assigned: p.assigned, total: p.total } : p.available]),
    );
    res.set('Cache-Control', 'no-store').json({ success: true, data });
  });

  serve(router, ADMIN_DATA_ROUTES.dashboard, admins, async (_req, res) => {
    const [f, uploads, activeSessions] = await Promise.all([figures(), deps.uploads.read(), deps.sessionStore.count?.().catch(() => null) ?? null]);
    const logins = deps.logins.last24h();
    res.set('Cache-Control', 'no-store').json({
      totalUsers: f.totalUsers,
      // The main app's dashboard sent a display string; the number stays under its own name.
      totalSales: deps.money(f.totalSales),
      totalSalesAmount: f.totalSales,
      activeKeys: f.activeKeys,
      totalProducts: f.totalProducts,
      activeSessions,
      uploadsCount: uploads.count,
      uploadsBytes: uploads.bytes,
      loginsSucceeded24h: logins.succeeded,
      loginsFailed24h: logins.failed,
      loginsRegulated24h: logins.regulated,
    });
  });
  return router;
}
