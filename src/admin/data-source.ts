import { DataSourceUnavailableError } from '../errors/domain-errors.js';

export interface ProductLicenses {
  id: string;
  name: string;
  available: number;
  assigned: number;
  total: number;
}

/** The main app's real figures, as the admin panel reads them. */
export interface AdminFigures {
  products: ProductLicenses[];
  totalUsers: number;
  totalSales: number;
  activeKeys: number;
  totalProducts: number;
}

/** Where the admin figures come from: a JSON file or the main app's PostgreSQL. */
export interface AdminDataSource {
  readonly kind: string;
  figures(): Promise<AdminFigures>;
  close(): Promise<void>;
}

export const EMPTY_FIGURES: AdminFigures = { products: [], totalUsers: 0, totalSales: 0, activeKeys: 0, totalProducts: 0 };

export function dataSourceUnavailable(cause?: unknown): DataSourceUnavailableError {
  return cause instanceof DataSourceUnavailableError ? cause : new DataSourceUnavailableError(cause);
}
