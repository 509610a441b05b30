import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Config } from './config/config.js';
import type { AppDeps } from './deps.js';
import { createPassport } from './auth/passport.js';
import { authRoutes } from './auth/routes.js';
import { jsonErrorHandler, notFound } from './http/error-handler.js';
import { health } from './http/health.js';
import { crossSiteCheck } from './http/origin-check.js';
import { sessionMiddleware } from './sessions/middleware.js';
import { productsDir, uploadRoutes } from './uploads/routes.js';
import { serveUploads } from './uploads/serve.js';

export interface AppState {
  draining: boolean;
}

/** Builds the sidecar's Express app; never listens. */
export function createApp(config: Config, deps: AppDeps, state: AppState = { draining: false }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(helmet());

  app.get('/health', health(deps.sessionStore.kind, () => state.draining));
  app.use('/uploads/products', serveUploads(productsDir(config)));

  const passport = createPassport(deps.users, deps.verifier);
  app.use('/api', crossSiteCheck(config.allowedOrigins));
  app.use('/api', sessionMiddleware(config, deps.sessionStore, deps.secrets), passport.initialize(), passport.session());
  app.use('/api', authRoutes(config, passport));
  app.use('/api', uploadRoutes(config, deps.logger));

  app.use(notFound);
  app.use(jsonErrorHandler(deps.logger));
  return app;
}
