import { randomBytes, scrypt } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcrypt';
import { writeUsersFile } from '../../dist/users/users-file.js';
import { findPostgresBin, startPostgres } from '../../test/.build/test/support/postgres.js';
import { percentile, postLogin, startVariant, tempDir } from './lib.mjs';

const scryptAsync = promisify(scrypt);
const RATIO_TARGET = 1.2;
// BCRYPT_COST of every server here: below every directory's hashes, so an unknown user checked at
// BCRYPT_COST would answer several times faster than a real one.
const APP_COST = 4;

/**
 * Whether the answer time tells an unknown username from a real one with a wrong password:
 * sequential logins, unknown and wrong-password ones interleaved, each from another client address
 * (so regulation never bans one), medians compared. Three directories, BCRYPT_COST=4 on each:
 * - a users file at mixed costs: most users at cost 8, two at 12 and one (a bootstrap admin) at 4;
 *   unknown users are compared with the users at the most common cost, the others are shown;
 * - PostgreSQL users with the shop's scrypt hashes (hex.salt, scrypt(password, salt, 64));
 * - PostgreSQL users with bcrypt cost 10 hashes.
 */
export async function loginTiming({ quick }) {
  const samples = quick ? 9 : 31;
  const rows = [];
  const figures = [];
  const add = (label, m) => {
    const unknown = percentile(m.unknown, 50);
    const wrong = percentile(m.wrong, 50);
    rows.push({ variant: `${label}: unknown user`, median: round(unknown), p99: round(percentile(m.unknown, 99)), samples: m.unknown.length });
    rows.push({ variant: `${label}: wrong password (${m.wrongLabel})`, median: round(wrong), p99: round(percentile(m.wrong, 99)), samples: m.wrong.length });
    for (const [other, times] of Object.entries(m.others ?? {})) rows.push({ variant: `${label}: wrong password (${other}), for reference`, median: round(percentile(times, 50)), samples: times.length });
    const r = unknown / wrong;
    figures.push({ name: `${label}: unknown user / wrong password, median answer time`, value: round(r), target: `within ${RATIO_TARGET}x`, pass: r <= RATIO_TARGET && r >= 1 / RATIO_TARGET });
  };

  add('users file at mixed costs', await fileUsers(samples));
  const bin = findPostgresBin();
  if (!bin) {
    figures.push({ name: 'PostgreSQL users: unknown user / wrong password', value: null, target: 'skipped: PostgreSQL not installed' });
  } else {
    const db = await startPostgres(bin);
    try {
      await db.query('CREATE TABLE users (id serial PRIMARY KEY, username text UNIQUE NOT NULL, password text NOT NULL, role text NOT NULL)');
      add('PostgreSQL users, scrypt (hex.salt)', await postgresUsers(db, samples, scryptHash));
      add('PostgreSQL users, bcrypt cost 10', await postgresUsers(db, samples, (p) => bcrypt.hash(p, 10)));
    } finally {
      await db.destroy();
    }
  }
  return { name: `Unknown user vs wrong password: answer time (sequential, interleaved, ${samples} of each, medians in ms, BCRYPT_COST=${APP_COST})`, rows, figures };
}

/** 6 users at cost 8 (the most common), 2 at 12, 1 at 4. */
async function fileUsers(samples) {
  const groups = [[8, 6], [12, 2], [APP_COST, 1]];
  const users = [];
  for (const [cost, n] of groups) {
    for (let i = 0; i < n; i++) users.push({ id: `u-${cost}-${i}`, username: `cost${cost}-${i}`, role: 'b2b_user', passwordHash: await bcrypt.hash(`right-${cost}-${i}`, cost) });
  }
  const dir = await tempDir();
  await writeUsersFile(path.join(dir, 'users.json'), users);
  const server = await startVariant('file', { dir, env: { BCRYPT_COST: String(APP_COST), TRUST_PROXY: 'loopback' } });
  try {
    const namesAt = (cost) => users.filter((u) => u.passwordHash.startsWith(`$2b$${String(cost).padStart(2, '0')}$`)).map((u) => u.username);
    const [common, ...others] = groups.map(([cost]) => cost);
    const m = await measure(server.url, samples, namesAt(common), { [`users at cost ${others[0]}`]: namesAt(others[0]), [`the user at cost ${others[1]}`]: namesAt(others[1]) });
    return { ...m, wrongLabel: `users at cost ${common}, the most common` };
  } finally {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** 8 users in the PostgreSQL users table, hashed with `hash`; a sidecar reading them from there. */
async function postgresUsers(db, samples, hash) {
  await db.query('TRUNCATE users');
  const names = Array.from({ length: 8 }, (_, i) => `pg-user-${i}`);
  for (const name of names) await db.query('INSERT INTO users (username, password, role) VALUES ($1, $2, $3)', [name, await hash(`right-${name}`), 'b2b_user']);
  const server = await startVariant('file', { env: { BCRYPT_COST: String(APP_COST), TRUST_PROXY: 'loopback', USERS_SOURCE: 'postgres', DATABASE_URL: db.url } });
  try {
    return { ...(await measure(server.url, samples, names)), wrongLabel: 'its users' };
  } finally {
    await server.stop();
    await fs.rm(server.dir, { recursive: true, force: true });
  }
}

/** Interleaved sequential logins: an unknown name and a wrong password for `names` (in turns), and for one of each `others` group; times in ms. */
async function measure(url, samples, names, others = {}) {
  let n = 0;
  const timed = async (username) => {
    n += 1;
    const start = performance.now();
    const status = await postLogin(url, { username, password: `wrong-${n}` }, { 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` });
    if (status !== 401) throw new Error(`a wrong login got ${status}, not 401`);
    return performance.now() - start;
  };
  // Warm-up: connections, the sample of hashes, the dummy hash.
  for (let i = 0; i < 3; i++) await timed(`nobody-${i}`);
  const result = { unknown: [], wrong: [], others: Object.fromEntries(Object.keys(others).map((k) => [k, []])) };
  for (let i = 0; i < samples; i++) {
    // Each goes first every other time, so neither always follows the other.
    for (const kind of i % 2 === 0 ? ['unknown', 'wrong'] : ['wrong', 'unknown']) result[kind].push(await timed(kind === 'unknown' ? `nobody-${i}-${n}` : names[i % names.length]));
    // The others are there to show what a cost the dummy does not take looks like: a third as many.
    if (i % 3 === 0) for (const [label, group] of Object.entries(others)) result.others[label].push(await timed(group[i % group.length]));
  }
  return result;
}

/** The shop's format: scrypt(password, salt, 64) in hex, a dot, the salt (32 hex characters). */
async function scryptHash(password) {
  const salt = randomBytes(16).toString('hex');
  return `${(await scryptAsync(password, salt, 64)).toString('hex')}.${salt}`;
}

const round = (x) => Math.round(x * 100) / 100;
