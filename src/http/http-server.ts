import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import type { Socket } from 'node:net';
import { answerOnSocket } from './answer-on-socket.js';
import { errorBody, HttpError } from './http-error.js';

const TIMED_OUT = JSON.stringify(errorBody(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT')));

/**
 * The listening server, with the limits a login service reached directly needs: headers within
 * HEADERS_TIMEOUT_MS; a body within REQUEST_TIMEOUT_MS of its headers, except on `longPaths`
 * (uploads), where Node's whole-request limit UPLOAD_TIMEOUT_MS applies; idle keep-alive
 * connections closed after KEEPALIVE_TIMEOUT_MS; at most MAX_CONNECTIONS connections, later ones
 * closed on arrival. A request answered before its body is in (a refused upload, say) has its
 * connection closed, so an unwanted body cannot hold it for the long upload limit.
 */
export function createHttpServer(app: RequestListener, limits: Config['http'], longPaths: string[]): Server {
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.uploadTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks the two limits above; its default (30 s) would let them slip.
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  });
  server.maxConnections = limits.maxConnections;
  const long = new Set(longPaths.map((p) => p.toLowerCase()));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!hasBody(req)) return;
    res.once('finish', () => {
      if (!req.complete) req.socket.destroySoon();
    });
    if (!long.has(pathOf(req))) bodyDeadline(req, res, limits.requestTimeoutMs);
  });
  server.on('request', app);
  server.on('clientError', answerClientError);
  return server;
}

/**
 * Node's own refusals, before any route runs (headers not in within HEADERS_TIMEOUT_MS or a whole
 * upload within UPLOAD_TIMEOUT_MS, headers over Node's size limit, bytes that are not HTTP), as
 * the same JSON every other error is, and the connection closed. Nothing is written on a
 * connection that was reset or whose answer has already begun.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, clientErrorAnswer(error.code));
}

function clientErrorAnswer(code: string | undefined): HttpError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(408, 'REQUEST_TIMEOUT', 'The request did not arrive in time');
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'HEADERS_TOO_LARGE', 'The request headers are too large');
    default:
      return new HttpError(400, 'BAD_REQUEST', 'The request is not valid HTTP');
  }
}

function bodyDeadline(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    res.writeHead(408, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' }).end(TIMED_OUT);
  }, ms);
  timer.unref();
  req.once('close', () => clearTimeout(timer));
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
}

/** The path in lower case without its query string or a trailing slash, as routing compares it. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '').toLowerCase();
}
