import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Identify } from '../auth/identity.js';
import { identityHeaders } from '../auth/identity-headers.js';
import type { PublicUser } from '../users/user.js';

interface ProxiedRequest extends IncomingMessage {
  sidecarUser?: PublicUser;
  proxyTimedOut?: boolean;
}

export interface MainAppProxy {
  handler: RequestHandler;
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
}

/**
 * Everything the sidecar does not own goes to the main app unchanged: raw body stream, cookies,
 * redirects, WebSocket upgrades and streamed responses. Client-sent X-Auth-* headers are
 * stripped and the identity of a logged-in user is added.
 */
export function mainAppProxy(options: { target: string; timeoutSeconds: number; identify: Identify; trustProxy: (addr: string) => boolean; logger: Logger }): MainAppProxy {
  const { target, identify, logger } = options;
  const timeoutMs = options.timeoutSeconds * 1000;

  const proxy = createProxyMiddleware<ProxiedRequest, ServerResponse>({
    target,
    changeOrigin: false,
    ws: true,
    xfwd: false,
    proxyTimeout: timeoutMs,
    on: {
      proxyReq: (proxyReq, req) => prepare(proxyReq, req),
      proxyReqWs: (proxyReq, req) => prepare(proxyReq, req as ProxiedRequest),
      error: (error, req, res) => {
        const timedOut = (req as ProxiedRequest).proxyTimedOut || (error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
        logger.warn({ err: error, url: req.url, timedOut }, 'main app did not answer');
        if (!('writeHead' in res)) {
          (res as Socket).destroy();
          return;
        }
        const response = res as ServerResponse;
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const status = timedOut ? 504 : 502;
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        response.end(
          JSON.stringify({
            success: false,
            error: timedOut ? 'MAIN_APP_TIMEOUT' : 'MAIN_APP_UNAVAILABLE',
            message: timedOut ? 'The main application did not answer in time.' : 'The main application is not reachable.',
          }),
        );
      },
    },
  });

  function prepare(proxyReq: ClientRequest, req: ProxiedRequest): void {
    for (const name of proxyReq.getHeaderNames()) if (name.startsWith('x-auth-')) proxyReq.removeHeader(name);
    const peer = req.socket.remoteAddress ?? '';
    const fromTrusted = options.trustProxy(peer);
    const forwardedFor = fromTrusted && req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${peer}` : peer;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted;
    const proto = fromTrusted && typeof req.headers['x-forwarded-proto'] === 'string' ? req.headers['x-forwarded-proto'] : encrypted ? 'https' : 'http';
    proxyReq.setHeader('x-forwarded-for', forwardedFor);
    proxyReq.setHeader('x-forwarded-proto', proto);
    proxyReq.setHeader('x-forwarded-host', (fromTrusted && req.headers['x-forwarded-host']) || req.headers.host || '');
    const user = req.sidecarUser;
    if (user) for (const [name, value] of Object.entries(identityHeaders(user))) proxyReq.setHeader(name, value);
    proxyReq.on('timeout', () => {
      req.proxyTimedOut = true;
    });
  }

  const lookUp = async (req: ProxiedRequest) => {
    try {
      req.sidecarUser = await identify(req);
    } catch (error) {
      logger.warn({ err: error }, 'could not read the session of a proxied request; forwarding it as anonymous');
    }
  };

  return {
    handler: (req, res, next) => {
      void lookUp(req).then(() => proxy(req, res, next));
    },
    upgrade: (req, socket, head) => {
      void lookUp(req).then(() => proxy.upgrade(req as ProxiedRequest, socket, head));
    },
  };
}
