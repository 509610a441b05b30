import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { HttpError } from './http-error.js';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** Errors thrown by body parsers and other http-errors-style middleware, as HttpErrors. */
function fromKnownError(error: BodyParserError): HttpError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'INVALID_JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'UNSUPPORTED_ENCODING', 'The request body encoding is not supported');
    case 'request.aborted':
      return new HttpError(400, 'REQUEST_ABORTED', 'The request was aborted');
  }
  // Express's router could not percent-decode a path parameter (e.g. /sessions/%E0%A4%A); it marks
  // that URIError with status 400, other URIErrors are bugs and stay 500s.
  if (error instanceof URIError && error.status === 400) {
    return new HttpError(400, 'VALIDATION_ERROR', 'A path parameter is not valid percent-encoding');
  }
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 500 && error.expose) {
    return new HttpError(error.status, 'BAD_REQUEST', error.message);
  }
  return undefined;
}

/** The one JSON error handler: known outcomes keep their status, everything else is a logged 500. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return function jsonError(error, req, res, _next) {
    const httpError = error instanceof HttpError ? error : fromKnownError(error as BodyParserError);
    if (!httpError) {
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    }
    const outcome = httpError ?? new HttpError(500, 'INTERNAL_ERROR', 'Internal server error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.set(outcome.headers);
    res.status(outcome.status).json({
      success: false,
      error: outcome.code,
      message: outcome.message,
      ...outcome.details,
    });
  };
}

export const notFound: RequestHandler = function notFound(req, _res, next) {
  next(new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};
