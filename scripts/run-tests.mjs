// npm test's runner: vitest with every temporary file of the run (test directories, nginx and
// PostgreSQL data, sockets) under one fresh directory, removed when the run ends, pass or fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-tests-'));
fs.chmodSync(tmp, 0o755); // PostgreSQL runs as its own user and must reach its data directory.
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const result = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: tmp },
});
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(result.status ?? 1);
