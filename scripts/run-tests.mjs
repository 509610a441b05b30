// npm test's runner: vitest with timeouts that hold for tests starting processes on a loaded 2-core
// machine (the 5 s default does not), and with every temporary file of the run (test directories, nginx and
// PostgreSQL data, sockets) under one fresh directory, removed when the run ends, pass or fail.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runTmpDir } from './run-tmp.mjs';

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const result = spawnSync(process.execPath, [vitest, 'run', '--testTimeout=30000', '--hookTimeout=60000', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: runTmpDir('sidecar-tests-') },
});
process.exit(result.status ?? 1);
