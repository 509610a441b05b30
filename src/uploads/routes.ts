import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { Config } from '../config/config.js';
import { requireRole } from '../auth/require-role.js';
import { HttpError, validationError } from '../http/http-error.js';
import { serve, type Route } from '../http/route.js';
import { displayName } from './original-name.js';
import { IMAGE_EXTENSIONS, inspectImage } from './inspect-image.js';
import { productsDir } from './products-dir.js';
import { noFileError, receiveFile } from './receive.js';

export const UPLOAD_ROUTES = {
  adminUploadImage: { method: 'post', path: '/api/admin/upload-image', session: true, audience: 'client' },
  imagesUpload: { method: 'post', path: '/api/images/upload', session: true, audience: 'client' },
  /** Removes a stored image (the `filename` an upload answered); the sidecar owns everything below the upload path. */
  deleteImage: { method: 'delete', path: '/api/admin/upload-image/:filename', session: true, audience: 'client' },
} as const satisfies Record<string, Route>;

/** The names publish() gives: 32 lowercase hex digits, a dot and a stored image's extension. Nothing else can name a file to delete. */
const STORED_NAME = new RegExp(`^[0-9a-f]{32}\\.(?:${IMAGE_EXTENSIONS.join('|')})$`);


/**
 * POST /api/admin/upload-image and POST /api/images/upload, for super_admin and admin; DELETE
 * /api/admin/upload-image/<filename> removes what an upload stored (its answer's `filename`).
 */
export function uploadRoutes(config: Config, metrics: Metrics): Router {
  const dir = productsDir(config);
  const receive = receiveFile(dir, config.uploads.maxBytes);

  const router = Router();
  const upload = async (req: Request, res: Response) => {
    const file = await receive(req, res);
    if (!file) throw noFileError();
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
    const url = `/uploads/products/${filename}`;
    res.json({
      success: true,
      imageUrl: url,
      // The edit-product page reads `url` or `filePath`; both are the same public URL.
      url,
      filePath: url,
      filename,
      originalName: displayName(file.originalname),
      size: file.size,
      message: 'Image uploaded successfully',
      mimeType: image.mimeType,
      width: image.width,
      height: image.height,
    });
  };
  serve(router, UPLOAD_ROUTES.adminUploadImage, requireRole('super_admin', 'admin'), upload);
  serve(router, UPLOAD_ROUTES.imagesUpload, requireRole('super_admin', 'admin'), upload);

  serve(router, UPLOAD_ROUTES.deleteImage, requireRole('super_admin', 'admin'), async (req: Request, res: Response) => {
    const filename = req.params.filename as string;
    if (!STORED_NAME.test(filename)) {
      throw validationError('Not the name of an uploaded image: give the filename an upload answered (32 hex digits and the extension)', { fields: ['filename'] });
    }
    try {
      await fs.unlink(path.join(dir, filename));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new HttpError(404, 'NOT_FOUND', 'No uploaded image has this name');
      throw error;
    }
    req.log.info({ audit: 'upload-delete', user: req.user?.username, ip: req.ip, filename }, 'image deleted');
    res.status(204).end();
  });
  return router;
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
