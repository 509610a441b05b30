import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/harness.js';
import { createLogger } from '../observability/logger.js';
import { BanList, memoryKeys } from './bans.js';
import { BanSocketClient, listenBanSocket } from './ban-socket.js';
import { LoginRegulation } from './regulation.js';

const servers: net.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function started() {
  const regulation = new LoginRegulation({ maxFailuresPerUser: 1, maxFailuresPerIp: 10, windowSeconds: 60, banSeconds: 120 });
  const socketPath = path.join(await tempDir(), 'run', 'control.sock');
  const server = (await listenBanSocket(socketPath, new BanList({ pair: regulation.perUser, ip: regulation.perIp }, memoryKeys), createLogger('silent')))!;
  servers.push(server);
  return { regulation, socketPath };
}

/** Sends raw lines and collects the answer lines until the server has answered `count`. */
function exchange(socketPath: string, text: string, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(socketPath, () => socket.write(text));
    socket.on('data', (d) => {
      received += d;
      const lines = received.split('\n').filter(Boolean);
      if (lines.length >= count) {
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l)));
      }
    });
    socket.on('error', reject);
  });
}

describe('the control socket', () => {
  it('is created 0600 in a 0700 directory and answers list and unban with the bans of the regulation it was given', async () => {
    const { regulation, socketPath } = await started();
    expect((await fs.stat(socketPath)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(socketPath))).mode & 0o777).toBe(0o700);
    await regulation.failed(await regulation.reserve('192.0.2.1', 'Carol'));
    const client = new BanSocketClient(socketPath);
    expect(await client.list()).toEqual([{ kind: 'pair', ip: '192.0.2.1', username: 'carol', attempts: 2, limit: 1, secondsLeft: 120, banned: true }]);
    expect((await client.lift('carol')).map((e) => e.kind)).toEqual(['pair']);
    await expect(regulation.reserve('192.0.2.1', 'carol')).resolves.toMatchObject({ pairCount: 1 });
  });

  it('answers anything but a list or unban request with an error line, and keeps serving', async () => {
    const { socketPath } = await started();
    const answers = await exchange(socketPath, 'not json\n{"op":"shutdown"}\n{"op":"unban"}\n{"op":"list"}\n', 4);
    expect(answers).toEqual([
      { ok: false, error: 'each request is one line of JSON' },
      { ok: false, error: 'requests are {"op":"list"} or {"op":"unban","term":"<ip|username|device>"}' },
      { ok: false, error: 'requests are {"op":"list"} or {"op":"unban","term":"<ip|username|device>"}' },
      { ok: true, entries: [] },
    ]);
  });

  it('closes a connection that sends a line longer than 4 KiB', async () => {
    const { socketPath } = await started();
    expect(await exchange(socketPath, 'x'.repeat(10_000), 1)).toEqual([{ ok: false, error: 'request line too long' }]);
  });
});
