import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Config } from './config/config.js';
import type { AppDeps } from './deps.js';
import { moneyFormatter } from './admin/money.js';
import { adminRoutes, ADMIN_DATA_ROUTES } from './admin/routes.js';
import { sessionsAdminRoutes, SESSIONS_ADMIN_ROUTES } from './admin/sessions-routes.js';
import { createIdentify } from './auth/identity.js';
import { LOGIN_REDIRECT_ROUTE, loginRedirectRoute } from './auth/login-redirect.js';
import { deviceCookieWriter } from './auth/device-cookie-writer.js';
import { refuseLoginsWhenBusy } from './auth/login-admission.js';
import { createPassport } from './auth/passport.js';
import { AUTH_ROUTES, authRoutes } from './auth/routes.js';
import { VERIFY_ROUTE, verifyRoute } from './auth/verify.js';
import { jsonErrorHandler, notFound } from './http/error-handler.js';
import { health, HEALTH_ROUTES, ready } from './http/health.js';
import { fixedPart, serve, sessionPaths, type Route } from './http/route.js';
import { securityHeaders } from './http/security-headers.js';
import { countedWarning } from './observability/counted-warning.js';
import { requestLog } from './observability/request-log.js';
import { corsAllowlist } from './http/cors.js';
import { CSRF_TOKEN_ROUTE, CsrfTokens, rememberCsrfTokenForLogin, sessionCsrfRoute } from './http/csrf.js';
import { crossSiteCheck } from './http/origin-check.js';
import { METRICS_ROUTE } from './observability/metrics.js';
import { mainAppProxy, type MainAppProxy } from './proxy/main-app-proxy.js';
import { ownedPaths } from './proxy/owned-paths.js';
import { sessionMiddleware } from './sessions/middleware.js';
import { productsDir } from './uploads/products-dir.js';
import { uploadRoutes, UPLOAD_ROUTES } from './uploads/routes.js';
import { serveUploads, STORED_IMAGES_ROUTE } from './uploads/serve.js';

export interface AppState {
  draining: boolean;
}

/**
 * Every route the sidecar answers itself, as the module serving it declares it: the session goes in
 * front of those that need it, and the built-in proxy forwards every other path to the main app.
 */
export const SIDECAR_ROUTES: readonly Route[] = [
  ...Object.values(HEALTH_ROUTES),
  METRICS_ROUTE,
  STORED_IMAGES_ROUTE,
  VERIFY_ROUTE,
  LOGIN_REDIRECT_ROUTE,
  CSRF_TOKEN_ROUTE,
  ...Object.values(AUTH_ROUTES),
  ...Object.values(UPLOAD_ROUTES),
  ...Object.values(ADMIN_DATA_ROUTES),
  ...Object.values(SESSIONS_ADMIN_ROUTES),
];

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
  const devices = deps.deviceCookies && { cookies: deps.deviceCookies, name: config.login.device.cookieName };
  // Before the request log and every router: the overflow of a login flood costs as little as it can (auth/login-admission.ts).
  const busyWarning = countedWarning(deps.logger, 'logins refused: the password queue was full (LOGIN_MAX_WAIT)', { maxWaitSeconds: config.login.maxWaitSeconds }, 'refused');
  app.use(closeWhileDraining(state));
  app.use(
    refuseLoginsWhenBusy({
      queue: deps.passwordQueue,
      path: AUTH_ROUTES.login.path,
      devices,
      delayMs: config.login.busyAnswerDelayMs,
      onRefused: () => {
        deps.metrics.login('busy');
        busyWarning();
      },
    }),
  );
  app.use(requestLog(deps.logger), deps.metrics.timing());
  const shared = config.session.mode === 'shared';
  const identify = createIdentify({ cookieName: config.cookie.name, secrets: deps.secrets, store: deps.sessionStore, users: deps.users, acceptUnstamped: shared });
  // First, so that the main app's paths never pass the sidecar's own middleware (headers included).
  if (config.mainAppUrl) {
    const trust = app.get('trust proxy fn') as (addr: string, i: number) => boolean;
    const proxy = mainAppProxy({
      target: config.mainAppUrl,
      timeoutSeconds: config.mainAppTimeoutSeconds,
      identify,
      owns: ownedPaths(SIDECAR_ROUTES),
      trustProxy: (addr) => trust(addr, 0),
      gate: { protectAdminPages: config.protectAdminPages, loginPage: config.loginPage },
      logger: deps.logger,
    });
    app.locals.proxy = proxy;
    app.use(proxy.handler);
  }

  const headers = securityHeaders({ hstsMaxAgeSeconds: config.hstsMaxAgeSeconds });
  const own = express.Router();
  own.use(headers);

  serve(own, HEALTH_ROUTES.health, health(deps.sessionStore.kind, () => state.draining));
  serve(own, METRICS_ROUTE, deps.metrics.endpoint(config.metricsToken));
  serve(
    own,
    HEALTH_ROUTES.ready,
    ready(
      {
        sessionStore: () => deps.sessionStore.ping(),
        users: () => deps.users.findById('readiness-probe'),
        adminData: () => deps.adminData.figures(),
      },
      () => state.draining,
    ),
  );
  own.use(fixedPart(STORED_IMAGES_ROUTE).path, serveUploads(productsDir(config)), notFound);
  own.use(verifyRoute(identify, deps.logger), loginRedirectRoute(config.loginPage));

  const passport = createPassport(deps.users, deps.loginService, shared, devices);
  // With shared sessions, CSRF tokens are the main app's kind, kept in the session it checks them
  // against; the sidecar refuses none of them (its cross-site check stays).
  const csrf = shared ? undefined : new CsrfTokens(deps.secrets);
  own.use(
    sessionPaths(SIDECAR_ROUTES),
    corsAllowlist(config.allowedOrigins),
    crossSiteCheck(config.allowedOrigins),
    deviceCookieWriter(),
    sessionMiddleware(config, deps.sessionStore, deps.secrets),
    passport.initialize(),
    passport.session(),
    ...(csrf ? [csrf.check()] : []),
  );
  serve(own, CSRF_TOKEN_ROUTE, csrf ? csrf.route() : sessionCsrfRoute());
  // Only a login replaces a session whose CSRF token must be carried over.
  if (!csrf) serve(own, AUTH_ROUTES.login, rememberCsrfTokenForLogin());
  own.use(authRoutes(config, passport, deps));
  own.use(uploadRoutes(config, deps.metrics));
  own.use(
    adminRoutes({
      data: deps.adminData,
      sessionStore: deps.sessionStore,
      logins: deps.logins,
      uploads: deps.uploadStats,
      logger: deps.logger,
      money: moneyFormatter(config.adminData.currency, config.adminData.locale),
    }),
  );
  own.use(sessionsAdminRoutes({ sessionStore: deps.sessionStore, users: deps.users }));
  app.use(own);
  app.use(notFound);
  // Refusals of the proxy's gate are the sidecar's own answers too.
  const errorHeaders: ErrorRequestHandler = (error, req, res, next) => headers(req, res, () => next(error));
  app.use(errorHeaders, deps.metrics.errors(), jsonErrorHandler(deps.logger));
  return app;
}
