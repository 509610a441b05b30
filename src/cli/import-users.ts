import fs from 'node:fs/promises';
import type { Role } from '../users/roles.js';
import { entriesOf } from '../users/import-shapes.js';
import type { User } from '../users/user.js';
import { describeEntry, parseUser, updateUsersFile } from '../users/users-file.js';

interface Output {
  say: (line: string) => void;
  complain: (line: string) => void;
}

class ImportRefused extends Error {}

/**
 * `import <file>`: reads every entry, reports every problem at once (the entry, the field), and
 * merges the valid users into the users file under its lock, in one atomic write. With a problem
 * nothing is written unless `skipInvalid`. Returns the exit code.
 */
export async function runImportCommand(source: string, file: string, roleMap: Map<string, Role>, skipInvalid: boolean, out: Output): Promise<number> {
  const entries = entriesOf(await readJson(source), roleMap);
  if (!entries) throw new Error(`${source}: expected {"users":[...]} or an array of users.`);
  const problems: string[] = [];
  const candidates: Array<{ user: User; index: number }> = [];
  entries.forEach((entry, index) => {
    const result = parseUser(entry, index);
    if ('user' in result) candidates.push({ user: result.user, index });
    else problems.push(...result.problems);
  });

  let outcome: { added: string[]; unchanged: string[] };
  try {
    outcome = await updateUsersFile(file, (users) => {
      const result = merge(users, candidates, file, problems);
      if (problems.length > 0 && !skipInvalid) throw new ImportRefused();
      return result;
    });
  } catch (error) {
    if (!(error instanceof ImportRefused)) throw error;
    for (const problem of problems) out.complain(problem);
    out.complain(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${source}; nothing was written to ${file}. Fix them, or run with --skip-invalid to import the valid entries.`);
    return 1;
  }
  for (const problem of problems) out.complain(`skipped: ${problem}`);
  out.say(`Imported ${outcome.added.length} user${outcome.added.length === 1 ? '' : 's'} into ${file}${outcome.added.length ? `: ${outcome.added.join(', ')}` : ''}.`);
  if (outcome.unchanged.length > 0) out.say(`Already there, unchanged: ${outcome.unchanged.join(', ')}.`);
  if (problems.length > 0) out.say(`Skipped ${problems.length} problem${problems.length === 1 ? '' : 's'} (listed above).`);
  return 0;
}

/** Adds each candidate whose username, id and email are free; the same user already there is left as it is. */
function merge(users: User[], candidates: Array<{ user: User; index: number }>, file: string, problems: string[]): { added: string[]; unchanged: string[] } {
  const added: string[] = [];
  const unchanged: string[] = [];
  const existing = users.length;
  for (const { user, index } of candidates) {
    const same = users.find((u) => u.username === user.username && u.id === user.id && u.passwordHash === user.passwordHash);
    if (same) {
      unchanged.push(user.username);
      continue;
    }
    const clash = (['username', 'id', 'email'] as const).find((field) => user[field] !== undefined && users.some((u) => u[field] === user[field]));
    if (clash) {
      const where = users.findIndex((u) => u[clash] === user[clash]) < existing ? `already in ${file}; the existing user is kept` : 'appears twice in the import';
      problems.push(`${describeEntry(user, index)} field "${clash}": "${user[clash]}" ${where}`);
      continue;
    }
    users.push(user);
    added.push(user.username);
  }
  return { added, unchanged };
}

async function readJson(source: string): Promise<unknown> {
  const text = await fs.readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`Cannot read ${source}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}
