import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { closedAfterEach } from '../../test/support/vitest-cleanup.js';
import { loginRedirectLocation } from './login-redirect.js';

const harnesses = closedAfterEach<Harness>();
const defaults = { url: '/login', param: 'next' };

describe('loginRedirectLocation', () => {
  it('URL-encodes the whole target, query included, as one parameter', () => {
    expect(loginRedirectLocation(defaults, '/admin/orders?x=1&y=2')).toBe('/login?next=%2Fadmin%2Forders%3Fx%3D1%26y%3D2');
    expect(loginRedirectLocation(defaults, '/admin/a%20b#c')).toBe('/login?next=%2Fadmin%2Fa%2520b%23c');
  });

  it.each(['//evil.example/%2e%2e/admin', '/\\evil.example/admin', 'https://evil.example/admin', 'admin', '', undefined])('sends the user to / after login when the target %j is not a local path', (target) => {
    expect(loginRedirectLocation(defaults, target)).toBe('/login?next=%2F');
  });

  it('uses the configured login page and parameter, appending to a login URL that has a query', () => {
    expect(loginRedirectLocation({ url: '/auth', param: 'redirect' }, '/admin')).toBe('/auth?redirect=%2Fadmin');
    expect(loginRedirectLocation({ url: '/auth?tab=login', param: 'redirect' }, '/admin')).toBe('/auth?tab=login&redirect=%2Fadmin');
  });
});

describe('GET /api/auth/login-redirect', () => {
  it('answers 302 to the configured login page for the URI nginx sends in X-Original-URI, never cached', async () => {
    const h = await startHarness({ env: { LOGIN_URL: '/auth', LOGIN_REDIRECT_PARAM: 'redirect' } });
    harnesses.push(h);
    const res = await request(h.app).get('/api/auth/login-redirect').set('x-original-uri', '/admin/orders?x=1&y=2');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/auth?redirect=%2Fadmin%2Forders%3Fx%3D1%26y%3D2');
    expect(res.headers['cache-control']).toBe('no-store');
    const foreign = await request(h.app).get('/api/auth/login-redirect').set('x-original-uri', '//evil.example/admin');
    expect(foreign.headers.location).toBe('/auth?redirect=%2F');
  });
});

describe('LOGIN_URL and LOGIN_REDIRECT_PARAM', () => {
  it('default to /login and next', () => {
    expect(loadConfig({}, '/srv/app').loginPage).toEqual({ url: '/login', param: 'next' });
  });

  it.each(['https://evil.example/login', '//evil.example/login', '/\\evil.example', 'login', '/log in'])('refuses the login URL %j, which is not a local path', (url) => {
    expect(() => loadConfig({ LOGIN_URL: url }, '/srv/app')).toThrow(/LOGIN_URL.*must be a local path/s);
  });

  it('refuses a parameter name that is not a plain query name', () => {
    expect(() => loadConfig({ LOGIN_REDIRECT_PARAM: 'a&b=c' }, '/srv/app')).toThrow(/LOGIN_REDIRECT_PARAM.*must be a query parameter name/s);
  });
});
