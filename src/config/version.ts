import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The sidecar's version, package.json's: the nearest one above this file, so the built sidecar
 * (dist/) reports the package.json it was deployed with, and so does a copy compiled elsewhere
 * (the benchmarks' test/.build/src).
 */
export const VERSION: string = (JSON.parse(fs.readFileSync(nearestPackageJson(path.dirname(fileURLToPath(import.meta.url))), 'utf8')) as { version: string }).version;

function nearestPackageJson(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return file;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}
