import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Identify } from '../auth/identity.js';
import { identityHeaders } from '../auth/identity-headers.js';
import { errorBody, HttpError } from '../http/http-error.js';
import type { PublicUser } from '../users/user.js';
import { answerOnSocket } from '../http/answer-on-socket.js';
import { createGate, type GatePolicy } from './gate.js';
import { canonicalPath } from './owned-paths.js';

interface ProxiedRequest extends IncomingMessage {
  sidecarUser?: PublicUser;
  proxyTimedOut?: boolean;
}

export interface MainAppProxy {
  handler: RequestHandler;
  /** For the server's 'upgrade' event: every request with `Connection: upgrade` comes here. */
  upgrade(req: ProxiedRequest, socket: Socket, head: Buffer): void;
}

const upgradeNotSupported = () =>
  new HttpError(400, 'UPGRADE_NOT_SUPPORTED', 'Only WebSocket upgrades to the main application are accepted here; send the request without an Upgrade header.');

const isWebSocket = (req: IncomingMessage) => req.method === 'GET' && /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '');

/**
 * Everything the sidecar does not own, in any spelling (see canonicalPath), goes to the main app
 * unchanged, through the gate (gate.ts): raw body stream, cookies, redirects, WebSocket upgrades
 * and streamed responses, with none of the sidecar's own response headers. Client-sent X-Auth-*
 * headers are stripped and the identity of a logged-in user is added, on upgrades too.
 * The handler passes the sidecar's own paths on (next) and refuses what the gate refuses (next(error)).
 */
export function mainAppProxy(options: {
  target: string;
  timeoutSeconds: number;
  identify: Identify;
  /** Whether a canonical path is the sidecar's own (see ownedPaths): never forwarded. */
  owns: (canonical: string) => boolean;
  trustProxy: (addr: string) => boolean;
  gate: GatePolicy;
  logger: Logger;
}): MainAppProxy {
  const { target, identify, owns, logger } = options;
  const timeoutMs = options.timeoutSeconds * 1000;
  const gate = createGate(options.gate);

  const proxy = createProxyMiddleware<ProxiedRequest, ServerResponse>({
    target,
    changeOrigin: false,
    // Upgrades come only through upgrade() below: with `ws: true` the library would subscribe to the
    // server's upgrade event itself at the first request and forward upgrades without the identity.
    ws: false,
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
        const failure = timedOut
          ? new HttpError(504, 'MAIN_APP_TIMEOUT', 'The main application did not answer in time.')
          : new HttpError(502, 'MAIN_APP_UNAVAILABLE', 'The main application is not reachable.');
        response.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        response.end(JSON.stringify(errorBody(failure)));
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
      const canonical = canonicalPath(req.url);
      if (canonical === undefined || owns(canonical)) return next();
      const request = req as typeof req & ProxiedRequest;
      void lookUp(request).then(() => {
        const refusal = gate(canonical, req.originalUrl, request.sidecarUser);
        if (refusal) return next(refusal);
        res.locals.proxied = true;
        // The main app's response goes out with its own headers only.
        res.removeHeader('x-request-id');
        proxy(req, res, next);
      });
    },
    upgrade: (req, socket, head) => {
      socket.on('error', (error) => logger.debug({ err: error }, 'upgrade connection failed'));
      const canonical = canonicalPath(req.url ?? '');
      if (!isWebSocket(req) || canonical === undefined || owns(canonical)) return answerOnSocket(socket, upgradeNotSupported());
      void lookUp(req).then(() => {
        const refusal = gate(canonical, req.url ?? '/', req.sidecarUser);
        if (refusal) return answerOnSocket(socket, refusal);
        if (!socket.destroyed) proxy.upgrade(req, socket, head);
      });
    },
  };
}
