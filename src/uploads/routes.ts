import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import multer, { MulterError } from 'multer';
import type { Metrics } from '../observability/metrics.js';
import type { Config } from '../config/config.js';
import { requireRole } from '../auth/require-role.js';
import { HttpError } from '../http/http-error.js';
import { displayName } from './original-name.js';
import { inspectImage } from './inspect-image.js';
import { temporaryStorage } from './temp-storage.js';

export const UPLOAD_FIELD = 'image';
export const UPLOAD_PATHS = ['/admin/upload-image', '/images/upload'];

export function productsDir(config: Config): string {
  return path.join(config.uploads.dir, 'products');
}

/** POST /api/admin/upload-image and POST /api/images/upload, for super_admin and admin. */
export function uploadRoutes(config: Config, metrics: Metrics): Router {
  const dir = productsDir(config);
  const upload = multer({
    storage: temporaryStorage(dir),
    limits: {
      fileSize: config.uploads.maxBytes,
      files: 1,
      fields: 10,
      fieldSize: 1024,
      fieldNameSize: 64,
      parts: 12,
      headerPairs: 50,
      fieldNestingDepth: 1,
      fieldArrayIndexLimit: 10,
    },
  }).single(UPLOAD_FIELD);

  const router = Router();
  router.post(UPLOAD_PATHS, requireRole('super_admin', 'admin'), async (req: Request, res: Response) => {
    await receive(upload, req, res, config.uploads.maxBytes);
    const file = req.file;
    if (!file) {
      throw new HttpError(400, 'VALIDATION_ERROR', `No file received: send one image as multipart/form-data in the field "${UPLOAD_FIELD}".`, {
        details: { field: UPLOAD_FIELD },
      });
    }
    let image;
    let filename;
    try {
      image = await inspectImage(file.path, config.uploads.maxPixels);
      filename = await publish(file.path, dir, image.extension);
    } finally {
      await fs.rm(file.path, { force: true });
    }
    metrics.upload(file.size);
    req.log.info({ audit: 'upload', user: req.user?.username, ip: req.ip, filename, size: file.size, mimeType: image.mimeType }, 'image uploaded');
    res.json({
      success: true,
      imageUrl: `/uploads/products/${filename}`,
      filename,
      originalName: displayName(file.originalname),
      size: file.size,
      message: 'Image uploaded successfully',
      mimeType: image.mimeType,
      width: image.width,
      height: image.height,
    });
  });
  return router;
}

/** Runs multer, turning its errors and storage failures into HttpErrors. */
function receive(upload: ReturnType<ReturnType<typeof multer>['single']>, req: Request, res: Response, maxBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    upload(req, res, (error: unknown) => (error ? reject(uploadError(error, maxBytes)) : resolve()));
  });
}

function uploadError(error: unknown, maxBytes: number): unknown {
  if (error instanceof MulterError) {
    switch (error.code) {
      case 'LIMIT_FILE_SIZE':
        return new HttpError(413, 'FILE_TOO_LARGE', `The file is larger than the upload limit of ${maxBytes} bytes; nothing was saved.`, { details: { maxBytes } });
      case 'LIMIT_UNEXPECTED_FILE':
      case 'LIMIT_FILE_COUNT':
        return new HttpError(400, 'VALIDATION_ERROR', `Send exactly one file, in the field "${UPLOAD_FIELD}".`, { details: { field: UPLOAD_FIELD } });
      default:
        return new HttpError(400, 'VALIDATION_ERROR', `The multipart form is not acceptable: ${error.message}.`);
    }
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HttpError(507, 'INSUFFICIENT_STORAGE', 'The server has no room to store the image; nothing was saved.', { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
    return new HttpError(500, 'UPLOAD_DIR_NOT_WRITABLE', 'The server cannot write to its upload directory; nothing was saved.', { cause: error });
  }
  if ((error as Error).message === 'Request aborted' || (error as Error).message === 'Request closed') {
    return new HttpError(400, 'REQUEST_ABORTED', 'The upload was interrupted; nothing was saved.');
  }
  if ((error as Error).message?.startsWith('Unexpected end of form') || (error as Error).message?.startsWith('Multipart')) {
    return new HttpError(400, 'VALIDATION_ERROR', 'The multipart body is malformed.');
  }
  return error;
}

/** Gives the finished temporary file its final random name; never replaces an existing file. */
async function publish(tmp: string, dir: string, extension: string): Promise<string> {
  await fs.chmod(tmp, 0o644);
  for (;;) {
    const filename = `${randomBytes(16).toString('hex')}.${extension}`;
    try {
      await fs.link(tmp, path.join(dir, filename));
      return filename;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
