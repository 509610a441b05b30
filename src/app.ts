import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from './config/config.js';
import type { AppDeps } from './deps.js';
import { adminRoutes, ADMIN_DATA_PATHS } from './admin/routes.js';
import { sessionsAdminRoutes, SESSIONS_ADMIN_PATH } from './admin/sessions-routes.js';
import { createIdentify } from './auth/identity.js';
import { createPassport } from './auth/passport.js';
import { authRoutes } from './auth/routes.js';
import { verifyRoute } from './auth/verify.js';
import { jsonErrorHandler, notFound } from './http/error-handler.js';
import { health, ready } from './http/health.js';
import { requestLog } from './observability/request-log.js';
import { corsAllowlist } from './http/cors.js';
import { CsrfTokens } from './http/csrf.js';
import { crossSiteCheck } from './http/origin-check.js';
import { mainAppProxy, type MainAppProxy } from './proxy/main-app-proxy.js';
import { sessionMiddleware } from './sessions/middleware.js';
import { productsDir, uploadRoutes, UPLOAD_PATHS } from './uploads/routes.js';
import { serveUploads } from './uploads/serve.js';

export interface AppState {
  draining: boolean;
}

/** The /api paths the sidecar answers itself (with its session); everything else is the main app's. */
export const SESSION_PATHS = ['/api/login', '/api/logout', '/api/user', '/api/csrf-token', ...[...UPLOAD_PATHS, ...ADMIN_DATA_PATHS, SESSIONS_ADMIN_PATH].map((p) => `/api${p}`)];

export interface SidecarApp extends Express {
  locals: Express['locals'] & { proxy?: MainAppProxy };
}

/** While draining, every response (also of requests begun before) closes its connection. */
function closeWhileDraining(state: AppState): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadWhileDraining(this: typeof res, ...args: Parameters<typeof writeHead>) {
      if (state.draining && !this.headersSent) this.setHeader('Connection', 'close');
      return writeHead.apply(this, args);
    } as typeof writeHead;
    next();
  };
}

/** Builds the sidecar's Express app; never listens. */
export function createApp(config: Config, deps: AppDeps, state: AppState = { draining: false }): SidecarApp {
  const app = express() as SidecarApp;
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(requestLog(deps.logger), deps.metrics.timing(), closeWhileDraining(state));
  const identify = createIdentify({ cookieName: config.cookie.name, secrets: deps.secrets, store: deps.sessionStore, users: deps.users });
  const own = express.Router();
  own.use(helmet());

  own.get('/health', health(deps.sessionStore.kind, () => state.draining));
  own.get('/metrics', deps.metrics.endpoint(config.metricsToken));
  own.get(
    '/ready',
    ready(
      {
        sessionStore: () => deps.sessionStore.ping(),
        users: () => deps.users.findById('readiness-probe'),
        adminData: () => deps.adminData.figures(),
      },
      () => state.draining,
    ),
  );
  own.use('/uploads/products', serveUploads(productsDir(config)), notFound);
  own.use('/api', verifyRoute(identify, deps.logger));

  const passport = createPassport(deps.users);
  const csrf = new CsrfTokens(deps.secrets);
  own.use(
    SESSION_PATHS,
    corsAllowlist(config.allowedOrigins),
    crossSiteCheck(config.allowedOrigins),
    sessionMiddleware(config, deps.sessionStore, deps.secrets),
    passport.initialize(),
    passport.session(),
    csrf.check(),
  );
  own.get('/api/csrf-token', csrf.route());
  own.use('/api', authRoutes(config, passport, deps));
  own.use('/api', uploadRoutes(config, deps.metrics));
  own.use('/api', adminRoutes({ data: deps.adminData, sessionStore: deps.sessionStore, logins: deps.logins, uploads: deps.uploadStats, logger: deps.logger }));
  own.use('/api', sessionsAdminRoutes({ sessionStore: deps.sessionStore, users: deps.users }));
  app.use(own);

  if (config.mainAppUrl) {
    const trust = app.get('trust proxy fn') as (addr: string, i: number) => boolean;
    const proxy = mainAppProxy({ target: config.mainAppUrl, timeoutSeconds: config.mainAppTimeoutSeconds, identify, trustProxy: (addr) => trust(addr, 0), logger: deps.logger });
    app.locals.proxy = proxy;
    app.use((_req, res, next) => {
      res.locals.proxied = true;
      next();
    }, proxy.handler);
  }
  app.use(notFound);
  app.use(deps.metrics.errors(), jsonErrorHandler(deps.logger));
  return app;
}
