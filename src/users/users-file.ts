import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ROLES } from './roles.js';
import lockfile from 'proper-lockfile';
import { removeTemporaryCopies, writeFileAtomic } from '../fs/atomic-write.js';
import { hashParameters } from './password.js';
import type { User } from './user.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

const userSchema = z.looseObject({
  id: z.string().min(1).max(128),
  username: z.string().regex(USERNAME_PATTERN, 'letters, digits and . _ @ - only, at most 64'),
  role: z.enum(ROLES as [string, ...string[]]),
  passwordHash: z.string().refine((hash) => hashParameters(hash) !== undefined, 'must be a bcrypt hash ($2a$, $2b$ or $2y$) or a scrypt hex.salt hash'),
  email: z.email('must be an email address').max(254).optional(),
  disabled: z.boolean().optional(),
  createdAt: z.string().optional(),
});

/** Fields and top-level keys the sidecar does not know are kept as they are, through every edit. */
const fileSchema = z.looseObject({ users: z.array(z.unknown()) });

/** A users file: its users, and its other top-level keys, written back untouched. */
export interface UsersDocument {
  users: User[];
  extra: Record<string, unknown>;
}

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** Parses and validates a users file; the error names every bad entry and field. */
export function parseUsersFile(text: string, file: string): User[] {
  return parseUsersDocument(text, file).users;
}

export function parseUsersDocument(text: string, file: string): UsersDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsersFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) throw new UsersFileError(`${file}: the file must be an object with a "users" array`);
  const { users: entries, ...extra } = result.data;
  const { users, problems } = validateUsers(entries);
  if (problems.length > 0) throw new UsersFileError(`${file}: ${problems.join('; ')}`);
  return { users, extra };
}

/**
 * Checks every entry and the uniqueness of usernames, ids and emails; returns the valid users and
 * one line per problem ("users[2] ("carol") field "role": ..."), all of them at once.
 */
export function validateUsers(entries: unknown[]): { users: User[]; problems: string[] } {
  const problems: string[] = [];
  const users: User[] = [];
  entries.forEach((entry, index) => {
    const result = parseUser(entry, index);
    if ('user' in result) users.push(result.user);
    else problems.push(...result.problems);
  });
  for (const field of ['username', 'id', 'email'] as const) {
    const seen = new Set<unknown>();
    for (const user of users) {
      const value = user[field];
      if (value === undefined) continue;
      if (seen.has(value)) problems.push(`${field} "${value}" appears twice`);
      seen.add(value);
    }
  }
  return { users, problems };
}

/** One entry checked: the user, or every problem it has, each naming the entry and the field. */
export function parseUser(entry: unknown, index: number): { user: User } | { problems: string[] } {
  const result = userSchema.safeParse(entry);
  if (result.success) return { user: result.data as User };
  return { problems: result.error.issues.map((issue) => `${describeEntry(entry, index)}${issue.path.length ? ` field "${issue.path.join('.')}"` : ''}: ${issue.message}`) };
}

export function describeEntry(entry: unknown, index: number): string {
  const username = (entry as { username?: unknown } | null)?.username;
  return `users[${index}]${typeof username === 'string' ? ` ("${username}")` : ''}`;
}

/** The users in the file, or undefined when there is no file. */
export async function readUsersFile(file: string): Promise<User[] | undefined> {
  return (await readUsersDocument(file))?.users;
}

export async function readUsersDocument(file: string): Promise<UsersDocument | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseUsersDocument(text, file);
}

export async function writeUsersFile(file: string, users: User[], extra: Record<string, unknown> = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify({ ...extra, users }, null, 2)}\n`, 0o600, { keepOwner: true });
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
    const { users, extra } = (await readUsersDocument(file)) ?? { users: [], extra: {} };
    const result = await change(users);
    assertHeld();
    await writeUsersFile(file, users, extra);
    return result;
  });
}
