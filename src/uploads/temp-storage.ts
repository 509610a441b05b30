import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';

export const TEMP_PREFIX = '.upload-';

/**
 * A multer storage engine that streams each file to a temporary name (a dotfile) in the final
 * directory, so the finished file can be renamed into place without copying, and so nothing of
 * a failed or aborted upload is ever visible under a served name.
 */
export function temporaryStorage(dir: string): StorageEngine {
  return {
    _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void) {
      const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}.tmp`);
      // Known to multer before the first byte, so its abort clean-up removes it too.
      file.path = tmp;
      let size = 0;
      file.stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
      pipeline(file.stream, out).then(
        () => callback(null, { path: tmp, size }),
        (error: unknown) => fs.rm(tmp, { force: true }, () => callback(error)),
      );
    },
    _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void) {
      fs.rm(file.path, { force: true }, (error) => callback(error));
    },
  };
}
