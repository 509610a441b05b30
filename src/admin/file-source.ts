import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${file}: "${issue.path.join('.')}" ${issue.message}`);
  }
  const products = result.data.products.map((p) => ({
    id: p.id,
    name: p.name,
    available: p.licenseKeys.available,
    assigned: p.licenseKeys.assigned,
    total: p.licenseKeys.available + p.licenseKeys.assigned,
  }));
  return {
    products,
    totalUsers: result.data.totalUsers,
    totalSales: result.data.totalSales,
    activeKeys: products.reduce((sum, p) => sum + p.available, 0),
    totalProducts: products.length,
  };
}

/**
 * Figures from ADMIN_DATA_FILE, reloaded when it changes. A file that breaks keeps the last good
 * figures in use (logged); with no file yet the figures are zeros and empty lists (logged once).
 */
export class FileAdminDataSource implements AdminDataSource {
  readonly kind = 'file';
  private current: AdminFigures = EMPTY_FIGURES;
  private readonly onChange = () => void this.reload();

  private constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  static async open(file: string, logger: Logger, pollIntervalMs = 250): Promise<FileAdminDataSource> {
    const source = new FileAdminDataSource(file, logger);
    await source.reload();
    fs.watchFile(file, { interval: pollIntervalMs, persistent: false }, source.onChange);
    return source;
  }

  async figures(): Promise<AdminFigures> {
    return this.current;
  }

  async close(): Promise<void> {
    fs.unwatchFile(this.file, this.onChange);
  }

  async reload(): Promise<void> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.logger.warn({ file: this.file }, 'admin data file not found: license counts and dashboard figures are zero until it exists');
      return;
    }
    try {
      this.current = parseAdminDataFile(text, this.file);
      this.logger.info({ file: this.file, products: this.current.totalProducts }, 'admin data loaded');
    } catch (error) {
      this.logger.error({ file: this.file, reason: (error as Error).message }, 'admin data file is invalid; keeping the last good figures');
    }
  }
}
