import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Deletes the temporary copies of `target` that writers killed mid-write left behind. Only safe
 * while no other writer of `target` is at work, i.e. under the target's lock.
 */
export async function removeTemporaryCopies(target: string): Promise<void> {
  const prefix = `.${path.basename(target)}.`;
  const names = await fs.readdir(path.dirname(target)).catch(() => [] as string[]);
  const leftovers = names.filter((n) => n.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length)));
  await Promise.all(leftovers.map((n) => fs.rm(path.join(path.dirname(target), n), { force: true })));
}

/**
 * Writes data under a temporary name in the target's directory, flushes it, then renames it over
 * the target: readers see the old file or the new one, never a part. With `keepOwner`, a replaced
 * file keeps its owner (when we may set it, i.e. as root), so an admin editing a service's file as
 * root does not lock the service out of it.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o600, options: { keepOwner?: boolean } = {}): Promise<void> {
  const tmp = temporaryPathFor(target);
  let handle: fs.FileHandle | undefined;
  try {
    const previous = options.keepOwner ? await fs.stat(target).catch(() => undefined) : undefined;
    handle = await fs.open(tmp, 'wx', mode);
    if (previous && process.getuid?.() === 0) await handle.chown(previous.uid, previous.gid);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw error;
  }
}
