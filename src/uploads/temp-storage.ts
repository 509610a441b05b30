import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { releaseBuffers } from './release-buffers.js';

export const TEMP_PREFIX = '.upload-';
// Larger writes mean fewer threadpool round trips per megabyte, while memory stays bounded.
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
// Flushing to disk while the rest still arrives leaves little to flush once the upload ends.
const FLUSH_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * A multer storage engine that streams each file to a temporary name (a dotfile) in the final
 * directory and forces it to disk, so the finished file can be linked into place without copying,
 * and nothing of a failed or aborted upload is ever visible under a served name.
 */
export function temporaryStorage(dir: string): StorageEngine {
  return {
    _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void) {
      const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}.tmp`);
      // Known to multer before the first byte, so its abort clean-up removes it too.
      file.path = tmp;
      writeDurably(file.stream, tmp).then(
        (size) => callback(null, { path: tmp, size }),
        (error: unknown) => fs.rm(tmp, { force: true }, () => callback(error)),
      );
    },
    _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void) {
      fs.rm(file.path, { force: true }, (error) => callback(error));
    },
  };
}

const fdatasync = promisify(fs.fdatasync);

/**
 * Streams into a new file and forces it to disk. Every flush goes through the write stream's own
 * descriptor: flushes while receiving (so the last one is short), and the stream's own fsync
 * before it closes (`flush: true`), so the file is never looked up by name again once created.
 */
async function writeDurably(source: NodeJS.ReadableStream, file: string): Promise<number> {
  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BUFFER_BYTES, flush: true });
  // The descriptor while the stream holds it open: from 'open' until it closes after the last byte.
  let fd: number | undefined;
  out.once('open', (opened: number) => (fd = opened));
  out.once('close', () => (fd = undefined));
  let flushing: Promise<void> = Promise.resolve();
  let unflushed = 0;
  let busy = false;
  const flushAlong = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      unflushed += chunk.length;
      if (unflushed >= FLUSH_EVERY_BYTES && !busy && fd !== undefined) {
        unflushed = 0;
        busy = true;
        flushing = fdatasync(fd).finally(() => {
          busy = false;
        });
        // Awaited once the body is in; a flush that fails before then must not go unhandled.
        flushing.catch(() => undefined);
      }
      callback(null, chunk);
    },
  });
  try {
    await pipeline(source, releaseBuffers(), flushAlong, out);
    // A flush's write error is reported once: if a flush along the way saw it, the final fsync may not.
    await flushing;
    return out.bytesWritten;
  } finally {
    await flushing.catch(() => undefined);
  }
}

const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Removes temporary upload files older than an hour: what an upload cut off by a crash or a forced
 * shutdown left behind. Younger ones may belong to another process's upload in progress.
 */
export async function sweepStaleUploads(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await fs.promises.readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(TEMP_PREFIX) || !name.endsWith('.tmp')) continue;
    const file = path.join(dir, name);
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (stat && now - stat.mtimeMs > STALE_TEMP_MS) {
      await fs.promises.rm(file, { force: true });
      removed += 1;
    }
  }
  return removed;
}
