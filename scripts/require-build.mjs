// npm start / npm run users: before node runs dist/<file>, one line saying what to do when the build is missing.
// Usage: node scripts/require-build.mjs server.js
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', process.argv[2] ?? 'server.js');
if (!fs.existsSync(file)) {
  process.stderr.write(`dist/${process.argv[2] ?? 'server.js'} is missing: run npm run build first (npm ci first on a fresh checkout)\n`);
  process.exit(1);
}
