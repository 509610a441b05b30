import type { Logger } from 'pino';
import { z } from 'zod';
import { parseJsonFile } from '../fs/json-file.js';
import { WatchedJsonFile } from '../fs/watched-json-file.js';
import { EMPTY_FIGURES, type AdminDataSource, type AdminFigures } from './data-source.js';

const count = z.number().int().nonnegative();
const fileSchema = z.object({
  products: z.array(
    z.object({
      id: z.union([z.string().min(1), z.number().int()]).transform(String),
      name: z.string(),
      licenseKeys: z.object({ available: count, assigned: count }),
    }),
  ),
  totalUsers: count,
  totalSales: z.number().nonnegative(),
});

export function parseAdminDataFile(text: string, file: string): AdminFigures {
  const data = parseJsonFile(text, file, fileSchema);
  const products = data.products.map((p) => ({
    id: p.id,
    name: p.name,
    available: p.licenseKeys.available,
    assigned: p.licenseKeys.assigned,
    total: p.licenseKeys.available + p.licenseKeys.assigned,
  }));
  return {
    products,
    totalUsers: data.totalUsers,
    totalSales: data.totalSales,
    activeKeys: products.reduce((sum, p) => sum + p.available, 0),
    totalProducts: products.length,
  };
}

/**
 * Figures from ADMIN_DATA_FILE, reloaded when it changes. A file that breaks or cannot be read
 * keeps the last good figures in use (logged); with no file yet the figures are zeros and empty
 * lists (logged once).
 */
export class FileAdminDataSource implements AdminDataSource {
  readonly kind = 'file';

  private constructor(private readonly data: WatchedJsonFile<AdminFigures>) {}

  static async open(file: string, logger: Logger, pollIntervalMs = 250): Promise<FileAdminDataSource> {
    const data = await WatchedJsonFile.open({
      file,
      name: 'admin data file',
      whenMissing: 'license counts and dashboard figures are zero until it exists',
      parse: parseAdminDataFile,
      describe: (figures) => ({ products: figures.totalProducts }),
      logger,
      pollIntervalMs,
    });
    return new FileAdminDataSource(data);
  }

  async figures(): Promise<AdminFigures> {
    return this.data.value ?? EMPTY_FIGURES;
  }

  /** Reads the file again now; also done when the file changes. */
  reload(): Promise<void> {
    return this.data.reload();
  }

  close(): Promise<void> {
    return this.data.close();
  }
}
