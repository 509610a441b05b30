import '../process/require-node.js';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig, loadUsersConfig } from '../config/config.js';
import { ROLES, type Role } from '../users/roles.js';
import { createLogger } from '../observability/logger.js';
import { Databases } from '../db/pool.js';
import { createSessionStore } from '../sessions/create-store.js';
import { revokeSessions } from '../sessions/revoke.js';
import type { SessionStore } from '../sessions/session-store.js';
import { strayFiles } from '../config/data-paths.js';
import { ENV_FILE, readEnv } from '../config/env-file.js';
import { VERSION } from '../config/version.js';
import { hashPassword, newPasswordProblem } from '../users/password.js';
import { readUsersFile, updateUsersFile, USERNAME_PATTERN, withUsersFileLock } from '../users/users-file.js';
import type { User } from '../users/user.js';
import { ServerNotRunning } from '../auth/ban-socket.js';
import { runBansCommand } from './bans.js';
import { runImportCommand } from './import-users.js';
import { readPassword } from './read-password.js';

const COMMANDS: Record<string, { usage: string; about: string; more?: string }> = {
  add: { usage: 'add <username> --role <super_admin|admin|b2b_user>', about: 'add a user (password asked)' },
  passwd: { usage: 'passwd <username>', about: 'set a new password (password asked) and end the user\'s sessions' },
  remove: { usage: 'remove <username>', about: 'delete a user and end their sessions' },
  disable: { usage: 'disable <username>', about: 'keep the user but refuse logins and end sessions' },
  enable: { usage: 'enable <username>', about: 'allow a disabled user again' },
  list: { usage: 'list', about: 'show users' },
  bans: {
    usage: 'bans',
    about: 'list current login bans: IPs, (IP, user) pairs, untrusted devices',
    more: `Shows what is banned, its failure count against the limit and the time left. With
SESSION_STORE=redis the counts are read in Redis; otherwise the running server is asked on its
control socket (CONTROL_SOCKET). Exit code 3 when the server is not running.`,
  },
  unban: {
    usage: 'unban <ip|username|device>',
    about: 'lift every ban and failure count of that IP, username or device',
    more: `An IPv6 address lifts its /64, as regulation counts it. Says what it lifted; exit code 1
when there was nothing to lift, 3 when the server is not running (without Redis).`,
  },
  import: {
    usage: 'import <file> [--skip-invalid]',
    about: "merge users from an older users file or the main app's users export",
    more: `Reads {"users":[...]} or a bare array; hashes under passwordHash, password or
password_hash (bcrypt, or the main app's scrypt hex.salt); the main app's role names through
ROLE_MAP; is_active/isActive false as disabled. Every problem is reported at once, with the entry
and field, and nothing is written while there is one; --skip-invalid writes the valid entries
anyway. Users already in USERS_FILE are kept: a clash is reported and the existing user wins.`,
  },
};

const USAGE = `Usage: npm run users -- <command>   (npm run users -- <command> --help for one command)

${Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(52)}${c.about}`).join('\n')}
  ${'--help, --version'.padEnd(52)}show this help or the version

The password is read from a prompt with echo off, or from the first line of standard input
when it is not a terminal (e.g. printf '%s\\n' "$PW" | npm run users -- passwd admin).
It is never taken from the command line.`;

function commandUsage(name: string): string {
  const command = COMMANDS[name]!;
  return `Usage: npm run users -- ${command.usage}\n\n${command.about}.${command.more ? `\n\n${command.more}` : ''}`;
}

/** A mistake on the command line: exit code 2, with the usage of `command` (the whole usage without one). */
class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

/** An unknown command: one line, exit code 2. */
class UnknownCommand extends Error {}

export async function runUsersCommand(argv: string[], env: NodeJS.ProcessEnv, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { role: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  const [command, username, ...extra] = positionals;
  if (command && !Object.hasOwn(COMMANDS, command)) throw new UnknownCommand(`Unknown command "${command}"; run npm run users -- --help for the list of commands.`);
  if (values.help || values.version) {
    io.stdout.write(`${values.version ? VERSION : command ? commandUsage(command) : USAGE}\n`);
    return;
  }
  if (!command) throw new UsageError('');
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (passwords are never taken from the command line)`, command);
  const say = (line: string) => io.stdout.write(`${line}\n`);

  if (command === 'bans' || command === 'unban') {
    if (command === 'bans' && username) throw new UsageError(`Unexpected argument: ${username}`, command);
    if (command === 'unban' && !username) throw new UsageError('unban needs an IP address, a username or a device id', command);
    return runBansCommand(loadConfig(env), username, say);
  }

  const config = loadUsersConfig(env);
  if (config.source !== 'file') {
    throw new Error('USERS_SOURCE=postgres: users live in the main app\'s database; manage them there. This command only edits the users file.');
  }
  const file = config.file;
  process.stderr.write(`Users file: ${file}\n${strayFiles(process.cwd(), { usersFile: file, envFile: ENV_FILE }).map((w) => `Warning: ${w}\n`).join('')}`);

  if (command === 'list') {
    const users = await withUsersFileLock(file, async () => (await readUsersFile(file)) ?? []);
    if (users.length === 0) say(`No users in ${file}.`);
    for (const u of users) say(`${u.username.padEnd(24)} ${u.role.padEnd(12)} ${u.disabled ? 'disabled' : 'active  '} ${u.id}`);
    return;
  }

  if (command === 'import') {
    if (!username) throw new UsageError('import needs the file to read', command);
    process.exitCode = await runImportCommand(username, file, loadConfig(env).database.roleMap, values['skip-invalid'] === true, { say, complain: (line) => process.stderr.write(`${line}\n`) });
    return;
  }

  if (!username) throw new UsageError(`"${command}" needs a username`, command);
  // Checked before the password is asked, and again under the lock: another command may be quicker.
  const find = (users: User[]) => users.find((u) => u.username === username);
  const existing = find((await readUsersFile(file)) ?? []);

  switch (command) {
    case 'add': {
      if (!USERNAME_PATTERN.test(username)) throw new Error(`Username "${username}" is not allowed: use letters, digits and . _ @ - (at most 64).`);
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new UsageError(`add needs --role, one of ${ROLES.join(', ')}`, command);
      requireAbsent(existing, username);
      const passwordHash = await hashPassword(await askPassword(io), config.bcryptCost);
      await updateUsersFile(file, (users) => {
        requireAbsent(find(users), username);
        users.push({ id: randomUUID(), username, role, passwordHash, createdAt: new Date().toISOString() });
      });
      say(`Added ${role} "${username}" to ${file}.`);
      return;
    }
    case 'passwd': {
      requireUser(existing, username);
      const passwordHash = await hashPassword(await askPassword(io), config.bcryptCost);
      const changed = await updateUsersFile(file, (users) => Object.assign(requireUser(find(users), username), { passwordHash }));
      say(`Changed the password of "${username}".`);
      await endSessions(env, changed, say);
      return;
    }
    case 'remove': {
      const removed = await updateUsersFile(file, (users) => users.splice(users.indexOf(requireUser(find(users), username)), 1)[0]!);
      say(`Removed "${username}".`);
      await endSessions(env, removed, say);
      return;
    }
    case 'disable':
    case 'enable': {
      const user = await updateUsersFile(file, (users) => {
        const user = requireUser(find(users), username);
        if (command === 'disable') user.disabled = true;
        else delete user.disabled;
        return user;
      });
      say(`${command === 'disable' ? 'Disabled' : 'Enabled'} "${username}".`);
      if (command === 'disable') await endSessions(env, user, say);
      return;
    }
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
    const config = loadConfig(env);
    const logger = createLogger('silent');
    store = await createSessionStore(config, logger, new Databases(config.database.timeoutMs, logger));
    const ended = await revokeSessions(store, user.id);
    say(`Ended ${ended} session${ended === 1 ? '' : 's'} of "${user.username}".`);
  } catch (error) {
    say(`Could not delete the sessions of "${user.username}" now (${(error as Error).message.split('\n')[0]}); they end at their next request anyway.`);
  } finally {
    await store?.close();
  }
}

function requireUser(user: User | undefined, username: string): User {
  if (!user) throw new Error(`No user "${username}".`);
  return user;
}

function requireAbsent(user: User | undefined, username: string): void {
  if (user) throw new Error(`User "${username}" already exists; use passwd to change the password.`);
}

async function askPassword(io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }): Promise<string> {
  const password = await readPassword(io.stdin, io.stdout);
  const problem = newPasswordProblem(password);
  if (problem) throw new Error(problem);
  return password;
}

runUsersCommand(process.argv.slice(2), readEnv(ENV_FILE) as NodeJS.ProcessEnv, { stdin: process.stdin, stdout: process.stdout }).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${error.command ? commandUsage(error.command) : USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(error instanceof UnknownCommand ? 2 : error instanceof ServerNotRunning ? 3 : 1);
});
