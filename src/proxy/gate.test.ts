import { describe, expect, it } from 'vitest';
import type { Role } from '../users/roles.js';
import type { PublicUser } from '../users/user.js';
import { createGate, type GatePolicy } from './gate.js';

const LOGIN = { url: '/login', param: 'next' };
const userWith = (role: Role) => ({ id: '1', username: 'u', role }) as PublicUser;
const outcome = (policy: GatePolicy, canonical: string, target: string, user?: PublicUser) => {
  const refusal = createGate(policy)(canonical, target, user);
  return refusal && { status: refusal.status, code: refusal.code, message: refusal.message, location: refusal.headers.Location };
};

describe('the gate', () => {
  const pagesOff: GatePolicy = { protectAdminPages: false, loginPage: LOGIN };
  const pagesOn: GatePolicy = { protectAdminPages: true, loginPage: LOGIN };

  describe('on the admin API', () => {
    it('answers 401 to anonymous requests, with or without page protection', () => {
      for (const policy of [pagesOff, pagesOn]) {
        expect(outcome(policy, '/api/admin', '/api/admin')).toEqual({ status: 401, code: 'UNAUTHORIZED', message: 'Unauthorized', location: undefined });
        expect(outcome(policy, '/api/admin/users', '/api/admin/users')?.status).toBe(401);
      }
    });

    it('answers 403 to a user without an admin role', () => {
      expect(outcome(pagesOff, '/api/admin/users', '/api/admin/users', userWith('b2b_user'))).toEqual({ status: 403, code: 'FORBIDDEN', message: 'Forbidden', location: undefined });
    });

    it('lets admins and super admins through', () => {
      expect(outcome(pagesOff, '/api/admin/users', '/api/admin/users', userWith('admin'))).toBeUndefined();
      expect(outcome(pagesOff, '/api/admin/users', '/api/admin/users', userWith('super_admin'))).toBeUndefined();
    });

    it('leaves paths that only begin with the same letters alone', () => {
      expect(outcome(pagesOff, '/api/administrators', '/api/administrators')).toBeUndefined();
    });
  });

  describe('on admin pages', () => {
    it('lets everyone through when page protection is off', () => {
      expect(outcome(pagesOff, '/admin', '/admin')).toBeUndefined();
    });

    it('sends an anonymous browser to the login page with the target encoded', () => {
      expect(outcome(pagesOn, '/admin/users', '/admin/users?tab=1&x=a%20b')).toMatchObject({ status: 302, location: '/login?next=%2Fadmin%2Fusers%3Ftab%3D1%26x%3Da%2520b' });
    });

    it('uses the configured login URL and parameter, appending to a query the URL already has', () => {
      expect(outcome({ protectAdminPages: true, loginPage: { url: '/auth', param: 'redirect' } }, '/admin', '/admin')?.location).toBe('/auth?redirect=%2Fadmin');
      expect(outcome({ protectAdminPages: true, loginPage: { url: '/auth?mode=admin', param: 'redirect' } }, '/admin', '/Admin')?.location).toBe('/auth?mode=admin&redirect=%2FAdmin');
    });

    it('never redirects to another site: a target that is not a single-slash path becomes /', () => {
      for (const target of ['//evil.example/admin', '/\\evil.example/admin', 'http://evil.example/admin']) {
        expect(outcome(pagesOn, '/admin', target)?.location, target).toBe('/login?next=%2F');
      }
    });

    it('answers 403 JSON, not a redirect, to a logged-in user without the role', () => {
      expect(outcome(pagesOn, '/admin', '/admin', userWith('b2b_user'))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    });

    it("protects /admin and below only, not the shop's /admin-login and /admin-panel pages", () => {
      for (const path of ['/admin-login', '/admin-panel', '/administrator-tools']) expect(outcome(pagesOn, path, path), path).toBeUndefined();
    });
  });
});
