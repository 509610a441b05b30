import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A new directory under the system's temp directory. Its own module, so the throwaway servers
 * (postgres.ts, nginx.ts) the benchmarks run compiled do not load the product through harness.ts.
 */
export async function tempDir(prefix = 'sidecar-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}
