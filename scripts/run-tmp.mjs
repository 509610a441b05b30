import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh directory for every temporary file of one run (tests or benchmarks), removed when the
 * process exits. Traversable by others: PostgreSQL runs as its own user and must reach its data
 * directory inside it.
 */
export function runTmpDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
