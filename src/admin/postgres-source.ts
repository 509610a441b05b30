import type { Logger } from 'pino';
import type pg from 'pg';
import type { DatabaseReader } from '../db/pool.js';
import type { AdminQueries } from './admin-queries.js';
import { dataSourceUnavailable, type AdminDataSource, type AdminFigures, type ProductLicenses } from './data-source.js';

class BadResult extends Error {}

function toCount(value: unknown, what: string, allowFraction = false): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (!allowFraction && !Number.isInteger(n))) {
    throw new BadResult(`${what} is not a ${allowFraction ? 'non-negative number' : 'count'}: ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Figures from the main app's PostgreSQL. Results are cached for `cacheSeconds`, and concurrent
 * requests share one in-flight read; a failure is never cached and never shown as numbers.
 */
export class PostgresAdminDataSource implements AdminDataSource {
  readonly kind = 'postgres';
  private cached: { at: number; figures: AdminFigures } | undefined;
  private inFlight: Promise<AdminFigures> | undefined;

  constructor(
    private readonly pool: DatabaseReader,
    private readonly queries: AdminQueries,
    private readonly cacheSeconds: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async figures(): Promise<AdminFigures> {
    if (this.cached && this.now() - this.cached.at < this.cacheSeconds * 1000) return this.cached.figures;
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async read(): Promise<AdminFigures> {
    try {
      const [counts, users, sales, active, productCount] = await Promise.all([
        this.pool.query(this.queries.licenseCounts),
        this.pool.query(this.queries.totalUsers),
        this.pool.query(this.queries.totalSales),
        this.pool.query(this.queries.activeKeys),
        this.pool.query(this.queries.totalProducts),
      ]);
      const products: ProductLicenses[] = counts.rows.map((row: Record<string, unknown>, i: number) => {
        if (row.product_id === undefined || row.product_id === null || row.available === undefined) {
          throw new BadResult(`licenseCounts row ${i} lacks product_id or available (columns: ${Object.keys(row).join(', ')})`);
        }
        const available = toCount(row.available, `licenseCounts row ${i} available`);
        const assigned = row.assigned === undefined ? 0 : toCount(row.assigned, `licenseCounts row ${i} assigned`);
        return { id: String(row.product_id), name: String(row.name ?? ''), available, assigned, total: available + assigned };
      });
      const figures: AdminFigures = {
        products,
        totalUsers: toCount(firstValue(users), 'totalUsers'),
        totalSales: toCount(firstValue(sales), 'totalSales', true),
        activeKeys: toCount(firstValue(active), 'activeKeys'),
        totalProducts: toCount(firstValue(productCount), 'totalProducts'),
      };
      this.cached = { at: this.now(), figures };
      return figures;
    } catch (error) {
      this.logger.error({ reason: (error as Error).message }, error instanceof BadResult ? 'admin query returned unexpected data' : 'admin database query failed');
      throw dataSourceUnavailable(error);
    }
  }
}

function firstValue(result: pg.QueryResult): unknown {
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row) throw new BadResult('query returned no row');
  return Object.values(row)[0];
}
