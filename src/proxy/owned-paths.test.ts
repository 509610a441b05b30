import { describe, expect, it } from 'vitest';
import { SIDECAR_ROUTES } from '../app.js';
import { fixedPart, type Route } from '../http/route.js';
import { canonicalPath, ownedPaths } from './owned-paths.js';

const isOwnedPath = ownedPaths(SIDECAR_ROUTES);

describe('canonicalPath', () => {
  it('collapses repeated slashes, as http-proxy does before forwarding', () => {
    expect(canonicalPath('//api/login')).toBe('/api/login');
    expect(canonicalPath('///api/login')).toBe('/api/login');
    expect(canonicalPath('/api//user?x=1')).toBe('/api/user');
  });

  it('lower-cases and drops a trailing slash, as Express routes', () => {
    expect(canonicalPath('/API/LOGIN')).toBe('/api/login');
    expect(canonicalPath('/api/login/')).toBe('/api/login');
    expect(canonicalPath('/')).toBe('/');
  });

  it('decodes percent-escapes once, encoded slashes and backslashes included', () => {
    expect(canonicalPath('/api/%6Cogin')).toBe('/api/login');
    expect(canonicalPath('/api%2Fadmin%2fusers')).toBe('/api/admin/users');
    expect(canonicalPath('/api/admin%5Cusers')).toBe('/api/admin/users');
    expect(canonicalPath('/api/%256Cogin')).toBe('/api/%6cogin');
    expect(canonicalPath('/api/%zz')).toBe('/api/%zz');
  });

  it('reads backslashes, fragments and absolute-form URLs the way the forwarded request will carry them', () => {
    expect(canonicalPath('/api\\login')).toBe('/api/login');
    expect(canonicalPath('/api/login#x')).toBe('/api/login');
    expect(canonicalPath('http://shop.example/api/login?a=b')).toBe('/api/login');
  });
});

describe('ownedPaths', () => {
  it("owns every one of the sidecar's declared routes, /api/auth/verify and the operator endpoints among them", () => {
    const paths = SIDECAR_ROUTES.map((route) => fixedPart(route).path);
    expect(paths).toEqual(expect.arrayContaining(['/api/login', '/api/user', '/api/csrf-token', '/api/auth/verify', '/api/admin/upload-image', '/health', '/ready', '/metrics']));
    for (const path of paths) expect(isOwnedPath(canonicalPath(path)!), path).toBe(true);
  });

  it('owns a route that a router declares, and owns it no more once the declaration is gone', () => {
    const report: Route = { method: 'get', path: '/api/admin/report', session: true, audience: 'client' };
    expect(ownedPaths([...SIDECAR_ROUTES, report])('/api/admin/report')).toBe(true);
    expect(isOwnedPath('/api/admin/report')).toBe(false);
  });

  it('owns everything below /api/admin/sessions, /api/admin/upload-image and /uploads/products', () => {
    expect(isOwnedPath('/api/admin/sessions/abc')).toBe(true);
    expect(isOwnedPath(canonicalPath('/API/Admin//Upload-Image/0123456789abcdef0123456789abcdef.png/')!)).toBe(true);
    expect(isOwnedPath(canonicalPath('/api/admin/upload-image%2Fanything')!)).toBe(true);
    expect(isOwnedPath('/uploads/products')).toBe(true);
    expect(isOwnedPath('/uploads/products/a.png')).toBe(true);
  });

  it("leaves the main app's neighbouring paths to it", () => {
    for (const path of ['/api/users', '/api/user/orders', '/api/login-history', '/api/admin/users', '/api/admin/sessionsx', '/api/admin/upload-images', '/uploads/productsx', '/uploads/other.png', '/admin']) {
      expect(isOwnedPath(path), path).toBe(false);
    }
  });
});
