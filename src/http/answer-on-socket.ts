import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, type HttpError } from './http-error.js';

const LINGER_MS = 2000;

/**
 * Answers a request whose connection left Node's HTTP parser (an Upgrade request) with the same
 * JSON error the error handler writes, then closes the connection: nothing else is read from it.
 */
export function answerOnSocket(socket: Socket, error: HttpError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorBody(error));
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    Connection: 'close',
    ...error.headers,
  };
  const head = [`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  // Unread request bytes at close would reset the connection and could lose the answer: drain them
  // until the client closes, for a bounded time.
  socket.on('end', () => socket.destroySoon());
  socket.resume();
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
