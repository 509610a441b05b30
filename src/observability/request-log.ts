import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * One JSON line per request with its id, method, path, status, time and user. The id is the
 * incoming X-Request-Id when it is well-formed, a new UUID otherwise; it is echoed in the
 * response and carried by `req.log`, so audit lines share it. Headers are not logged at all.
 */
export function requestLog(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customProps: (req: IncomingMessage) => {
      const user = (req as IncomingMessage & { user?: { username?: string } }).user;
      return user?.username ? { user: user.username } : {};
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    autoLogging: { ignore: (req) => QUIET_PATHS.has(pathOf(req)) },
    serializers: {
      req: (req: IncomingMessage & { raw?: IncomingMessage; ip?: string }) => ({ method: req.method, path: pathOf(req.raw ?? req), ip: (req.raw as { ip?: string } | undefined)?.ip }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
    },
  });
}

/** The path without its query string, which may carry tokens. */
function pathOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
