import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { Config } from '../config/config.js';
import { requireRole } from '../auth/require-role.js';
import { serve, type Route } from '../http/route.js';
import { displayName } from './original-name.js';
import { inspectImage } from './inspect-image.js';
import { productsDir } from './products-dir.js';
import { noFileError, receiveFile } from './receive.js';

export const UPLOAD_ROUTES = {
  adminUploadImage: { method: 'post', path: '/api/admin/upload-image', session: true, audience: 'client' },
  imagesUpload: { method: 'post', path: '/api/images/upload', session: true, audience: 'client' },
} as const satisfies Record<string, Route>;


/** POST /api/admin/upload-image and POST /api/images/upload, for super_admin and admin. */
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
  for (const route of Object.values(UPLOAD_ROUTES)) serve(router, route, requireRole('super_admin', 'admin'), upload);
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
