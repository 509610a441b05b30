import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ROLES } from './roles.js';
import lockfile from 'proper-lockfile';
import { removeTemporaryCopies, writeFileAtomic } from '../fs/atomic-write.js';
import { parseJsonFile } from '../fs/json-file.js';
import { isBcryptHash } from './password.js';
import type { User } from './user.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

const userSchema = z.object({
  id: z.string().min(1).max(128),
  username: z.string().regex(USERNAME_PATTERN, 'letters, digits and . _ @ - only, at most 64'),
  role: z.enum(ROLES as [string, ...string[]]),
  passwordHash: z.string().refine(isBcryptHash, 'must be a bcrypt hash ($2a$, $2b$ or $2y$)'),
  email: z.email('must be an email address').max(254).optional(),
  disabled: z.boolean().optional(),
  createdAt: z.string().optional(),
});

const fileSchema = z.object({ users: z.array(userSchema) });

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** Parses and validates a users file; the error names the bad entry. */
export function parseUsersFile(text: string, file: string): User[] {
  const users = parseJsonFile(text, file, fileSchema, { where: describePath, error: (message) => new UsersFileError(message) }).users as User[];
  const seenNames = new Set<string>();
  const seenIds = new Set<string>();
  const seenEmails = new Set<string | number>();
  for (const user of users) {
    if (seenNames.has(user.username)) throw new UsersFileError(`${file}: username "${user.username}" appears twice`);
    if (seenIds.has(user.id)) throw new UsersFileError(`${file}: id "${user.id}" appears twice`);
    if (user.email !== undefined && seenEmails.has(user.email)) throw new UsersFileError(`${file}: email "${user.email}" appears twice`);
    seenNames.add(user.username);
    seenIds.add(user.id);
    if (user.email !== undefined) seenEmails.add(user.email);
  }
  return users;
}

function describePath(json: unknown, issuePath: PropertyKey[]): string {
  if (issuePath[0] === 'users' && typeof issuePath[1] === 'number') {
    const entry = (json as { users: Array<{ username?: unknown }> }).users[issuePath[1]];
    const name = typeof entry?.username === 'string' ? ` ("${entry.username}")` : '';
    const field = issuePath.slice(2).join('.');
    return `users[${issuePath[1]}]${name}${field ? ` field "${field}"` : ''}:`;
  }
  return issuePath.length ? `"${issuePath.join('.')}":` : 'the file:';
}

/** The users in the file, or undefined when there is no file. */
export async function readUsersFile(file: string): Promise<User[] | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseUsersFile(text, file);
}

export async function writeUsersFile(file: string, users: User[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify({ users }, null, 2)}\n`, 0o600, { keepOwner: true });
}

/**
 * Runs `work` holding the users file's lock (a `<file>.lock` directory beside it), after deleting
 * the temporary copies a killed command left. A lock whose holder died is taken over once it has
 * not been refreshed for 10 s; waiting for a live holder gives up after about 30 s.
 */
export async function withUsersFileLock<T>(file: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  let lost: Error | undefined;
  const release = await lockfile
    .lock(file, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 150, minTimeout: 10, maxTimeout: 200, randomize: true },
      onCompromised: (error) => {
        lost = error;
      },
    })
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ELOCKED') throw error;
      throw new Error(`Another users command still holds ${file}.lock; try again shortly.`);
    });
  try {
    await removeTemporaryCopies(file);
    return await work(() => {
      if (lost) throw new Error(`Lost the lock on ${file} (${lost.message}); nothing was changed, run the command again.`);
    });
  } finally {
    await release().catch(() => undefined);
  }
}

/** Reads the users, lets `change` edit the list, and writes it back, all under the file's lock. */
export async function updateUsersFile<T>(file: string, change: (users: User[]) => T | Promise<T>): Promise<T> {
  return withUsersFileLock(file, async (assertHeld) => {
    const users = (await readUsersFile(file)) ?? [];
    const result = await change(users);
    assertHeld();
    await writeUsersFile(file, users);
    return result;
  });
}
