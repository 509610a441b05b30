import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface StubMainApp {
  url: string;
  port: number;
  /** Every request the stub received, as it saw it. */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }>;
  close(): Promise<void>;
}

/**
 * A stand-in for the unchanged main app: echoes what it receives, and has paths for redirects,
 * status codes, streamed and slow responses, a page for the browser test, and a WebSocket echo.
 */
export async function startStubMainApp(page = '<!doctype html><title>Main app</title><h1>Main app</h1>'): Promise<StubMainApp> {
  const seen: StubMainApp['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const url = new URL(req.url!, 'http://stub');
      if (url.pathname === '/' || url.pathname === '/page') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      } else if (url.pathname.startsWith('/status/')) {
        res.writeHead(Number(url.pathname.slice(8)), { 'content-type': 'text/plain', 'x-main-app': 'yes' }).end('status page');
      } else if (url.pathname === '/redirect') {
        res.writeHead(302, { location: '/landing', 'set-cookie': 'connect.sid=main-app-session; Path=/; HttpOnly' }).end();
      } else if (url.pathname === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let n = 0;
        const timer = setInterval(() => {
          res.write(`chunk ${n}\n`);
          if (++n === 5) {
            clearInterval(timer);
            res.end();
          }
        }, 40);
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 5000).unref();
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-main-app': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
      }
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    socket.send(JSON.stringify({ hello: true, user: req.headers['x-auth-user'] ?? null }));
    socket.on('message', (data) => socket.send(`echo:${data}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
