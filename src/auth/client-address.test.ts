import { describe, expect, it } from 'vitest';
import { normaliseAddress, regulationAddress } from './client-address.js';

describe('normaliseAddress', () => {
  it('writes every spelling of one IPv6 address the same way', () => {
    const spellings = ['2001:db8::1', '2001:DB8::1', '[2001:db8::1]', '2001:0db8:0000:0000:0000:0000:0000:0001', '[2001:db8::1]:443', '2001:db8::1%eth0'];
    expect(new Set(spellings.map(normaliseAddress))).toEqual(new Set(['2001:db8::1']));
  });

  it('turns an IPv4-mapped IPv6 address into the IPv4 address', () => {
    expect(normaliseAddress('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normaliseAddress('::FFFF:0102:0304')).toBe('1.2.3.4');
    expect(normaliseAddress('[::ffff:1.2.3.4]:8080')).toBe('1.2.3.4');
    expect(normaliseAddress('1.2.3.4')).toBe('1.2.3.4');
    expect(normaliseAddress('1.2.3.4:5678')).toBe('1.2.3.4');
  });

  it('leaves other IPv6 addresses and non-addresses alone', () => {
    expect(normaliseAddress('::1')).toBe('::1');
    expect(normaliseAddress('::')).toBe('::');
    expect(normaliseAddress('unknown')).toBe('unknown');
  });
});

describe('regulationAddress', () => {
  it('is the IPv4 address for IPv4 clients, mapped or not', () => {
    expect(regulationAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(regulationAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 network for IPv6 clients', () => {
    expect(regulationAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(regulationAddress('[2001:DB8:1:2::1]')).toBe('2001:db8:1:2::/64');
    expect(regulationAddress('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(regulationAddress('::1')).toBe('::/64');
  });
});
