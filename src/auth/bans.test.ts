import { describe, expect, it } from 'vitest';
import { BanList, memoryKeys } from './bans.js';
import { DeviceRegulation } from './device-regulation.js';
import { LoginRegulation } from './regulation.js';

function setUp() {
  const regulation = new LoginRegulation({ maxFailuresPerUser: 1, maxFailuresPerIp: 2, windowSeconds: 60, banSeconds: 300 });
  const devices = new DeviceRegulation({ maxFailures: 1, windowSeconds: 60 });
  const bans = new BanList({ pair: regulation.perUser, ip: regulation.perIp, device: devices.limiter }, memoryKeys);
  const fail = async (ip: string, username: string) => regulation.failed(await regulation.reserve(ip, username));
  return { regulation, devices, bans, fail };
}

describe('BanList', () => {
  it('lists banned pairs, IPs and untrusted devices, not counts below their limit', async () => {
    const { devices, bans, fail } = setUp();
    await fail('192.0.2.1', 'carol');
    await fail('192.0.2.1', 'dave');
    await fail('192.0.2.9', 'erin');
    expect(await devices.reserve('device-1')).toBe(true);
    await devices.reserve('device-2');
    await devices.succeeded('device-2');
    const listed = (await bans.list()).map(({ kind, ip, username, device, banned }) => ({ kind, ip, username, device, banned }));
    expect(listed).toEqual([
      { kind: 'pair', ip: '192.0.2.1', username: 'carol', device: undefined, banned: true },
      { kind: 'pair', ip: '192.0.2.1', username: 'dave', device: undefined, banned: true },
      { kind: 'pair', ip: '192.0.2.9', username: 'erin', device: undefined, banned: true },
      { kind: 'ip', ip: '192.0.2.1', username: undefined, device: undefined, banned: true },
      { kind: 'device', ip: undefined, username: undefined, device: 'device-1', banned: true },
    ]);
  });

  it('lifts an IPv6 address by its /64, as regulation counts it, and a device by its id', async () => {
    const { regulation, devices, bans, fail } = setUp();
    await fail('2001:db8:1:2::10', 'carol');
    await devices.reserve('device-1');
    expect((await bans.lift('2001:db8:1:2:ffff::1')).map((e) => `${e.kind} ${e.ip}`)).toEqual(['pair 2001:db8:1:2::/64', 'ip 2001:db8:1:2::/64']);
    await expect(regulation.reserve('2001:db8:1:2::10', 'carol')).resolves.toMatchObject({ pairCount: 1, ipCount: 1 });
    expect((await bans.lift('device-1')).map((e) => e.kind)).toEqual(['device']);
    expect(await devices.reserve('device-1')).toBe(true);
    expect(await bans.lift('nobody')).toEqual([]);
  });
});
