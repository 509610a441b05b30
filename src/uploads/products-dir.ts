import path from 'node:path';
import type { Config } from '../config/config.js';

/** Where uploaded images are stored and served from: UPLOAD_DIR/products. */
export function productsDir(config: Config): string {
  return path.join(config.uploads.dir, 'products');
}
