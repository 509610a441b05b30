import '../process/require-node.js';
import { parseArgs } from 'node:util';
import { loadConfig, type Config, type Env } from '../config/config.js';
import { strayFiles } from '../config/data-paths.js';
import { ENV_FILE, readEnv } from '../config/env-file.js';
import { ConfigError } from '../config/errors.js';
import { redactText, redactUrl } from '../config/redact.js';
import { VERSION } from '../config/version.js';
import { createUserDirectory } from '../deps.js';
import { createLogger } from '../observability/logger.js';
import { Databases } from '../db/pool.js';
import { createSessionStore } from '../sessions/create-store.js';
import { migrateSessionFiles, type InsertingStore, type MigrationReport } from '../sessions/migrate.js';
import { revokeSessions } from '../sessions/revoke.js';
import { lastAccessOf, principalOf, type SessionStore, type UserSession } from '../sessions/session-store.js';

const USAGE = `Usage: npm run sessions -- <command>

  migrate --from file --to <redis|postgres>   copy every live session file into Redis or PostgreSQL
  list <user>                                 show a user's live sessions
  revoke <user>                               end all of a user's sessions
  <command> --help                            explain one command
  --help, --version                           show this help or the version

<user> is a username, or the id of a user who no longer exists. The sessions are those of the
configured store (SESSION_STORE and the variables beside it, from the environment and the .env
beside package.json), as the server reads them.`;

const COMMAND_USAGE: Record<string, string> = {
  migrate: `Usage: npm run sessions -- migrate --from file --to <redis|postgres>

Copies every session file in SESSION_DIR into Redis (REDIS_URL, REDIS_PREFIX) or PostgreSQL
(DATABASE_URL, SESSION_TABLE), in the form the server reads there (SESSION_MODE included), each
with the time it has left. Expired and unreadable files are skipped and counted; a session the
target already holds is left as it is, so running it again changes nothing. The files are never
changed or deleted. Stop every server process first: a login made meanwhile would not be copied.
Prints what it did; exits 1 when a session could not be written.`,
  list: `Usage: npm run sessions -- list <user>

Shows the user's live sessions in the configured store: the first characters of each session id
(never the whole id, which is half a login cookie), when it was created, last used and expires,
and the address and browser it was created from when the store holds them.`,
  revoke: `Usage: npm run sessions -- revoke <user>

Ends every session of the user in the configured store and prints how many. The user can log
in again; to stop that, use npm run users -- disable <user>.`,
};

class UsageError extends Error {}

type Say = (line: string) => void;

export async function runSessionsCommand(argv: string[], env: Env, say: Say, warn: Say): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (npm run sessions -- --help)`);
  }
  const { positionals, values } = parsed;
  const [command, user, ...extra] = positionals;
  if (values.version || values.help) {
    say(values.version ? VERSION : (COMMAND_USAGE[command ?? ''] ?? USAGE));
    return 0;
  }
  if (!command) throw new UsageError('Name a command: npm run sessions -- migrate|list|revoke (--help explains them)');
  if (!COMMAND_USAGE[command]) throw new UsageError(`Unknown command "${command}": use migrate, list or revoke (npm run sessions -- --help)`);
  if (command === 'migrate') {
    if (user !== undefined) throw new UsageError(`Unexpected argument "${user}": npm run sessions -- migrate --from file --to <redis|postgres>`);
    if (values.from !== 'file') throw new UsageError('migrate needs --from file (sessions are copied from files only): npm run sessions -- migrate --from file --to <redis|postgres>');
    if (values.to !== 'redis' && values.to !== 'postgres') throw new UsageError('migrate needs --to redis or --to postgres: npm run sessions -- migrate --from file --to <redis|postgres>');
    return migrate(loadConfig({ ...env, SESSION_STORE: values.to }), say, warn);
  }
  if (values.from !== undefined || values.to !== undefined) throw new UsageError(`${command} takes no --from or --to: npm run sessions -- ${command} <user>`);
  if (!user) throw new UsageError(`${command} needs a user: npm run sessions -- ${command} <user>`);
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (npm run sessions -- ${command} <user>)`);
  const config = loadConfig(env);
  announce(config, warn);
  return withStore(config, async (store, databases) => {
    const users = await createUserDirectory(config, createLogger('silent'), databases);
    try {
      const found = (await users.findByUsername(user)) ?? (await users.findById(user));
      const target = { id: found?.id ?? user, name: found?.username ?? user };
      const sessions = await store.sessionsOf(target.id);
      if (!found && sessions.length === 0) throw new Error(`No user "${user}" (neither a username nor the id of a user with sessions).`);
      if (command === 'list') listSessions(sessions, target.name, config.session.ttlSeconds * 1000, say);
      else {
        const ended = await revokeSessions(store, target.id);
        say(`Ended ${ended} session${ended === 1 ? '' : 's'} of "${target.name}".`);
      }
      return 0;
    } finally {
      await users.close();
    }
  });
}

async function migrate(config: Config, say: Say, warn: Say): Promise<number> {
  warn(`Sessions from: file ${config.session.dir}`);
  warn(`Sessions to: ${describeStore(config)}`);
  return withStore(config, async (store) => {
    if (!store.insert) throw new Error(`The ${store.kind} store cannot take sessions over.`);
    const report = await migrateSessionFiles(config.session.dir, store as InsertingStore, config.session.ttlSeconds);
    printReport(report, store.kind, say);
    return report.failed.length > 0 ? 1 : 0;
  });
}

function printReport(report: MigrationReport, target: string, say: Say): void {
  for (const sid of report.unreadable) say(`skipped ${idPrefix(sid)}: not a readable session file`);
  for (const { sid, reason } of report.failed) say(`FAILED ${idPrefix(sid)}: ${reason}`);
  say(
    `${report.migrated} migrated to ${target}, ${report.present} already there, ${report.expired} expired (skipped), ` +
      `${report.unreadable.length} unreadable (skipped), ${report.failed.length} failed`,
  );
}

function listSessions(sessions: UserSession[], name: string, ttlMs: number, say: Say): void {
  if (sessions.length === 0) return say(`No live sessions of "${name}".`);
  const now = Date.now();
  const rows = sessions
    .map(({ sid, session }) => {
      const principal = principalOf(session);
      const lastSeen = session.__lastAccess;
      return {
        lastSeen: lastSeen ?? 0,
        cells: [idPrefix(sid), time(principal?.createdAt), time(lastSeen), time(lastAccessOf(session, now) + (session.cookie?.originalMaxAge ?? ttlMs)), principal?.ip ?? '-', principal?.userAgent ?? '-'],
      };
    })
    .sort((a, b) => b.lastSeen - a.lastSeen);
  say(`${sessions.length} live session${sessions.length === 1 ? '' : 's'} of "${name}":`);
  const table = [['session', 'created', 'last seen', 'expires', 'ip', 'user agent'], ...rows.map((r) => r.cells)];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
  for (const cells of table) say(cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

const idPrefix = (sid: string) => `${sid.slice(0, 8)}…`;
const time = (ms: number | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function describeStore(config: Config): string {
  const { session } = config;
  if (session.store === 'redis') return `redis ${redactUrl(session.redisUrl!)} (keys ${session.redisPrefix}*)`;
  if (session.store === 'postgres') return `postgres ${redactUrl(config.databaseUrl!)} (table ${session.table})`;
  return `file ${session.dir}`;
}

function announce(config: Config, warn: Say): void {
  warn(`Sessions in: ${describeStore(config)}`);
  const usersFile = config.users.source === 'file' ? config.users.file : undefined;
  for (const warning of strayFiles(process.cwd(), { usersFile, envFile: ENV_FILE })) warn(`Warning: ${warning}`);
}

/** Opens the configured store, fails at once with the reason when it does not answer, and closes it after `work`. */
async function withStore(config: Config, work: (store: SessionStore, databases: Databases) => Promise<number>): Promise<number> {
  const databases = new Databases(config.database.timeoutMs, createLogger('silent'));
  const store = await createSessionStore(config, createLogger('silent'), databases);
  try {
    await store.ping().catch((error: unknown) => {
      const cause = (error as { cause?: unknown }).cause ?? error;
      throw new Error(`The session store (${describeStore(config)}) does not answer: ${(cause as Error)?.message ?? String(cause)}`);
    });
    return await work(store, databases);
  } finally {
    await store.close();
  }
}

const env = readEnv(ENV_FILE);
const line = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
runSessionsCommand(process.argv.slice(2), env, line(process.stdout), line(process.stderr)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    const message = error instanceof ConfigError ? error.message : String((error as Error)?.message ?? error);
    process.stderr.write(`${redactText(message, env)}\n`);
    process.exitCode = 1;
  },
);
