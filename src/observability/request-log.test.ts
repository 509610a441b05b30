import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { LogCapture } from '../../test/support/harness.js';
import { createLogger } from './logger.js';
import { requestLog } from './request-log.js';

function appLoggingAt(level: string) {
  const logs = new LogCapture();
  const app = express();
  app.use(requestLog(createLogger(level, logs)));
  app.get('/audited', (req, res) => {
    req.log.warn({ audit: 'something' }, 'audited');
    res.json({ ok: true });
  });
  app.get('/fails', (_req, res) => res.status(503).json({ error: 'DOWN' }));
  app.get('/slow', () => undefined);
  app.get('/health', (_req, res) => res.json({ status: 'ok' }));
  return { app, logs };
}

const requestLines = (logs: LogCapture) => logs.lines.filter((l) => 'res' in l);

describe('the request log', () => {
  it('writes no request line below its level, yet a route\'s own line still carries the request id', async () => {
    const { app, logs } = appLoggingAt('warn');
    const res = await request(app).get('/audited').set('X-Request-Id', 'edge-1').expect(200);
    expect(res.headers['x-request-id']).toBe('edge-1');
    expect(requestLines(logs)).toEqual([]);
    expect(logs.lines).toEqual([expect.objectContaining({ level: 40, audit: 'something', reqId: 'edge-1', msg: 'audited' })]);
  });

  it('writes the line of a 5xx answer at error level even when info is off, with the path and not the query', async () => {
    const { app, logs } = appLoggingAt('warn');
    await request(app).get('/fails?token=secret').expect(503);
    expect(requestLines(logs)).toEqual([expect.objectContaining({ level: 50, req: expect.objectContaining({ method: 'GET', path: '/fails' }), res: { status: 503 }, msg: 'GET /fails 503' })]);
    expect(JSON.stringify(logs.lines)).not.toContain('secret');
  });

  it('writes no line for the health and metrics paths', async () => {
    const { app, logs } = appLoggingAt('info');
    await request(app).get('/health').expect(200);
    expect(requestLines(logs)).toEqual([]);
  });

  it('writes one line, marked aborted, for a request whose client went away before the answer', async () => {
    const { app, logs } = appLoggingAt('info');
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = http.get({ host: '127.0.0.1', port, path: '/slow' });
      req.on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      req.destroy();
      await expect.poll(() => requestLines(logs).length).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requestLines(logs)).toEqual([expect.objectContaining({ level: 30, aborted: true, req: expect.objectContaining({ path: '/slow' }) })]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
