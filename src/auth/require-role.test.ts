import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { jsonErrorHandler } from '../http/error-handler.js';
import type { Role } from '../users/roles.js';
import { requireRole } from './require-role.js';

function appAs(role: Role | undefined) {
  const app = express();
  app.use((req, _res, next) => {
    if (role) req.user = { id: '1', username: 'u', role };
    next();
  });
  app.get('/admin', requireRole('super_admin', 'admin'), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(jsonErrorHandler(createLogger('silent')));
  return app;
}

describe('requireRole', () => {
  it('answers 401 for an anonymous request', async () => {
    const res = await request(appAs(undefined)).get('/admin');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Unauthorized');
  });

  it('answers 403 for a user without one of the roles', async () => {
    const res = await request(appAs('b2b_user')).get('/admin');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('FORBIDDEN');
  });

  it('lets a user with one of the roles through', async () => {
    for (const role of ['super_admin', 'admin'] as const) {
      const res = await request(appAs(role)).get('/admin');
      expect(res.status).toBe(200);
    }
  });
});
