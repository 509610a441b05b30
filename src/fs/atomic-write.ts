import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
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
