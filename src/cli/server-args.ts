import { parseArgs } from 'node:util';
import { VERSION } from '../config/version.js';

const USAGE = `Usage: node dist/server.js [--help] [--version]     (npm start)

Starts the auth and upload sidecar. It takes its configuration from the environment and from
the .env file beside package.json (see README.md, "Configuration"); it takes no other
arguments. Relative paths resolve against DATA_DIR (by default the folder of package.json),
not the working directory.

  -h, --help      show this help and exit
  -v, --version   show the version and exit`;

/**
 * The server's command line: --help and --version answer and exit 0; anything else is a usage
 * error (exit 2). Answers only when the sidecar should start.
 */
export function handleServerArgs(argv: string[]): void {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) process.stdout.write(`${USAGE}\n`);
  else if (values.version) process.stdout.write(`${VERSION}\n`);
  else return;
  process.exit(0);
}
