import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { generatePassword, hashPassword } from './password.js';
import { writeUsersFile } from './users-file.js';

/**
 * On first start without a users file, creates one holding a single super_admin "admin" with a
 * random password, and returns that password so it can be shown once. Returns undefined when a
 * file exists.
 */
export async function createFirstUser(file: string, cost: number): Promise<string | undefined> {
  try {
    await fs.access(file);
    return undefined;
  } catch {
    // no file yet
  }
  const password = generatePassword();
  const passwordHash = await hashPassword(password, cost);
  await writeUsersFile(file, [
    { id: randomUUID(), username: 'admin', role: 'super_admin', passwordHash, createdAt: new Date().toISOString() },
  ]);
  return password;
}
