import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export const SECRET_FILE_NAME = '.session-secret';
const MIN_LENGTH = 32;

/**
 * The configured secrets, or (outside production, when none is configured) a random secret kept
 * in a 0600 file in the session directory so that restarts and sibling processes share it.
 */
export async function resolveSessionSecrets(
  configured: string[] | undefined,
  sessionDir: string,
  logger: Logger,
): Promise<string[]> {
  if (configured) return configured;
  await fs.mkdir(sessionDir, { recursive: true, mode: 0o700 });
  const file = path.join(sessionDir, SECRET_FILE_NAME);
  const existing = await readSecret(file);
  if (existing) return [existing];
  try {
    await fs.writeFile(file, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    logger.warn({ file }, 'SESSION_SECRET is not set: generated a random session secret and stored it in this file');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const created = await readSecret(file);
  if (!created) throw new Error(`The session secret file ${file} is shorter than ${MIN_LENGTH} characters; delete it or set SESSION_SECRET`);
  return [created];
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    const secret = (await fs.readFile(file, 'utf8')).trim();
    return secret.length >= MIN_LENGTH ? secret : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
