import net from 'node:net';

/**
 * One spelling per client address, so one client has one regulation counter: brackets, a port,
 * an IPv6 zone and letter case are dropped, IPv6 is written in its canonical (RFC 5952) form, and
 * an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as a dual-stack socket reports it) is the IPv4 one.
 * Anything that is no address is returned as given.
 */
export function normaliseAddress(raw: string): string {
  const ip = withoutDecorations(raw);
  if (net.isIPv4(ip)) return ip;
  if (!net.isIPv6(ip)) return raw;
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  }
  return canonicalIpv6(ip);
}

/**
 * The key a client's failures are counted under: its IPv4 address, or the /64 network of its IPv6
 * address. One host usually holds a whole /64 (SLAAC, privacy addresses), so counting single IPv6
 * addresses would give it 2^64 fresh counters.
 */
export function regulationAddress(raw: string): string {
  const address = normaliseAddress(raw);
  if (!net.isIPv6(address)) return address;
  const prefix = ipv6Groups(address).slice(0, 4).map((g) => g.toString(16)).join(':');
  return `${canonicalIpv6(`${prefix}::`)}/64`;
}

function withoutDecorations(raw: string): string {
  const text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1]!.replace(/%.*$/, '');
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  return ipv4WithPort ? ipv4WithPort[1]! : text.replace(/%.*$/, '');
}

/** The WHATWG URL parser writes any IPv6 spelling in the canonical form, embedded IPv4 as hex. */
function canonicalIpv6(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function ipv6Groups(ip: string): number[] {
  const [head = '', tail] = canonicalIpv6(ip).split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}
