import { createClient } from 'redis';
import { BanList, redisKeys, type Bans, type CountEntry } from '../auth/bans.js';
import { BanSocketClient } from '../auth/ban-socket.js';
import { countsPrefix, createCounter } from '../auth/login-counters.js';
import type { Config } from '../config/config.js';

/**
 * `bans` and `unban`: with SESSION_STORE=redis the counts are read in Redis with the server's key
 * layout; otherwise they live in the server process, which is asked on its control socket.
 */
export async function runBansCommand(config: Config, term: string | undefined, say: (line: string) => void): Promise<void> {
  await withBans(config, async (bans) => {
    if (term === undefined) {
      const entries = await bans.list();
      if (entries.length === 0) say('No login bans.');
      for (const entry of entries) say(`${describe(entry).padEnd(48)} attempts ${entry.attempts} (limit ${entry.limit})  ${timeLeft(entry)}`);
      return;
    }
    const lifted = await bans.lift(term);
    if (lifted.length === 0) throw new Error(`Nothing to lift: no ban and no failure count for "${term}".`);
    for (const entry of lifted) say(`${entry.banned ? 'Lifted the ban on' : 'Cleared the failure count of'} ${describe(entry)} (${entry.attempts} attempts).`);
  });
}

async function withBans(config: Config, work: (bans: Bans) => Promise<void>): Promise<void> {
  const { session, login } = config;
  if (session.store !== 'redis') {
    if (!config.controlSocket) throw new Error('CONTROL_SOCKET=off: the server keeps its bans in memory and offers no way to reach them; they end when it restarts.');
    return work(new BanSocketClient(config.controlSocket));
  }
  const client = createClient({ url: session.redisUrl, socket: { connectTimeout: session.redisTimeoutMs * 5, reconnectStrategy: false } });
  client.on('error', () => undefined); // connect() and each command reject with it
  try {
    await client.connect().catch((error: Error) => {
      throw new Error(`Cannot reach Redis at ${new URL(session.redisUrl!).host} (${error.message}).`);
    });
    const prefix = countsPrefix(session.redisPrefix);
    const counter = (kind: 'user' | 'ip' | 'device', points: number) => createCounter(kind, points, login.windowSeconds, client, prefix);
    const counters = { pair: counter('user', login.maxFailuresPerUser), ip: counter('ip', login.maxFailuresPerIp), device: login.device.enabled ? counter('device', login.device.maxFailures) : undefined };
    await work(new BanList(counters, redisKeys(client)));
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function describe(entry: CountEntry): string {
  if (entry.kind === 'ip') return `IP ${entry.ip}`;
  if (entry.kind === 'pair') return `user "${entry.username}" from ${entry.ip}`;
  return `device ${entry.device}${entry.banned ? ' (untrusted)' : ''}`;
}

function timeLeft(entry: CountEntry): string {
  if (entry.secondsLeft < 0) return 'no expiry';
  const minutes = Math.floor(entry.secondsLeft / 60);
  return `ends in ${minutes > 0 ? `${minutes} min ` : ''}${entry.secondsLeft % 60} s`;
}
