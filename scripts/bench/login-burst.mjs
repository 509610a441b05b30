import fs from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { writeUsersFile } from '../../dist/users/users-file.js';
import { percentile, postLogin, startVariant, tempDir } from './lib.mjs';

const USERS = 60;
const COSTS = [4, 12];
const PASSWORD = 'burst-password';

/**
 * USERS different users log in at the same moment, each with the right password from an address of
 * its own (X-Forwarded-For, trusted from loopback) and without a device cookie, at BCRYPT_COST 4 and
 * at 12: the password queue admits by expected wait (LOGIN_MAX_WAIT), so no login of the burst may
 * get 503 LOGIN_BUSY. Eight logins one after another come first, so the queue knows how long a
 * check takes, as on a server that has been running.
 */
export async function loginBurst({ quick }) {
  const bursts = quick ? 1 : 3;
  const measured = [];
  for (const cost of COSTS) measured.push({ cost, ...(await burstsAt(cost, bursts)) });
  return {
    name: `A burst of ${USERS} simultaneous logins of ${USERS} different users, each from its own address (${bursts} burst(s) per cost)`,
    rows: measured.map((m) => ({ variant: `bcrypt cost ${m.cost}`, logins: m.latencies.length, p50: Math.round(percentile(m.latencies, 50)), p99: Math.round(percentile(m.latencies, 99)), statuses: JSON.stringify(m.counts) })),
    figures: measured.flatMap((m) => [
      { name: `503 answers in the bursts at cost ${m.cost}`, value: m.counts['503'] ?? 0, target: '0 (every login 200)', pass: (m.counts['200'] ?? 0) === m.latencies.length },
      { name: `login p99 in a burst at cost ${m.cost} (ms)`, value: Math.round(percentile(m.latencies, 99)), target: 'report' },
    ]),
  };
}

async function burstsAt(cost, bursts) {
  const dir = await tempDir();
  // One hash for all: each check costs the same whatever the password, and a run at cost 12 does not
  // spend 60 hashes' time before it starts.
  const passwordHash = await bcrypt.hash(PASSWORD, cost);
  const users = Array.from({ length: USERS }, (_, i) => ({ id: `u-burst-${i}`, username: `burst-${i}`, role: 'b2b_user', passwordHash }));
  await writeUsersFile(path.join(dir, 'users.json'), users);
  const server = await startVariant('file', { dir, env: { BCRYPT_COST: String(cost), TRUST_PROXY: 'loopback' } });
  const login = (i, address) => postLogin(server.url, { username: `burst-${i}`, password: PASSWORD }, { 'x-forwarded-for': address });
  try {
    for (let i = 0; i < 8; i++) await login(i, `192.0.2.${i}`);
    const counts = {};
    const latencies = [];
    for (let b = 0; b < bursts; b++) {
      await Promise.all(
        users.map(async (_, i) => {
          const start = performance.now();
          const status = await login(i, `10.${cost}.${b}.${i}`);
          latencies.push(performance.now() - start);
          counts[status] = (counts[status] ?? 0) + 1;
        }),
      );
    }
    return { counts, latencies };
  } finally {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

