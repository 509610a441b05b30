import { describe, expect, it } from 'vitest';
import type { User } from '../users/user.js';
import { DeviceCookies, claimMatches, cookieValue } from './device-cookie.js';

const OLD = 'old-secret-0123456789-abcdefghijklmnopqrstuv';
const NEW = 'new-secret-0123456789-abcdefghijklmnopqrstuv';
const CAROL: User = { id: 'c1', username: 'carol', role: 'admin', passwordHash: '$2b$04$abcdefghijklmnopqrstuu1234567890123456789012345678901' };

describe('DeviceCookies', () => {
  it('reads back what it issued: the user, a random device id and the expiry', () => {
    const cookies = new DeviceCookies({ secrets: [OLD], maxAgeSeconds: 60, now: () => 1_000 });
    const a = cookies.read(cookies.issue(CAROL));
    const b = cookies.read(cookies.issue(CAROL));
    expect(a).toMatchObject({ userId: 'c1', expires: 61_000 });
    expect(a!.deviceId).toMatch(/^[\w-]{20,}$/);
    expect(a!.deviceId).not.toBe(b!.deviceId);
    expect(claimMatches(a, CAROL)).toBe(true);
  });

  it('keeps devices across a secret rotation: a cookie signed with an older secret is read while that secret is listed', () => {
    const issued = new DeviceCookies({ secrets: [OLD], maxAgeSeconds: 60 }).issue(CAROL);
    expect(new DeviceCookies({ secrets: [NEW, OLD], maxAgeSeconds: 60 }).read(issued)?.userId).toBe('c1');
    expect(new DeviceCookies({ secrets: [NEW], maxAgeSeconds: 60 }).read(issued)).toBeUndefined();
  });

  it('reads nothing from a changed payload, a bad signature, an expired cookie or garbage', () => {
    let now = 0;
    const cookies = new DeviceCookies({ secrets: [OLD], maxAgeSeconds: 60, now: () => now });
    const value = cookies.issue(CAROL);
    const [, mac] = value.split('.');
    const changed = `${Buffer.from(JSON.stringify({ userId: 'someone-else', stamp: 'x', deviceId: 'd', expires: 1e15 })).toString('base64url')}.${mac}`;
    for (const bad of [changed, `${value}x`, `${value}.more`, 'garbage', '', undefined]) expect(cookies.read(bad)).toBeUndefined();
    now = 60_000;
    expect(cookies.read(value)).toBeUndefined();
  });

  it('no longer matches its user once the password changed, or for a disabled or another user', () => {
    const cookies = new DeviceCookies({ secrets: [OLD], maxAgeSeconds: 60 });
    const claim = cookies.read(cookies.issue(CAROL));
    expect(claimMatches(claim, { ...CAROL, passwordHash: `${CAROL.passwordHash.slice(0, -1)}X` })).toBe(false);
    expect(claimMatches(claim, { ...CAROL, disabled: true })).toBe(false);
    expect(claimMatches(claim, { ...CAROL, id: 'c2' })).toBe(false);
    expect(claimMatches(claim, undefined)).toBe(false);
  });

  it('finds one cookie by name in a Cookie header', () => {
    expect(cookieValue('a=1; sidecar.device=abc.def; b=2', 'sidecar.device')).toBe('abc.def');
    expect(cookieValue('xsidecar.device=1', 'sidecar.device')).toBeUndefined();
    expect(cookieValue(undefined, 'sidecar.device')).toBeUndefined();
  });
});
