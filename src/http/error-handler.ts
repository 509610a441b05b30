import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { toHttpError } from './error-mapping.js';
import { errorBody, HttpError } from './http-error.js';

/** The one JSON error handler: known outcomes keep their status, everything else is a logged 500. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return function jsonError(error, req, res, _next) {
    const httpError = toHttpError(error);
    if (!httpError) {
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    }
    const outcome = httpError ?? new HttpError(500, 'INTERNAL_ERROR', 'Internal server error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.set(outcome.headers);
    res.status(outcome.status).json(errorBody(outcome));
  };
}

export const notFound: RequestHandler = function notFound(req, _res, next) {
  next(new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};
