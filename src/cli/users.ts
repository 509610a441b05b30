import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig, loadUsersConfig, ROLES, type Role } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createSessionStore } from '../sessions/create-store.js';
import { revokeSessions } from '../sessions/revoke.js';
import type { SessionStore } from '../sessions/session-store.js';
import { readEnv } from '../config/env-file.js';
import { hashPassword, newPasswordProblem } from '../users/password.js';
import { readUsersFile, USERNAME_PATTERN, writeUsersFile } from '../users/users-file.js';
import type { User } from '../users/user.js';
import { readPassword } from './read-password.js';

const USAGE = `Usage: npm run users -- <command>

  add <username> --role <super_admin|admin|b2b_user>   add a user (password asked)
  passwd <username>                                   set a new password (password asked)
  remove <username>                                   delete a user
  disable <username>                                  keep the user but refuse logins and end sessions
  enable <username>                                   allow a disabled user again
  list                                                show users

The password is read from a prompt with echo off, or from the first line of standard input
when it is not a terminal (e.g. printf '%s\\n' "$PW" | npm run users -- passwd admin).
It is never taken from the command line.`;

class UsageError extends Error {}

export async function runUsersCommand(argv: string[], env: NodeJS.ProcessEnv, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { role: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  const [command, username, ...extra] = positionals;
  if (values.help || !command) throw new UsageError('');
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (passwords are never taken from the command line)`);

  const config = loadUsersConfig(env);
  if (config.source !== 'file') {
    throw new Error('USERS_SOURCE=postgres: users live in the main app\'s database; manage them there. This command only edits the users file.');
  }
  const users = (await readUsersFile(config.file)) ?? [];
  const say = (line: string) => io.stdout.write(`${line}\n`);

  if (command === 'list') {
    if (users.length === 0) say(`No users in ${config.file}.`);
    for (const u of users) say(`${u.username.padEnd(24)} ${u.role.padEnd(12)} ${u.disabled ? 'disabled' : 'active  '} ${u.id}`);
    return;
  }

  if (!username) throw new UsageError(`"${command}" needs a username`);
  const index = users.findIndex((u) => u.username === username);
  const existing = users[index];

  switch (command) {
    case 'add': {
      if (!USERNAME_PATTERN.test(username)) throw new Error(`Username "${username}" is not allowed: use letters, digits and . _ @ - (at most 64).`);
      if (existing) throw new Error(`User "${username}" already exists; use passwd to change the password.`);
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new UsageError(`add needs --role, one of ${ROLES.join(', ')}`);
      const passwordHash = await hashPassword(await askPassword(io), config.bcryptCost);
      users.push({ id: randomUUID(), username, role, passwordHash, createdAt: new Date().toISOString() });
      await writeUsersFile(config.file, users);
      say(`Added ${role} "${username}" to ${config.file}.`);
      return;
    }
    case 'passwd':
      requireUser(existing, username);
      users[index] = { ...existing!, passwordHash: await hashPassword(await askPassword(io), config.bcryptCost) };
      await writeUsersFile(config.file, users);
      say(`Changed the password of "${username}".`);
      await endSessions(env, existing!, say);
      return;
    case 'remove':
      requireUser(existing, username);
      users.splice(index, 1);
      await writeUsersFile(config.file, users);
      say(`Removed "${username}".`);
      await endSessions(env, existing!, say);
      return;
    case 'disable':
    case 'enable': {
      requireUser(existing, username);
      const { disabled: _previous, ...rest } = existing!;
      users[index] = command === 'disable' ? { ...rest, disabled: true } : rest;
      await writeUsersFile(config.file, users);
      say(`${command === 'disable' ? 'Disabled' : 'Enabled'} "${username}".`);
      if (command === 'disable') await endSessions(env, existing!, say);
      return;
    }
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

/**
 * Deletes the user's sessions from the configured store (files or Redis). Should the store be out
 * of reach, those sessions still end at their next request: the sidecar checks the user and the
 * password fingerprint every time.
 */
async function endSessions(env: NodeJS.ProcessEnv, user: User, say: (line: string) => void): Promise<void> {
  let store: SessionStore | undefined;
  try {
    store = await createSessionStore(loadConfig(env), createLogger('silent'));
    const ended = await revokeSessions(store, user.id);
    say(`Ended ${ended} session${ended === 1 ? '' : 's'} of "${user.username}".`);
  } catch (error) {
    say(`Could not delete the sessions of "${user.username}" now (${(error as Error).message.split('\n')[0]}); they end at their next request anyway.`);
  } finally {
    await store?.close();
  }
}

function requireUser(user: User | undefined, username: string): void {
  if (!user) throw new Error(`No user "${username}".`);
}

async function askPassword(io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<string> {
  const password = await readPassword(io.stdin, io.stdout);
  const problem = newPasswordProblem(password);
  if (problem) throw new Error(problem);
  return password;
}

runUsersCommand(process.argv.slice(2), readEnv('.env') as NodeJS.ProcessEnv, { stdin: process.stdin, stdout: process.stdout }).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
